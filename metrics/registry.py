"""The metric registry: every metric's function and metadata, and the `compute` entry point.

A metric is a pure function `Analysis (+ MetricContext) -> float`, registered with `@metric(...)`.
When a value cannot be computed for a text (one sentence, no entities, missing context) the
function raises `MetricUndefined(reason)`; `compute` turns that into `None` and keeps the reason.
No exception escapes `compute`, and no NaN or infinity is ever returned. Every value is checked
against the metric's declared `valid_range`: one outside it is `None` with a reason naming the
value and the range (never silently clipped; only floating-point rounding within `RANGE_TOLERANCE`
of a bound is read as the bound).

Languages: a metric is defined for a text's language (`Analysis.lang`) only when the metric
itself is (`MetricSpec.languages`, for metrics built on English word lists) and every resource
it needs serves that language (`wqrm.resources.Resource.languages`; the parse itself, `spacy`,
stands for whichever pipeline parsed the text). Otherwise the value is None with the reason
"no <Language> resource: …" (`language_gap`), and batch preparers skip that text (no English
model ever runs on a Russian text).
"""

from __future__ import annotations

import inspect
import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from typing import Any, Protocol

import numpy as np

from wqrm import resources
from wqrm.analysis import Analysis, analyze_batch, embed_sentences
from wqrm.components import COMPONENTS as _COMPONENTS
from wqrm.lang import LANGUAGE_NAMES, SUPPORTED
from wqrm.memory import release_freed_memory
from wqrm.profile import Direction, Profile, default_profile
from wqrm.resources import ResourceMissingError
from wqrm.textio import InvalidTextError, validate_text

__all__ = [
    "COMPONENTS",
    "MetricContext",
    "MetricSpec",
    "MetricUndefined",
    "MetricValues",
    "PersonaLike",
    "catalogue",
    "catalogue_records",
    "compute",
    "compute_analysis",
    "compute_batch",
    "get_spec",
    "language_gap",
    "metric",
    "metric_validity",
    "prepare",
    "register_preparer",
    "resolve_names",
    "specs",
]

log = logging.getLogger(__name__)

COMPONENTS = _COMPONENTS
#: Relative distance beyond a `valid_range` bound still counted as that bound: floating-point
#: rounding (a cosine of 1.0000000000000002, a BLEU of 100.00000000000004). Anything farther out is
#: `None` with a reason.
RANGE_TOLERANCE = 1e-9
#: Resources that come with the parse itself; anything else is a model loaded on demand.
PARSE_RESOURCES = frozenset({"spacy"})


