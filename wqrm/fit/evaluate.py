"""Pairwise evaluation: accuracy (ties count half), the length-adversarial subset, bootstrap CI."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from wqrm.fit.data import Pair

__all__ = ["PairwiseReport", "distinct_texts", "pair_credit", "pairwise_report", "score_pairs"]


@dataclass(frozen=True)
class PairwiseReport:
    accuracy: float | None
    n: int
    ci95: tuple[float, float] | None
    length_adversarial_accuracy: float | None
    n_length_adversarial: int
    n_undefined: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def pair_credit(better: np.ndarray, worse: np.ndarray) -> np.ndarray:
    """1 when the preferred text scores higher, 0.5 on a tie, 0 otherwise."""
    return np.where(better > worse, 1.0, np.where(better == worse, 0.5, 0.0))


def pairwise_report(
    better: Sequence[float | None],
    worse: Sequence[float | None],
    length_adversarial: Sequence[bool],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> PairwiseReport:
    """Accuracy of scores on pairs; pairs with an undefined (None or non-finite) score on either
    side are counted apart. `ci95` is the percentile bootstrap interval of the accuracy
    (`scipy.stats.bootstrap`, `n_boot` resamples, seeded); None below two pairs."""

    def defined(x: float | None) -> bool:
        return x is not None and math.isfinite(x)

    keep = np.array([defined(b) and defined(w) for b, w in zip(better, worse, strict=True)], dtype=bool)
    b = np.array([x for x, k in zip(better, keep, strict=True) if k], dtype=np.float64)
    w = np.array([x for x, k in zip(worse, keep, strict=True) if k], dtype=np.float64)
    adv = np.asarray(length_adversarial, dtype=bool)[keep]
    credit = pair_credit(b, w)
    if credit.size == 0:
        return PairwiseReport(None, 0, None, None, 0, int((~keep).sum()))
    ci = None
    if credit.size >= 2:
        res = stats.bootstrap(
            (credit,),
            np.mean,
            n_resamples=n_boot,
            confidence_level=0.95,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(seed),
        )
        ci = (float(res.confidence_interval.low), float(res.confidence_interval.high))
    adv_acc = float(credit[adv].mean()) if adv.any() else None
    return PairwiseReport(
        float(credit.mean()), int(credit.size), ci, adv_acc, int(adv.sum()), int((~keep).sum())
    )


def distinct_texts(pairs: Sequence[Pair]) -> list[str]:
    """Every text of the pairs once, in first-seen order."""
    return list(dict.fromkeys(t for p in pairs for t in (p.better, p.worse)))


def score_pairs(
    pairs: Sequence[Pair],
    score_fn: Callable[[list[str]], Sequence[float | None]],
    *,
    chunk_size: int | None = None,
    on_progress: Callable[[int], None] | None = None,
    **kw,
) -> PairwiseReport:
    """Score every distinct text once with `score_fn` (a batch function; `chunk_size` texts per
    call, all at once by default; `on_progress(n)` after each call) and report on the pairs."""
    texts = distinct_texts(pairs)
    scores: dict[str, float | None] = {}
    step = chunk_size or max(len(texts), 1)
    for start in range(0, len(texts), step):
        part = texts[start : start + step]
        scores.update(zip(part, score_fn(part), strict=True))
        if on_progress:
            on_progress(len(part))
    return pairwise_report(
        [scores[p.better] for p in pairs],
        [scores[p.worse] for p in pairs],
        [p.length_adversarial for p in pairs],
        **kw,
    )
