"""benchmarks/robustness_suite.py: the metric shift per transformation (by hand) and the rendering."""

from types import SimpleNamespace

import pytest

from wqrm.benchmarks import robustness_suite as R
from wqrm.fit.data import Pair


def _result(**metrics):
    return SimpleNamespace(metrics=metrics)


def test_metric_shift_by_hand():
    pairs = [
        Pair("a", "a1", "negative:typos"),
        Pair("b", "b1", "negative:typos"),
        Pair("c", "c1", "negative:typos"),  # undefined for the variant: left out
        Pair("a", "a2", "negative:reverse_words"),
    ]
    results = {
        "a": _result(m=0.10),
        "a1": _result(m=0.30),
        "a2": _result(m=0.05),
        "b": _result(m=0.20),
        "b1": _result(m=0.20),
        "c": _result(m=0.0),
        "c1": _result(m=None),
    }
    shift = R.metric_shift(pairs, results, "m")
    assert list(shift) == ["reverse_words", "typos"]
    assert shift["typos"]["n"] == 2
    assert shift["typos"]["mean"] == pytest.approx((0.20 + 0.0) / 2)
    assert shift["typos"]["share_higher"] == 0.5  # +0.2 rises, 0.0 does not
    assert shift["reverse_words"] == {"mean": pytest.approx(-0.05), "share_higher": 0.0, "n": 1}
    assert R.metric_shift(pairs, results, "absent") == {}


def test_markdown_has_families_transformations_and_shifts():
    by = {
        "families": {"train": {"accuracy": 0.9, "n": 10}, "heldout": {"accuracy": 0.75, "n": 4}},
        "transformations": {"typos": {"accuracy": 0.75, "n": 4}, "few_words": {"accuracy": 0.9, "n": 10}},
    }
    res = {
        "originals": {"x": 2},
        "n_pairs": 14,
        "by": {"composite": by, "S1 edit_reward": by},
        "shift": {"m": {"typos": {"mean": 0.125, "share_higher": 1.0, "n": 4}}},
    }
    md = R.to_markdown(res)
    assert "| typos | heldout | 4 | 0.750 | 0.750 |" in md
    assert "| few_words | train | 10 | 0.900 | 0.900 |" in md
    assert "| **heldout family** | | 4 | **0.750** | **0.750** |" in md
    assert "`m`, variant − original:" in md and "| typos | 4 | +0.1250 | 1.00 |" in md


def _scored(score, **contributions):
    return SimpleNamespace(score=score, contributions=contributions)


def test_component_attribution_by_hand():
    pairs = [
        Pair("a", "a1", "negative:shuffle_sentences"),  # won: S4 carries it
        Pair("b", "b1", "negative:shuffle_sentences"),  # lost: S1 −0.03 is the most negative term
        Pair("c", "c1", "negative:shuffle_sentences"),  # lost: S7 −0.02 beats S1 −0.01
        Pair("d", "d1", "negative:shuffle_sentences"),  # the variant is not scored: left out
    ]
    results = {
        "a": _scored(0.60, S1=0.20, S4=0.40),
        "a1": _scored(0.55, S1=0.20, S4=0.35),
        "b": _scored(0.50, S1=0.20, S4=0.30),
        "b1": _scored(0.51, S1=0.23, S4=0.28),
        "c": _scored(0.40, S1=0.10, S4=0.20, S7=0.10),
        "c1": _scored(0.40, S1=0.11, S4=0.17, S7=0.12),
        "d": _scored(0.50, S1=0.5),
        "d1": _scored(None),
    }
    att = R.component_attribution(pairs, results)["shuffle_sentences"]
    assert set(att) == {"S1", "S4", "S7"}
    assert att["S1"]["share_original"] == pytest.approx(0.5 / 3)  # a tie, two lower
    assert att["S1"]["mean"] == pytest.approx((0.0 - 0.03 - 0.01) / 3)
    assert att["S4"]["share_original"] == 1.0 and att["S4"]["decisive"] == 0
    assert att["S1"]["decisive"] == 1 and att["S7"]["decisive"] == 1
    assert att["S7"]["share_original"] == pytest.approx((0.5 + 0.5 + 0) / 3)  # absent counts as 0
    assert att["S1"]["lost"] == 2 and att["S1"]["n"] == 3
    md = R.to_markdown(
        {
            "originals": {"x": 3},
            "n_pairs": 3,
            "by": {"composite": {"families": {}, "transformations": {}}, "S1 edit_reward": {"families": {}}},
            "components": {"shuffle_sentences": att},
        }
    )
    assert "| shuffle_sentences | 2 / 3 | S1 | 0.17 | -0.0133 | 1 |" in md
