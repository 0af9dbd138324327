"""Components S1..S8, the composite score, and the `Scorer` API.

    metric value ──(profile goodness, [0,1])──► S_i = mean goodness of its available metrics
    WQRM = Σ α_i S_i / Σ α_i   over the components available for this text

α are the learned weights shipped in `wqrm/data/weights/default.json` (fitted by
`wqrm fit-weights`, see `wqrm.weights`); results name them in `"weights"` (e.g. "learned-v1").
`UniformWeights` (α_i = 1/8) remains available as a baseline.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wqrm import __version__, ddpo
from wqrm.analysis import Analysis, analyze_batch
from wqrm.components import COMPONENT_NAMES
from wqrm.profile import Profile
from wqrm.textio import InvalidTextError, validate_text

if TYPE_CHECKING:  # pragma: no cover
    from wqrm.metrics.registry import MetricContext
    from wqrm.weights import LearnedWeights

__all__ = ["ScoreBatch", "ScoreResult", "Scorer", "UniformWeights", "load"]

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class UniformWeights:
    """α_i = 1/8 for every component; renormalised over the components a text has."""

    name: str = "uniform"

    def alpha(self) -> dict[str, float]:
        return dict.fromkeys(COMPONENT_NAMES, 1 / len(COMPONENT_NAMES))


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
    spans: list[dict[str, Any]] = field(default_factory=list)
    weights: str | None = None  # the name of the weights that made `score` (None: no score)
    error: str | None = None
    id: Any = None
    n_words: int | None = None  # words of the parsed text (the length baselines' measure)

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self, **extra: Any) -> dict[str, Any]:
        """The stable JSON shape of DESIGN.md's contract (plus any `extra` leading keys)."""
        return {
            **extra,
            "score": self.score,
            "components": self.components,
            "metrics": self.metrics,
            "used_components": self.used_components,
            "reasons": {**self.component_reasons, **self.reasons},
            "spans": self.spans,
            "weights": self.weights,
            "version": __version__,
            "error": self.error,
        }

    @classmethod
    def failed(cls, error: str, id: Any = None) -> ScoreResult:
        return cls(
            score=None,
            components=dict.fromkeys(COMPONENT_NAMES),
            metrics={},
            used_components=[],
            error=error,
            id=id,
        )


class ScoreBatch(list):
    """A list of `ScoreResult`s, one per input text, in input order."""

    def to_frame(self):
        """A pandas DataFrame: score, S1..S8, every metric, and the error column."""
        import pandas as pd

        rows = []
        for r in self:
            row = {"id": r.id, "score": r.score, **r.components, **r.metrics, "error": r.error}
            rows.append(row)
        return pd.DataFrame(rows)


