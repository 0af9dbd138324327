"""Metric-profile snapshots: the distribution of every metric, S1..S8 and the composite over a set of
outputs, saved as JSON so that a later set can be compared with it (`wqrm.testing`).

    snap = build_snapshot(texts)            # scores them with the default scorer
    snap.save("my_model.wqrm.json")         # `wqrm snapshot outputs.jsonl -o my_model.wqrm.json`
    snap = Snapshot.load("my_model.wqrm.json")

Each *quantity* (`score`, `S1`..`S8`, every metric, and `error_rate`, the share of outputs that
could not be scored) is summarised over the outputs where it is defined: n, mean, standard
deviation, median, quantiles at `SNAPSHOT_LEVELS`, and for metrics the share of outputs inside the
reference band (the profile's inter-quartile range [q25, q75] of human reference prose; for a
`band` metric the profile lacks, its registry band). The spread of the mean and of the median under
resampling is measured by a seeded percentile bootstrap (`scipy.stats.bootstrap`, seed and
resample count recorded): `wqrm.testing` derives its default tolerances from it, so a drift smaller
than resampling noise never fails.

Provenance: the wqrm version, the weights (name and SHA-256 of α and τ), the profile (name and
SHA-256 of its JSON), the scoring context (task, group, whether a persona / prompt / references
were given) and the SHA-256 of every text. Same outputs, same file: nothing in it depends on the
clock or on the machine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from wqrm import __version__
from wqrm.components import COMPONENT_NAMES
from wqrm.profile import Profile, default_profile
from wqrm.weights import load_weights

if TYPE_CHECKING:  # pragma: no cover
    from wqrm.scoring import Scorer

__all__ = [
    "FORMAT",
    "SNAPSHOT_LEVELS",
    "Snapshot",
    "Summary",
    "build_snapshot",
    "is_scored",
    "provenance_of",
    "result_rows",
    "summarize",
    "text_sha256",
]

FORMAT = "wqrm-snapshot/1"
SNAPSHOT_LEVELS = (0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95)
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
COMPOSITE = "score"
ERRORS = "error_rate"


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sig(x: float | None) -> float | None:
    """10 significant digits: stable JSON without float-repr noise."""
    return None if x is None else float(f"{x:.10g}")


def _canonical_sha256(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


@dataclass(frozen=True)
class Summary:
    """The distribution of one quantity over the outputs where it is defined.

    `mean_se` / `median_se`: bootstrap standard error of the mean / median; `mean_ci` /
    `median_ci`: the bootstrap percentile interval at the snapshot's confidence level; None with
    fewer than two values. `in_band`: share of values inside `band` (metrics only)."""

    kind: str  # "composite", "component", "metric" or "errors"
    n: int
    n_undefined: int
    mean: float | None = None
    std: float | None = None
    median: float | None = None
    quantiles: tuple[float, ...] = ()
    mean_se: float | None = None
    mean_ci: tuple[float, float] | None = None
    median_se: float | None = None
    median_ci: tuple[float, float] | None = None
    band: tuple[float, float] | None = None
    in_band: float | None = None
    component: str | None = None
    direction: str = "higher"

    def statistic(self, name: str) -> tuple[float | None, float | None]:
        """(value, bootstrap standard error) of `name` ("mean" or "median")."""
        if name == "mean":
            return self.mean, self.mean_se
        if name == "median":
            return self.median, self.median_se
        raise ValueError(f"statistic must be 'mean' or 'median', got {name!r}")

    def to_json(self) -> dict[str, Any]:
        pair = lambda p: None if p is None else [_sig(p[0]), _sig(p[1])]  # noqa: E731
        return {
            "kind": self.kind,
            "component": self.component,
            "direction": self.direction,
            "n": self.n,
            "n_undefined": self.n_undefined,
            "mean": _sig(self.mean),
            "std": _sig(self.std),
            "median": _sig(self.median),
            "quantiles": [_sig(q) for q in self.quantiles],
            "mean_se": _sig(self.mean_se),
            "mean_ci": pair(self.mean_ci),
            "median_se": _sig(self.median_se),
            "median_ci": pair(self.median_ci),
            "band": pair(self.band),
            "in_band": _sig(self.in_band),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Summary:
        pair = lambda p: None if p is None else (float(p[0]), float(p[1]))  # noqa: E731
        return cls(
            kind=d["kind"],
            n=int(d["n"]),
            n_undefined=int(d.get("n_undefined", 0)),
            mean=d.get("mean"),
            std=d.get("std"),
            median=d.get("median"),
            quantiles=tuple(d.get("quantiles") or ()),
            mean_se=d.get("mean_se"),
            mean_ci=pair(d.get("mean_ci")),
            median_se=d.get("median_se"),
            median_ci=pair(d.get("median_ci")),
            band=pair(d.get("band")),
            in_band=d.get("in_band"),
            component=d.get("component"),
            direction=d.get("direction", "higher"),
        )


def _bootstrap(values: np.ndarray, statistic, n_resamples: int, seed: int, level: float):
    """(standard error, (low, high) percentile interval) of `statistic` by a seeded bootstrap."""
    from scipy.stats import bootstrap  # deferred: scipy.stats costs ~0.8 s to import

    if values.size < 2:
        return None, None
    if np.all(values == values[0]):  # degenerate: every resample gives the same value
        v = float(statistic(values))
        return 0.0, (v, v)
    batch = max(1, min(n_resamples, 4_000_000 // values.size))  # bounds memory for large sets
    res = bootstrap(
        (values,),
        statistic,
        n_resamples=n_resamples,
        batch=batch,
        vectorized=True,
        axis=-1,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    ci = res.confidence_interval
    return float(res.standard_error), (float(ci.low), float(ci.high))


def summarize(
    values: Sequence[float | None],
    *,
    kind: str = "metric",
    component: str | None = None,
    direction: str = "higher",
    band: tuple[float, float] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence_level: float = 0.95,
) -> Summary:
    """Summary of one quantity's values (None = undefined for that output; NaN counts as None)."""
    v = np.array([np.nan if x is None else x for x in values], dtype=np.float64)
    defined = v[np.isfinite(v)]
    n_undefined = int(v.size - defined.size)
    common = {"kind": kind, "component": component, "direction": direction, "band": band}
    if defined.size == 0:
        return Summary(n=0, n_undefined=n_undefined, **common)
    mean_se, mean_ci = _bootstrap(defined, np.mean, n_resamples, seed, confidence_level)
    median_se, median_ci = _bootstrap(defined, np.median, n_resamples, seed, confidence_level)
    in_band = None
    if band is not None:
        in_band = float(np.mean((defined >= band[0]) & (defined <= band[1])))
    return Summary(
        n=int(defined.size),
        n_undefined=n_undefined,
        mean=float(defined.mean()),
        std=float(defined.std()),
        median=float(np.median(defined)),
        quantiles=tuple(float(q) for q in np.quantile(defined, SNAPSHOT_LEVELS)),
        mean_se=mean_se,
        mean_ci=mean_ci,
        median_se=median_se,
        median_ci=median_ci,
        in_band=in_band,
        **common,
    )


