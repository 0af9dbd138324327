"""Append-only JSONL files that survive a killed writer (batch outputs, metric caches)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["repair_tail"]


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
