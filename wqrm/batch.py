"""Streaming, resumable JSONL scoring: `wqrm score --input texts.jsonl --output scores.jsonl`.

Input rows are JSON objects:

    {"id": "r1", "text": "…"}                                   required: text (id: default line:N)
    {"id": "r2", "text": "…", "task": "continue", "prompt": "…", "references": ["…", "…"]}
    {"id": "c1", "text": "…", "prompt": "…", "group": "p7"}      candidates: rows sharing a group
    {"id": "r3", "text": "…", "persona": "my_writing/"}         a persona directory (or saved persona)

`task` (continue | rephrase | storygen), `prompt` (a string), `references` (a string or a list of
strings) and `persona` (a path) give the row's context and override the command line's; rows
sharing a `group` value (a string or an integer) are scored together as candidates for one prompt,
which adds S8 (diversity), and must share their context. Other keys are ignored.

Output rows are `{"id", "score", "components", "metrics", "used_components", "error", …}`, exactly
one per input row, appended and flushed row by row. A row that cannot be scored (invalid JSON, a
missing or non-string `text`, a bad context field, empty text, …) gets a record with `"error"` set
and the others are scored. Re-running with the same output skips the ids already written, so an
interrupted run loses nothing and a resumed one writes no duplicates; a later row repeating an
earlier row's id is skipped and reported. A group is complete only when all its rows are in: it is
scored when its last row is read (and rescored as a whole on resume, writing only the missing rows),
so memory is bounded by one chunk of rows, the open groups, and the ids seen.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wqrm.jsonl import dumps, records, repair_tail
from wqrm.result import ScoreResult
from wqrm.tasks import TASKS
from wqrm.textio import InvalidTextError, validate_text

__all__ = [
    "CONTEXT_FIELDS",
    "BatchStats",
    "Row",
    "done_ids",
    "read_rows",
    "row_context",
    "row_from_record",
    "score_group",
    "score_jsonl",
    "score_rows",
]

log = logging.getLogger(__name__)

#: Row keys that set a row's scoring context (besides `id`, `text` and `group`).
CONTEXT_FIELDS = ("task", "prompt", "references", "persona")


@dataclass
class BatchStats:
    rows: int = 0  # input rows (non-blank lines)
    written: int = 0  # output records written by this run
    skipped: int = 0  # rows whose id was already in the output
    duplicates: int = 0  # rows repeating an earlier row's id (reported, not scored)
    errors: int = 0  # records written with an error


@dataclass
class Row:
    """One input line: its id, text and context, or the error that keeps it from being scored."""

    id: Any
    line: int
    text: str | None = None
    error: str | None = None
    context: dict[str, Any] = field(default_factory=dict)
    group: str | None = None  # JSON of the group value; None: scored alone

    @property
    def key(self) -> str:
        return _key(self.id)

    def context_key(self) -> str:
        return json.dumps(self.context, sort_keys=True, default=str)


def _key(row_id: Any) -> str:
    return json.dumps(row_id, sort_keys=True)


def done_ids(path: Path) -> set[str]:
    """The id keys of the rows already in the output file `path` (a resumed run skips them)."""
    done: set[str] = set()
    if not path.exists():
        return done
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            try:
                done.add(_key(json.loads(line)["id"]))
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return done


def _check_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return f"'id' must be a string or a number, not {type(value).__name__}"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "'id' is not valid Unicode (a lone surrogate)"
    return None


def row_context(obj: dict[str, Any], defaults: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The row's context (its fields over `defaults`), or the first bad field's error."""
    ctx = {k: v for k, v in defaults.items() if v is not None}
    task = obj.get("task")
    if task is not None:
        if not isinstance(task, str) or task not in TASKS:
            return ctx, f"'task' must be one of {', '.join(TASKS)}, not {task!r}"
        ctx["task"] = task
    if obj.get("prompt") is not None:
        try:
            ctx["prompt"] = validate_text(obj["prompt"])
        except InvalidTextError as exc:
            return ctx, f"'prompt': {exc}"
    refs = obj.get("references")
    if refs is not None:
        refs = [refs] if isinstance(refs, str) else refs
        if not isinstance(refs, list) or not refs:
            return ctx, "'references' must be a string or a non-empty list of strings"
        for i, r in enumerate(refs):
            try:
                validate_text(r)
            except InvalidTextError as exc:
                return ctx, f"'references'[{i}]: {exc}"
        ctx["references"] = refs
    persona = obj.get("persona")
    if persona is not None:
        if not isinstance(persona, str) or not persona.strip():
            return ctx, "'persona' must be the path of a persona directory"
        try:
            is_dir = Path(persona).is_dir()
        except (OSError, ValueError):
            is_dir = False
        if not is_dir:
            return ctx, f"'persona': no directory {persona!r}"
        ctx["persona"] = str(Path(persona).resolve())
    return ctx, None


