"""The preference pairs a composite is fitted and evaluated on, with every text's components.

`prepare_pair_table` gathers every development source (edit and preference files, linked scored
pairs, human ≻ AI pairs of the same prompt, systematic negatives), splits them by item group like
the edit model, computes every text's metrics once (resumable cache), rewrites `edit_reward`'s
reference quantiles over the edit model's training texts, and marks which pairs may fit α
(`fit_ok`: pairs the S1 model was not trained on; see `wqrm.fit.loso`). `evaluate_table` reports a
weighting's accuracy on a table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.components import COMPONENTS
from wqrm.fit.data import Pair, is_dev, load_human_vs_ai_pairs
from wqrm.fit.dataset import build_dataset
from wqrm.fit.negatives import as_original, negatives
from wqrm.fit.weights import (
    MetricCache,
    accuracy,
    collect_metrics,
    edit_reward_reference,
    metric_scorer,
    text_key,
)
from wqrm.metrics.edit import shipped_dir
from wqrm.profile import MetricQuantiles, Profile
from wqrm.scoring import Scorer, component_values
from wqrm.weights import UniformWeights, pair_margins

__all__ = ["PairTable", "build_pair_table", "evaluate_table", "prepare_pair_table"]

log = logging.getLogger(__name__)


@dataclass
class PairTable:
    """Preference pairs with their components: `A` (preferred) and `B` (other), (n, 8), NaN = missing.

    `dev`: the pair is in the dev split; `fit_ok`: the S1 model was not trained on it, so it may fit
    and score α."""

    pairs: list[Any]
    dev: np.ndarray
    A: np.ndarray
    B: np.ndarray
    weight: np.ndarray
    source: np.ndarray
    length_adversarial: np.ndarray
    n_words: np.ndarray  # (n, 2): words of the preferred and the other text
    better_metrics: list[dict[str, float | None]]
    worse_metrics: list[dict[str, float | None]]
    fit_ok: np.ndarray | None = None
    #: The goodness behind `A` and `B`: metric names, (n, m) goodness of the preferred and of the
    #: other text (NaN = undefined), and each metric's component; `with_excluded` rebuilds A and B
    #: from them without some metrics (`wqrm.fit.gate`). Empty for a table built from components.
    metric_names: list[str] = field(default_factory=list)
    GA: np.ndarray | None = None
    GB: np.ndarray | None = None
    metric_components: dict[str, str | None] = field(default_factory=dict)
    metric_guards: frozenset[str] = frozenset()

    def __post_init__(self):
        if self.fit_ok is None:
            self.fit_ok = np.ones(len(self.pairs), dtype=bool)

    def with_excluded(self, exclude: Collection[str]) -> PairTable:
        """The same pairs with `A` and `B` recomputed leaving the metrics in `exclude` out of their
        components (the table must hold its goodness: built by `build_pair_table`)."""
        if self.GA is None or self.GB is None:
            raise ValueError("this table holds no per-metric goodness to recompute components from")
        A = component_values(self.metric_names, self.GA, self.metric_components, exclude, self.metric_guards)
        B = component_values(self.metric_names, self.GB, self.metric_components, exclude, self.metric_guards)
        return replace(self, A=A, B=B)

    def subset(self, mask: np.ndarray) -> PairTable:
        idx = np.flatnonzero(mask)
        return PairTable(
            [self.pairs[i] for i in idx],
            self.dev[idx],
            self.A[idx],
            self.B[idx],
            self.weight[idx],
            self.source[idx],
            self.length_adversarial[idx],
            self.n_words[idx],
            [self.better_metrics[i] for i in idx],
            [self.worse_metrics[i] for i in idx],
            self.fit_ok[idx],
            self.metric_names,
            None if self.GA is None else self.GA[idx],
            None if self.GB is None else self.GB[idx],
            self.metric_components,
            self.metric_guards,
        )


def build_pair_table(
    pairs: Sequence[Pair],
    dev: Sequence[bool],
    cache: MetricCache,
    scorer: Scorer | None = None,
    fit_ok: Sequence[bool] | None = None,
) -> PairTable:
    """Components of every pair's texts from the metric cache (texts must be collected first)."""
    scorer = scorer or metric_scorer()
    keys = list(dict.fromkeys(text_key(t) for p in pairs for t in (p.better, p.worse)))
    metric_rows: dict[str, dict[str, float | None]] = {}
    words: dict[str, int] = {}
    for k in keys:
        row = cache.rows.get(k)
        if row is None:
            raise KeyError("a pair text is missing from the metric cache: run collect_metrics first")
        metric_rows[k] = dict(row["metrics"])
        words[k] = int(row.get("n_words", 0))
    names, G = scorer._goodness_matrix([metric_rows[k] for k in keys])
    row_of = {k: i for i, k in enumerate(keys)}
    kb = [text_key(p.better) for p in pairs]
    kw = [text_key(p.worse) for p in pairs]
    GA, GB = G[[row_of[k] for k in kb]], G[[row_of[k] for k in kw]]
    comp_of = {n: scorer._specs[n].component for n in names}
    guards = frozenset(n for n in names if scorer._specs[n].guard)
    return PairTable(
        pairs=list(pairs),
        dev=np.asarray(dev, dtype=bool),
        A=component_values(names, GA, comp_of, guards=guards).reshape(-1, len(COMPONENTS)),
        B=component_values(names, GB, comp_of, guards=guards).reshape(-1, len(COMPONENTS)),
        weight=np.array([p.weight for p in pairs], dtype=np.float64),
        source=np.array([p.source for p in pairs]),
        length_adversarial=np.array([p.length_adversarial for p in pairs], dtype=bool),
        n_words=np.array([[words[a], words[b]] for a, b in zip(kb, kw, strict=True)]).reshape(-1, 2),
        better_metrics=[metric_rows[k] for k in kb],
        worse_metrics=[metric_rows[k] for k in kw],
        fit_ok=None if fit_ok is None else np.asarray(fit_ok, dtype=bool),
        metric_names=names,
        GA=GA,
        GB=GB,
        metric_components=comp_of,
        metric_guards=guards,
    )


