import numpy as np
import pytest

import wqrm
from wqrm.metrics import MetricContext, compute
from wqrm.metrics import diversity as D


def _with_embedding(text, vector):
    a = wqrm.analyze(text)
    a._cache["text_embedding"] = np.asarray(vector, dtype=np.float64)  # hand-set e(text)
    return a


@pytest.fixture
def candidates():
    return [
        _with_embedding("First.", [1.0, 0.0]),
        _with_embedding("Second.", [0.0, 1.0]),
        _with_embedding("Third.", [0.6, 0.8]),
    ]


def test_deviation_golden(candidates):
    a, b, c = candidates
    ctx = MetricContext(siblings=candidates)  # the candidate itself is skipped
    # A: 1 − cos(A,B) = 1, 1 − cos(A,C) = 0.4 → 0.7
    assert D.deviation(a, ctx) == pytest.approx(0.7)
    # C: 1 − 0.6 = 0.4, 1 − 0.8 = 0.2 → 0.3
    assert D.deviation(c, ctx) == pytest.approx(0.3)
    assert D.deviation(a, MetricContext(siblings=[b, c])) == pytest.approx(0.7)


def test_deviation_undefined_for_a_single_candidate(candidates):
    a = candidates[0]
    for ctx in (None, MetricContext(), MetricContext(siblings=[a])):
        mv = compute(a, names=["deviation"], context=ctx)
        assert mv["deviation"] is None and "single candidate" in mv.reasons["deviation"]


def test_qd_balance_golden(candidates):
    a = candidates[0]
    # q = 0.5, d = 0.7: 2 · 0.5 · 0.7 / 1.2
    ctx = MetricContext(siblings=candidates, quality=0.5)
    assert D.qd_balance(a, ctx) == pytest.approx(0.7 / 1.2)
    far = _with_embedding("Far.", [-1.0, 0.0])  # deviation 2 → clipped to 1
    assert D.qd_balance(a, MetricContext(siblings=[a, far], quality=1.0)) == pytest.approx(1.0)
    twin = _with_embedding("First again.", [1.0, 0.0])  # deviation 0 and quality 0 → 0
    assert D.qd_balance(a, MetricContext(siblings=[a, twin], quality=0.0)) == 0.0
    mv = compute(a, names=["qd_balance"], context=MetricContext(siblings=candidates))
    assert mv["qd_balance"] is None and "quality" in mv.reasons["qd_balance"]


def test_prompt_adherence_with_the_encoder(encoder):
    prompt = "A storm drives a fishing boat onto the rocks."
    same = compute(prompt, names=["prompt_adherence"], context=MetricContext(prompt=prompt))
    assert same["prompt_adherence"] == pytest.approx(1.0, abs=1e-5)  # one sentence: same embedding
    on = compute(
        "The waves threw the little trawler against the reef.",
        names=["prompt_adherence"],
        context=MetricContext(prompt=prompt),
    )["prompt_adherence"]
    off = compute(
        "Quarterly tax filings are due in April.",
        names=["prompt_adherence"],
        context=MetricContext(prompt=prompt),
    )["prompt_adherence"]
    assert -1 <= off < on <= 1
    assert compute(prompt, names=["prompt_adherence"])["prompt_adherence"] is None


def test_deviation_with_real_embeddings(encoder):
    texts = [
        "The lighthouse keeper lit the lamp at dusk.",
        "At dusk the keeper of the lighthouse lit its lamp.",
        "The stock market fell sharply on Tuesday.",
    ]
    analyses = wqrm.analyze_batch(texts)
    wqrm.analysis.embed_sentences(analyses)
    ctx = MetricContext(siblings=analyses)
    values = [D.deviation(a, ctx) for a in analyses]
    assert all(0 <= v <= 2 for v in values)
    assert values[2] > values[0]  # the odd one out deviates most
