"""Composite weights: α on the simplex, applied to components S1..S8.

    WQRM(x) = Σ_i α_i S_i(x) / Σ_{i available} α_i,      α = softmax(θ),  Σ α = 1, α ≥ 0

`LearnedWeights` are fitted on human preference pairs by `wqrm fit-weights` (`wqrm.fit.weights`,
a Bradley–Terry likelihood on component differences with a learned temperature τ) and shipped in
`wqrm/data/weights/default.json`; `UniformWeights` (α_i = 1/8) is the baseline. Both are
renormalised over the components a text has. `pair_margins` and `composite_scores` apply α to many
texts at once (vectorised); `LearnedWeights.preference_probability` turns two texts' components
into P(a ≻ b) = σ(τ · margin), the Bradley–Terry probability the weights were fitted for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.components import COMPONENT_NAMES, COMPONENTS

__all__ = [
    "COMPONENTS",
    "LearnedWeights",
    "UniformWeights",
    "composite_scores",
    "default_weights_path",
    "load_weights",
    "pair_margins",
]


def default_weights_path() -> Path:
    return Path(__file__).parent / "data" / "weights" / "default.json"


@dataclass(frozen=True)
class LearnedWeights:
    """Fitted composite weights: `alpha` (on the simplex), temperature `tau`, and their provenance.

    `name` is what results report in `"weights"` (e.g. ``"learned:2026-11-21"``)."""

    alpha_values: Mapping[str, float]
    tau: float = 1.0
    name: str = "learned"
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        a = np.array([self.alpha_values.get(c, 0.0) for c in COMPONENTS], dtype=np.float64)
        if (a < 0).any() or not np.isfinite(a).all() or abs(a.sum() - 1.0) > 1e-9:
            raise ValueError(
                f"weights must be ≥ 0 and sum to 1 (got {dict(zip(COMPONENTS, a, strict=True))})"
            )

    def alpha(self) -> dict[str, float]:
        return {c: float(self.alpha_values.get(c, 0.0)) for c in COMPONENTS}

    @property
    def excluded_metrics(self) -> dict[str, str]:
        """Metrics the fit left out of their component (name → reason): their goodness ordered the
        fit's preference pairs against the people who made them (`wqrm.fit.gate`). They are still
        computed and reported; they do not enter S_i. Weights fitted before the gate: none."""
        return dict(self.meta.get("excluded_metrics") or {})

    def preference_probability(self, a: Any, b: Any) -> float | None:
        """P(a ≻ b) = σ(τ · Σ_shared α_i (S_i(a) − S_i(b)) / Σ_shared α_i) for two scored texts:
        `ScoreResult`s (anything with a `.components` mapping) or component dicts {"S1": …}.
        None when they share no weighted component (e.g. a result with an error)."""
        ca, cb = _components_of(a), _components_of(b)
        A = np.array([[np.nan if ca.get(c) is None else ca[c] for c in COMPONENTS]], dtype=np.float64)
        B = np.array([[np.nan if cb.get(c) is None else cb[c] for c in COMPONENTS]], dtype=np.float64)
        m = pair_margins(A, B, self.alpha())[0]
        return None if np.isnan(m) else float(1.0 / (1.0 + np.exp(-self.tau * m)))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "alpha": self.alpha(), "tau": self.tau, **dict(self.meta)}

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), indent=1, sort_keys=False) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LearnedWeights:
        meta = {k: v for k, v in data.items() if k not in ("name", "alpha", "tau")}
        return cls(dict(data["alpha"]), float(data.get("tau", 1.0)), str(data.get("name", "learned")), meta)

    @classmethod
    def load(cls, path: str | Path) -> LearnedWeights:
        """Read a weights JSON; a missing or malformed file raises ValueError naming the path."""
        try:
            return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ValueError(f"no weights file at {path} (fit one with `wqrm fit-weights`)") from None
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: not a wqrm weights file ({exc})") from None


@dataclass(frozen=True)
class UniformWeights:
    """α_i = 1/8 for every component; renormalised over the components a text has."""

    name: str = "uniform"

    def alpha(self) -> dict[str, float]:
        return dict.fromkeys(COMPONENT_NAMES, 1 / len(COMPONENT_NAMES))

    @property
    def excluded_metrics(self) -> dict[str, str]:
        """None: every metric enters its component."""
        return {}


def _components_of(x: Any) -> Mapping[str, float | None]:
    components = getattr(x, "components", x)
    if not isinstance(components, Mapping):
        raise TypeError(f"expected a ScoreResult or a dict of components S1..S8, got {type(x).__name__}")
    return components


def load_weights(path: Any = None) -> LearnedWeights | UniformWeights:
    """Weights from `path`, or the shipped default; ``"uniform"`` gives `UniformWeights`; a weights
    object (`LearnedWeights`, `UniformWeights`) is returned as it is."""
    if isinstance(path, (LearnedWeights, UniformWeights)):
        return path
    if path is not None and str(path) == "uniform":
        return UniformWeights()
    return LearnedWeights.load(path or default_weights_path())


def _alpha_vector(alpha: Mapping[str, float] | np.ndarray) -> np.ndarray:
    if isinstance(alpha, np.ndarray):
        return alpha.astype(np.float64)
    return np.array([alpha.get(c, 0.0) for c in COMPONENTS], dtype=np.float64)


def composite_scores(C: np.ndarray, alpha: Mapping[str, float] | np.ndarray) -> np.ndarray:
    """Σ α_i S_i / Σ α_i over each row's available components (NaN where none has weight)."""
    a = _alpha_vector(alpha)
    avail = ~np.isnan(C) & (a > 0)
    num = np.where(avail, np.nan_to_num(C) * a, 0.0).sum(axis=1)
    den = np.where(avail, a, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def pair_margins(A: np.ndarray, B: np.ndarray, alpha: Mapping[str, float] | np.ndarray) -> np.ndarray:
    """Σ_{shared} α_i (A_i − B_i) / Σ_{shared} α_i per pair (NaN when no weighted component is shared)."""
    a = _alpha_vector(alpha)
    shared = ~np.isnan(A) & ~np.isnan(B) & (a > 0)
    D = np.where(shared, np.nan_to_num(A) - np.nan_to_num(B), 0.0)
    num = (D * a).sum(axis=1)
    den = np.where(shared, a, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