class MetricUndefined(Exception):
    """Raised by a metric function when the value is undefined for this text; carries the reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class PersonaLike(Protocol):
    """What the S2 persona metrics read from a persona (`wqrm.persona.Persona` is one)."""

    ngrams: dict[int, set[str]]
    mattr: np.ndarray
    sentence_length_counts: np.ndarray
    formality: float

    def vector_for(self, query: np.ndarray, tau: float | None = None) -> np.ndarray: ...


@dataclass
class MetricContext:
    """What some metrics read besides the text itself. Every field is optional.

    * `persona`: the user's writing (S2 `pva`, `nsm`, `formality_gap`; `sld_kl` and
      `ttr_consistency` compare with it instead of the profile).
    * `task` ("continue", "rephrase", "storygen"), `prompt` (the text continued / rephrased),
      `references` (reference texts): S5. `prompt` also feeds S8's `prompt_adherence`.
    * `prompt_analysis`, `reference_analyses`: the parsed prompt and references. Callers leave
      them empty: `compute_batch` and the `Scorer` parse them in the same batched call as the
      texts (`with_context_analyses`), so no metric ever parses text.
    * `profile`: the reference profile reference-distribution metrics compare with (the scorer's;
      `reference_profile()` falls back to the shipped default).
    * `siblings`: the other candidates for the same prompt (S8); `quality`: this candidate's
      composite without S8, in [0, 1] (`qd_balance`).
    """

    persona: PersonaLike | None = None
    task: str | None = None
    prompt: str | None = None
    references: Sequence[str] | None = None
    profile: Profile | None = None
    prompt_analysis: Analysis | None = None
    reference_analyses: Sequence[Analysis] | None = None
    siblings: Sequence[Analysis] | None = None
    quality: float | None = None

    def reference_profile(self, lang: str = "en") -> Profile:
        """The profile to compare a text in `lang` with: this context's when it is a profile of
        that language, else the shipped default for the language."""
        if self.profile is not None and self.profile.lang == lang:
            return self.profile
        return default_profile(lang)

    def texts_to_parse(self) -> list[str]:
        """The context texts a task needs parsed that are not parsed yet (valid ones only)."""
        if self.task is None:
            return []
        todo = []
        if self.prompt_analysis is None and _valid(self.prompt):
            todo.append(self.prompt)
        if self.reference_analyses is None:
            todo += [r for r in self.references or [] if _valid(r)]
        return list(dict.fromkeys(todo))

    def with_context_analyses(self, parsed: dict[str, Analysis]) -> MetricContext:
        """A copy with `prompt_analysis` / `reference_analyses` filled from `parsed` (text → analysis)."""
        prompt = self.prompt_analysis
        if prompt is None and self.prompt in parsed:
            prompt = parsed[self.prompt]
        refs = self.reference_analyses
        if refs is None and self.task is not None:
            refs = [parsed[r] for r in self.references or [] if r in parsed]
        return replace(self, prompt_analysis=prompt, reference_analyses=refs)

    def parsed(self) -> MetricContext:
        """A copy with the context texts parsed (one batched call), for calling metric functions
        directly; `compute_batch` and the `Scorer` parse them together with the texts instead."""
        todo = self.texts_to_parse()
        return self.with_context_analyses(dict(zip(todo, analyze_batch(todo), strict=True))) if todo else self

    def analyses(self) -> list[Analysis]:
        """The parsed context texts (prompt first), e.g. to embed them with the texts."""
        return [a for a in (self.prompt_analysis, *(self.reference_analyses or [])) if a is not None]


def _valid(text: str | None) -> bool:
    try:
        validate_text(text)
    except InvalidTextError:
        return False
    return True


@dataclass(frozen=True)
class MetricSpec:
    """Metadata of one registered metric."""

    name: str
    func: Callable[..., float]
    component: str | None
    direction: Direction
    reference: str
    valid_range: tuple[float, float]
    resources: tuple[str, ...] = ("spacy",)
    band: tuple[float, float] | None = None
    best: float | None = None
    band_include: tuple[float, ...] = ()
    description: str = ""
    takes_context: bool = False
    languages: tuple[str, ...] | None = None  # None: any language wqrm analyses
    guard: bool = False  # multiplies its component instead of entering its mean (`component_values`)
    decay: bool = False  # `lower` + `best`: goodness exp(−(v − best)/(q99 − best)) (`wqrm.profile`)
    tail: bool = False  # `lower` guard: goodness 1 up to the reference q99, its upper tail beyond
    version: int = 1  # raised when the function's values change: cached values of another version are stale

    def goodness_values(self, profile: Profile, values: np.ndarray) -> np.ndarray:
        """Raw values → goodness in [0, 1] against `profile`, by this metric's direction, band,
        best value and band inclusions (NaN stays NaN)."""
        return profile.goodness_values(
            self.name,
            values,
            self.direction,
            self.band,
            best=self.best,
            band_include=self.band_include,
            decay=self.decay,
            tail=self.tail,
        )

    def goodness(self, profile: Profile, value: float | None) -> float | None:
        """`goodness_values` of one value (None stays None)."""
        if value is None:
            return None
        g = float(self.goodness_values(profile, np.array([value], dtype=np.float64))[0])
        return None if np.isnan(g) else g

    @property
    def needs_models(self) -> bool:
        """True when the metric needs a model beyond the spaCy parse (e.g. the sentence encoder)."""
        return not set(self.resources) <= PARSE_RESOURCES


_SPECS: dict[str, MetricSpec] = {}
#: Batch preparers by resource: fill per-analysis caches for many texts with one model call.
_PREPARERS: dict[str, Callable[[Sequence[Analysis]], None]] = {"sentence_encoder": embed_sentences}


def language_gap(spec: MetricSpec, lang: str) -> str | None:
    """Why metric `spec` is not defined for text in `lang` (None when it is): the metric is built
    on English word lists, or a resource it needs does not serve the language."""
    if spec.languages is not None and lang not in spec.languages:
        served = ", ".join(LANGUAGE_NAMES.get(c, c) for c in spec.languages)
        name = LANGUAGE_NAMES.get(lang, lang)
        return f"no {name} resource: {spec.name} is defined on {served} word lists only"
    for name in spec.resources:
        gap = _resource_gap(name, lang)
        if gap is not None:
            return gap
    return None


def _resource_gap(name: str, lang: str) -> str | None:
    res = resources.registry().get(name)
    if name in PARSE_RESOURCES or res is None or res.languages is None or lang in res.languages:
        return None
    served = ", ".join(LANGUAGE_NAMES.get(c, c) for c in res.languages)
    what = LANGUAGE_NAMES.get(lang, lang)
    return f"no {what} resource: needs {name} ({res.description}), which is {served}-only"


def register_preparer(resource: str, prepare: Callable[[Sequence[Analysis]], None]) -> None:
    """Register `prepare(analyses)`, run once per batch before metrics needing `resource`."""
    _PREPARERS[resource] = prepare


def prepare(analyses: Sequence[Analysis], names: Sequence[str], context: Sequence[Analysis] = ()) -> None:
    """Run the batch preparers of every resource the named metrics need (one model call each).

    `context` analyses (a parsed prompt, references) are embedded in the same sentence-encoder call
    as the texts; the other preparers (edit model, tagger) run on the texts only."""
    needed = dict.fromkeys(r for n in names for r in _SPECS[n].resources)
    for resource in needed:
        if resource not in _PREPARERS:
            continue
        batch = [*analyses, *context] if resource == "sentence_encoder" else list(analyses)
        batch = [a for a in batch if _resource_gap(resource, a.lang) is None]
        if batch:
            try:
                _PREPARERS[resource](batch)
            except Exception as exc:  # the metrics needing it report the failure as their reason
                log.warning("preparing %s failed: %s", resource, exc)


def metric(
    name: str,
    *,
    component: str | None,
    direction: Direction,
    reference: str,
    valid_range: tuple[float, float],
    resources: tuple[str, ...] = ("spacy",),
    band: tuple[float, float] | None = None,
    best: float | None = None,
    band_include: tuple[float, ...] = (),
    languages: tuple[str, ...] | None = None,
    guard: bool = False,
    decay: bool = False,
    tail: bool = False,
    version: int = 1,
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Register a metric function under `name` with its metadata.

    `component` is one of S1..S8, or None for descriptive metrics that are reported but not
    scored. `direction` says which way is better: `higher`, `lower`, or `band` (closeness to the
    reference band; `band` gives the literature's band, used when the profile has none).
    `languages` restricts a metric built on one language's word lists (None: any language; the
    languages of its `resources` restrict it further, see `language_gap`). A `guard` scales its
    component rather than joining its mean (`wqrm.scoring.component_values`): a fault that clean
    text never shows, so it needs a `best` value (goodness 1) and a component. `decay` maps a
    `lower` metric with a `best` value by exponential fall on the reference's 99th-percentile scale
    instead of its percentile (`wqrm.profile`). `tail` makes a `lower` guard that costs nothing
    inside the reference range: goodness 1 up to the reference's 99th percentile and the profile's
    upper exponential tail beyond it, for a fault that only an extreme value shows. `version` is
    raised whenever a change to the function changes its values: a metric cache
    (`wqrm.fit.weights.MetricCache`) recomputes values it holds from another version.
    """
    if guard and (component is None or (best is None and not tail)):
        raise ValueError(f"guard metric {name!r} needs a component and a best value (or tail)")
    if tail and (not guard or direction != "lower"):
        raise ValueError(f"tail metric {name!r} must be a guard with direction 'lower'")
    if decay and (direction != "lower" or best is None):
        raise ValueError(f"decay metric {name!r} needs direction 'lower' and a best value")
    if component is not None and component not in COMPONENTS:
        raise ValueError(f"component must be one of {COMPONENTS} or None, got {component!r}")
    if direction not in ("higher", "lower", "band"):
        raise ValueError(f"direction must be higher, lower or band, got {direction!r}")

    def deco(func: Callable[..., float]) -> Callable[..., float]:
        if name in _SPECS and _SPECS[name].func.__qualname__ != func.__qualname__:
            raise ValueError(f"metric {name!r} registered twice")
        doc = inspect.getdoc(func) or ""
        _SPECS[name] = MetricSpec(
            name=name,
            func=func,
            component=component,
            direction=direction,
            reference=reference,
            valid_range=valid_range,
            resources=tuple(resources),
            band=band,
            best=best,
            band_include=tuple(band_include),
            description=doc.split("\n\n")[0].replace("\n", " "),
            takes_context="ctx" in inspect.signature(func).parameters,
            languages=tuple(languages) if languages is not None else None,
            guard=guard,
            decay=decay,
            tail=tail,
            version=version,
        )
        return func

    return deco


