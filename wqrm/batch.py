"""Streaming, resumable JSONL scoring: `wqrm score --input texts.jsonl --output scores.jsonl`.

Input rows are `{"id", "text"}`; output rows are `{"id", "score", "components", "metrics",
"used_components", "error", …}`, one per input row, appended and flushed row by row. Re-running
with the same output skips the ids already written, so an interrupted run loses nothing and a
resumed one writes no duplicates. Memory is bounded by one chunk of rows plus the set of ids
already written.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wqrm.scoring import Scorer, ScoreResult

__all__ = ["BatchStats", "read_jsonl", "score_jsonl"]


@dataclass
class BatchStats:
    rows: int = 0
    written: int = 0
    skipped: int = 0
    errors: int = 0


def _repair_tail(path: Path) -> None:
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


def _done_ids(path: Path) -> set[str]:
    done: set[str] = set()
    if not path.exists():
        return done
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                done.add(_key(json.loads(line)["id"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return done


def _key(row_id: Any) -> str:
    return json.dumps(row_id, sort_keys=True)


def read_jsonl(path: str | Path, encoding: str = "utf-8") -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed value, None) for each non-blank line of a JSONL file, or (line number,
    None, error) for a line that is not JSON; a decoding error ends the file with an error record.
    Never raises on malformed content."""
    with Path(path).open(encoding=encoding, errors="strict") as fh:
        lineno = 0
        while True:
            lineno += 1
            try:
                line = fh.readline()
            except UnicodeDecodeError as exc:
                yield lineno, None, f"line {lineno}: not valid {encoding} ({exc.reason})"
                return
            if not line:
                return
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line), None
            except json.JSONDecodeError as exc:
                yield lineno, None, f"line {lineno}: invalid JSON ({exc.msg})"


def _rows(path: Path, encoding: str) -> Iterator[tuple[Any, str | None, str | None]]:
    """(id, text, error) per input line; malformed lines yield an error record, never an exception."""
    for lineno, row, error in read_jsonl(path, encoding):
        if error is not None:
            yield f"line:{lineno}", None, error
            continue
        if not isinstance(row, dict):
            yield f"line:{lineno}", None, f"line {lineno}: expected an object with id and text"
            continue
        row_id = row.get("id", f"line:{lineno}")
        text = row.get("text")
        if not isinstance(text, str):
            yield row_id, None, f"row {row_id!r}: missing or non-string 'text' field"
            continue
        yield row_id, text, None


def count_rows(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(1 for line in fh if line.strip())


def score_jsonl(
    input_path: str | Path,
    output_path: str | Path,
    scorer: Scorer,
    *,
    chunk_size: int = 32,
    encoding: str = "utf-8",
    on_progress: Callable[[int], None] | None = None,
) -> BatchStats:
    """Score every row of `input_path` into `output_path` (append-only, resumable)."""
    inp, out = Path(input_path), Path(output_path)
    _repair_tail(out)
    done = _done_ids(out)
    stats = BatchStats()
    chunk: list[tuple[Any, str | None, str | None]] = []
    with out.open("a", encoding="utf-8") as fh:

        def flush() -> None:
            texts = [t for _, t, e in chunk if e is None]
            ids = [i for i, _, e in chunk if e is None]
            scored = iter(scorer.score_batch(texts, ids=ids)) if texts else iter(())
            for row_id, _text, err in chunk:
                result = ScoreResult.failed(err, row_id) if err is not None else next(scored)
                fh.write(json.dumps(result.to_dict(id=row_id), ensure_ascii=False) + "\n")
                fh.flush()
                stats.written += 1
                stats.errors += result.error is not None
            if on_progress:
                on_progress(len(chunk))
            chunk.clear()

        for row in _rows(inp, encoding):
            stats.rows += 1
            if _key(row[0]) in done:
                stats.skipped += 1
                if on_progress:
                    on_progress(1)
                continue
            done.add(_key(row[0]))  # a repeated id later in the input is skipped too
            chunk.append(row)
            if len(chunk) >= chunk_size:
                flush()
        if chunk:
            flush()
    return stats
