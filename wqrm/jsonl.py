"""JSON Lines that every reader accepts: strict parsing in, clean serialisation out, and append-only
files that survive a killed writer (batch outputs, metric caches)."""

from __future__ import annotations

import codecs
import io
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from wqrm.textio import ascii_compatible

__all__ = ["dumps", "lines", "loads", "parse_line", "records", "repair_tail"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON (only finite numbers are)")


def loads(line: str | bytes) -> Any:
    """`json.loads` that refuses the non-standard constants NaN, Infinity and -Infinity
    (`ValueError`, like any other malformed JSON)."""
    return json.loads(line, parse_constant=_reject_constant)


def _clean(obj: Any) -> Any:
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, str):
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates (e.g. an undecodable file name)
            return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in obj)
        return obj
    if isinstance(obj, dict):
        return {_clean(k) if isinstance(k, str) else k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def dumps(obj: Any, indent: int | None = None) -> str:
    """Standard JSON (one line unless `indent`): UTF-8 text kept as is, a non-finite float written
    as null (never NaN / Infinity, which strict readers refuse), a lone surrogate as U+FFFD (so the
    line encodes)."""
    return json.dumps(_clean(obj), ensure_ascii=False, allow_nan=False, indent=indent)


def lines(path: str | Path, encoding: str = "utf-8") -> Iterator[tuple[int, str | None, str | None]]:
    """(line number, text, decoding error) per non-blank line of a JSONL file.

    ASCII-compatible encodings are decoded line by line, so one undecodable line is one error and
    the next line is read as usual (a UTF-8 byte-order mark at the start is skipped); UTF-16/32 files
    are decoded as a stream, where an error ends the file with one error naming the line."""
    path = Path(path)
    if ascii_compatible(encoding):
        with path.open("rb") as fh:
            for n, raw in enumerate(fh, 1):
                if n == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                if not raw.strip():
                    continue
                try:
                    yield n, raw.decode(encoding), None
                except UnicodeDecodeError as exc:
                    byte = f"byte 0x{raw[exc.start]:02x}: {exc.reason}"
                    yield n, None, f"line {n}: not valid {encoding} ({byte})"
        return
    with path.open("rb") as raw_fh:
        fh = io.TextIOWrapper(raw_fh, encoding=encoding, errors="strict", newline="\n")
        n = 0
        while True:
            n += 1
            try:
                line = fh.readline()
            except UnicodeDecodeError as exc:
                yield n, None, f"line {n} onwards: not valid {encoding} ({exc.reason}); the rest is unread"
                return
            if not line:
                return
            if line.strip():
                yield n, line, None


def records(path: str | Path, encoding: str = "utf-8") -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed value, error) per non-blank line; a line that does not decode or parse
    gives (n, None, "line n: …") and the next line is read as usual. Never raises for content."""
    for n, line, error in lines(path, encoding):
        yield n, *(parse_line(n, line) if error is None else (None, error))


def parse_line(n: int, line: str) -> tuple[Any, str | None]:
    """(parsed value, None) for line `n`, or (None, "line n: invalid JSON (…)"). Never raises."""
    try:
        return loads(line), None
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        msg = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc) or type(exc).__name__
        return None, f"line {n}: invalid JSON ({msg})"


def repair_tail(path: Path) -> None:
    """Drop a partially written last line (the run was killed mid-write)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as fh:
        fh.seek(-1, os.SEEK_END)
        if fh.read(1) == b"\n":
            return
        size = fh.seek(0, os.SEEK_END)
        pos = size
        step = 1 << 16
        while pos > 0:
            start = max(0, pos - step)
            fh.seek(start)
            block = fh.read(pos - start)
            nl = block.rfind(b"\n")
            if nl >= 0:
                fh.truncate(start + nl + 1)
                return
            pos = start
        fh.truncate(0)
