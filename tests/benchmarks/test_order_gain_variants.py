"""benchmarks/order_gain_variants.py: the baselines it compares, against the shipped metrics and
the property they share (zero mean over every order of the sentences)."""

import itertools

import numpy as np
import pytest

import wqrm
from wqrm.benchmarks import order_gain_variants as V
from wqrm.metrics.coherence import adjacent_similarity_gain


def _unit(seed: int, n: int, dim: int = 6) -> np.ndarray:
    e = np.random.default_rng(seed).normal(size=(n, dim))
    return e / np.linalg.norm(e, axis=1, keepdims=True)


@pytest.mark.parametrize("n", [3, 4, 7])
def test_rows_is_the_shipped_adjacent_similarity_gain(n):
    e = _unit(n, n)
    a = wqrm.analyze(" ".join(["Word."] * n))
    a._embeddings = e
    assert V.gain_rows(e @ e.T) == pytest.approx(adjacent_similarity_gain(a), abs=1e-12)


@pytest.mark.parametrize("name", list(V.VARIANTS))
def test_every_baseline_averages_zero_over_all_orders(name):
    e = _unit(0, 5)
    gains = [V.VARIANTS[name](e[list(p)] @ e[list(p)].T) for p in itertools.permutations(range(5))]
    assert np.mean(gains) == pytest.approx(0.0, abs=1e-12)


def test_window_by_hand():
    """3 sentences, window 1: adjacent mean minus the mean of the four pairs one apart."""
    F = np.array([[0.0, 0.6, 0.1], [0.2, 0.0, 0.8], [0.3, 0.4, 0.0]])
    assert V.gain_window(1)(F) == pytest.approx((0.6 + 0.8) / 2 - (0.6 + 0.2 + 0.8 + 0.4) / 4)
    # a window as wide as the text is the unweighted mean over every ordered pair
    assert V.gain_window(2)(F) == pytest.approx(0.7 - (0.6 + 0.1 + 0.2 + 0.8 + 0.3 + 0.4) / 6)


def test_markdown_table_layout():
    res = {
        "m, all": {"shuffle": (0.75, 4), "LAMP": (None, 0)},
        "m, rows": {"shuffle": (0.5, 4), "LAMP": (None, 0)},
    }
    md = V.to_markdown(res).splitlines()
    assert md[0] == "| metric, baseline | shuffle (4) | LAMP (0) |"
    assert md[2] == "| m, all | 0.750 | – |" and md[3] == "| m, rows | 0.500 | – |"
