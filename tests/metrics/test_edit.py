import numpy as np
import pytest

import wqrm
from wqrm.edit.tagger import Span
from wqrm.metrics import compute
from wqrm.metrics.edit import edit_degeneracy, edit_flag_rate
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


def test_edit_degeneracy_explains_edit_reward():
    """The shipped S1's degeneracy head: σ(g) is low for a clean paragraph and high for a scrap of
    one, and `edit_reward` is exactly q − c·max(0, (σ(g) − o)/(1 − o))."""
    from wqrm import resources

    clean = (
        "The old man mended the net on the slipway while the tide went out. Gulls circled the "
        "harbour, and the boats lay still in the mud, tilted like sleepers. When the light went "
        "he folded the net, counted the floats twice, and carried it up the hill to the shed."
    )
    texts = [clean, "Rain.", "the net the net the net the net the net the net"]
    mv = [compute(t, names=["edit_reward", "edit_degeneracy"]) for t in texts]
    d = np.array([m["edit_degeneracy"] for m in mv])
    assert ((d >= 0) & (d <= 1)).all()
    assert d[0] < 0.5 < min(d[1], d[2])
    model = resources.get("edit_model")
    x = model.features(texts)
    cfg = model.config["degeneracy"]
    o, c = cfg["onset"], cfg["penalty"]
    want = model.quality_features(x) - c * np.maximum(d - o, 0) / (1 - o)
    assert np.allclose([m["edit_reward"] for m in mv], want, atol=1e-9)
    assert mv[1]["edit_reward"] < mv[0]["edit_reward"] - 0.5 * c  # the scrap pays most of c


def test_edit_degeneracy_undefined_without_the_head():
    a = wqrm.analyze(STORY)
    a.edit_reward = 0.0  # a model without a degeneracy head ran: it left edit_degeneracy None
    with pytest.raises(MetricUndefined, match="no degeneracy head"):
        edit_degeneracy(a)
