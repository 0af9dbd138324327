"""wqrm.baselines: simple reference scorers every learned score must beat.

Each baseline maps a text to a number where higher means "predicted better":
`shorter_wins` (negative word count), `longer_wins` (word count), `metric_baseline(name)` (one
registered metric, oriented by its direction), `uniform_scorer()` (the composite with α_i = 1/8,
what the learned weights must beat).
"""

from __future__ import annotations

from collections.abc import Callable

from wqrm.analysis import Analysis, analyze
from wqrm.metrics.registry import compute, get_spec
from wqrm.profile import Profile
from wqrm.scoring import Scorer
from wqrm.weights import UniformWeights

__all__ = ["longer_wins", "metric_baseline", "shorter_wins", "uniform_scorer"]


def _analysis(text: str | Analysis) -> Analysis:
    return text if isinstance(text, Analysis) else analyze(text)


def shorter_wins(text: str | Analysis) -> float:
    """−(number of words): prefers the shorter text (a strong baseline on edit data)."""
    return -float(len(_analysis(text).words))


def longer_wins(text: str | Analysis) -> float:
    """Number of words: prefers the longer text."""
    return float(len(_analysis(text).words))


def metric_baseline(name: str) -> Callable[[str | Analysis], float | None]:
    """A scorer from one metric: its value for `higher`, minus it for `lower`, band goodness for `band`."""
    spec = get_spec(name)
    profile = Profile.default() if spec.direction == "band" else None

    def score(text: str | Analysis) -> float | None:
        value = compute(text, names=[name])[name]
        if value is None:
            return None
        if spec.direction == "higher":
            return value
        if spec.direction == "lower":
            return -value
        return spec.goodness(profile, value)

    score.__name__ = f"metric:{name}"
    return score


def uniform_scorer():
    """A `Scorer` with the shipped profile and uniform weights (α_i = 1/8, renormalised over the
    components a text has): the composite without learned weights."""
    return Scorer(weights=UniformWeights())
