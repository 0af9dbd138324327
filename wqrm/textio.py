"""Reading and validating input text: the one place bad input is recognised and named."""

from __future__ import annotations

import codecs
import sys
from pathlib import Path

__all__ = ["MAX_CHARS", "InvalidTextError", "decode_bytes", "read_text", "validate_text"]

#: Largest accepted text, in characters (override with `validate_text(max_chars=…)` / `--max-chars`).
MAX_CHARS = 20_000_000

# Control characters other than tab, newline, carriage return, form feed and vertical tab.
_CONTROL = {c for c in range(32) if c not in (9, 10, 11, 12, 13)} | {127}


class InvalidTextError(ValueError):
    """The input cannot be scored as text. The message says why and what to do."""


def validate_text(text: object, *, max_chars: int = MAX_CHARS) -> str:
    """Return `text` if it can be analysed; raise `InvalidTextError` saying why it cannot."""
    if not isinstance(text, str):
        raise InvalidTextError(f"expected text (str), got {type(text).__name__}")
    if not text.strip():
        raise InvalidTextError("empty text: nothing to score (the input is empty or only whitespace)")
    if "\x00" in text:
        raise InvalidTextError("binary data: the text contains NUL bytes, so it is not plain text")
    if len(text) > max_chars:
        raise InvalidTextError(
            f"text too large: {len(text):,} characters > limit {max_chars:,} (raise it with --max-chars)"
        )
    return text


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    controls = sum(1 for b in sample if b in _CONTROL)
    return controls / len(sample) > 0.10


def decode_bytes(data: bytes, *, encoding: str = "utf-8", name: str = "input") -> str:
    """Decode `data` as text, refusing binary data and naming decoding errors precisely."""
    if _looks_binary(data):
        raise InvalidTextError(f"{name}: looks like a binary file (NUL or control bytes), not text")
    try:
        codecs.lookup(encoding)
    except LookupError as exc:
        raise InvalidTextError(f"unknown encoding {encoding!r}") from exc
    if encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig") and data.startswith(
        codecs.BOM_UTF8
    ):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidTextError(
            f"{name}: not valid {exc.encoding} text: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            f"({exc.reason}); pass --encoding (e.g. --encoding latin-1) if the file uses another encoding"
        ) from exc


def read_text(path: str | Path, *, encoding: str = "utf-8") -> str:
    """Read a file (or standard input for '-') as text, with `decode_bytes`' checks."""
    if str(path) == "-":
        return decode_bytes(sys.stdin.buffer.read(), encoding=encoding, name="<stdin>")
    p = Path(path)
    if p.is_dir():
        raise InvalidTextError(f"{p}: is a directory, not a text file")
    try:
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise InvalidTextError(f"{p}: no such file") from exc
    except OSError as exc:
        raise InvalidTextError(f"{p}: cannot read ({exc.strerror})") from exc
    return decode_bytes(data, encoding=encoding, name=str(p))
