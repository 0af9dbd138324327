"""Scoring at scale on Ray: `BatchScorer` for `ray.data.Dataset.map_batches`, and `score_file`,
the engine behind `wqrm score --engine ray`.

    import ray
    from wqrm.integrations.ray import BatchScorer

    ds = ray.data.read_parquet("texts.parquet")  # columns: id, text (+ task, prompt, references, persona)
    scored = ds.map_batches(BatchScorer, compute=ray.data.ActorPoolStrategy(size=4), batch_size=32)
    scored.write_parquet("scores/")  # 4 actors, the models loaded once in each

Each actor loads the models once (`__init__`) and scores each batch with the same code as the
single-process `wqrm score --input` (`wqrm.batch.score_rows`): a row's `task`, `prompt`,
`references` and `persona` columns give its context, over the `context` defaults. A batch is a
pandas DataFrame, a dict of NumPy arrays (Ray's default) or a pyarrow Table, and comes back in the
same format with every input column kept and these columns added (an input column of the same name
is replaced):

    lang, score, uncapped_score, S1..S8, one column per metric (float, null when undefined),
    weights, version, error, reasons (JSON object: why a value is null), record

`record` is the row's JSON line as `wqrm score --input` writes it (`id`, `lang`, `score`,
`components`, `metrics`, `used_components`, `reasons`, `goodness`, `contributions`, `substance`,
`uncapped_score`, `spans`, `weights`, `version`, `error`). A row that cannot be scored (a missing or
non-string text, an empty text, a bad context field, an unsupported language) gets an error record
and null scores; a batch never fails because of one row. Rows sharing a `group` are candidates
scored together (S8): use `ds.groupby("group").map_groups(BatchScorer,
fn_constructor_kwargs={"groups": True})` so a whole group reaches one call; without `groups=True`
a row with a group gets an error record saying so.

`score_file` reads a JSONL or Parquet file on the driver and sends batches of rows to a fixed set
of `BatchScorer` actors (Ray Core; Ray Data's block sizing would put a small file into one block,
scored by one actor, with nothing written until it is done), writing rows in input order as they
come back.

Ray is an optional dependency (`pip install 'wqrm[ray]'`): this module imports it only in
`score_file`; `BatchScorer` itself runs without it.
"""

from __future__ import annotations

import collections
import json
import logging
import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from wqrm.batch import (
    CONTEXT_FIELDS,
    BatchStats,
    Row,
    done_ids,
    row_context,
    row_from_record,
    score_group,
    score_rows,
)
from wqrm.components import COMPONENT_NAMES
from wqrm.jsonl import dumps, lines, parse_line, repair_tail
from wqrm.result import ScoreResult

__all__ = ["BatchScorer", "GroupedRowsError", "RayEngineError", "check_paths", "score_file", "source_rows"]


#: Columns of the rows `score_file` reads (one per input line): its number, its JSON, its decoding error.
LINE_COLUMN, JSON_COLUMN, DECODE_ERROR_COLUMN = "wqrm_line", "wqrm_json", "wqrm_decode_error"
#: The record keys a row's JSON carries into scoring (other columns of a Parquet input are not read).
_ROW_KEYS = ("id", "text", "group", *CONTEXT_FIELDS)


