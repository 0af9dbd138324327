"""The composite weights at run time: the weights object, composites and margins on shared components."""

from __future__ import annotations

import json

import numpy as np
import pytest

from wqrm.components import COMPONENTS
from wqrm.weights import (
    LearnedWeights,
    composite_scores,
    default_weights_path,
    load_weights,
    pair_margins,
)

NAN = np.nan


def _alpha(**kw):
    return {c: kw.get(c, 0.0) for c in COMPONENTS}


def test_composite_renormalises_over_available_components():
    a = _alpha(S1=0.5, S2=0.25, S3=0.25)
    C = np.array(
        [
            [1.0, 0.0, 0.0, NAN, NAN, NAN, NAN, NAN],  # (0.5·1 + 0 + 0) / 1 = 0.5
            [1.0, NAN, 0.0, NAN, NAN, NAN, NAN, NAN],  # 0.5 / 0.75 = 2/3
            [NAN, NAN, NAN, 0.7, NAN, NAN, NAN, NAN],  # only an unweighted component: undefined
        ]
    )
    got = composite_scores(C, a)
    assert got[0] == pytest.approx(0.5)
    assert got[1] == pytest.approx(2 / 3)
    assert np.isnan(got[2])


def test_pair_margin_uses_only_shared_components():
    a = _alpha(S1=0.5, S2=0.25, S3=0.25)
    A = np.array([[0.9, 0.2, NAN, NAN, NAN, NAN, NAN, NAN]])
    B = np.array([[0.5, 0.6, 0.1, NAN, NAN, NAN, NAN, NAN]])
    # shared S1, S2: (0.5·0.4 + 0.25·(−0.4)) / 0.75 = 0.1 / 0.75
    assert pair_margins(A, B, a)[0] == pytest.approx(0.1 / 0.75)
    assert np.isnan(pair_margins(A[:, 3:], B[:, 3:], np.ones(5) / 5)[0])


def test_learned_weights_validate_and_round_trip(tmp_path):
    with pytest.raises(ValueError):
        LearnedWeights(_alpha(S1=0.5, S2=0.4))
    with pytest.raises(ValueError):
        LearnedWeights(_alpha(S1=1.2, S2=-0.2))
    w = LearnedWeights(_alpha(S1=0.75, S3=0.25), tau=4.0, name="test-v0", meta={"note": "x"})
    w.save(tmp_path / "w.json")
    back = load_weights(tmp_path / "w.json")
    assert back.alpha() == w.alpha() and back.tau == 4.0 and back.name == "test-v0"
    assert json.loads((tmp_path / "w.json").read_text())["note"] == "x"
    assert load_weights("uniform").name == "uniform"
    with pytest.raises(ValueError, match="no weights file"):
        load_weights(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text('{"tau": 1}')
    with pytest.raises(ValueError, match="not a wqrm weights file"):
        load_weights(tmp_path / "bad.json")


def test_shipped_weights_are_valid():
    data = json.loads(default_weights_path().read_text())
    a = np.array([data["alpha"][c] for c in COMPONENTS])
    assert abs(a.sum() - 1.0) < 1e-9 and (a >= 0).all()
    assert data["name"].startswith("learned")
    assert data["tau"] > 0 and data["command"].startswith("wqrm fit-weights")


def test_scorer_composite_uses_learned_weights():
    from wqrm.scoring import Scorer

    w = LearnedWeights(_alpha(S1=0.75, S3=0.25), name="test-v0")
    sc = Scorer(weights=w)
    score, used = sc.composite({"S1": 0.2, "S2": 0.9, "S3": 0.6, "S4": None})
    assert used == ["S1", "S3"]  # S2 has α = 0
    assert score == pytest.approx(0.75 * 0.2 + 0.25 * 0.6)


def test_preference_probability_golden():
    w = LearnedWeights(_alpha(S1=0.5, S3=0.5), tau=2.0)
    a = {"S1": 0.9, "S3": 0.4, "S5": None}
    b = {"S1": 0.5, "S3": 0.6, "S5": 0.9}
    # margin (0.5·0.4 + 0.5·(−0.2)) / 1 = 0.1 → σ(0.2)
    assert w.preference_probability(a, b) == pytest.approx(1 / (1 + np.exp(-0.2)))
    assert w.preference_probability(b, a) == pytest.approx(1 / (1 + np.exp(0.2)))
    assert w.preference_probability({"S2": 1.0}, {"S2": 0.0}) is None


def test_preference_probability_takes_score_results():
    from wqrm.result import ScoreResult

    w = LearnedWeights(_alpha(S1=0.5, S3=0.5), tau=2.0)
    a = ScoreResult(0.7, {"S1": 0.9, "S3": 0.4}, {}, ["S1", "S3"])
    b = ScoreResult(0.5, {"S1": 0.5, "S3": 0.6}, {}, ["S1", "S3"])
    assert w.preference_probability(a, b) == pytest.approx(1 / (1 + np.exp(-0.2)))
    assert w.preference_probability(a, ScoreResult.failed("empty text")) is None  # no shared component
    with pytest.raises(TypeError, match="ScoreResult or a dict"):
        w.preference_probability(0.7, 0.5)
