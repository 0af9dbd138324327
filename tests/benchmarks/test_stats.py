"""wqrm.benchmarks.stats on synthetic data with known answers."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from wqrm.benchmarks import stats

finite = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(finite, min_size=1, max_size=30), st.lists(finite, min_size=1, max_size=30))
def test_wasserstein1_equals_scipy(x, y):
    assert stats.wasserstein1(np.array(x), np.array(y)) == pytest.approx(
        sps.wasserstein_distance(x, y), rel=1e-9, abs=1e-9
    )


def test_wasserstein1_is_vectorised_over_resamples():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(7, 13)), rng.normal(2, 3, size=9)
    rows = [sps.wasserstein_distance(x, y) for x in X]
    np.testing.assert_allclose(stats.wasserstein1(X, y), rows, rtol=1e-12)
    Y = rng.normal(size=(7, 5))
    np.testing.assert_allclose(
        stats.wasserstein1(X, Y), [sps.wasserstein_distance(a, b) for a, b in zip(X, Y, strict=True)]
    )


def test_wasserstein1_of_a_shift_is_the_shift():
    x = np.arange(10.0)
    assert stats.wasserstein1(x, x + 2.5) == pytest.approx(2.5)
    assert stats.wasserstein1(x, x) == 0.0


def _mean_interval(values, seed=0):
    return stats.ratio_interval(values, np.ones_like(values), key="mean", seed=seed)


def test_mean_interval_covers_the_mean_and_shrinks_as_n_grows():
    rng = np.random.default_rng(1)
    widths = {}
    for n in (100, 400, 1600):
        v = rng.normal(10.0, 2.0, size=n)
        iv = _mean_interval(v)
        assert iv.value == pytest.approx(v.mean())
        assert iv.low < v.mean() < iv.high and iv.method == "BCa" and iv.n == n
        widths[n] = iv.high - iv.low
        # the normal-theory width 2·1.96·σ/√n, within bootstrap noise
        assert widths[n] == pytest.approx(2 * 1.96 * v.std(ddof=1) / np.sqrt(n), rel=0.15)
    # quadrupling n halves the width (1/√n)
    assert 0.4 < widths[400] / widths[100] < 0.6
    assert 0.4 < widths[1600] / widths[400] < 0.6


def test_cluster_interval_resamples_units_not_texts():
    """Ten prompts with 20 near-identical texts each: the interval reflects 10 units, not 200 texts."""
    rng = np.random.default_rng(2)
    prompt_means = rng.normal(0, 1, size=10)
    texts = np.repeat(prompt_means, 20) + rng.normal(0, 0.01, size=200)
    units = np.repeat(np.arange(10), 20)
    clustered = stats.ratio_interval(
        np.bincount(units, weights=texts), np.bincount(units).astype(float), key="c"
    )
    naive = _mean_interval(texts)
    assert clustered.value == pytest.approx(naive.value)
    assert clustered.n == 10
    assert (clustered.high - clustered.low) > 3 * (naive.high - naive.low)


def test_intervals_are_reproducible_and_keyed():
    v = np.random.default_rng(3).normal(size=50)
    a, b = _mean_interval(v, seed=7), _mean_interval(v, seed=7)
    assert (a.low, a.high) == (b.low, b.high)
    c = stats.ratio_interval(v, np.ones(50), key="other", seed=7)
    assert (c.low, c.high) != (a.low, a.high)


def test_constant_statistic_falls_back_to_percentile():
    iv = _mean_interval(np.ones(12))
    assert (iv.value, iv.low, iv.high) == (1.0, 1.0, 1.0)
    assert iv.method == "percentile (BCa undefined)"


def test_too_few_units_gives_a_value_without_interval():
    iv = _mean_interval(np.array([0.3]))
    assert iv.value == 0.3 and iv.low is None and "fewer than 2" in iv.note
    assert iv.as_dict()["ci"] is None


def test_pairwise_win_rate_equals_mann_whitney():
    rng = np.random.default_rng(4)
    a, b = rng.normal(0.5, 1, size=30).round(1), rng.normal(0, 1, size=25).round(1)  # rounding: ties
    iv = stats.two_sample_pair_interval(stats.pairwise_wins(a, b), key="w")
    u = sps.mannwhitneyu(a, b).statistic  # counts ties as ½
    assert iv.value == pytest.approx(u / (30 * 25))
    assert iv.low < iv.value < iv.high and iv.n == 25


def test_masked_win_rate_uses_only_the_masked_pairs():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.5])
    W = stats.pairwise_wins(a, b)
    mask = np.array([[True, False], [False, True], [False, False]])  # (1 vs 1.5) and (2 vs 2.5)
    assert stats.two_sample_pair_interval(W, mask, key="m").value == 0.0
    assert stats.two_sample_pair_interval(W, key="all").value == pytest.approx(3 / 6)


def test_reference_halves_noise_floor_is_near_zero_and_below_a_real_shift():
    """The reference split in halves is the noise floor: W1 / IQR near 0; a system shifted by one
    reference IQR is about 1 IQR away, far above it, and its interval excludes the floor."""
    rng = np.random.default_rng(5)
    ref = rng.normal(0, 1, size=2000)
    scale, kind = stats.scale_of(ref)
    assert kind == "iqr" and scale == pytest.approx(1.349, rel=0.05)
    perm = rng.permutation(ref.size)
    half_a, half_b = ref[perm[:1000]], ref[perm[1000:]]
    floor = stats.wasserstein1_interval(half_a, half_b, scale, key="floor")
    shifted = stats.wasserstein1_interval(rng.normal(scale, 1, size=500), ref, scale, key="sys")
    assert floor.value < 0.06
    assert shifted.value == pytest.approx(1.0, abs=0.1)
    assert shifted.low > floor.high


def test_distance_interval_shrinks_as_n_grows():
    rng = np.random.default_rng(6)
    ref = rng.normal(0, 1, size=4000)
    widths = {}
    for n in (100, 400):
        iv = stats.wasserstein1_interval(rng.normal(0.7, 1, size=n), ref, 1.0, key=f"n{n}")
        assert iv.method == "percentile"
        widths[n] = iv.high - iv.low
    assert 0.35 < widths[400] / widths[100] < 0.7


def test_scale_falls_back_to_std_then_none():
    assert stats.scale_of(np.array([0, 0, 0, 0, 1.0]))[1] == "std"
    assert stats.scale_of(np.array([2.0, 2.0, 2.0])) == (None, "reference values are constant")
    assert stats.scale_of(np.array([1.0]))[0] is None
