"""What scoring returns: `ScoreResult` (one text) and `ScoreBatch` (many, in input order).

A leaf module (no model, no metric import), so the command line can write a well-formed error
record for input it refuses before anything heavy is loaded. `wqrm.scoring` re-exports both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from wqrm import __version__
from wqrm.components import COMPONENT_NAMES

__all__ = ["ScoreBatch", "ScoreResult", "Substance"]


@dataclass
class Substance:
    """The outcome of the degeneracy floor's check (`wqrm.substance.check_substance`): measured
    values, failed rules and the score cap (None when the text has enough substance). Defined here,
    with the result it belongs to, so a result read back from JSON needs no model."""

    words: int
    distinct: float
    repeated_sentences: float
    english: float
    unknown_words: float | None = None  # share of lower-case words; None: not English, or none
    failed: dict[str, str] = field(default_factory=dict)  # rule -> why
    cap: float | None = None

    @property
    def degenerate(self) -> bool:
        return bool(self.failed)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ScoreResult:
    """The score of one text, its components, every metric, and why anything is missing."""

    score: float | None
    components: dict[str, float | None]
    metrics: dict[str, float | None]
    used_components: list[str]
    reasons: dict[str, str] = field(default_factory=dict)
    component_reasons: dict[str, str] = field(default_factory=dict)
    goodness: dict[str, float | None] = field(default_factory=dict)
    contributions: dict[str, float] = field(default_factory=dict)  # α_i S_i / Σ α_used: sums to the composite
    substance: Substance | None = None  # the degeneracy floor's measurements (None: not scored)
    uncapped_score: float | None = None  # the composite before the floor (= score unless degenerate)
    spans: list[dict[str, Any]] = field(default_factory=list)
    weights: str | None = None  # the name of the weights that made `score` (None: no score)
    error: str | None = None
    id: Any = None
    n_words: int | None = None  # words of the parsed text (the length baselines' measure)
    lang: str | None = None  # detected language ("en", "ru"; an unsupported one on its error record)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        """The stable JSON shape of DESIGN.md's contract (plus any `extra` leading keys)."""
        return {
            **extra,
            "lang": self.lang,
            "score": self.score,
            "components": self.components,
            "metrics": self.metrics,
            "used_components": self.used_components,
            "reasons": {**self.component_reasons, **self.reasons},
            "goodness": self.goodness,
            "contributions": self.contributions,
            "substance": None if self.substance is None else self.substance.as_dict(),
            "uncapped_score": self.uncapped_score,
            "spans": self.spans,
            "weights": self.weights,
            "version": __version__,
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScoreResult:
        """The result that `to_dict` wrote (its extra leading keys and `version` are ignored): a
        `wqrm serve` answer or a results file read back. `to_dict` merges the component reasons
        (keys S1..S8) into `reasons`; they are separated again here."""
        reasons = dict(d.get("reasons") or {})
        substance = d.get("substance")
        return cls(
            score=d.get("score"),
            components=dict(d.get("components") or dict.fromkeys(COMPONENT_NAMES)),
            metrics=dict(d.get("metrics") or {}),
            used_components=list(d.get("used_components") or []),
            reasons={k: v for k, v in reasons.items() if k not in COMPONENT_NAMES},
            component_reasons={k: v for k, v in reasons.items() if k in COMPONENT_NAMES},
            goodness=dict(d.get("goodness") or {}),
            contributions=dict(d.get("contributions") or {}),
            substance=None if substance is None else Substance(**substance),
            uncapped_score=d.get("uncapped_score"),
            spans=list(d.get("spans") or []),
            weights=d.get("weights"),
            error=d.get("error"),
            lang=d.get("lang"),
        )

    @classmethod
    def failed(cls, error: str, id: Any = None, lang: str | None = None) -> ScoreResult:
        return cls(
            score=None,
            components=dict.fromkeys(COMPONENT_NAMES),
            metrics={},
            used_components=[],
            error=error,
            id=id,
            lang=lang,
        )


class ScoreBatch(list):
    """A list of `ScoreResult`s, one per input text, in input order."""

    def to_frame(self):
        """A pandas DataFrame: score, the uncapped composite, S1..S8, every metric, and the error
        column (`uncapped_score` differs from `score` only for a degenerate text)."""
        import pandas as pd

        rows = []
        for r in self:
            row = {
                "id": r.id,
                "lang": r.lang,
                "score": r.score,
                "uncapped_score": r.uncapped_score,
                **r.components,
                **r.metrics,
                "error": r.error,
            }
            rows.append(row)
        return pd.DataFrame(rows)
