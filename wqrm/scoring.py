"""Components S1..S8, the composite score, and the `Scorer` API.

    metric value ──(profile goodness, [0,1])──► S_i = mean goodness of its available metrics
    WQRM = Σ α_i S_i / Σ α_i   over the components available for this text

α are the learned weights shipped in `wqrm/data/weights/default.json` (fitted by
`wqrm fit-weights`, see `wqrm.weights`); results name them in `"weights"` (e.g. "learned-v2").
`UniformWeights` (α_i = 1/8) remains available as a baseline.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from wqrm import __version__
from wqrm.analysis import Analysis, analyze_batch
from wqrm.components import COMPONENT_NAMES
from wqrm.metrics.registry import MetricContext, MetricValues, compute_analysis, prepare, specs
from wqrm.metrics.slop import slop_spans
from wqrm.metrics.task import TASKS
from wqrm.persona import resolve as resolve_persona
from wqrm.profile import Profile
from wqrm.resources import ResourceMissingError
from wqrm.substance import Substance, SubstanceRules, check_substance
from wqrm.textio import InvalidTextError, validate_text
from wqrm.weights import LearnedWeights, UniformWeights, load_weights

__all__ = ["ScoreBatch", "ScoreResult", "Scorer", "load"]

log = logging.getLogger(__name__)


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
    `metric_names` restricts the metrics; `substance_rules` are the degeneracy floor's thresholds
    (`wqrm.substance`): a degenerate text's score is capped below 0.1, with the reason in
    `reasons["score"]`.
    """

    def __init__(
        self,
        profile: Profile | None = None,
        weights: UniformWeights | LearnedWeights | None = None,
        metric_names: Sequence[str] | None = None,
        substance_rules: SubstanceRules | None = None,
    ):
        self.profile = profile or Profile.default()
        self.weights = weights if weights is not None else load_weights()
        self.metric_names = list(metric_names) if metric_names is not None else list(specs())
        self._specs = specs()
        self._personas: dict[str, Any] = {}  # persona directory -> built persona
        self.substance_rules = substance_rules or SubstanceRules()

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
            G[:, j] = self._specs[n].goodness_values(self.profile, V[:, j])
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
        """Σ α_i S_i / Σ α_i over the available components, and which ones were used."""
        contributions = self.contributions(comps)
        if not contributions:
            return None, []
        return float(sum(contributions.values())), list(contributions)

    def contributions(self, comps: dict[str, float | None]) -> dict[str, float]:
        """Each used component's part of the composite: α_i S_i / Σ_{j used} α_j (they sum to it)."""
        alpha = self.weights.alpha()
        used = [c for c, v in comps.items() if v is not None and alpha.get(c, 0.0) > 0]
        total = sum(alpha[c] for c in used)
        return {c: float(alpha[c] * comps[c] / total) for c in used}

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
        source text, references; the scorer's profile is the reference the metrics compare with.
        The prompt and references are parsed later, with the texts (`_analyze`)."""
        if task is not None and task not in TASKS:
            raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")
        if isinstance(references, str):
            references = [references]
        if isinstance(persona, (str, os.PathLike)):  # built once per scorer and directory
            key = str(Path(persona).resolve())
            if key not in self._personas:
                self._personas[key] = resolve_persona(persona)
            persona = self._personas[key]
        return MetricContext(
            persona=resolve_persona(persona),
            task=task,
            prompt=prompt,
            references=list(references) if references is not None else None,
            profile=self.profile,
        )

    def _analyze(
        self, items: Sequence[str | Analysis], ctx: MetricContext
    ) -> tuple[list[Analysis | str], MetricContext]:
        """Parse the texts (items already parsed are kept) and the context's prompt and
        references in one batched call; then run every model once over the batch. Returns an
        `Analysis` or an error message per item, and the context with its parsed texts."""
        texts = [t for t in items if not isinstance(t, Analysis)]
        extra = ctx.texts_to_parse()
        parsed_texts: list[Analysis | str]
        try:
            parsed = analyze_batch([*texts, *extra]) if texts or extra else []
            parsed_texts = list(parsed[: len(texts)])
            ctx = ctx.with_context_analyses(dict(zip(extra, parsed[len(texts) :], strict=True)))
        except Exception:  # isolate the culprit: parse one by one
            log.exception("batched parse failed; retrying text by text")
            parsed_texts = []
            for t in texts:
                try:
                    parsed_texts.append(analyze_batch([t])[0])
                except Exception as exc:
                    parsed_texts.append(f"parse failed: {type(exc).__name__}: {exc}")
            context: dict[str, Analysis] = {}
            for t in extra:
                try:
                    context[t] = analyze_batch([t])[0]
                except Exception:  # the metrics needing it say the context text could not be parsed
                    log.exception("parsing a context text failed")
            ctx = ctx.with_context_analyses(context)
        it = iter(parsed_texts)
        out = [t if isinstance(t, Analysis) else next(it) for t in items]
        prepare([a for a in out if isinstance(a, Analysis)], self.metric_names, ctx.analyses())
        return out, ctx

    def _result(self, a: Analysis, id: Any, ctx: MetricContext) -> ScoreResult:
        return self._assemble(a, compute_analysis(a, self.metric_names, ctx), id)

    def _assemble(self, a: Analysis, mv: MetricValues, id: Any = None) -> ScoreResult:
        goodness, comps, comp_reasons = self.components(mv)
        contributions = self.contributions(comps)
        composite = float(sum(contributions.values())) if contributions else None
        substance = check_substance(a, self.substance_rules)
        score = composite
        reasons = dict(mv.reasons)
        if substance.cap is not None:
            score = substance.cap if composite is None else min(composite, substance.cap)
            why = "; ".join(substance.failed.values())
            reasons["score"] = f"degenerate text ({why}): score capped at {substance.cap:.4f}"
        return ScoreResult(
            score=score,
            components=comps,
            metrics=dict(mv),
            used_components=list(contributions),
            reasons=reasons,
            component_reasons=comp_reasons,
            goodness=goodness,
            contributions=contributions,
            substance=substance,
            uncapped_score=composite,
            spans=self._spans(a),
            weights=self.weights.name,
            id=id,
            n_words=len(a.words),
        )

    def _spans(self, a: Analysis) -> list[dict[str, Any]]:
        """Evidence a writer can act on, in text order: the edit tagger's flagged spans
        (`source: "tagger"`) and S3's matched generic phrases and templates (`source: "phrases"`)."""
        spans = [{**sp.as_dict(), "source": "tagger"} for sp in a.edit_spans or []]
        if "gpp" in self.metric_names or "slop_pattern_rate" in self.metric_names:
            with contextlib.suppress(ResourceMissingError):  # no corpus: the metrics give the reason
                spans += slop_spans(a)
        return sorted(spans, key=lambda s: (s["start"], s["end"]))

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
        ctx = self.context(persona, task, prompt, references)
        if not isinstance(text, Analysis):
            validate_text(text)
        (a,), ctx = self._analyze([text], ctx)
        if isinstance(a, str):
            raise InvalidTextError(a)
        return self._result(a, None, ctx)

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
        """Score many texts in input order: one batched parse and one batched call per model.

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
        parsed, ctx = self._analyze([texts[i] for i in good], ctx)
        analyses: dict[int, Analysis] = {}
        for i, a in zip(good, parsed, strict=True):
            if isinstance(a, str):
                results[i] = ScoreResult.failed(a, ids[i])
            else:
                analyses[i] = a
                results[i] = self._result(a, ids[i], ctx)
        if group and len(analyses) > 1:
            self._add_diversity(analyses, results, ctx)
        return ScoreBatch(results)

    def _add_diversity(self, analyses: dict[int, Analysis], results: list, ctx: MetricContext) -> None:
        """Second pass for a group of candidates: S8 metrics with siblings and quality = composite."""
        s8 = [n for n in self.metric_names if self._specs[n].component == "S8"]
        if not s8:
            return
        siblings = list(analyses.values())
        for i, a in analyses.items():
            r = results[i]
            extra = compute_analysis(a, s8, replace(ctx, siblings=siblings, quality=r.score))
            mv = MetricValues({**r.metrics, **extra})
            mv.reasons = {k: v for k, v in r.reasons.items() if k not in extra} | extra.reasons
            results[i] = self._assemble(a, mv, r.id)


def load(profile: str | None = None, weights: Any = None) -> Scorer:
    """The default scorer: shipped profile and learned weights, or the profile directory at
    `profile` and the weights at `weights` (a JSON path, ``"uniform"`` for α_i = 1/8, or a weights
    object)."""
    return Scorer(profile=Profile.load(profile) if profile else None, weights=load_weights(weights))
