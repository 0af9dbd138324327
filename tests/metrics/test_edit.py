import numpy as np
import pytest

import wqrm
from wqrm.edit.tagger import Span
from wqrm.metrics import compute
from wqrm.metrics.edit import edit_flag_rate
from wqrm.metrics.registry import MetricUndefined

STORY = "The old man mended the net. Gulls circled the harbour, and the boats lay still."


def test_edit_flag_rate_golden_with_known_spans():
    text = "The old man mended the net. It was a very very nice net."
    a = wqrm.analyze(text)
    a.edit_reward = 0.0  # the edit model's preparer has run: the spans below are its output
    start = text.index("very")
    a.edit_spans = [Span(start, text.index("nice") + 4, "Purple Prose", 0.9)]
    # words: the old man mended the net it was a very very nice net (13); flagged: very very nice (3)
    assert edit_flag_rate(a) == pytest.approx(3 / 13)
    a.edit_spans = []
    assert edit_flag_rate(a) == 0.0


def test_edit_metrics_from_shipped_models():
    mv = compute(STORY, names=["edit_reward", "edit_flag_rate"])
    assert np.isfinite(mv["edit_reward"])
    # the shipped S1 is a frozen-encoder model: no token head, so no flag rate (None, with a reason)
    assert mv["edit_flag_rate"] is None
    a = wqrm.analyze(STORY)
    with pytest.raises(MetricUndefined, match="no edit-trace tagger"):
        edit_flag_rate(a)
    assert compute(STORY, names=["edit_reward"]) == {"edit_reward": mv["edit_reward"]}


def test_scores_identical_across_batch_sizes(scorer):
    texts = [
        STORY,
        "In today's fast-paced world, it is important to note that writing is a journey.",
        "Rain.\n\nShe waited by the door, counting the cars that did not stop.",
    ] * 11
    by_size = {}
    for size in (1, 8, 32):
        results = []
        for start in range(0, len(texts), size):
            results.extend(scorer.score_batch(texts[start : start + size]))
        by_size[size] = results
    assert by_size[1][0].weights.startswith("learned")  # the composite with the shipped weights
    for a, b, c in zip(by_size[1], by_size[8], by_size[32], strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-5) and a.score == pytest.approx(c.score, abs=1e-5)
        assert a.metrics["edit_reward"] == pytest.approx(c.metrics["edit_reward"], abs=1e-5)


def test_scorer_result_carries_spans(scorer):
    r = scorer.score(STORY)
    assert "S1" in r.components and r.metrics["edit_reward"] is not None
    for s in r.spans:
        assert 0 <= s["start"] < s["end"] <= len(STORY) and s["label"] and 0 <= s["probability"] <= 1