def evaluate_table(table: PairTable, alpha: Mapping[str, float]) -> dict[str, Any]:
    """Accuracy (ties half), length-adversarial accuracy and n of `alpha`'s composite on `table`."""
    m = pair_margins(table.A, table.B, alpha)
    adv = table.length_adversarial
    return {
        "accuracy": accuracy(m),
        "n": int((~np.isnan(m)).sum()),
        "length_adversarial_accuracy": accuracy(m[adv]) if adv.any() else None,
        "n_length_adversarial": int((~np.isnan(m[adv])).sum()),
    }


def negatives_split(pairs: Sequence[Pair], dev: Sequence[bool], negs: Sequence[Pair]) -> list[bool]:
    """Whether each negative is a dev pair: it belongs to the split of the pair(s) its original
    (`better`, as `wqrm.fit.negatives.as_original` cut it back) came from, dev if any of them is
    dev, so that the fit never sees a dev text."""
    dev_text: dict[str, bool] = {}
    for p, d in zip(pairs, dev, strict=True):
        key = as_original(p.better)
        dev_text[key] = dev_text.get(key, False) or d
    return [dev_text[n.better] for n in negs]


def prepare_pair_table(
    pair_files: Sequence[Path],
    scored_files: Sequence[Path],
    source_weights: Mapping[str, float],
    seed: int,
    dev_percent: int,
    cache: Path | None = None,
    *,
    human_vs_ai: Path | None = None,
    human_vs_ai_pairs: int = 600,
    negatives_per_text: int = 1,
    edit_model: Path | None = None,
    edit_reference: Path | None = None,
    say: Callable[[str], None] = log.info,
    on_metrics: Callable[[int, int], None] | None = None,
    workers: int = 1,
) -> tuple[PairTable, dict[str, Any]]:
    """(PairTable of every pair with its components, record of what was done); see the module
    docstring. Negatives (training family) are made from the preferred texts of the pairs S1 was
    not trained on, so that S1's scores of them are not optimistic either. `say(message)` reports
    each step, `on_metrics(done, total)` the metric collection (the long part, run in `workers`
    processes)."""
    ds = build_dataset(
        pair_files, scored_files, weights=dict(source_weights), dev_percent=dev_percent, seed=seed
    )
    pairs = [*ds.train, *ds.dev]
    dev = [False] * len(ds.train) + [True] * len(ds.dev)
    if human_vs_ai is not None:
        hva = load_human_vs_ai_pairs(
            human_vs_ai, max_pairs=human_vs_ai_pairs, seed=seed, weight=source_weights.get("human_vs_ai", 1.0)
        )
        pairs += hva
        dev += [is_dev(p.group, dev_percent, seed) for p in hva]
    model_dir = edit_model or shipped_dir()
    record = json.loads((Path(model_dir) / "training.json").read_text())
    s1_sources = {s for s, n in record["data"]["train_pairs"].items() if n and not s.startswith("negative")}
    s1_dev = set(record.get("dev_ids", []))
    s1_seen = [p.source in s1_sources and p.id not in s1_dev for p in pairs]
    unseen_texts = [p.better for p, seen in zip(pairs, s1_seen, strict=True) if not seen]
    neg = negatives(
        unseen_texts, per_text=negatives_per_text, seed=seed, weight=source_weights.get("negatives", 1.0)
    )
    dev += negatives_split(pairs, dev, neg)
    pairs += neg
    s1_seen += [False] * len(neg)
    say(f"pairs: {len(pairs)} ({sum(s1_seen)} seen by S1 in training, {len(neg)} negatives)")
    scorer = Scorer(weights=UniformWeights())
    mc = MetricCache(cache)
    texts = [t for p in pairs for t in (p.better, p.worse)]
    collect_metrics(texts, mc, scorer if workers <= 1 else None, workers=workers, progress=on_metrics)
    info: dict[str, Any] = {"edit_reference": None, "s1_sources": sorted(s1_sources)}
    if edit_reference is not None:
        train_s1 = [p for p, seen in zip(pairs, s1_seen, strict=True) if seen]
        ref = edit_reward_reference(train_s1, model_dir, mc)
        profile = Profile.load(edit_reference)
        profile.metrics["edit_reward"] = MetricQuantiles(
            tuple(ref["quantiles"]), ref["mean"], ref["std"], ref["n"], ref["n_undefined"]
        )
        note = {
            "texts": "train-split texts of the edit model's training pairs (AI drafts and human edits)",
            "n": ref["n"],
            "split": {"seed": seed, "dev_percent": dev_percent},
            "model": Path(model_dir).name,
            "command": "wqrm fit-weights --edit-reference",
        }
        profile.meta.setdefault("metric_references", {})["edit_reward"] = note
        profile.save(edit_reference)
        scorer = Scorer(profile=profile, weights=UniformWeights())
        info["edit_reference"] = {"profile": Path(edit_reference).name, **note}
        say(f"edit_reward reference: {ref['n']} training texts, median {ref['quantiles'][4]:.2f}")
    fit_ok = [not seen for seen in s1_seen]
    return build_pair_table(pairs, dev, mc, scorer, fit_ok), info
