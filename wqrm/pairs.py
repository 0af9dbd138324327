"""Streaming, resumable DDPO pairs from a candidates JSONL: `wqrm pairs --input … --output …`.

Input rows, one JSON object per line (both kinds may be mixed):

* grouped: `{"prompt": P, "candidates": [C, …], "id": optional group id}`;
* flat: `{"prompt": P, "completion": C}` — consecutive rows with the same prompt form one group
  (sort flat rows by prompt: a prompt that comes back after another prompt is an error record).

P and C are strings, or lists of chat messages (`[{"role", "content"}, …]`, TRL's conversational
format). A group's id is its `id`, else `"p:"` + the first 16 hex digits of the SHA-256 of the prompt.

Outputs:

* `--output` (pairs.jsonl): the pairs of `wqrm.ddpo.build_pairs`, one per line, ready for TRL
  (`prompt`, `chosen`, `rejected`, `weight`, `score_chosen`, `score_rejected`, `margin`, …).
* the group log (default `<output stem>.groups.jsonl`): one row per input group — its id, input
  line, counts, chosen index, the best index without S8, per-candidate errors, or the group's
  `error`. A group that yields no pair (bad row, fewer than two scorable candidates, nothing below
  the margin) is only in the log, so the pairs file stays loadable by `datasets`.

Resuming: a group's pairs are written and flushed first, then its log row; the log row commits the
group. A re-run skips every group in the log, and drops pairs at the end of the output whose group
has no log row (a run killed between the two writes), so a killed run resumes without duplicates.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wqrm import __version__
from wqrm.ddpo import MODES, LengthBalancer, build_pairs
from wqrm.jsonl import records, repair_tail

__all__ = ["CandidateGroup", "PairStats", "default_log_path", "pairs_jsonl", "read_groups"]


@dataclass
class CandidateGroup:
    """One prompt and its candidates as read from the input (or the error that made it unreadable)."""

    key: str
    line: int
    prompt: Any = None
    candidates: list[Any] = field(default_factory=list)
    rows: int = 1
    error: str | None = None


def group_key(prompt: Any) -> str:
    blob = json.dumps(prompt, sort_keys=True, ensure_ascii=False)
    return "p:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _valid_value(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(m, dict) and "role" in m for m in value)
    )


def read_groups(path: str | Path, encoding: str = "utf-8") -> Iterator[CandidateGroup]:
    """The candidate groups of a JSONL file, in order; a malformed line or group is yielded with its
    `error` set (key `line:N`), never raised."""
    current: CandidateGroup | None = None
    closed: dict[str, int] = {}  # flat-row prompts whose group has ended → its first line
    ids: set[str] = set()

    def close() -> Iterator[CandidateGroup]:
        nonlocal current
        if current is not None:
            closed[current.key] = current.line
            yield current
            current = None

    for lineno, row, read_error in records(path, encoding):
        bad = read_error or _row_error(row, lineno)
        if bad:
            yield CandidateGroup(f"line:{lineno}", lineno, error=bad)
            continue
        prompt = row["prompt"]
        if "candidates" in row:
            yield from close()
            key = str(row["id"]) if row.get("id") is not None else group_key(prompt)
            if key in ids:
                yield CandidateGroup(f"line:{lineno}", lineno, error=f"line {lineno}: group {key!r} again")
                continue
            ids.add(key)
            yield CandidateGroup(key, lineno, prompt, list(row["candidates"]))
            continue
        key = group_key(prompt)
        if current is not None and current.key == key:
            current.candidates.append(row["completion"])
            current.rows += 1
            continue
        yield from close()
        if key in closed or key in ids:
            yield CandidateGroup(
                f"line:{lineno}",
                lineno,
                error=f"line {lineno}: this prompt's group already ended (line {closed.get(key, '?')}); "
                "flat rows must be sorted by prompt",
            )
            continue
        ids.add(key)
        current = CandidateGroup(key, lineno, prompt, [row["completion"]])
    yield from close()


def _row_error(row: Any, lineno: int) -> str | None:
    """Why a parsed row is not a candidates row ("line N: …"), or None."""
    reason = _row_problem(row)
    return None if reason is None else f"line {lineno}: {reason}"


def _row_problem(row: Any) -> str | None:
    if not isinstance(row, dict):
        return "expected an object with prompt and candidates (or prompt and completion)"
    if "prompt" not in row or not _valid_value(row["prompt"]):
        return "missing 'prompt' (a string or a list of {role, content} messages)"
    if "candidates" in row:
        cands = row["candidates"]
        if not isinstance(cands, list) or not all(_valid_value(c) for c in cands):
            return "'candidates' must be a list of strings or message lists"
        return None
    if "completion" in row:
        return None if _valid_value(row["completion"]) else "'completion' must be a string or a message list"
    return "a row needs 'candidates' (grouped) or 'completion' (flat)"


def default_log_path(output: str | Path) -> Path:
    """`pairs.jsonl` → `pairs.groups.jsonl` (next to the output)."""
    out = Path(output)
    return out.with_name(out.stem + ".groups.jsonl")


@dataclass
class PairStats:
    groups: int = 0  # groups processed by this run
    skipped: int = 0  # groups already in the log
    failed: int = 0  # groups with an error (no pairs)
    texts: int = 0  # candidate texts scored by this run
    pairs_built: int = 0
    pairs_written: int = 0
    dropped_length: int = 0  # pairs dropped by --balance-length
    rows_read: int = 0
    orphans_removed: int = 0  # pairs of a group a killed run wrote but did not commit (dropped, redone)
    seconds: float = 0.0
    # over every pair built (kept or not) in this run, and over the whole output file
    built_balance: LengthBalancer = field(default_factory=LengthBalancer)
    balance: LengthBalancer = field(default_factory=LengthBalancer)

    @property
    def texts_per_second(self) -> float | None:
        return self.texts / self.seconds if self.seconds > 0 else None


def _resume(output: Path, log: Path) -> tuple[set[str], LengthBalancer, int]:
    """(committed group keys, length counts of the committed pairs, orphan pairs removed)."""
    repair_tail(log)
    repair_tail(output)
    done: set[str] = set()
    if log.exists():
        with log.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    done.add(str(json.loads(line)["group"]))
                except (json.JSONDecodeError, KeyError, TypeError):
                    continue
    counts = LengthBalancer()
    if not output.exists() or output.stat().st_size == 0:
        return done, counts, 0
    if not log.exists():
        raise ValueError(
            f"{output} already holds pairs but its group log {log} does not exist: pass the log with "
            "--log, or write to a new output"
        )
    cut: int | None = None  # offset where the trailing run of uncommitted pairs starts
    orphans = 0
    with output.open("rb") as fh:
        offset = 0
        for lineno, raw in enumerate(fh, 1):
            try:
                row = json.loads(raw)
            except json.JSONDecodeError:
                raise ValueError(f"{output}: line {lineno} is not JSON (is this a pairs file?)") from None
            if str(row.get("group")) in done:
                cut, orphans = None, 0
                counts.add(row)
            elif cut is None:
                cut, orphans = offset, 1
            else:
                orphans += 1
            offset += len(raw)
    if cut is not None:
        with output.open("rb+") as fh:
            fh.truncate(cut)
    return done, counts, orphans


def pairs_jsonl(
    input_path: str | Path,
    output_path: str | Path,
    scorer: Any,
    *,
    mode: str = "all",
    margin: float = 0.0,
    balance_length: bool = False,
    tolerance: float = 0.05,
    log_path: str | Path | None = None,
    encoding: str = "utf-8",
    on_group: Callable[[PairStats, CandidateGroup], None] | None = None,
) -> PairStats:
    """Build the pairs of every group of `input_path` into `output_path` (append-only, resumable).

    With `balance_length`, pairs are kept or dropped by a `LengthBalancer` (tolerance `tolerance`)
    whose counts start from the pairs already in the output. `on_group(stats, group)` is called after
    each group (progress)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    inp, out = Path(input_path), Path(output_path)
    log = Path(log_path) if log_path is not None else default_log_path(out)
    if not inp.exists():
        raise FileNotFoundError(f"{inp}: no such file")
    done, counts, orphans = _resume(out, log)
    stats = PairStats(balance=counts, orphans_removed=orphans)
    stats.balance.tolerance = tolerance
    weights_name = getattr(getattr(scorer, "weights", None), "name", None)
    start = time.perf_counter()
    with out.open("a", encoding="utf-8") as fo, log.open("a", encoding="utf-8") as fl:
        for g in read_groups(inp, encoding):
            stats.rows_read += g.rows
            if g.key in done:
                stats.skipped += 1
                if on_group:
                    on_group(stats, g)
                continue
            done.add(g.key)
            t0 = time.perf_counter()
            record: dict[str, Any] = {"group": g.key, "line": g.line, "n_candidates": len(g.candidates)}
            kept: list[dict[str, Any]] = []
            if g.error is None:
                try:
                    gp = build_pairs(g.prompt, g.candidates, scorer, mode=mode, margin=margin, group=g.key)
                except Exception as exc:  # one bad group never ends the run
                    g.error = f"scoring failed: {type(exc).__name__}: {exc}"
                else:
                    stats.texts += gp.n_unique
                    stats.pairs_built += len(gp.pairs)
                    for p in gp.pairs:
                        stats.built_balance.add(p)
                        if not balance_length:
                            stats.balance.add(p)
                            kept.append(p)
                        elif stats.balance.accept(p):
                            kept.append(p)
                    record.update(
                        n_unique=gp.n_unique,
                        n_scored=gp.n_scored,
                        n_pairs=len(gp.pairs),
                        n_written=len(kept),
                        chosen_index=gp.chosen_index,
                        best_without_s8_index=gp.best_without_s8_index,
                        scores=gp.scores,
                        candidate_errors={str(k): v for k, v in gp.candidate_errors.items()},
                    )
                    if gp.note:
                        record["note"] = gp.note
                    g.error = gp.error
            if kept:
                fo.write("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in kept))
                fo.flush()
            stats.pairs_written += len(kept)
            stats.dropped_length += record.get("n_pairs", 0) - len(kept)
            stats.groups += 1
            stats.failed += g.error is not None
            record.update(error=g.error, seconds=round(time.perf_counter() - t0, 3))
            record.update(mode=mode, margin=margin, balance_length=balance_length)
            record.update(weights=weights_name, version=__version__)
            fl.write(json.dumps(record, ensure_ascii=False) + "\n")
            fl.flush()
            stats.seconds = time.perf_counter() - start
            if on_group:
                on_group(stats, g)
    stats.seconds = time.perf_counter() - start
    return stats
