"""Reading and validating input text: the one place bad input is recognised and named."""

from __future__ import annotations

import codecs
import re
import sys
from pathlib import Path

__all__ = [
    "MAX_CHARS",
    "InvalidTextError",
    "ascii_compatible",
    "check_encoding",
    "decode_bytes",
    "read_text",
    "validate_text",
]

#: Largest accepted text, in characters (override with `validate_text(max_chars=…)` / `--max-chars`).
MAX_CHARS = 20_000_000

# Control characters other than tab, newline, carriage return, form feed and vertical tab.
_CONTROL = {c for c in range(32) if c not in (9, 10, 11, 12, 13)} | {127}
_SURROGATE = re.compile("[\ud800-\udfff]")


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
    bad = _SURROGATE.search(text)
    if bad:
        raise InvalidTextError(
            f"not valid Unicode: a lone surrogate U+{ord(bad.group()):04X} at character {bad.start()} "
            "(half of a UTF-16 pair; the text was decoded or escaped incorrectly)"
        )
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


#: Byte-order marks of encodings that are not ASCII-compatible (UTF-32 LE first: it starts with
#: the UTF-16 LE mark).
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "UTF-32", "utf-32"),
    (codecs.BOM_UTF16_LE, "UTF-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "UTF-16", "utf-16"),
)


def ascii_compatible(encoding: str) -> bool:
    """True when `encoding` writes ASCII as ASCII (UTF-8, Latin-1, …; not UTF-16 / UTF-32), so
    bytes can be split on newlines before decoding. Raises `InvalidTextError` for an unknown name."""
    check_encoding(encoding)
    try:
        return "a\n".encode(encoding) == b"a\n"
    except (UnicodeError, LookupError):
        return False


def check_encoding(encoding: str) -> str:
    """`encoding` if Python knows a text codec of that name, else `InvalidTextError`."""
    try:
        info = codecs.lookup(encoding)
    except LookupError as exc:
        raise InvalidTextError(f"unknown encoding {encoding!r} (e.g. utf-8, latin-1, utf-16)") from exc
    if not getattr(info, "_is_text_encoding", True):
        raise InvalidTextError(f"{encoding!r} is not a text encoding (e.g. utf-8, latin-1, utf-16)")
    return encoding


def decode_bytes(data: bytes, *, encoding: str = "utf-8", name: str = "input") -> str:
    """Decode `data` as text, refusing binary data and naming decoding errors precisely."""
    if ascii_compatible(encoding):
        utf8 = codecs.lookup(encoding).name in ("utf-8", "utf-8-sig", "ascii")
        for bom, label, codec in _WIDE_BOMS if utf8 else ():
            if data.startswith(bom):
                raise InvalidTextError(
                    f"{name}: {label} text (it starts with a {label} byte-order mark), not {encoding}; "
                    f"pass --encoding {codec}"
                )
        if _looks_binary(data):
            raise InvalidTextError(f"{name}: looks like a binary file (NUL or control bytes), not text")
        if utf8 and data.startswith(codecs.BOM_UTF8):
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
