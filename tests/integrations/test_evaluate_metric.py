"""wqrm as a local `evaluate` metric: loaded from the package path, same numbers as the scorer.
(`tests/test_offline.py` checks that loading and computing it makes no network call.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from wqrm.integrations.evaluate_metric import METRIC_PATH

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wqrm_metric():
    import evaluate

    return evaluate.load(METRIC_PATH, keep_in_memory=True)


def test_the_module_ships_inside_the_package():
    path = Path(METRIC_PATH)
    assert path.is_file() and path.parent.parent.parent.name == "wqrm"


def test_scores_and_components_equal_the_scorer(wqrm_metric, scorer):
    texts = [
        (ROOT / "examples" / "lighthouse.txt").read_text(encoding="utf-8"),
        "The gate had been left open all night, and by morning the goats were on the church roof.",
        "   ",
    ]
    result = wqrm_metric.compute(predictions=texts)
    direct = scorer.score_batch(texts)
    assert result["scores"] == [r.score for r in direct]
    assert result["components"] == [r.components for r in direct]
    assert result["errors"][:2] == [None, None] and "empty" in result["errors"][2]
    assert result["mean_score"] == pytest.approx((direct[0].score + direct[1].score) / 2)
    assert result["weights"] == scorer.weights.name


def test_context_keywords(wqrm_metric, scorer):
    prompt = "A story about a lighthouse."
    cands = ["The keeper climbed the stairs with a new bulb.", "Nobody had lit the lamp in years."]
    grouped = wqrm_metric.compute(predictions=cands, prompt=prompt, group=True)
    assert grouped["scores"] == [r.score for r in scorer.score_batch(cands, prompt=prompt, group=True)]
    assert all(c["S8"] is not None for c in grouped["components"])
    ref = "The keeper went up with a bulb in his pocket."
    task = wqrm_metric.compute(predictions=cands[:1], task="continue", prompt=prompt, reference_texts=[ref])
    assert task["scores"] == [scorer.score(cands[0], task="continue", prompt=prompt, references=[ref]).score]
    assert task["components"][0]["S5"] is not None
