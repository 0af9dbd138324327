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


def test_ci_is_scipys_percentile_bootstrap():
    import numpy as np
    from scipy import stats

    better = [1, 2, 3, 0, 5, 1, 1, 2, 0, 4]
    worse = [0, 1, 4, 0, 1, 2, 0, 1, 1, 3]
    rep = pairwise_report(better, worse, [False] * 10, n_boot=500, seed=3)
    credit = np.where(np.array(better) > worse, 1.0, np.where(np.array(better) == worse, 0.5, 0.0))
    ref = stats.bootstrap(
        (credit,), np.mean, n_resamples=500, method="percentile", rng=np.random.default_rng(3)
    ).confidence_interval
    assert rep.ci95 == pytest.approx((ref.low, ref.high))
    assert rep.ci95[0] <= rep.accuracy <= rep.ci95[1]
    # deterministic, and undefined below two pairs; non-finite scores count as undefined
    assert pairwise_report(better, worse, [False] * 10, n_boot=500, seed=3) == rep
    one = pairwise_report([1.0, float("nan")], [0.0, 1.0], [False, False])
    assert one.n == 1 and one.n_undefined == 1 and one.ci95 is None and one.accuracy == 1.0
