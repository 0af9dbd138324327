"""Pairwise evaluation: accuracy (ties count half), the length-adversarial subset, bootstrap CI."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from wqrm.fit.data import Pair

__all__ = ["PairwiseReport", "pair_credit", "pairwise_report", "score_pairs"]


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
    """Accuracy of scores on pairs; pairs with an undefined score on either side are counted apart."""
    keep = np.array([b is not None and w is not None for b, w in zip(better, worse, strict=True)], dtype=bool)
    b = np.array([x for x, k in zip(better, keep, strict=True) if k], dtype=np.float64)
    w = np.array([x for x, k in zip(worse, keep, strict=True) if k], dtype=np.float64)
    adv = np.asarray(length_adversarial, dtype=bool)[keep]
    credit = pair_credit(b, w)
    if credit.size == 0:
        return PairwiseReport(None, 0, None, None, 0, int((~keep).sum()))
    rng = np.random.default_rng(seed)
    boots = credit[rng.integers(0, credit.size, size=(n_boot, credit.size))].mean(axis=1)
    ci = (float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975)))
    adv_acc = float(credit[adv].mean()) if adv.any() else None
    return PairwiseReport(
        float(credit.mean()), int(credit.size), ci, adv_acc, int(adv.sum()), int((~keep).sum())
    )


def score_pairs(
    pairs: Sequence[Pair], score_fn: Callable[[list[str]], Sequence[float | None]], **kw
) -> PairwiseReport:
    """Score every distinct text once with `score_fn` (a batch function) and report on the pairs."""
    texts = list(dict.fromkeys(t for p in pairs for t in (p.better, p.worse)))
    scores = dict(zip(texts, score_fn(texts), strict=True))
    return pairwise_report(
        [scores[p.better] for p in pairs],
        [scores[p.worse] for p in pairs],
        [p.length_adversarial for p in pairs],
        **kw,
    )