class BatchScorer:
    """A callable class for `ray.data.Dataset.map_batches`: one `wqrm.Scorer` per actor.

    `profile` (a profile directory), `weights` (a weights JSON, or "uniform") and `edit_model` (an
    edit-model directory for S1) default to the shipped ones; `context` holds default `task`,
    `prompt`, `references` and `persona` for every row (a row's own columns override them);
    `groups=True` scores the rows of a batch that share a `group` value as one candidate group."""

    def __init__(
        self,
        *,
        profile: str | os.PathLike | None = None,
        weights: str | os.PathLike | None = None,
        edit_model: str | os.PathLike | None = None,
        context: dict[str, Any] | None = None,
        groups: bool = False,
    ):
        defaults = {k: v for k, v in (context or {}).items() if v is not None}
        unknown = set(defaults) - set(CONTEXT_FIELDS)
        if unknown:
            raise ValueError(
                f"context: unknown field(s) {sorted(unknown)}; known: {', '.join(CONTEXT_FIELDS)}"
            )
        self.context, bad = row_context(defaults, {})
        if bad is not None:
            raise ValueError(f"context: {bad}")
        import wqrm  # deferred: the models load here, once per actor
        from wqrm import resources  # deferred: the models load here, once per actor

        if edit_model is not None:
            resources.set_override("edit_model", str(edit_model))
        self.scorer = wqrm.load(
            None if profile is None else str(profile), None if weights is None else str(weights)
        )
        self.groups = groups
        self.metric_names = list(self.scorer.metric_names)

    def __call__(self, batch: Any) -> Any:
        """Score one batch (pandas DataFrame, dict of NumPy arrays, or pyarrow Table); the same
        format comes back, one output row per input row, in order."""
        columns = _columns(batch)
        n = len(next(iter(columns.values()))) if columns else 0
        internal = JSON_COLUMN in columns
        rows = self._rows(columns, n, internal)
        results = self._score(rows)
        added = self._output_columns(rows, results)
        if internal:  # `score_file`'s rows: the raw line is replaced by the row's id and text
            added = {
                "id": pa.array([_id_text(r.id) for r in rows], pa.string()),
                "text": pa.array([r.text for r in rows], pa.string()),
                **added,
            }
            keep = {LINE_COLUMN: pa.array(columns[LINE_COLUMN], pa.int64())}
            return _with_columns(batch, added, keep_only=keep)
        return _with_columns(batch, added)

    # ---- rows in, results out -------------------------------------------------------------------

    def _rows(self, columns: dict[str, list], n: int, internal: bool) -> list[Row]:
        if internal:
            rows = []
            for line, raw, error in zip(
                columns[LINE_COLUMN], columns[JSON_COLUMN], columns[DECODE_ERROR_COLUMN], strict=True
            ):
                obj, error = (None, error) if error is not None else parse_line(line, raw)
                rows.append(row_from_record(line, obj, error, self.context))
            return rows
        keys = [k for k in _ROW_KEYS if k in columns]
        return [
            row_from_record(None, {k: _plain(columns[k][i]) for k in keys}, None, self.context)
            for i in range(n)
        ]

    def _score(self, rows: list[Row]) -> list[ScoreResult]:
        results: list[ScoreResult | None] = [None] * len(rows)
        alone: list[int] = []
        groups: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            if row.group is None or row.error is not None:
                alone.append(i)
            elif self.groups:
                groups.setdefault(row.group, []).append(i)
            else:
                results[i] = ScoreResult.failed(
                    "a row with a 'group' is a candidate scored with its group: score grouped rows with "
                    "ds.groupby('group').map_groups(BatchScorer, fn_constructor_kwargs={'groups': True})",
                    row.id,
                )
        for i, result in zip(alone, score_rows(self.scorer, [rows[i] for i in alone]), strict=True):
            results[i] = result
        for idx in groups.values():
            for i, result in zip(idx, score_group(self.scorer, [rows[i] for i in idx]), strict=True):
                results[i] = result
        return results  # type: ignore[return-value]

    def _output_columns(self, rows: list[Row], results: list[ScoreResult]) -> dict[str, pa.Array]:
        def floats(values) -> pa.Array:
            return pa.array([None if v is None else float(v) for v in values], pa.float64())

        records = [result.to_dict(id=row.id) for row, result in zip(rows, results, strict=True)]
        out: dict[str, pa.Array] = {
            "lang": pa.array([r["lang"] for r in records], pa.string()),
            "score": floats(r["score"] for r in records),
            "uncapped_score": floats(r["uncapped_score"] for r in records),
        }
        for c in COMPONENT_NAMES:
            out[c] = floats(r["components"].get(c) for r in records)
        for name in self.metric_names:
            out[name] = floats(r["metrics"].get(name) for r in records)
        out["weights"] = pa.array([r["weights"] for r in records], pa.string())
        out["version"] = pa.array([r["version"] for r in records], pa.string())
        out["error"] = pa.array([r["error"] for r in records], pa.string())
        out["reasons"] = pa.array([dumps(r["reasons"]) for r in records], pa.string())
        out["record"] = pa.array([dumps(r) for r in records], pa.string())
        return out


