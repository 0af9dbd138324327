import pytest

from wqrm.fit.data import Pair
from wqrm.fit.evaluate import pairwise_report, score_pairs


def test_pairwise_report_golden():
    # right, wrong, tie, right → (1 + 0 + 0.5 + 1) / 4
    rep = pairwise_report([2, 0, 1, 5], [1, 1, 1, None], [True, False, True, False])
    assert rep.n == 3 and rep.n_undefined == 1
    assert rep.accuracy == pytest.approx(1.5 / 3)
    assert rep.length_adversarial_accuracy == pytest.approx(0.75) and rep.n_length_adversarial == 2
    lo, hi = rep.ci95
    assert 0 <= lo <= rep.accuracy <= hi <= 1


def test_score_pairs_scores_each_text_once():
    calls = []

    def fn(texts):
        calls.append(list(texts))
        return [len(t) for t in texts]

    pairs = [Pair("longer text", "short", "s"), Pair("longer text", "tiny", "s")]
    rep = score_pairs(pairs, fn)
    assert rep.accuracy == 1.0 and rep.length_adversarial_accuracy == 1.0
    assert calls == [["longer text", "short", "tiny"]]
