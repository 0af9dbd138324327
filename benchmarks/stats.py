"""Statistics of `wqrm bench`: bootstrap confidence intervals, win rates, Wasserstein-1 distances.

Every interval comes from `scipy.stats.bootstrap` resampling *units*: prompts when the texts carry
prompt ids (a cluster bootstrap: all texts of a drawn prompt come along), texts otherwise. The
statistic is always a ratio of per-unit sums, Σ num[u] / Σ den[u] over the drawn units, so one
resampling scheme serves means (num = sum of scores, den = number of texts) and win rates (num =
wins + ½ ties, den = pairs).

* Means and win rates use scipy's BCa interval; where BCa is undefined (every resample gives the
  same value, e.g. a win rate of exactly 1) the percentile interval of the same bootstrap
  distribution is reported and the interval says so in `method`.
* Distances use the percentile interval: the Wasserstein distance is bounded below by 0 and biased
  upward in small samples, where BCa's acceleration estimate is unreliable.

Randomness: each interval draws from `numpy.random.default_rng([seed, crc32(key)])`, so an
interval depends only on the run's seed and what it measures, not on the order of computation.

Distances: `wasserstein1(x, y)` is the exact W1 between two empirical distributions,
∫₀¹ |F⁻¹(u) − G⁻¹(u)| du, computed on the union of both step functions' breakpoints (equal to
`scipy.stats.wasserstein_distance`, vectorised over resamples). The benchmark divides it by the
reference's inter-quartile range, so a distance reads "in reference IQRs".
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "Interval",
    "bootstrap_interval",
    "pairwise_wins",
    "ratio_interval",
    "scale_of",
    "two_sample_pair_interval",
    "wasserstein1",
    "wasserstein1_interval",
]


@dataclass(frozen=True)
class Interval:
    """A point estimate and its bootstrap confidence interval (`low`/`high` None: not computable)."""

    value: float | None
    low: float | None = None
    high: float | None = None
    n: int = 0  # resampling units (prompts or texts; for two samples, the smaller one)
    method: str | None = None  # "BCa", "percentile", "percentile (BCa undefined)"
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"value": self.value, "ci": None, "n": self.n}
        if self.low is not None and self.high is not None:
            d["ci"] = [self.low, self.high]
            d["method"] = self.method
        if self.note:
            d["note"] = self.note
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Interval:
        if d is None:
            return cls(None)
        ci = d.get("ci") or [None, None]
        return cls(d.get("value"), ci[0], ci[1], d.get("n", 0), d.get("method"), d.get("note"))

    def contains(self, x: float) -> bool | None:
        if self.low is None or self.high is None:
            return None
        return self.low <= x <= self.high


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(key.encode("utf-8"))])


def _finite(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def bootstrap_interval(
    statistic: Callable[..., np.ndarray],
    sizes: Sequence[int],
    *,
    key: str,
    seed: int = 0,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    method: str = "BCa",
) -> Interval:
    """Bootstrap interval of `statistic` over one or more independent samples of units.

    `statistic(*index_arrays)` receives, for each sample, an integer array of shape (..., k) of
    drawn unit indices (last axis: one resample) and returns the statistic per resample (shape
    (...)). The point estimate is the statistic on the original samples (every unit once)."""
    originals = [np.arange(n) for n in sizes]
    value = _finite(statistic(*originals))
    n_min = min(sizes) if sizes else 0
    if value is None:
        return Interval(None, n=n_min, note="undefined on these samples")
    if n_min < 2:
        return Interval(value, n=n_min, note="fewer than 2 resampling units: no interval")

    def vectorised(*idx: np.ndarray, axis: int = -1) -> np.ndarray:
        idx = tuple(np.moveaxis(np.asarray(i), axis, -1) for i in idx)
        return np.asarray(statistic(*idx), dtype=np.float64)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate distributions are handled below
        res = stats.bootstrap(
            tuple(originals),
            vectorised,
            n_resamples=n_resamples,
            vectorized=True,
            paired=False,
            confidence_level=confidence,
            method=method,
            rng=_rng(seed, key),
            batch=250,
        )
    low, high = _finite(res.confidence_interval.low), _finite(res.confidence_interval.high)
    used = "BCa" if method == "BCa" else method
    if low is None or high is None:  # BCa undefined (constant distribution) or NaN resamples
        dist = np.asarray(res.bootstrap_distribution, dtype=np.float64)
        dist = dist[np.isfinite(dist)]
        if dist.size == 0:
            return Interval(value, n=n_min, note="every resample undefined: no interval")
        tail = (1 - confidence) / 2 * 100
        low, high = (float(v) for v in np.percentile(dist, [tail, 100 - tail]))
        used = "percentile" if method == "percentile" else f"percentile ({method} undefined)"
    return Interval(value, min(low, value), max(high, value), n_min, used)


def ratio_interval(num: np.ndarray, den: np.ndarray, *, key: str, method: str = "BCa", **kw: Any) -> Interval:
    """Interval of Σ num[u] / Σ den[u] over resampled units u (a mean when num = per-unit sums and
    den = per-unit counts; a pooled rate when num = wins and den = pairs)."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    keep = den > 0
    num, den = num[keep], den[keep]

    def statistic(idx: np.ndarray) -> np.ndarray:
        d = den[idx].sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(d > 0, num[idx].sum(axis=-1) / np.where(d > 0, d, 1.0), np.nan)

    if num.size == 0:
        return Interval(None, note="no data")
    return bootstrap_interval(statistic, [num.size], key=key, method=method, **kw)


