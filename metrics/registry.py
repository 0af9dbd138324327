"""The metric registry: every metric's function and metadata, and the `compute` entry point.

A metric is a pure function `Analysis (+ MetricContext) -> float`, registered with `@metric(...)`.
When a value cannot be computed for a text (one sentence, no entities, missing context) the
function raises `MetricUndefined(reason)`; `compute` turns that into `None` and keeps the reason.
No exception escapes `compute`, and no NaN or infinity is ever returned.
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from wqrm.analysis import Analysis, analyze_batch, embed_sentences
from wqrm.resources import ResourceMissingError

__all__ = [
    "COMPONENTS",
    "MetricContext",
    "MetricSpec",
    "MetricUndefined",
    "MetricValues",
    "catalogue",
    "compute",
    "compute_analysis",
    "compute_batch",
    "get_spec",
    "metric",
    "prepare",
    "register_preparer",
    "resolve_names",
    "specs",
]

log = logging.getLogger(__name__)

Direction = Literal["higher", "lower", "band"]
COMPONENTS = ("S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8")
#: Resources that come with the parse itself; anything else is a model loaded on demand.
PARSE_RESOURCES = frozenset({"spacy"})


class MetricUndefined(Exception):
    """Raised by a metric function when the value is undefined for this text; carries the reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class MetricContext:
    """Optional context some metrics read: persona, task prompt, references, sibling candidates."""

    persona: Any = None
    prompt: str | None = None
    references: Sequence[str] | None = None
    siblings: Sequence[Analysis] | None = None
    task: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


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
    description: str = ""
    takes_context: bool = False

    @property
    def needs_models(self) -> bool:
        """True when the metric needs a model beyond the spaCy parse (e.g. the sentence encoder)."""
        return not set(self.resources) <= PARSE_RESOURCES


_SPECS: dict[str, MetricSpec] = {}
#: Batch preparers by resource: fill per-analysis caches for many texts with one model call.
_PREPARERS: dict[str, Callable[[Sequence[Analysis]], None]] = {"sentence_encoder": embed_sentences}


def register_preparer(resource: str, prepare: Callable[[Sequence[Analysis]], None]) -> None:
    """Register `prepare(analyses)`, run once per batch before metrics needing `resource`."""
    _PREPARERS[resource] = prepare


def prepare(analyses: Sequence[Analysis], names: Sequence[str]) -> None:
    """Run the batch preparers of every resource the named metrics need (one model call each)."""
    needed = dict.fromkeys(r for n in names for r in _SPECS[n].resources)
    for resource in needed:
        if resource in _PREPARERS and analyses:
            try:
                _PREPARERS[resource](analyses)
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
) -> Callable[[Callable[..., float]], Callable[..., float]]:
    """Register a metric function under `name` with its metadata.

    `component` is one of S1..S8, or None for descriptive metrics that are reported but not
    scored. `direction` says which way is better: `higher`, `lower`, or `band` (closeness to the
    reference band; `band` gives the literature's band, used when the profile has none).
    """
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
            description=doc.split("\n\n")[0].replace("\n", " "),
            takes_context="ctx" in inspect.signature(func).parameters,
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
    return value, None


def compute_analysis(a: Analysis, names: Sequence[str], ctx: MetricContext | None = None) -> MetricValues:
    """Compute the named metrics on an existing analysis (embeddings must be cached if needed)."""
    out = MetricValues()
    for name in names:
        value, reason = _evaluate(_SPECS[name], a, ctx)
        out[name] = value
        if reason is not None:
            out.reasons[name] = reason
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
    """Compute metrics for many texts: one batched parse, one batched encoder call."""
    names = resolve_names(names, models)
    raw = [t for t in texts if not isinstance(t, Analysis)]
    parsed = iter(analyze_batch(raw)) if raw else iter(())
    analyses = [t if isinstance(t, Analysis) else next(parsed) for t in texts]
    prepare(analyses, names)
    return [compute_analysis(a, names, context) for a in analyses]


def catalogue():
    """A pandas DataFrame of every registered metric and its metadata."""
    import pandas as pd

    rows = [
        {
            "name": s.name,
            "component": s.component or "-",
            "direction": s.direction,
            "band": s.band,
            "valid_range": s.valid_range,
            "resources": ",".join(s.resources),
            "reference": s.reference,
            "description": s.description,
        }
        for s in _SPECS.values()
    ]
    return pd.DataFrame(rows).set_index("name")