def _plain(value: Any) -> Any:
    """A dataset cell as the value a JSON row would hold: NumPy scalars and arrays as Python values,
    a missing value (None, NaN, pandas' NA and NaT) as None."""
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int, dict)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    return None if pd.isna(value) else value


def _columns(batch: Any) -> dict[str, list]:
    """The batch's columns as Python lists (pandas, pyarrow or a dict of arrays/lists)."""
    if isinstance(batch, pa.Table):
        return {name: batch.column(name).to_pylist() for name in batch.column_names}
    if isinstance(batch, pd.DataFrame):
        return {str(name): batch[name].tolist() for name in batch.columns}
    if isinstance(batch, dict):
        return {name: (v.tolist() if isinstance(v, np.ndarray) else list(v)) for name, v in batch.items()}
    raise TypeError(
        f"a batch must be a pandas DataFrame, a pyarrow Table or a dict of arrays, not {type(batch)}"
    )


def _with_columns(
    batch: Any, added: dict[str, pa.Array], keep_only: dict[str, pa.Array] | None = None
) -> Any:
    """`batch` (in its own format) with `added` set; with `keep_only`, only those columns and `added`."""
    if keep_only is not None:
        table = pa.table({**keep_only, **added})
        if isinstance(batch, pa.Table):
            return table
        if isinstance(batch, dict):
            return {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
        return table.to_pandas()
    if isinstance(batch, pa.Table):
        for name, values in added.items():
            if name in batch.column_names:
                batch = batch.set_column(batch.column_names.index(name), name, values)
            else:
                batch = batch.append_column(name, values)
        return batch
    if isinstance(batch, dict):
        return {**batch, **{name: v.to_numpy(zero_copy_only=False) for name, v in added.items()}}
    frame = batch.copy()
    for name, values in added.items():
        frame[name] = values.to_numpy(zero_copy_only=False)
    return frame


def _id_text(row_id: Any) -> str | None:
    """A row id as a string column value (a number as its JSON text; the exact id is in `record`)."""
    return row_id if isinstance(row_id, str) or row_id is None else json.dumps(row_id)


# ---- `wqrm score --engine ray`: a file in, a file out ------------------------------------------


def is_parquet(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() == ".parquet"


def source_rows(path: Path, encoding: str = "utf-8") -> Iterator[tuple[int, str | None, str | None]]:
    """(row number, JSON object text, error) per input row, streamed: a JSONL file's non-blank lines
    (numbered as lines, decoded as `wqrm score --input` decodes them), or a Parquet file's rows
    (numbered from 1; their id, text, group and context columns as one JSON object)."""
    if not is_parquet(path):
        yield from lines(path, encoding)
        return
    import pyarrow.parquet as pq  # deferred: only Parquet inputs need it

    pf = pq.ParquetFile(path)
    columns = [c for c in _ROW_KEYS if c in pf.schema_arrow.names]
    n = 0
    for part in pf.iter_batches(batch_size=1024, columns=columns):
        for obj in part.to_pylist():
            n += 1
            try:
                yield n, dumps(obj), None
            except (TypeError, ValueError) as exc:  # bytes, timestamps, …: not a JSON value
                yield n, None, f"row {n}: a column holds a value JSON cannot carry ({exc})"


def check_paths(input_path: Path, output_path: Path) -> None:
    """`ValueError` for an input or output `score_file` cannot use (before any row is read)."""
    if is_parquet(output_path) and output_path.exists():
        raise ValueError(
            f"--output {output_path} exists: a Parquet output is written whole (a JSONL output is "
            "appended to and resumed); remove it or choose another path"
        )
    if is_parquet(input_path):
        import pyarrow.parquet as pq  # deferred: only Parquet inputs need it

        try:
            names = pq.read_schema(input_path).names
        except (OSError, pa.ArrowException) as exc:
            raise ValueError(f"--input {input_path}: not a readable Parquet file ({exc})") from None
        if "text" not in names:
            raise ValueError(f"--input {input_path}: no 'text' column (columns: {', '.join(names)})")


class RayEngineError(ValueError):
    """`score_file` cannot run as asked; the message says why."""


class GroupedRowsError(RayEngineError):
    """The input has rows with a `group` (candidates scored together): `score_file` refuses it."""


def _plan(
    path: Path,
    encoding: str,
    defaults: dict[str, Any],
    done: set[str],
    on_error: Callable[[Row, str], None] | None,
) -> tuple[BatchStats, set[int]]:
    """The pass before scoring, as `wqrm.batch.score_jsonl` counts rows: the stats of the rows that
    will not be scored (ids already in the output, repeated ids) and their row numbers. Rows with a
    `group` are refused (`GroupedRowsError`): candidate groups are scored by the local engine."""
    stats, skip, seen, grouped = BatchStats(), set(), set(), []
    for n, raw, error in source_rows(path, encoding):
        obj, error = (None, error) if error is not None else parse_line(n, raw)
        row = row_from_record(n, obj, error, defaults)
        stats.rows += 1
        if row.key in seen:
            stats.duplicates += 1
            skip.add(n)
            if on_error:
                on_error(row, f"repeats the id {row.id!r} of an earlier row; skipped")
        elif row.key in done:
            seen.add(row.key)
            stats.skipped += 1
            skip.add(n)
        else:
            seen.add(row.key)
            if row.group is not None and row.error is None:
                grouped.append(n)
    if grouped:
        shown = ", ".join(map(str, grouped[:5])) + (", …" if len(grouped) > 5 else "")
        raise GroupedRowsError(
            f"{len(grouped)} rows have a 'group' (rows {shown}): candidate groups are scored together "
            "by --engine local; --engine ray scores rows one by one"
        )
    return stats, skip


def _batches(path: Path, encoding: str, skip: set[int], batch_size: int) -> Iterator[pa.Table]:
    """`source_rows(path)` less the `skip` row numbers, `batch_size` rows at a time, as tables of
    the columns `BatchScorer` reads a line from (its number, its JSON, its decoding error)."""
    schema = pa.schema(
        [(LINE_COLUMN, pa.int64()), (JSON_COLUMN, pa.string()), (DECODE_ERROR_COLUMN, pa.string())]
    )
    batch: list[tuple[int, str | None, str | None]] = []
    for row in source_rows(path, encoding):
        if row[0] in skip:
            continue
        batch.append(row)
        if len(batch) == batch_size:
            yield pa.Table.from_arrays([pa.array(c) for c in zip(*batch, strict=True)], schema=schema)
            batch = []
    if batch:
        yield pa.Table.from_arrays([pa.array(c) for c in zip(*batch, strict=True)], schema=schema)


def _scored_in_order(actors: list, batches: Iterator[pa.Table]) -> Iterator[pa.Table]:
    """Each batch scored by the actors in turn (at most two queued per actor), yielded in input
    order as it completes: the input is read as scoring proceeds, not held in memory."""
    import ray  # deferred: Ray is optional

    in_flight: collections.deque = collections.deque()
    for i, batch in enumerate(batches):
        if len(in_flight) >= 2 * len(actors):
            yield ray.get(in_flight.popleft())
        in_flight.append(actors[i % len(actors)].__call__.remote(batch))
    while in_flight:
        yield ray.get(in_flight.popleft())


def _init_ray(workers: int) -> None:
    """Join the cluster `RAY_ADDRESS` names, or start a local one with `workers` CPUs."""
    import ray  # deferred: Ray is optional

    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if os.environ.get("RAY_ADDRESS"):
        ray.init(**quiet)
    else:
        ray.init(num_cpus=workers, object_store_memory=512 * 1024**2, **quiet)


class _Writer:
    """Output rows in input order: JSONL lines appended (resumable), or one Parquet file written
    to `<output>.partial` and renamed when complete."""

    def __init__(self, path: Path):
        self.path, self.parquet = path, is_parquet(path)
        self._pq: Any = None
        self._schema: pa.Schema | None = None
        self._fh = None if self.parquet else path.open("a", encoding="utf-8")

    def write(self, block: pa.Table) -> None:
        if not self.parquet:
            self._fh.writelines(record + "\n" for record in block.column("record").to_pylist())
            self._fh.flush()
            return
        import pyarrow.parquet as pq  # deferred: only Parquet outputs need it

        table = block.drop_columns([LINE_COLUMN])
        if self._pq is None:
            self._schema = table.schema
            self._pq = pq.ParquetWriter(f"{self.path}.partial", self._schema)
        self._pq.write_table(table.select(self._schema.names).cast(self._schema))

    def close(self, complete: bool) -> None:
        if self._fh is not None:
            self._fh.close()
        if self._pq is not None:
            self._pq.close()
            if complete:
                os.replace(f"{self.path}.partial", self.path)


def score_file(
    input_path: str | os.PathLike,
    output_path: str | os.PathLike,
    *,
    workers: int = 2,
    batch_size: int = 32,
    encoding: str = "utf-8",
    context: dict[str, Any] | None = None,
    profile: str | os.PathLike | None = None,
    weights: str | os.PathLike | None = None,
    edit_model: str | os.PathLike | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    on_error: Callable[[Row, str], None] | None = None,
) -> BatchStats:
    """`wqrm score --engine ray`: score a JSONL or Parquet file (by suffix) with `workers` Ray actors
    (`BatchScorer`, one CPU each, `batch_size` rows per call) into a JSONL or Parquet output, rows
    in input order. The input is read here, on the driver, as scoring proceeds (so only the driver
    needs the file), and each batch goes to the next actor.

    A JSONL output holds exactly the lines `wqrm.batch.score_jsonl` would write, and is resumable
    the same way (ids already in it are skipped; a repeated id is skipped and reported). A Parquet
    output holds `BatchScorer`'s columns (`id` as a string, `text`, scores, `record`, …) and must not
    exist yet (`ValueError`). Rows with a `group` are refused (`GroupedRowsError`, before Ray
    starts). Ray is started here (a local cluster with `workers` CPUs, or the cluster `RAY_ADDRESS`
    names) unless it already runs, and shut down at the end if it was started here. Callbacks as in
    `score_jsonl`."""
    inp, out = Path(input_path), Path(output_path)
    if workers < 1 or batch_size < 1:
        raise ValueError("workers and batch_size must be at least 1")
    check_paths(inp, out)
    defaults = {k: v for k, v in (context or {}).items() if v is not None}
    if not is_parquet(out):
        repair_tail(out)
    stats, skip = _plan(inp, encoding, defaults, set() if is_parquet(out) else done_ids(out), on_error)
    if on_start:
        on_start(stats.rows)
    if on_progress and skip:
        on_progress(len(skip))
    if len(skip) == stats.rows:  # nothing to score: no cluster to start
        return stats

    import ray  # deferred: Ray is optional, and starts only once the input is known to be usable

    started = not ray.is_initialized()
    if started:
        _init_ray(workers)
    writer, complete, actors = _Writer(out), False, []
    try:
        cpus = ray.cluster_resources().get("CPU", 0)
        if cpus < workers:  # the missing actors would wait forever
            raise RayEngineError(f"{workers} workers need {workers} CPUs; the Ray cluster has {cpus:g}")
        scorer_kwargs = {
            "profile": profile,
            "weights": weights,
            "edit_model": edit_model,
            "context": defaults,
        }
        actor = ray.remote(num_cpus=1)(BatchScorer)  # one CPU each: one torch thread
        actors = [actor.remote(**scorer_kwargs) for _ in range(workers)]
        for block in _scored_in_order(actors, _batches(inp, encoding, skip, batch_size)):
            writer.write(block)
            stats.written += block.num_rows
            for line, error, record in zip(
                block.column(LINE_COLUMN).to_pylist(),
                block.column("error").to_pylist(),
                block.column("record").to_pylist(),
                strict=True,
            ):
                if error is not None:
                    stats.errors += 1
                    if on_error:
                        on_error(Row(json.loads(record)["id"], line, error=error), error)
            if on_progress:
                on_progress(block.num_rows)
        complete = True
    finally:
        writer.close(complete)
        for a in actors:  # their CPUs back to a cluster that outlives this run
            ray.kill(a)
        if started:
            ray.shutdown()
    return stats
