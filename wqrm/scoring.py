"""Components S1..S8, the composite score, and the `Scorer` API.

    metric value ──(profile goodness, [0,1])──► S_i = mean goodness of its available metrics
                                                   × goodness of its guards (a fault clean text lacks)
    WQRM = Σ α_i S_i / Σ α_i   over the components available for this text

α are the learned weights shipped in `wqrm/data/weights/default.json` (fitted by
`wqrm fit-weights`, see `wqrm.weights`); results name them in `"weights"` (e.g. "learned-v2").
`UniformWeights` (α_i = 1/8) remains available as a baseline.

Languages: each text's language is detected (`wqrm.lang`) and reported in `"lang"`. A text in a
language wqrm has no pipeline for is an error record naming the language. Metrics compare a text
with the reference profile of its own language (English: `default/`, Russian: `default-ru/`);
metrics needing an English-only resource are None for Russian ("no Russian resource: …"), so S1
(the English edit model) is missing for Russian text and the composite renormalises over the
components it has; `reasons` says which are missing and why.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from wqrm import ddpo
from wqrm.analysis import Analysis, analyze_batch
from wqrm.components import COMPONENT_NAMES
from wqrm.lang import LANGUAGE_NAMES, UnsupportedLanguageError, detect
from wqrm.memory import release_freed_memory
from wqrm.metrics.registry import (
    MetricContext,
    MetricValues,
    compute_analysis,
    language_gap,
    prepare,
    specs,
)
from wqrm.metrics.slop import slop_spans
from wqrm.persona import resolve as resolve_persona
from wqrm.profile import Profile
from wqrm.resources import ResourceMissingError
from wqrm.result import ScoreBatch, ScoreResult
from wqrm.substance import SubstanceRules, check_substance
from wqrm.tasks import TASKS
from wqrm.textio import InvalidTextError, validate_text
from wqrm.weights import LearnedWeights, UniformWeights, load_weights

__all__ = ["ScoreBatch", "ScoreResult", "Scorer", "component_values", "load"]

log = logging.getLogger(__name__)


def component_values(
    names: Sequence[str],
    G: np.ndarray,
    component_of: Mapping[str, str | None],
    exclude: Collection[str] = (),
    guards: Collection[str] = (),
) -> np.ndarray:
    """(n, 8) S1..S8 from an (n, m) goodness array whose columns are the metrics `names`:
    S_i = (mean goodness of component i's defined metrics that are neither guards nor in `exclude`)
    × (product of the goodness of its defined `guards` not in `exclude`); NaN when no non-guard
    metric is defined. A guard (`MetricSpec.guard`: a fault clean text never shows, goodness 1 at
    its best value) leaves clean text's component exactly as it is, where a metric in the mean
    would dilute the others' signal, and takes a share of the component away when it fires.
    Summed column by column (vectorised over texts), so a text's components do not depend on which
    other texts share the batch."""
    out = np.full((G.shape[0], len(COMPONENT_NAMES)), np.nan)
    for j, c in enumerate(COMPONENT_NAMES):
        total, count = np.zeros(G.shape[0]), np.zeros(G.shape[0])
        factor = np.ones(G.shape[0])
        for i, n in enumerate(names):
            if component_of.get(n) != c or n in exclude:
                continue
            defined = ~np.isnan(G[:, i])
            if n in guards:
                factor *= np.where(defined, G[:, i], 1.0)
            else:
                total += np.where(defined, G[:, i], 0.0)
                count += defined
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, j] = np.where(count > 0, factor * total / count, np.nan)
    return out


class Scorer:
    """Scores texts: metrics → components → composite.

    `profile` maps metric values to goodness (default: the shipped profile); it serves the texts
    of its own language (`Profile.lang`), and texts in another language use that language's
    shipped profile. `weights` combine components (default: the shipped learned weights;
    `UniformWeights()` for α_i = 1/8); `metric_names` restricts the metrics; `substance_rules` are
    the degeneracy floor's thresholds (`wqrm.substance`): a degenerate text's score is capped below
    0.1, with the reason in `reasons["score"]`.
    """

    def __init__(
        self,
        profile: Profile | None = None,
        weights: UniformWeights | LearnedWeights | None = None,
        metric_names: Sequence[str] | None = None,
        substance_rules: SubstanceRules | None = None,
    ):
        self.profile = profile or Profile.default()
        self._profiles: dict[str, Profile] = {self.profile.lang: self.profile}
        self.weights = weights if weights is not None else load_weights()
        self.metric_names = list(metric_names) if metric_names is not None else list(specs())
        self._specs = specs()
        self._personas: dict[str, Any] = {}  # persona directory -> built persona
        self.substance_rules = substance_rules or SubstanceRules()

    # ---- components ---------------------------------------------------------------------------

    def profile_for(self, lang: str) -> Profile:
        """The reference profile texts in `lang` are compared with (loaded once per scorer)."""
        if lang not in self._profiles:
            self._profiles[lang] = Profile.default(lang)
        return self._profiles[lang]

    def components(
        self, metrics: dict[str, float | None], lang: str = "en", reasons: dict[str, str] | None = None
    ) -> tuple[dict[str, float | None], dict[str, float | None], dict[str, str]]:
        """(goodness per metric, S1..S8, reason per missing component) of a text in `lang`;
        `reasons` (why each None metric is None) lets a missing component's reason name them."""
        names, G = self._goodness_matrix([metrics], lang)
        C = self._component_values(names, G)[0]
        goodness = {n: None if np.isnan(g) else float(g) for n, g in zip(names, G[0], strict=True)}
        comps: dict[str, float | None] = {}
        missing: dict[str, str] = {}
        for c, value in zip(COMPONENT_NAMES, C, strict=True):
            comps[c] = None if np.isnan(value) else float(value)
            if comps[c] is None:
                missing[c] = self._missing_reason(c, metrics, reasons or {}, lang)
        return goodness, comps, missing

    def component_matrix(
        self, metric_rows: Sequence[dict[str, float | None]], lang: str = "en"
    ) -> np.ndarray:
        """(n, 8) array of S1..S8 for many texts' metric values at once (texts in `lang`); NaN =
        component missing. Row i equals `components(metric_rows[i], lang)` exactly (one
        implementation)."""
        return self._component_values(*self._goodness_matrix(metric_rows, lang))

    def _goodness_matrix(
        self, metric_rows: Sequence[dict[str, float | None]], lang: str = "en"
    ) -> tuple[list[str], np.ndarray]:
        """(scored metric names in registry order, (n, m) goodness array; NaN = undefined)."""
        profile = self.profile_for(lang)
        present = {n for row in metric_rows for n in row}
        names = [n for n, spec in self._specs.items() if spec.component is not None and n in present]
        V = np.array(
            [[np.nan if row.get(n) is None else row[n] for n in names] for row in metric_rows],
            dtype=np.float64,
        ).reshape(len(metric_rows), len(names))
        G = np.empty_like(V)
        for j, n in enumerate(names):
            G[:, j] = self._specs[n].goodness_values(profile, V[:, j])
        return names, G

    def _component_values(self, names: list[str], G: np.ndarray) -> np.ndarray:
        """S_i = mean goodness of the component's defined metrics times its guards' goodness, less
        the metrics the weights exclude (`LearnedWeights.excluded_metrics`); see `component_values`."""
        components = {n: s.component for n, s in self._specs.items()}
        guards = {n for n, s in self._specs.items() if s.guard}
        return component_values(names, G, components, self.weights.excluded_metrics, guards)

    def _missing_reason(
        self, component: str, metrics: dict[str, float | None], reasons: dict[str, str], lang: str = "en"
    ) -> str:
        members = [n for n, s in self._specs.items() if s.component == component]
        if not members:
            return f"{component} ({COMPONENT_NAMES[component]}): no metric of this component is available yet"
        computed = [n for n in members if n in metrics]
        if not computed:
            return f"{component}: none of its metrics ({', '.join(members)}) was requested"
        no_resource = f"no {LANGUAGE_NAMES.get(lang, lang)} resource"
        if all(reasons.get(n, "").startswith(no_resource) for n in computed):
            return (
                f"{component} ({COMPONENT_NAMES[component]}): {no_resource} for any of its metrics "
                f"({', '.join(computed)}); e.g. {reasons[computed[0]].removeprefix(no_resource + ': ')}"
            )
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
        self, items: Sequence[str | Analysis], ctx: MetricContext, langs: Sequence[str] | None = None
    ) -> tuple[list[Analysis | str], MetricContext]:
        """Parse the texts (items already parsed are kept) and the context's prompt and
        references in one batched call; then run every model once over the batch. Returns an
        `Analysis` or an error message per item, and the context with its parsed texts.
        `langs`: the texts' languages when already detected (one per item not yet parsed)."""
        texts = [t for t in items if not isinstance(t, Analysis)]
        extra = ctx.texts_to_parse()
        parsed_texts: list[Analysis | str]
        try:
            codes = [*(langs if langs is not None else [None] * len(texts)), *[None] * len(extra)]
            parsed = analyze_batch([*texts, *extra], lang=codes) if texts or extra else []
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
        return self._assemble(a, compute_analysis(a, self.metric_names, self._in_language(ctx, a)), id)

    def _in_language(self, ctx: MetricContext, a: Analysis) -> MetricContext:
        """`ctx` with the reference profile of the text's language."""
        profile = self.profile_for(a.lang)
        return ctx if ctx.profile is profile else replace(ctx, profile=profile)

    def _assemble(self, a: Analysis, mv: MetricValues, id: Any = None) -> ScoreResult:
        goodness, comps, comp_reasons = self.components(mv, a.lang, mv.reasons)
        contributions = self.contributions(comps)
        composite = float(sum(contributions.values())) if contributions else None
        substance = check_substance(a, self.substance_rules, mv)
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
            lang=a.lang,
        )

    def _spans(self, a: Analysis) -> list[dict[str, Any]]:
        """Evidence a writer can act on, in text order: the edit tagger's flagged spans
        (`source: "tagger"`) and S3's matched generic phrases and templates (`source: "phrases"`)."""
        spans = [{**sp.as_dict(), "source": "tagger"} for sp in a.edit_spans or []]
        phrase_metrics = [n for n in ("gpp", "slop_pattern_rate") if n in self.metric_names]
        if any(language_gap(self._specs[n], a.lang) is None for n in phrase_metrics):
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
        cannot be scored (`wqrm.lang.UnsupportedLanguageError`, one of them, for a language wqrm
        has no pipeline for)."""
        ctx = self.context(persona, task, prompt, references)
        langs = None
        if not isinstance(text, Analysis):
            validate_text(text)
            guess = detect(text)
            if not guess.supported:
                raise UnsupportedLanguageError(guess)
            langs = [guess.lang]
        (a,), ctx = self._analyze([text], ctx, langs)
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
        among them: each candidate's siblings are the other valid candidates of its language, and
        `qd_balance` uses its composite without S8. A text that cannot be scored gets a result with `.error`
        set (a text in a language wqrm has no pipeline for: the error names the language, and
        `.lang` holds its code); the others are unaffected.
        """
        ctx = self.context(persona, task, prompt, references)
        ids = list(ids) if ids is not None else list(range(len(texts)))
        results: list[ScoreResult | None] = [None] * len(texts)
        good: list[int] = []
        langs: list[str] = []
        for i, t in enumerate(texts):
            try:
                validate_text(t)
                guess = detect(t)
                if not guess.supported:
                    raise UnsupportedLanguageError(guess)
                good.append(i)
                langs.append(guess.lang)
            except UnsupportedLanguageError as exc:
                results[i] = ScoreResult.failed(str(exc), ids[i], exc.lang)
            except InvalidTextError as exc:
                results[i] = ScoreResult.failed(str(exc), ids[i])
        parsed, ctx = self._analyze([texts[i] for i in good], ctx, langs)
        release_freed_memory()  # the parse's and the models' temporaries, before the metrics run
        analyses: dict[int, Analysis] = {}
        for i, a in zip(good, parsed, strict=True):
            if isinstance(a, str):
                results[i] = ScoreResult.failed(a, ids[i])
            else:
                analyses[i] = a
                results[i] = self._result(a, ids[i], ctx)
        if group and len(analyses) > 1:
            self._add_diversity(analyses, results, ctx)
        del parsed, analyses  # the parses are the batch's bulk: free them, then give their pages back
        release_freed_memory()
        return ScoreBatch(results)

    def best_of(self, candidates: Sequence[Any], prompt: Any = None, **kwargs: Any):
        """Best-of-N among `candidates` for `prompt`: see `wqrm.ddpo.best_of`."""
        return ddpo.best_of(self, candidates, prompt=prompt, **kwargs)

    def _add_diversity(self, analyses: dict[int, Analysis], results: list, ctx: MetricContext) -> None:
        """Second pass for a group of candidates: S8 metrics with siblings and quality = composite."""
        s8 = [n for n in self.metric_names if self._specs[n].component == "S8"]
        if not s8:
            return
        for i, a in analyses.items():
            r = results[i]
            siblings = [b for b in analyses.values() if b.lang == a.lang]  # compared within a language
            a_ctx = replace(self._in_language(ctx, a), siblings=siblings, quality=r.score)
            extra = compute_analysis(a, s8, a_ctx)
            mv = MetricValues({**r.metrics, **extra})
            mv.reasons = {k: v for k, v in r.reasons.items() if k not in extra} | extra.reasons
            results[i] = self._assemble(a, mv, r.id)


def load(profile: str | None = None, weights: Any = None) -> Scorer:
    """The default scorer: shipped profile and learned weights, or the profile directory at
    `profile` and the weights at `weights` (a JSON path, ``"uniform"`` for α_i = 1/8, or a weights
    object)."""
    return Scorer(profile=Profile.load(profile) if profile else None, weights=load_weights(weights))
