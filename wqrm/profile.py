"""Reference profiles: how human reference writing scores on every metric.

A profile holds per-metric quantiles over passages of human reference prose. It turns a raw
metric value into a *goodness* in [0, 1] (DESIGN.md, "Components"):

* `higher`: the value's percentile among the reference passages (piecewise-linear between the
  stored quantiles; beyond the 1st and 99th percentiles an exponential tail fitted to the two
  outermost quantiles, p = 0.01·exp((v − q01)/s) with s = (q05 − q01)/ln 5 below and the mirror
  image above, so values outside the reference range keep their order instead of tying at 0 or 1:
  the texts a reward model must rank, AI drafts, often all lie below the human 1st percentile);
* `lower`: one minus that percentile; a `lower` metric declared with a `best` value and `decay`
  instead falls exponentially, g = exp(−(v − best) / (q99 − best)): 1 at its best value, e⁻¹ at the
  reference's 99th percentile, and still falling far beyond it (a density of generic phrases,
  where most reference passages have none and the percentile puts any text past the 90th at the
  bottom, unable to tell a little slop from a lot); a `lower` metric declared with `tail` (a guard)
  is 1 up to the reference's 99th percentile and beyond it the percentile's own upper tail, rescaled
  to start at 1: g = (1 − p)/0.01 = exp(−(v − q99)/s), s = (q99 − q95)/ln 5 (a fault only an
  extreme value shows);
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

`wqrm.build.profile.build_profile` makes one from corpus files; `wqrm build-profile` is its command
line. The default profile ships in `wqrm/data/profiles/default/profile.json` with the command that
rebuilt it. Each language has its own default: English passages in `default/`, Russian ones in
`default-ru/` (`meta.lang`; a text is compared with the profile of its own language).
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = [
    "QUANTILE_LEVELS",
    "Direction",
    "MetricQuantiles",
    "Profile",
    "band_goodness",
    "default_profile",
    "default_profile_dir",
]

Direction = Literal["higher", "lower", "band"]

QUANTILE_LEVELS = (0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)
PROFILE_FILE = "profile.json"


#: The shipped default profile of each language (directory under wqrm/data/profiles) and the
#: environment variable that points it elsewhere.
DEFAULT_PROFILES = {"en": ("default", "WQRM_PROFILE"), "ru": ("default-ru", "WQRM_PROFILE_RU")}
#: The package's shipped profiles (resolved once: metrics ask for the default profile per text).
_SHIPPED_PROFILES = Path(__file__).resolve().parent / "data" / "profiles"


def default_profile_dir(lang: str = "en") -> Path:
    """The shipped profile directory of `lang`, or the one `$WQRM_PROFILE` (English) /
    `$WQRM_PROFILE_RU` (Russian) names."""
    if lang not in DEFAULT_PROFILES:
        raise ValueError(f"no default profile for language {lang!r}; known: {sorted(DEFAULT_PROFILES)}")
    folder, env_var = DEFAULT_PROFILES[lang]
    override = os.environ.get(env_var)
    if override:
        return Path(override)
    return _SHIPPED_PROFILES / folder


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

    @property
    def lang(self) -> str:
        """The language of the profile's reference passages (profiles before languages: English)."""
        return str(self.meta.get("lang", "en"))

    # ---- goodness ---------------------------------------------------------------------------

    def goodness(
        self,
        name: str,
        value: float | None,
        direction: Direction,
        band: tuple[float, float] | None = None,
        *,
        best: float | None = None,
        band_include: tuple[float, ...] = (),
        decay: bool = False,
        tail: bool = False,
    ) -> float | None:
        """Map metric `name`'s raw value to [0, 1] by its `direction` (module docstring); `band`
        is the metric's registry band, the fallback where the profile does not hold the metric."""
        if value is None:
            return None
        v = np.array([value], dtype=np.float64)
        g = self.goodness_values(
            name, v, direction, band, best=best, band_include=band_include, decay=decay, tail=tail
        )
        g = float(g[0])
        return None if np.isnan(g) else g

    def goodness_values(
        self,
        name: str,
        values: np.ndarray,
        direction: Direction,
        band: tuple[float, float] | None = None,
        *,
        best: float | None = None,
        band_include: tuple[float, ...] = (),
        decay: bool = False,
        tail: bool = False,
    ) -> np.ndarray:
        """`goodness` over an array of raw values of metric `name` (NaN = undefined → NaN).

        The caller passes what the metric's values mean (`MetricSpec.goodness_values` does):
        its `direction` and registry `band`; `best`, a value that is ideal in itself (0 generic
        phrases: goodness 1 at and beyond it, whatever share of the reference reaches it); and
        `band_include`, values a `band` metric's good band always contains (0 named entities is
        not a fault: the reference band is widened to include it); `decay`, for a `lower` metric
        with a `best` value: exponential fall from it on the scale of the reference's 99th
        percentile instead of the percentile (module docstring); `tail`, for a `lower` metric: 1 up
        to the reference's 99th percentile, then the percentile's upper tail rescaled to start at 1,
        (1 − p)/0.01 (module docstring)."""
        v = np.asarray(values, dtype=np.float64)
        mq = self.metrics.get(name)
        if direction == "band":
            if mq is not None and mq.n > 0:
                lo, hi = min((mq.at(0.25), *band_include)), max((mq.at(0.75), *band_include))
                return band_goodness(v, lo, hi, min(mq.at(0.01), lo), max(mq.at(0.99), hi))
            if band is not None:
                lo, hi = band
                return band_goodness(v, lo, hi, lo - (hi - lo), hi + (hi - lo))
            return np.full_like(v, np.nan)
        if mq is None or mq.n == 0:
            # Context metrics (persona, task) cannot be profiled on reference text alone: their
            # registry `band` (lo, hi) anchors a linear ramp, 0 at lo and 1 at hi (`higher`).
            if band is None:
                return np.full_like(v, np.nan)
            lo, hi = band
            ramp = np.clip((v - lo) / (hi - lo), 0.0, 1.0) if hi > lo else (v >= hi).astype(np.float64)
            g = ramp if direction == "higher" else 1.0 - ramp
            return np.where(np.isnan(v), np.nan, g)
        if tail and direction == "lower":
            g = np.where(v <= mq.at(0.99), 1.0, (1.0 - mq.percentile(v)) / (1.0 - 0.99))
            return np.where(np.isnan(v), np.nan, g)
        if decay and direction == "lower" and best is not None and mq.at(0.99) > best:
            with np.errstate(over="ignore"):
                g = np.exp(-(v - best) / (mq.at(0.99) - best))
            return np.where(np.isnan(v), np.nan, np.minimum(g, 1.0))
        p = mq.percentile(v)
        g = p if direction == "higher" else 1.0 - p
        if best is not None:
            ideal = v >= best if direction == "higher" else v <= best
            g = np.where(ideal, 1.0, g)
        return g

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
    def default(cls, lang: str = "en") -> Profile:
        """The profile of `lang` that ships inside the package (or the one its variable names)."""
        return cls.load(default_profile_dir(lang))


_DEFAULT: dict[str, Profile] = {}
_DEFAULT_LOCK = threading.Lock()


def default_profile(lang: str = "en") -> Profile:
    """The shipped profile of `lang` (or its variable's), loaded once per process and directory."""
    key = str(default_profile_dir(lang))
    with _DEFAULT_LOCK:
        if key not in _DEFAULT:
            _DEFAULT[key] = Profile.load(key)
        return _DEFAULT[key]