def row_from_record(
    n: int | None, obj: Any, error: str | None = None, defaults: dict[str, Any] | None = None
) -> Row:
    """One input record as a `Row`: `obj` is the parsed JSON object of line `n` (or a dataset row,
    `n=None`), `error` the line's decoding/parsing error. A malformed record or a bad field gives a
    row with `.error` set (and id `line:N`, or None for a dataset row, when it has no usable id),
    never an exception."""
    where = "" if n is None else f"line {n}: "
    fallback = None if n is None else f"line:{n}"
    if error is not None:
        return Row(fallback, n, error=error)
    if not isinstance(obj, dict):
        return Row(fallback, n, error=f"{where}expected a JSON object with a text field")
    row_id = obj.get("id")
    if row_id is None:
        row_id = fallback
    elif (bad := _check_id(row_id)) is not None:
        return Row(fallback, n, error=f"{where}{bad}")
    text = obj.get("text")
    if not isinstance(text, str):
        got = "missing" if text is None else f"a {type(text).__name__}, not a string"
        return Row(row_id, n, error=f"'text' is {got}")
    context, bad = row_context(obj, defaults or {})
    group = obj.get("group")
    if bad is None and group is not None:
        if isinstance(group, bool) or not isinstance(group, (str, int)):
            bad = f"'group' must be a string or an integer, not {type(group).__name__}"
        elif isinstance(group, str) and _check_id(group) is not None:
            bad = "'group' is not valid Unicode (a lone surrogate)"
    if bad is not None:
        return Row(row_id, n, error=bad)
    return Row(row_id, n, text=text, context=context, group=None if group is None else _key(group))


def read_rows(
    path: str | Path, encoding: str = "utf-8", defaults: dict[str, Any] | None = None
) -> Iterator[Row]:
    """Every non-blank input line as a `Row` (`row_from_record`); never an exception for content."""
    defaults = defaults or {}
    for n, obj, error in records(path, encoding):
        yield row_from_record(n, obj, error, defaults)


def _score_together(scorer: Any, rows: Sequence[Row], group: bool = False) -> list[ScoreResult]:
    """Score rows sharing one context (and, with `group`, as one candidate group); a failure of the
    whole call (a bad persona directory, a model failure) becomes every row's error record."""
    try:
        texts, ids = [r.text for r in rows], [r.id for r in rows]
        return list(scorer.score_batch(texts, ids=ids, group=group, **rows[0].context))
    except Exception as exc:
        log.exception("scoring %d rows failed", len(rows))
        return [ScoreResult.failed(f"{type(exc).__name__}: {exc}", r.id) for r in rows]


def score_rows(scorer: Any, rows: Sequence[Row]) -> list[ScoreResult]:
    """One result per row, in input order, each row scored alone (its `group` is not used): a row
    with an error gets its error record, the others are scored in one `score_batch` call per
    distinct context. Never raises."""
    by_context: dict[str, list[int]] = {}
    results: list[ScoreResult | None] = [None] * len(rows)
    for i, row in enumerate(rows):
        if row.error is not None:
            results[i] = ScoreResult.failed(row.error, row.id)
        else:
            by_context.setdefault(row.context_key(), []).append(i)
    for idx in by_context.values():
        for i, result in zip(idx, _score_together(scorer, [rows[i] for i in idx]), strict=True):
            results[i] = result
    return results  # type: ignore[return-value]


