"""`wqrm bench`: score systems' outputs and reference corpora once, and compare them.

    run_bench([Group("mine", "system", "out.jsonl"), Group("base", "baseline", "base.jsonl"),
               Group("books", "reference", "books/")], out_dir="run/")

1. Read every group (`wqrm.benchmarks.corpora`: JSONL rows, a directory of files, or a .txt split
   into passages); a reference corpus larger than `max_texts` is sampled (seeded).
2. Score each distinct text once with `Scorer.score_batch` in chunks, through the resumable cache
   in `run/scores.jsonl` (`wqrm.benchmarks.cache`). Every text is scored alone — no persona, task
   or candidate group — so all groups are compared on the same components (S5 and S8 need that
   context and stay undefined).
3. Write `run/per_text.jsonl` (every score of every text, with the composite under uniform α
   recomputed from the stored components) and `run/results.json` (`wqrm.benchmarks.analysis`;
   schema `wqrm-bench/1`, docs/bench.md).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from wqrm import __version__
from wqrm.benchmarks.analysis import BenchConfig, analyse
from wqrm.benchmarks.cache import META_FILE, SCORES_FILE, ScoreCache, scorer_fingerprint, text_key
from wqrm.benchmarks.corpora import CorpusError, Item, read_items, read_prompts, sample_items
from wqrm.benchmarks.results import PER_TEXT_FILE, RESULTS_FILE, SCHEMA, write_json, write_jsonl
from wqrm.components import COMPONENTS
from wqrm.weights import composite_scores, load_weights

__all__ = ["KINDS", "Group", "run_bench"]

KINDS = ("system", "baseline", "reference")


@dataclass(frozen=True)
class Group:
    """A named set of texts: `kind` "system", "baseline" (a system every other one is measured
    against, e.g. the base model) or "reference" (a human corpus). `source` is a path (see
    `read_items`) or the texts themselves (strings or `Item`s)."""

    name: str
    kind: str
    source: str | Path | Sequence[str | Item]

    def items(self, passage_words: int) -> list[Item]:
        if isinstance(self.source, (str, Path)):
            return read_items(self.source, passage_words=passage_words)
        return [s if isinstance(s, Item) else Item(id=str(i), text=s) for i, s in enumerate(self.source)]

    def describe_source(self) -> str:
        return str(self.source) if isinstance(self.source, (str, Path)) else f"<{len(self.source)} texts>"


def _check_groups(groups: Sequence[Group]) -> None:
    seen: set[str] = set()
    for g in groups:
        if g.kind not in KINDS:
            raise CorpusError(f"group {g.name!r}: kind must be one of {', '.join(KINDS)}, not {g.kind!r}")
        if g.name in seen:
            raise CorpusError(f"two groups are named {g.name!r}; names must be unique")
        if g.name.startswith("profile:"):
            raise CorpusError(f"group {g.name!r}: names starting with 'profile:' are reserved for profiles")
        seen.add(g.name)
    if not any(g.kind in ("system", "baseline") for g in groups):
        raise CorpusError("nothing to benchmark: give at least one --system (or --baseline)")


def _halves(n: int, seed: int, name: str) -> list[int]:
    """A seeded split of n reference texts into halves 0 and 1 (sizes ⌈n/2⌉ and ⌊n/2⌋)."""
    order = list(range(n))
    random.Random(f"{seed}:halves:{name}").shuffle(order)
    half = [0] * n
    for rank, i in enumerate(order):
        half[i] = 0 if rank < (n + 1) // 2 else 1
    return half


def _metric_specs() -> dict[str, dict[str, Any]]:
    from wqrm.metrics.registry import specs  # deferred: the metrics package loads spaCy

    return {
        n: {"component": s.component, "direction": s.direction, "description": s.description}
        for n, s in specs().items()
    }


def run_bench(
    groups: Sequence[Group],
    out_dir: str | Path,
    *,
    prompts: str | Path | dict[str, str] | None = None,
    scorer: Any = None,
    config: BenchConfig | None = None,
    passage_words: int = 150,
    max_texts: int | None = None,
    chunk: int = 16,
    rescore: bool = False,
    command: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Score every group into `out_dir` and write per_text.jsonl and results.json; returns the
    results. `scorer` defaults to `wqrm.load()` (the shipped profile and learned weights)."""
    started = time.perf_counter()
    cfg = config or BenchConfig()
    _check_groups(groups)
    out = Path(out_dir)
    items = {g.name: sample_items(g.items(passage_words), max_texts, cfg.seed, g.name) for g in groups}
    prompt_texts = dict(read_prompts(prompts) if isinstance(prompts, (str, Path)) else (prompts or {}))
    warnings: list[str] = []
    for g in groups:
        for it in items[g.name]:
            if it.prompt is not None:
                prompt_texts.setdefault(it.prompt_id, it.prompt)
        if prompts is not None:
            unknown = sorted(
                {it.prompt_id for it in items[g.name] if it.prompt_id not in prompt_texts} - {None}
            )
            if unknown:
                warnings.append(
                    f"{g.name}: {len(unknown)} prompt ids not in the prompts file ({', '.join(unknown[:5])})"
                )
    if scorer is None:
        import wqrm

        scorer = wqrm.load()
    if rescore:
        for name in (SCORES_FILE, META_FILE):
            (out / name).unlink(missing_ok=True)
    cache = ScoreCache(out, scorer_fingerprint(scorer))
    cached_before = len(cache)
    all_texts = [it.text for g in groups for it in items[g.name]]
    n_scored_now = cache.score(all_texts, scorer, chunk=chunk, progress=progress)

    uniform_alpha = load_weights("uniform").alpha()
    rows: list[dict[str, Any]] = []
    for g in groups:
        halves = _halves(len(items[g.name]), cfg.seed, g.name) if g.kind == "reference" else None
        for k, it in enumerate(items[g.name]):
            s = cache.get(it.text)
            C = np.array(
                [[np.nan if s["components"].get(c) is None else s["components"][c] for c in COMPONENTS]]
            )
            uniform = float(composite_scores(C, uniform_alpha)[0])
            rows.append(
                {
                    "group": g.name,
                    "kind": g.kind,
                    "id": it.id,
                    "prompt_id": it.prompt_id,
                    "key": text_key(it.text),
                    "text": it.text,
                    "n_words": s["n_words"],
                    "score": s["score"],
                    "score_uniform": None if np.isnan(uniform) else uniform,
                    "components": s["components"],
                    "metrics": s["metrics"],
                    "goodness": s["goodness"],
                    "reasons": s["reasons"],
                    "spans": s["spans"],
                    "error": s["error"],
                    "half": None if halves is None else halves[k],
                }
            )
    write_jsonl(out / PER_TEXT_FILE, rows)
    analysed_at = time.perf_counter()
    group_meta = [{"name": g.name, "kind": g.kind, "source": g.describe_source()} for g in groups]
    body = analyse(
        rows, group_meta, alpha=scorer.weights.alpha(), cfg=cfg, profile=scorer.profile, specs=_metric_specs()
    )
    fingerprint = scorer_fingerprint(scorer)
    used_prompts = {it.prompt_id for g in groups for it in items[g.name]}
    results = {
        "schema": SCHEMA,
        "run": {
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "command": command,
            "wqrm_version": __version__,
            "weights": {"name": fingerprint["weights"], "alpha": fingerprint["alpha"]},
            "profile": {"name": fingerprint["profile"], "sha1": fingerprint["profile_sha1"]},
            "config": {
                **cfg.as_dict(),
                "passage_words": passage_words,
                "max_texts": max_texts,
                "chunk": chunk,
            },
            "scoring": "each text scored alone (no persona, task or candidate group): S5 and S8 undefined",
            "distance": "Wasserstein-1 between the group's and the reference's values of a metric, divided "
            "by the reference's inter-quartile range (its standard deviation where the IQR is 0)",
            "intervals": {
                "means_and_win_rates": "BCa (percentile where BCa is undefined)",
                "distances": "percentile",
                "resampled": "prompts when every text of a group has a prompt id, else texts",
            },
            "texts": {
                "total": len(rows),
                "distinct": len(set(all_texts)),
                "cached": cached_before,
                "scored": n_scored_now,
            },
            "seconds": {
                "scoring": round(analysed_at - started, 2),
                "analysis": round(time.perf_counter() - analysed_at, 2),
            },
        },
        **body,
        "prompts": {p: prompt_texts[p] for p in sorted(used_prompts - {None}, key=str) if p in prompt_texts},
        "warnings": warnings,
    }
    write_json(out / RESULTS_FILE, results)
    return results