def specs() -> dict[str, MetricSpec]:
    """All registered metric specs by name, in registration order."""
    return dict(_SPECS)


def get_spec(name: str) -> MetricSpec:
    try:
        return _SPECS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(_SPECS))}") from None


class MetricValues(dict):
    """`{name: float | None}`, plus `.reasons`: why each `None` value could not be computed."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.reasons: dict[str, str] = {}


def _default_names(models: bool) -> list[str]:
    return [n for n, s in _SPECS.items() if models or not s.needs_models]


def _evaluate(spec: MetricSpec, a: Analysis, ctx: MetricContext | None) -> tuple[float | None, str | None]:
    gap = language_gap(spec, a.lang)
    if gap is not None:
        return None, gap
    try:
        value = spec.func(a, ctx=ctx) if spec.takes_context else spec.func(a)
    except MetricUndefined as exc:
        return None, exc.reason
    except ResourceMissingError as exc:  # an optional resource is not installed: say which, no traceback
        return None, f"resource missing: {exc}"
    except Exception as exc:  # a metric bug must not kill a batch; it is logged and reported
        log.exception("metric %s failed", spec.name)
        return None, f"error: {type(exc).__name__}: {exc}"
    if value is None:
        return None, "undefined"
    value = float(value)
    if not math.isfinite(value):
        return None, f"non-finite value ({value})"
    lo, hi = spec.valid_range
    if lo - RANGE_TOLERANCE * max(1.0, abs(lo)) <= value < lo:  # floating-point rounding at a bound
        value = float(lo)
    elif hi < value <= hi + RANGE_TOLERANCE * max(1.0, abs(hi)):
        value = float(hi)
    if not lo <= value <= hi:  # a bug or an edge case the formula does not cover: never clipped
        log.warning("metric %s gave %r outside its valid range [%s, %s]", spec.name, value, lo, hi)
        return None, f"value {value!r} outside the metric's valid range [{lo}, {hi}]"
    return value, None


#: From this many words on, freed memory is given back after every metric (`wqrm.memory`): a book's
#: metrics free large temporaries one after another, and the heap would otherwise keep them all.
LARGE_TEXT_WORDS = 100_000


def compute_analysis(a: Analysis, names: Sequence[str], ctx: MetricContext | None = None) -> MetricValues:
    """Compute the named metrics on an existing analysis (embeddings must be cached if needed)."""
    out = MetricValues()
    large = len(a.words) >= LARGE_TEXT_WORDS
    for name in names:
        value, reason = _evaluate(_SPECS[name], a, ctx)
        out[name] = value
        if reason is not None:
            out.reasons[name] = reason
        if large:
            release_freed_memory()
    return out


def resolve_names(names: Sequence[str] | None, models: bool = False) -> list[str]:
    """The metric names to compute: `names` checked (KeyError for an unknown one), or the defaults."""
    if names is None:
        return _default_names(models)
    for n in names:
        get_spec(n)
    return list(names)


def compute(
    text: str | Analysis,
    names: Sequence[str] | None = None,
    *,
    context: MetricContext | None = None,
    models: bool = False,
) -> MetricValues:
    """Compute metrics for one text (or an existing `Analysis`).

    `names=None` computes every metric that needs only the parse; `models=True` adds the ones that
    need a model (sentence encoder, …), which are loaded lazily. Naming a metric always computes it.
    """
    return compute_batch([text], names, context=context, models=models)[0]


def compute_batch(
    texts: Sequence[str | Analysis],
    names: Sequence[str] | None = None,
    *,
    context: MetricContext | None = None,
    models: bool = False,
) -> list[MetricValues]:
    """Compute metrics for many texts: one batched parse (texts and the context's prompt and
    references together), one batched call per model."""
    names = resolve_names(names, models)
    raw = [t for t in texts if not isinstance(t, Analysis)]
    extra = context.texts_to_parse() if context is not None else []
    parsed = analyze_batch(raw + extra) if raw or extra else []
    if context is not None and extra:
        context = context.with_context_analyses(dict(zip(extra, parsed[len(raw) :], strict=True)))
    it = iter(parsed[: len(raw)])
    analyses = [t if isinstance(t, Analysis) else next(it) for t in texts]
    prepare(analyses, names, context.analyses() if context is not None else ())
    return [compute_analysis(a, names, context) for a in analyses]


def _spec_languages(spec: MetricSpec) -> list[str]:
    """The languages wqrm analyses that `spec` is defined for."""
    return [c for c in SUPPORTED if language_gap(spec, c) is None]


#: The shipped evidence per metric (package data of `wqrm`), written by `benchmarks/metric_validity.py`.
VALIDITY_FILE = "data/metric_validity.json"
#: Where the evidence is tabulated (in the source repository).
VALIDITY_TABLE = "benchmarks/results/metric_validity.md"


def metric_validity() -> dict[str, dict[str, Any]]:
    """The shipped evidence of each metric (human-vs-AI AUC, LAMP pairwise accuracy, Spearman ρ
    with word count, share defined and a one-word verdict; `VALIDITY_TABLE` explains them), by
    name; {} when the file is absent. Measured on English development data against the English
    profile: it says nothing about Russian text."""
    path = files("wqrm").joinpath(VALIDITY_FILE)
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["metrics"]


#: The shipped composite weights (package data of `wqrm`): their metric gate (`wqrm.fit.gate`).
WEIGHTS_FILE = "data/weights/default.json"


def shipped_gate() -> tuple[dict[str, Any], dict[str, str]]:
    """(the shipped weights' per-metric agreement with their fit pairs, group-balanced, by name;
    the metrics they leave out of their component, with the reason); ({}, {}) without them."""
    path = files("wqrm").joinpath(WEIGHTS_FILE)
    if not path.is_file():
        return {}, {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return (data.get("metric_gate") or {}).get("balanced", {}), dict(data.get("excluded_metrics") or {})


def catalogue_records() -> list[dict[str, Any]]:
    """Every registered metric, its metadata and its shipped evidence (`verdict`, `auc_human_ai`,
    `lamp_accuracy`, `rho_words`; `evidence` names the table), how often its goodness agrees with
    the shipped weights' fit pairs (`fit_agreement`, group-balanced) and whether it enters its
    component there (`in_composite`), one dict per metric (no pandas)."""
    validity = metric_validity()
    agreement, left_out = shipped_gate()
    return [
        {
            "name": s.name,
            "component": s.component or "-",
            "direction": s.direction,
            "band": s.band,
            "best": s.best,
            "band_include": s.band_include or None,
            "guard": s.guard,
            "decay": s.decay,
            "tail": s.tail,
            "valid_range": s.valid_range,
            "resources": ",".join(s.resources),
            "languages": ",".join(_spec_languages(s)),
            "reference": s.reference,
            "description": s.description,
            "verdict": validity.get(s.name, {}).get("verdict"),
            "auc_human_ai": validity.get(s.name, {}).get("auc_human_ai"),
            "lamp_accuracy": validity.get(s.name, {}).get("lamp_accuracy"),
            "rho_words": validity.get(s.name, {}).get("rho_words"),
            "evidence": VALIDITY_TABLE if s.name in validity else None,
            "fit_agreement": agreement.get(s.name, {}).get("agreement"),
            "in_composite": s.component is not None and s.name not in left_out,
        }
        for s in _SPECS.values()
    ]


def catalogue():
    """`catalogue_records()` as a pandas DataFrame indexed by name."""
    import pandas as pd  # deferred: pandas takes a third of a second to import

    return pd.DataFrame(catalogue_records()).set_index("name")