class Scorer:
    """Scores texts: metrics → components → composite.

    `profile` maps metric values to goodness (default: the shipped profile); `weights` combine
    components (default: the shipped learned weights; `UniformWeights()` for α_i = 1/8);
    `metric_names` restricts the metrics.
    """

    def __init__(
        self,
        profile: Profile | None = None,
        weights: UniformWeights | LearnedWeights | None = None,
        metric_names: Sequence[str] | None = None,
    ):
        from wqrm.metrics.registry import specs
        from wqrm.weights import load_weights

        self.profile = profile or Profile.default()
        self.weights = weights if weights is not None else load_weights()
        self.metric_names = list(metric_names) if metric_names is not None else list(specs())
        self._specs = specs()

    # ---- components ---------------------------------------------------------------------------

    def components(
        self, metrics: dict[str, float | None]
    ) -> tuple[dict[str, float | None], dict[str, float | None], dict[str, str]]:
        """(goodness per metric, S1..S8, reason per missing component)."""
        names, G = self._goodness_matrix([metrics])
        C = self._component_values(names, G)[0]
        goodness = {n: None if np.isnan(g) else float(g) for n, g in zip(names, G[0], strict=True)}
        comps: dict[str, float | None] = {}
        reasons: dict[str, str] = {}
        for c, value in zip(COMPONENT_NAMES, C, strict=True):
            comps[c] = None if np.isnan(value) else float(value)
            if comps[c] is None:
                reasons[c] = self._missing_reason(c, metrics)
        return goodness, comps, reasons

    def component_matrix(self, metric_rows: Sequence[dict[str, float | None]]) -> np.ndarray:
        """(n, 8) array of S1..S8 for many texts' metric values at once; NaN = component missing.
        Row i equals `components(metric_rows[i])` exactly (one implementation)."""
        return self._component_values(*self._goodness_matrix(metric_rows))

    def _goodness_matrix(
        self, metric_rows: Sequence[dict[str, float | None]]
    ) -> tuple[list[str], np.ndarray]:
        """(scored metric names in registry order, (n, m) goodness array; NaN = undefined)."""
        present = {n for row in metric_rows for n in row}
        names = [n for n, spec in self._specs.items() if spec.component is not None and n in present]
        V = np.array(
            [[np.nan if row.get(n) is None else row[n] for n in names] for row in metric_rows],
            dtype=np.float64,
        ).reshape(len(metric_rows), len(names))
        G = np.empty_like(V)
        for j, n in enumerate(names):
            G[:, j] = self.profile.goodness_values(n, V[:, j])
        return names, G

    def _component_values(self, names: list[str], G: np.ndarray) -> np.ndarray:
        """S_i = mean goodness of the component's defined metrics (NaN when none is defined).

        Summed column by column (vectorised over texts), so a text's components do not depend on
        which other texts share the batch."""
        out = np.full((G.shape[0], len(COMPONENT_NAMES)), np.nan)
        for j, c in enumerate(COMPONENT_NAMES):
            total, count = np.zeros(G.shape[0]), np.zeros(G.shape[0])
            for i, n in enumerate(names):
                if self._specs[n].component == c:
                    defined = ~np.isnan(G[:, i])
                    total += np.where(defined, G[:, i], 0.0)
                    count += defined
            with np.errstate(invalid="ignore", divide="ignore"):
                out[:, j] = np.where(count > 0, total / count, np.nan)
        return out

    def _missing_reason(self, component: str, metrics: dict[str, float | None]) -> str:
        members = [n for n, s in self._specs.items() if s.component == component]
        if not members:
            return f"{component} ({COMPONENT_NAMES[component]}): no metric of this component is available yet"
        computed = [n for n in members if n in metrics]
        if not computed:
            return f"{component}: none of its metrics ({', '.join(members)}) was requested"
        return f"{component}: every metric is undefined for this text ({', '.join(computed)})"

    def composite(self, comps: dict[str, float | None]) -> tuple[float | None, list[str]]:
        alpha = self.weights.alpha()
        used = [c for c, v in comps.items() if v is not None and alpha.get(c, 0.0) > 0]
        if not used:
            return None, []
        total = sum(alpha[c] for c in used)
        return float(sum(alpha[c] * comps[c] for c in used) / total), used

    # ---- scoring ------------------------------------------------------------------------------

    def context(
        self,
        persona: Any = None,
        task: str | None = None,
        prompt: str | None = None,
        references: Sequence[str] | str | None = None,
    ) -> MetricContext:
        """The `MetricContext` of one scoring call: persona (a `Persona`, a saved persona directory
        or a directory of .txt/.md files), task ("continue", "rephrase", "storygen"), prompt or
        source text, references; the scorer's profile is the reference the metrics compare with."""
        from wqrm.metrics.registry import MetricContext
        from wqrm.metrics.task import TASKS
        from wqrm.persona import resolve

        if task is not None and task not in TASKS:
            raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
        if isinstance(references, str):
            references = [references]
        if isinstance(persona, (str, os.PathLike)):  # built once per scorer and directory
            cache = self.__dict__.setdefault("_personas", {})
            key = str(Path(persona).resolve())
            if key not in cache:
                cache[key] = resolve(persona)
            persona = cache[key]
        return MetricContext(
            persona=resolve(persona),
            task=task,
            prompt=prompt,
            references=list(references) if references is not None else None,
            extra={"profile": self.profile},
        )

    def _result(self, a: Analysis, id: Any = None, ctx: MetricContext | None = None) -> ScoreResult:
        from wqrm.metrics.registry import compute_analysis

        mv = compute_analysis(a, self.metric_names, ctx if ctx is not None else self.context())
        return self._assemble(a, mv, id)

    def _assemble(self, a: Analysis, mv, id: Any = None) -> ScoreResult:
        goodness, comps, comp_reasons = self.components(mv)
        score, used = self.composite(comps)
        return ScoreResult(
            score=score,
            components=comps,
            metrics=dict(mv),
            used_components=used,
            reasons=dict(mv.reasons),
            component_reasons=comp_reasons,
            goodness=goodness,
            spans=[sp.as_dict() for sp in a._cache.get("edit_spans", [])],
            weights=self.weights.name,
            id=id,
            n_words=len(a.words),
        )

    def score(
        self,
        text: str | Analysis,
        persona: Any = None,
        task: str | None = None,
        prompt: str | None = None,
        references: Sequence[str] | str | None = None,
    ) -> ScoreResult:
        """Score one text, optionally in context (see `context`; S2 persona metrics need `persona`,
        S5 needs `task` with its prompt / references). Raises `wqrm.InvalidTextError` for text that
        cannot be scored."""
        from wqrm.metrics.registry import prepare

        ctx = self.context(persona, task, prompt, references)
        a = text if isinstance(text, Analysis) else analyze_batch([text])[0]
        prepare([a], self.metric_names)
        return self._result(a, ctx=ctx)

    def score_batch(
        self,
        texts: Sequence[str],
        ids: Sequence[Any] | None = None,
        *,
        persona: Any = None,
        task: str | None = None,
        prompt: str | None = None,
        references: Sequence[str] | str | None = None,
        group: bool = False,
    ) -> ScoreBatch:
        """Score many texts in input order: one batched parse and one batched encoder call.

        The context (persona, task, prompt, references; see `context`) is shared by every text.
        With `group=True` the texts are candidates for one prompt and S8 (diversity) is computed
        among them: each candidate's siblings are the other valid candidates, and `qd_balance`
        uses its composite without S8. A text that cannot be scored gets a result with `.error`
        set; the others are unaffected.
        """
        ctx = self.context(persona, task, prompt, references)
        ids = list(ids) if ids is not None else list(range(len(texts)))
        results: list[ScoreResult | None] = [None] * len(texts)
        good: list[int] = []
        for i, t in enumerate(texts):
            try:
                validate_text(t)
                good.append(i)
            except InvalidTextError as exc:
                results[i] = ScoreResult.failed(str(exc), ids[i])
        analyses: dict[int, Analysis] = {}
        try:
            analyses = dict(zip(good, analyze_batch([texts[i] for i in good]), strict=True))
        except Exception:  # isolate the culprit: parse one by one
            log.exception("batched parse failed; retrying text by text")
            for i in good:
                try:
                    analyses[i] = analyze_batch([texts[i]])[0]
                except Exception as exc:
                    results[i] = ScoreResult.failed(f"parse failed: {type(exc).__name__}: {exc}", ids[i])
        from wqrm.metrics.registry import prepare

        prepare(list(analyses.values()), self.metric_names)
        for i, a in analyses.items():
            results[i] = self._result(a, ids[i], ctx)
        if group and len(analyses) > 1:
            self._add_diversity(analyses, results, ctx)
        return ScoreBatch(results)

    def best_of(self, candidates: Sequence[Any], prompt: Any = None, **kwargs: Any):
        """Best-of-N among `candidates` for `prompt`: see `wqrm.ddpo.best_of`."""
        return ddpo.best_of(self, candidates, prompt=prompt, **kwargs)

    def _add_diversity(self, analyses: dict[int, Analysis], results: list, ctx: MetricContext) -> None:
        """Second pass for a group of candidates: S8 metrics with siblings and quality = composite."""
        from wqrm.metrics.registry import MetricValues, compute_analysis

        s8 = [n for n in self.metric_names if self._specs[n].component == "S8"]
        if not s8:
            return
        siblings = list(analyses.values())
        for i, a in analyses.items():
            r = results[i]
            gctx = replace(ctx, siblings=siblings, extra={**ctx.extra, "quality": r.score})
            extra = compute_analysis(a, s8, gctx)
            mv = MetricValues({**r.metrics, **extra})
            mv.reasons = {k: v for k, v in r.reasons.items() if k not in extra} | extra.reasons
            results[i] = self._assemble(a, mv, r.id)


def load(profile: str | None = None, weights: Any = None) -> Scorer:
    """The default scorer: shipped profile and learned weights, or the profile directory at
    `profile` and the weights at `weights` (a JSON path, ``"uniform"`` for α_i = 1/8, or a weights
    object)."""
    from wqrm.weights import load_weights

    return Scorer(profile=Profile.load(profile) if profile else None, weights=load_weights(weights))
