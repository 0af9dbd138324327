"""The files of a benchmark run directory and their versioned schema (documented in docs/bench.md).

    RUN/results.json       everything the report shows: {"schema": "wqrm-bench/1", "run", "groups",
                           "references", "metrics", "distance_summary", "comparisons", "examples",
                           "prompts", "warnings"}
    RUN/per_text.jsonl     one row per text: group, id, prompt_id, text, n_words, score,
                           score_uniform, components, metrics, goodness, reasons, spans, error, half
    RUN/scores.jsonl       the score cache (one row per distinct text; see `wqrm.benchmarks.cache`)

`wqrm report` reads only results.json and per_text.jsonl: a report never rescores anything.
A reader accepts every `wqrm-bench/1` file; a change that alters the meaning of a key bumps the
version, and a newer version is refused with a message instead of being misread.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "PER_TEXT_FILE",
    "RESULTS_FILE",
    "SCHEMA",
    "RunFormatError",
    "load_run",
    "write_json",
    "write_jsonl",
]

SCHEMA = "wqrm-bench/1"
RESULTS_FILE = "results.json"
PER_TEXT_FILE = "per_text.jsonl"
REQUIRED = ("schema", "run", "groups", "references", "metrics", "comparisons", "examples")


class RunFormatError(ValueError):
    """A run directory that is not a (readable) wqrm benchmark run."""


def _replace(path: Path, write) -> None:
    """Write to a temporary sibling, then rename: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        write(fh)
    os.replace(tmp, path)


def write_json(path: Path, data: Any) -> None:
    _replace(
        path, lambda fh: fh.write(json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False) + "\n")
    )


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    def write(fh):
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")

    _replace(path, write)


def load_run(run_dir: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(results, per-text rows) of a run directory (or of a results.json path next to its
    per_text.jsonl). Raises `RunFormatError` naming what is missing or unsupported."""
    p = Path(run_dir)
    results_path = p if p.is_file() else p / RESULTS_FILE
    if not results_path.exists():
        raise RunFormatError(f"{p}: no {RESULTS_FILE} (run `wqrm bench … --out {p}` first)")
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunFormatError(f"{results_path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    schema = results.get("schema") if isinstance(results, dict) else None
    if not isinstance(schema, str) or not schema.startswith("wqrm-bench/"):
        raise RunFormatError(f"{results_path}: not a wqrm benchmark result (schema {schema!r})")
    if schema != SCHEMA:
        raise RunFormatError(
            f"{results_path}: schema {schema} is not supported by this wqrm (reads {SCHEMA})"
        )
    missing = [k for k in REQUIRED if k not in results]
    if missing:
        raise RunFormatError(f"{results_path}: missing {', '.join(missing)}")
    per_text_path = results_path.parent / PER_TEXT_FILE
    if not per_text_path.exists():
        raise RunFormatError(f"{results_path.parent}: no {PER_TEXT_FILE} next to {RESULTS_FILE}")
    rows = []
    with per_text_path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise RunFormatError(f"{per_text_path}:{lineno}: not JSON ({exc.msg})") from None
    return results, rows
