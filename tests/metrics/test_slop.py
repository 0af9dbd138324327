import lzma

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wqrm.metrics import compute
from wqrm.metrics.slop import cbq, lzma_raw_size, nns

import wqrm


def test_nns_golden_alternating():
    # go stop ×3: 2-grams 2/5, 3-grams 2/4, 4-grams 2/3, 5-grams 2/2
    a = wqrm.analyze("Go stop go stop go stop.")
    assert nns(a) == pytest.approx((2 / 5 + 2 / 4 + 2 / 3 + 2 / 2) / 4, abs=1e-12)


def test_nns_short_text_uses_available_orders():
    # three distinct words: 2-grams 2/2, 3-grams 1/1, no 4- or 5-grams
    assert nns(wqrm.analyze("Birds sing loudly.")) == 1.0


def test_nns_one_word_is_undefined():
    mv = compute("Hello.", names=["nns"])
    assert mv["nns"] is None and "2 words" in mv.reasons["nns"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["red", "blue", "green", "the", "a"]), min_size=2, max_size=50))
def test_nns_in_unit_interval(words):
    assert 0 < compute(" ".join(words) + ".", names=["nns"])["nns"] <= 1


def test_lzma_raw_size_equals_uncapped_preset9():
    data = ("The tide came in twice a day and took whatever was left on the lowest step. " * 7).encode()
    full = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9}])
    assert lzma_raw_size(data) == len(full)


def test_cbq_golden_and_redundancy():
    text = "Nothing had sunk. He never told her whether he believed the reading had helped."
    data = text.encode("utf-8")
    expected = len(data) / len(
        lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9}])
    )
    assert cbq(wqrm.analyze(text)) == pytest.approx(expected, abs=1e-12)
    repetitive = " ".join([text] * 10)
    assert cbq(wqrm.analyze(repetitive)) > 3 * cbq(wqrm.analyze(text))