def reference_band(name: str, profile: Profile, spec: Any) -> tuple[float, float] | None:
    """The band a metric's in-band share uses: the profile's [q25, q75] when the profile holds the
    metric, else the registry band of a `band` metric (what its goodness falls back to), else None."""
    mq = profile.metrics.get(name)
    if mq is not None and mq.n > 0:
        return (mq.at(0.25), mq.at(0.75))
    if spec is not None and spec.direction == "band" and spec.band is not None:
        return (float(spec.band[0]), float(spec.band[1]))
    return None


def _weights_identity(weights: Any) -> dict[str, Any]:
    alpha = {c: round(float(a), 12) for c, a in weights.alpha().items()}
    tau = getattr(weights, "tau", None)
    return {"name": weights.name, "sha256": _canonical_sha256({"alpha": alpha, "tau": tau})}


def _profile_identity(profile: Profile) -> dict[str, Any]:
    meta = profile.meta
    return {
        "name": profile.name,
        "sha256": _canonical_sha256(profile.to_json()),
        "wqrm_version": meta.get("wqrm_version"),
        "n_passages": meta.get("n_passages"),
        "seed": meta.get("seed"),
    }


def provenance_of(scorer: Scorer | None = None, scoring: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What made a set of scores: wqrm version, weights and profile identities, scoring context.

    Without a scorer, the shipped default weights and profile (read from their JSON files; no
    model is loaded)."""
    if scorer is not None:
        profile, weights = scorer.profile, scorer.weights
    else:
        profile, weights = default_profile(), load_weights()
    return {
        "wqrm_version": __version__,
        "weights": _weights_identity(weights),
        "profile": _profile_identity(profile),
        "scoring": _scoring_record(**(scoring or {})),
    }


def _scoring_record(
    persona: Any = None,
    task: str | None = None,
    prompt: str | None = None,
    references: Any = None,
    group: bool = False,
    **_other: Any,  # e.g. ids=: not part of the scoring context
) -> dict[str, Any]:
    return {
        "task": task,
        "group": bool(group),
        "persona": persona is not None,
        "prompt": prompt is not None,
        "references": references is not None,
    }


def _row_of(item: Any) -> dict[str, Any]:
    """{"score", "components", "metrics", "error", "weights", "text"} of a ScoreResult or a dict."""
    if isinstance(item, Mapping):
        return {
            "score": item.get("score"),
            "components": item.get("components") or {},
            "metrics": item.get("metrics") or {},
            "error": item.get("error"),
            "weights": item.get("weights"),
            "text": item.get("text"),
        }
    return {
        "score": item.score,
        "components": item.components,
        "metrics": item.metrics,
        "error": item.error,
        "weights": item.weights,
        "text": None,
    }


def _is_scored(item: Any) -> bool:
    return (isinstance(item, Mapping) and ("metrics" in item or "error" in item)) or hasattr(
        item, "components"
    )


def is_scored(outputs: Sequence[Any]) -> bool:
    """True when `outputs` are score results / score dicts (nothing to score), False for texts."""
    return bool(outputs) and all(_is_scored(o) for o in outputs)


def result_rows(
    outputs: Sequence[Any], scorer: Scorer | None = None, **score_kwargs: Any
) -> tuple[list[dict[str, Any]], list[str] | None, Scorer | None]:
    """(result rows, texts or None, the scorer used or None) for `outputs`: texts (str, or dicts
    with a "text" key) are scored by `scorer` (default: `wqrm.load()`); `ScoreResult`s and score
    dicts (`ScoreResult.to_dict()`, `wqrm score --output` rows) are taken as they are."""
    outputs = list(outputs)
    if not outputs:
        raise ValueError("no outputs: a snapshot needs at least two texts or results")
    scored = [_is_scored(o) for o in outputs]
    if all(scored):
        rows = [_row_of(o) for o in outputs]
        texts = [r["text"] for r in rows]
        return rows, (texts if all(isinstance(t, str) for t in texts) else None), scorer
    if any(scored):
        raise ValueError("outputs mix texts and score results; pass one kind")
    texts = []
    for i, o in enumerate(outputs):
        t = o.get("text") if isinstance(o, Mapping) else o
        if not isinstance(t, str):
            raise TypeError(
                f"output {i}: expected a text (str), a {{'text': …}} row or a score result, "
                f"got {type(o).__name__}"
            )
        texts.append(t)
    if scorer is None:
        from wqrm.scoring import load  # deferred: the scorer pulls in the metrics and their models

        scorer = load()
    rows = [_row_of(r) for r in scorer.score_batch(texts, **score_kwargs)]
    return rows, texts, scorer


@dataclass
class Snapshot:
    """A saved metric profile of a set of outputs (module docstring)."""

    quantities: dict[str, Summary]
    provenance: dict[str, Any]
    n_texts: int
    n_errors: int = 0
    text_sha256: list[str] | None = None
    bootstrap: dict[str, Any] = field(default_factory=dict)

    @property
    def texts_sha256(self) -> str | None:
        """One hash of the set of texts (order-free); None when the texts were not available."""
        if self.text_sha256 is None:
            return None
        return hashlib.sha256("\n".join(sorted(self.text_sha256)).encode()).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "provenance": self.provenance,
            "n_texts": self.n_texts,
            "n_errors": self.n_errors,
            "texts_sha256": self.texts_sha256,
            "bootstrap": self.bootstrap,
            "quantile_levels": list(SNAPSHOT_LEVELS),
            "quantities": {name: s.to_json() for name, s in self.quantities.items()},
            "text_sha256": self.text_sha256,
        }

    def dumps(self) -> str:
        """The JSON text: indented, with one line per quantity (so a changed snapshot diffs well)."""
        data = self.to_json()
        quantities = data.pop("quantities")
        text = json.dumps(data, indent=1, ensure_ascii=False)
        lines = ",\n".join(
            f"  {json.dumps(name)}: {json.dumps(q, ensure_ascii=False)}" for name, q in quantities.items()
        )
        return text[:-2] + ',\n "quantities": {\n' + lines + "\n }\n}\n"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.dumps(), encoding="utf-8")
        return path

    @classmethod
    def from_json(cls, data: Mapping[str, Any], source: str = "snapshot") -> Snapshot:
        if data.get("format") != FORMAT:
            raise ValueError(
                f"{source}: not a wqrm snapshot (format {data.get('format')!r}, expected {FORMAT!r}); "
                "make one with `wqrm snapshot OUTPUTS.jsonl -o FILE` or `pytest --wqrm-update`"
            )
        if tuple(data.get("quantile_levels", SNAPSHOT_LEVELS)) != SNAPSHOT_LEVELS:
            raise ValueError(
                f"{source}: quantile levels {data['quantile_levels']} differ from {SNAPSHOT_LEVELS}"
            )
        return cls(
            quantities={k: Summary.from_json(v) for k, v in data["quantities"].items()},
            provenance=dict(data.get("provenance") or {}),
            n_texts=int(data["n_texts"]),
            n_errors=int(data.get("n_errors", 0)),
            text_sha256=data.get("text_sha256"),
            bootstrap=dict(data.get("bootstrap") or {}),
        )

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"no snapshot at {path}; make one with `wqrm snapshot OUTPUTS.jsonl -o {path}` "
                "or run pytest with --wqrm-update"
            ) from exc
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from exc
        return cls.from_json(data, source=str(path))


def build_snapshot(
    outputs: Sequence[Any],
    scorer: Scorer | None = None,
    *,
    provenance: Mapping[str, Any] | None = None,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
    confidence_level: float = 0.95,
    **score_kwargs: Any,
) -> Snapshot:
    """The snapshot of `outputs`: texts (scored by `scorer`, default `wqrm.load()`, with
    `score_kwargs` such as `task=`, `prompt=`, `group=`), or score results / score dicts.

    Precomputed results are attributed to `provenance`, else to `scorer`'s weights and profile, else
    to the shipped defaults; results whose `weights` name differs from that are refused."""
    from wqrm.metrics.registry import specs  # deferred: the registry imports every metric family

    rows, texts, scorer = result_rows(outputs, scorer, **score_kwargs)
    if len(rows) < 2:
        raise ValueError(f"a snapshot needs at least two outputs (got {len(rows)})")
    prov = dict(provenance) if provenance is not None else provenance_of(scorer, score_kwargs)
    named = {r["weights"] for r in rows if r["weights"] is not None}
    if named - {prov["weights"]["name"]}:
        raise ValueError(
            f"the results were scored with weights {sorted(named)} but are attributed to "
            f"{prov['weights']['name']!r}; pass the scorer (or provenance=) that made them"
        )
    profile = scorer.profile if scorer is not None else default_profile()
    ok = [r for r in rows if r["error"] is None]
    opts = {"n_resamples": n_resamples, "seed": seed, "confidence_level": confidence_level}
    quantities: dict[str, Summary] = {
        COMPOSITE: summarize([r["score"] for r in ok], kind="composite", **opts)
    }
    for c in COMPONENT_NAMES:
        quantities[c] = summarize([r["components"].get(c) for r in ok], kind="component", component=c, **opts)
    all_specs = specs()
    present = {name for r in ok for name in r["metrics"]}
    names = [n for n in all_specs if n in present] + sorted(present - set(all_specs))
    for name in names:
        spec = all_specs.get(name)
        quantities[name] = summarize(
            [r["metrics"].get(name) for r in ok],
            component=spec.component if spec else None,
            direction=spec.direction if spec else "higher",
            band=reference_band(name, profile, spec),
            **opts,
        )
    quantities[ERRORS] = summarize(
        [0.0 if r["error"] is None else 1.0 for r in rows], kind="errors", direction="lower", **opts
    )
    return Snapshot(
        quantities=quantities,
        provenance=prov,
        n_texts=len(rows),
        n_errors=len(rows) - len(ok),
        text_sha256=[text_sha256(t) for t in texts] if texts is not None else None,
        bootstrap={**opts, "method": "percentile", "statistics": ["mean", "median"]},
    )
