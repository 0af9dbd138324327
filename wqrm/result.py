"""What scoring returns: `ScoreResult` (one text) and `ScoreBatch` (many, in input order).

A leaf module (no model, no metric import), so the command line can write a well-formed error
record for input it refuses before anything heavy is loaded. `wqrm.scoring` re-exports both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wqrm import __version__
from wqrm.components import COMPONENT_NAMES

if TYPE_CHECKING:  # the annotation only: wqrm.substance imports the analysis (spaCy)
    from wqrm.substance import Substance

__all__ = ["ScoreBatch", "ScoreResult"]


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