def pairwise_wins(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) matrix: 1 where a_i > b_j, ½ on ties, 0 otherwise (NaN where either is NaN)."""
    a = np.asarray(a, dtype=np.float64)[:, None]
    b = np.asarray(b, dtype=np.float64)[None, :]
    w = (a > b) + 0.5 * (a == b)
    return np.where(np.isnan(a) | np.isnan(b), np.nan, w)


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """(..., n) multiplicities of each unit in (..., k) index arrays."""
    flat = idx.reshape(-1, idx.shape[-1])
    counts = np.zeros((flat.shape[0], n))
    np.add.at(counts, (np.arange(flat.shape[0])[:, None], flat), 1.0)
    return counts.reshape((*idx.shape[:-1], n))


def two_sample_pair_interval(
    wins: np.ndarray, mask: np.ndarray | None = None, *, key: str, method: str = "BCa", **kw: Any
) -> Interval:
    """Interval of the pooled win rate over all pairs (i, j) of two independent samples (rows:
    sample A, columns: sample B), restricted to `mask` (e.g. length-matched pairs). Both samples
    are resampled: the statistic is cᵃ·(W∘M)·cᵇ / cᵃ·M·cᵇ with c the draw multiplicities."""
    W = np.asarray(wins, dtype=np.float64)
    M = np.isfinite(W) if mask is None else (np.asarray(mask, dtype=bool) & np.isfinite(W))
    WM = np.where(M, W, 0.0)
    Mf = M.astype(np.float64)
    rows, cols = np.flatnonzero(Mf.any(axis=1)), np.flatnonzero(Mf.any(axis=0))
    if rows.size == 0:
        return Interval(None, note="no pairs")
    # units without any eligible pair never contribute; resampling them only adds noise
    WM, Mf = WM[np.ix_(rows, cols)], Mf[np.ix_(rows, cols)]
    na, nb = WM.shape

    def statistic(ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        ca, cb = _counts(ia, na), _counts(ib, nb)
        num = ((ca @ WM) * cb).sum(axis=-1)  # cᵃ·W·cᵇ per resample, through BLAS
        den = ((ca @ Mf) * cb).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)

    return bootstrap_interval(statistic, [na, nb], key=key, method=method, **kw)


# ---- Wasserstein-1 ---------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _w1_grid(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interval widths and the quantile indices of two sorted samples of sizes n and m on the
    union of their breakpoints i/n and j/m (exact integer arithmetic on the denominator n·m)."""
    t = np.union1d(np.arange(1, n + 1) * m, np.arange(1, m + 1) * n)  # u = t / (n m)
    widths = np.diff(np.concatenate([[0], t])) / (n * m)
    ix = (t + m - 1) // m - 1  # ceil(u n) − 1
    iy = (t + n - 1) // n - 1
    return widths, ix, iy


def wasserstein1(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Exact W1 = ∫₀¹ |F⁻¹(u) − G⁻¹(u)| du between the empirical distributions of the last axes of
    `x` and `y` (leading axes broadcast: many resamples at once). Equals
    `scipy.stats.wasserstein_distance(x, y)` for 1-d inputs."""
    xs = np.sort(np.asarray(x, dtype=np.float64), axis=-1)
    ys = np.sort(np.asarray(y, dtype=np.float64), axis=-1)
    widths, ix, iy = _w1_grid(xs.shape[-1], ys.shape[-1])
    return (np.abs(xs[..., ix] - ys[..., iy]) * widths).sum(axis=-1)


def scale_of(values: np.ndarray) -> tuple[float | None, str]:
    """The reference scale a distance is divided by: the inter-quartile range, or the standard
    deviation when the IQR is 0 (a metric with few distinct values); None when both are 0."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        return None, "fewer than 2 reference values"
    q25, q75 = np.percentile(v, [25, 75])
    if q75 > q25:
        return float(q75 - q25), "iqr"
    sd = float(v.std(ddof=1))
    return (sd, "std") if sd > 0 else (None, "reference values are constant")


def wasserstein1_interval(
    sample: np.ndarray,
    reference: np.ndarray,
    scale: float,
    *,
    key: str,
    resample_reference: bool = True,
    **kw: Any,
) -> Interval:
    """W1(sample, reference) / scale with a percentile interval; both samples are resampled
    (`resample_reference=False` holds the reference fixed, e.g. a profile's quantile function)."""
    x = np.asarray(sample, dtype=np.float64)
    y = np.asarray(reference, dtype=np.float64)
    if resample_reference:

        def statistic(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
            return wasserstein1(x[ix], y[iy]) / scale

        sizes = [x.size, y.size]
    else:

        def statistic(ix: np.ndarray) -> np.ndarray:
            return wasserstein1(x[ix], y) / scale

        sizes = [x.size]
    kw.setdefault("method", "percentile")
    return bootstrap_interval(statistic, sizes, key=key, **kw)
