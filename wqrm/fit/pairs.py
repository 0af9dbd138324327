"""The preference pairs a composite is fitted and evaluated on, with every text's components.

`prepare_pair_table` loads and splits the pairs like the edit model (by item group), computes the
metric values of every text once (resumable cache), optionally rewrites `edit_reward`'s reference
quantiles over the edit model's training texts, and replaces `edit_reward` by out-of-fold values for
those texts; `evaluate_table` reports a weighting's accuracy on a table.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.components import COMPONENTS
from wqrm.edit.model import EmbeddingHeadReward, RewardHead
from wqrm.fit.dataset import FeatureCache, build_dataset
from wqrm.fit.weights import (
    MetricCache,
    accuracy,
    collect_metrics,
    cross_fit_edit_reward,
    edit_reward_reference,
    metric_scorer,
    text_key,
)
from wqrm.metrics.edit import shipped_dir
from wqrm.profile import MetricQuantiles, Profile
from wqrm.scoring import Scorer
from wqrm.weights import UniformWeights, pair_margins

__all__ = ["PairTable", "build_pair_table", "evaluate_table", "prepare_pair_table"]

log = logging.getLogger(__name__)


@dataclass
class PairTable:
    """Preference pairs with their components: `A` (preferred) and `B` (other), (n, 8), NaN = missing."""

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
        )


def build_pair_table(
    train: Sequence[Any],
    dev: Sequence[Any],
    cache: MetricCache,
    scorer=None,
    edit_override: Mapping[str, float] | None = None,
) -> PairTable:
    """Components of every pair's texts from the metric cache (texts must be collected first);
    `edit_override` replaces `edit_reward` for the texts it names (out-of-fold S1)."""
    scorer = scorer or metric_scorer()
    pairs = [*train, *dev]
    keys = list(dict.fromkeys(text_key(t) for p in pairs for t in (p.better, p.worse)))
    metric_rows: dict[str, dict[str, float | None]] = {}
    words: dict[str, int] = {}
    for k in keys:
        row = cache.rows.get(k)
        if row is None:
            raise KeyError("a pair text is missing from the metric cache: run collect_metrics first")
        mv = dict(row["metrics"])
        if edit_override and k in edit_override:
            mv["edit_reward"] = edit_override[k]
        metric_rows[k] = mv
        words[k] = int(row.get("n_words", 0))
    C = dict(zip(keys, scorer.component_matrix([metric_rows[k] for k in keys]), strict=True))
    kb = [text_key(p.better) for p in pairs]
    kw = [text_key(p.worse) for p in pairs]
    return PairTable(
        pairs=pairs,
        dev=np.array([False] * len(train) + [True] * len(dev)),
        A=np.array([C[k] for k in kb]).reshape(-1, len(COMPONENTS)),
        B=np.array([C[k] for k in kw]).reshape(-1, len(COMPONENTS)),
        weight=np.array([p.weight for p in pairs], dtype=np.float64),
        source=np.array([p.source for p in pairs]),
        length_adversarial=np.array([p.length_adversarial for p in pairs], dtype=bool),
        n_words=np.array([[words[a], words[b]] for a, b in zip(kb, kw, strict=True)]).reshape(-1, 2),
        better_metrics=[metric_rows[k] for k in kb],
        worse_metrics=[metric_rows[k] for k in kw],
    )


def evaluate_table(table, alpha) -> dict:
    """Accuracy (ties half), length-adversarial accuracy and n of `alpha`'s composite on `table`."""
    m = pair_margins(table.A, table.B, alpha)
    adv = table.length_adversarial
    return {
        "accuracy": accuracy(m),
        "n": int((~np.isnan(m)).sum()),
        "length_adversarial_accuracy": accuracy(m[adv]) if adv.any() else None,
        "n_length_adversarial": int((~np.isnan(m[adv])).sum()),
    }


def prepare_pair_table(
    pairs,
    scored,
    source_weights,
    seed,
    dev_percent,
    cache=None,
    cross_fit=True,
    features_cache=None,
    edit_reference: Path | None = None,
    say: Callable[[str], None] = log.info,
    on_metrics: Callable[[int, int], None] | None = None,
) -> tuple[PairTable, dict[str, Any]]:
    """(PairTable of train + dev pairs with their components, record of what was done): loads and
    splits the pairs like the edit model (by item group), computes missing metric values into
    `cache`, optionally rewrites `edit_reward`'s reference quantiles in the profile directory
    `edit_reference` (over the edit model's training texts), and replaces `edit_reward` by
    out-of-fold values for the edit model's own training texts. `say(message)` reports each step,
    `on_metrics(done, total)` the metric collection (the long part)."""
    ds = build_dataset(pairs, scored, weights=source_weights, dev_percent=dev_percent, seed=seed)
    say(f"data: {json.dumps(ds.summary())}")
    scorer = Scorer(weights=UniformWeights())
    mc = MetricCache(cache)
    texts = [t for p in [*ds.train, *ds.dev] for t in (p.better, p.worse)]
    collect_metrics(texts, mc, scorer, progress=on_metrics)
    model_dir = shipped_dir("reward")
    record: dict = {"cross_fit_edit": None, "edit_reference": None}
    if edit_reference is not None:
        ref = edit_reward_reference(ds.train, model_dir, mc)
        profile = Profile.load(edit_reference)
        profile.metrics["edit_reward"] = MetricQuantiles(
            tuple(ref["quantiles"]), ref["mean"], ref["std"], ref["n"], ref["n_undefined"]
        )
        note = {
            "texts": "train-split texts of the edit model's training pairs (AI drafts and human edits)",
            "n": ref["n"],
            "split": {"seed": seed, "dev_percent": dev_percent},
            "model": model_dir.name,
            "command": "wqrm fit-weights --edit-reference",
        }
        profile.meta.setdefault("metric_references", {})["edit_reward"] = note
        profile.save(edit_reference)
        scorer = Scorer(profile=profile, weights=UniformWeights())
        record["edit_reference"] = {"profile": Path(edit_reference).name, **note}
        say(f"edit_reward reference: {ref['n']} training texts, median {ref['quantiles'][4]:.2f}")
    override = None
    if cross_fit:
        probe = EmbeddingHeadReward(RewardHead(1, 0), {})
        feats = FeatureCache(features_cache, probe.features) if features_cache else None
        override = cross_fit_edit_reward(ds.train, model_dir, features=feats)
        record["cross_fit_edit"] = {"folds": 5, "texts": len(override), "model": model_dir.name}
        say(f"cross-fit edit_reward for {len(override)} training texts")
    return build_pair_table(ds.train, ds.dev, mc, scorer, edit_override=override), record