def score_group(scorer: Any, members: Sequence[Row]) -> list[ScoreResult]:
    """The rows of one candidate group (valid rows sharing a `group` value) scored together, which
    adds S8; rows disagreeing on their context each get an error record naming the group."""
    if len({r.context_key() for r in members}) > 1:
        fields = ", ".join(CONTEXT_FIELDS)
        group = json.loads(members[0].group) if members[0].group is not None else None
        msg = f"the rows of group {group!r} disagree on their context ({fields})"
        return [ScoreResult.failed(msg, r.id) for r in members]
    return _score_together(scorer, members, group=True)


def _plan(path: Path, encoding: str, defaults: dict[str, Any]) -> tuple[int, Counter]:
    """First pass: (rows, members per group) counting each id once, as the scoring pass will."""
    seen: set[str] = set()
    sizes: Counter = Counter()
    rows = 0
    for row in read_rows(path, encoding, defaults):
        rows += 1
        if row.key in seen:
            continue
        seen.add(row.key)
        if row.group is not None:
            sizes[row.group] += 1
    return rows, sizes


def score_jsonl(
    input_path: str | Path,
    output_path: str | Path,
    scorer: Any,
    *,
    chunk_size: int = 32,
    encoding: str = "utf-8",
    context: dict[str, Any] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    on_error: Callable[[Row | ScoreResult, str], None] | None = None,
) -> BatchStats:
    """Score every row of `input_path` into `output_path` (append-only, resumable).

    `scorer` is a `wqrm.Scorer`; `context` holds the defaults of task, prompt, references and
    persona (a row's own fields override them). `on_start(total_rows)` is called once before
    scoring, `on_progress(n)` after every n rows handled, `on_error(row, message)` for every row
    that is written with an error or skipped as a repeated id."""
    inp, out = Path(input_path), Path(output_path)
    defaults = dict(context or {})
    total, group_sizes = _plan(inp, encoding, defaults)
    if on_start:
        on_start(total)
    repair_tail(out)
    done = done_ids(out)
    stats = BatchStats()
    seen: set[str] = set()
    chunk: list[Row] = []
    groups: dict[str, list[Row]] = {}

    with out.open("a", encoding="utf-8") as fh:

        def write(row: Row, result: ScoreResult) -> None:
            if row.key in done:  # a finished group's member already written before a resume
                return
            fh.write(dumps(result.to_dict(id=row.id)) + "\n")
            fh.flush()
            done.add(row.key)
            stats.written += 1
            if result.error is not None:
                stats.errors += 1
                if on_error:
                    on_error(row, result.error)

        def flush() -> None:
            for row, result in zip(chunk, score_rows(scorer, chunk), strict=True):  # in input order
                write(row, result)
            if on_progress:
                on_progress(len(chunk))
            chunk.clear()

        def close_group(key: str) -> None:
            members = groups.pop(key)
            stats.skipped += sum(r.key in done for r in members)
            if all(r.key in done for r in members):
                if on_progress:
                    on_progress(len(members))
                return
            for r, result in zip(members, score_group(scorer, members), strict=True):
                write(r, result)
            if on_progress:
                on_progress(len(members))

        for row in read_rows(inp, encoding, defaults):
            stats.rows += 1
            if row.key in seen:
                stats.duplicates += 1
                if on_error:
                    on_error(row, f"repeats the id {row.id!r} of an earlier row; skipped")
                if on_progress:
                    on_progress(1)
                continue
            seen.add(row.key)
            if row.group is not None and row.error is None:
                groups.setdefault(row.group, []).append(row)
                if len(groups[row.group]) == group_sizes[row.group]:
                    close_group(row.group)
                continue
            if row.key in done:
                stats.skipped += 1
                if on_progress:
                    on_progress(1)
                continue
            chunk.append(row)
            if len(chunk) >= chunk_size:
                flush()
        if chunk:
            flush()
        for key in list(groups):  # only if the file changed between the two passes
            close_group(key)
    return stats
