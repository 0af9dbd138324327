import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wqrm
from wqrm.metrics import compute
from wqrm.metrics.registry import MetricContext, MetricUndefined
from wqrm.metrics.style import (
    formality,
    formality_gap,
    mattr,
    ngram_sets,
    nsm,
    pooled_mattr_curve,
    pva,
    sentence_length_counts,
    sentence_length_mean,
    sentence_length_std,
    sld_kl,
    sld_kl_between,
    ttr_consistency,
)
from wqrm.persona import Persona
from wqrm.profile import Profile, default_profile


def test_formality_golden(tree):
    # The(article) old(ADJ) man(NOUN) saw(VERB) her(PRON) quickly(ADV) in(ADP) town(NOUN) .
    a = tree(
        ["The", "old", "man", "saw", "her", "quickly", "in", "town", "."],
        [2, 2, 3, 3, 3, 3, 3, 6, 3],
        ["det", "amod", "nsubj", "ROOT", "dobj", "advmod", "prep", "pobj", "punct"],
        ["DET", "ADJ", "NOUN", "VERB", "PRON", "ADV", "ADP", "NOUN", "PUNCT"],
    )
    # 5 formal, 3 deictic of 8 words: F = (100·(5 − 3)/8 + 100) / 2
    assert formality(a) == pytest.approx(62.5, abs=1e-12)


def test_formality_demonstrative_is_not_an_article(tree):
    a = tree(["This", "works", "."], [1, 1, 1], ["nsubj", "ROOT", "punct"], ["DET", "VERB", "PUNCT"])
    # no formal word, one verb of two words: F = (100·(0 − 1)/2 + 100)/2
    assert formality(a) == pytest.approx(25.0)


def test_formality_in_range_on_real_text():
    value = formality(wqrm.analyze("The committee approved the budget for the new library."))
    assert 50 < value <= 100


def test_sentence_length_golden():
    a = wqrm.analyze("I ran. You walked home slowly.")
    assert sentence_length_mean(a) == 3.0
    assert sentence_length_std(a) == 1.0


def test_sentence_length_std_needs_two_sentences():
    mv = compute("Just one sentence here.", names=["sentence_length_mean", "sentence_length_std"])
    assert mv["sentence_length_mean"] == 4.0
    assert mv["sentence_length_std"] is None and "one sentence" in mv.reasons["sentence_length_std"]


# ---- persona and reference comparisons (S2) --------------------------------------------------


def make_persona(**fields):
    base = {
        "paragraph_embeddings": np.array([[1.0, 0.0]]),
        "ngrams": {n: set() for n in (2, 3, 4, 5)},
        "mattr": np.full(50, 0.8),
        "sentence_length_counts": np.zeros(13, dtype=np.int64),
        "formality": 50.0,
        "n_words": 1000,
    }
    return Persona(**{**base, **fields})


def with_persona(**fields):
    return MetricContext(persona=make_persona(**fields))


def with_profile(**distributions):
    return MetricContext(profile=Profile(metrics={}, meta={"name": "t"}, distributions=distributions))


def test_sentence_length_bins():
    # bins of 5 words, [0,5) … [55,60), then 60+ in the last (13th) bin
    counts = sentence_length_counts([1, 4, 5, 9, 59, 60, 200])
    assert counts.tolist() == [2, 2] + [0] * 9 + [1, 2]


def test_sld_kl_golden_known_histograms():
    user = [3] + [0] * 12  # P_user = (1, 0, …)
    text = [0, 3] + [0] * 11  # P̂_text = (c + 1 · P_user) / (3 + 1) = (¼, ¾, 0, …)
    assert sld_kl_between(user, text) == pytest.approx(math.log(4), abs=1e-12)  # 1 · ln(1 / ¼)
    assert sld_kl_between(user, user) == 0.0


def test_sld_kl_with_persona_and_with_profile():
    a = wqrm.analyze("I ran. You walked home slowly. The old lighthouse keeper climbed the stairs again.")
    # lengths 2, 4, 8 → bins 0, 0, 1: c = (2, 1, 0, …)
    # persona (2, 1, 0, …): the same shape, P̂_text = (c + P_user) / 4 = P_user → 0
    assert sld_kl(a, with_persona(sentence_length_counts=np.array([2, 1] + [0] * 11))) == 0.0
    # profile (4, 1, 0, …): P_user = (0.8, 0.2), P̂_text = ((2 + 0.8)/4, (1 + 0.2)/4) = (0.7, 0.3)
    expected = 0.8 * math.log(0.8 / 0.7) + 0.2 * math.log(0.2 / 0.3)
    got = sld_kl(a, with_profile(sentence_length={"counts": [4, 1] + [0] * 11}))
    assert got == pytest.approx(expected, abs=1e-12)


def test_sld_kl_of_the_reference_shape_does_not_depend_on_the_number_of_sentences():
    # the shipped reference histogram, and "texts" with exactly its shape (N · P_ref sentences
    # per bin) from 5 to 200 sentences: the divergence is 0 at every size (add-one smoothing of
    # both histograms gave 0.167 at 5 sentences, 0.108 at 10 and 0.002 at 200)
    reference = np.array(default_profile().distributions["sentence_length"]["counts"], dtype=np.float64)
    shape = reference / reference.sum()
    values = [sld_kl_between(reference, n * shape) for n in (5, 10, 20, 50, 100, 200)]
    assert max(values) - min(values) < 0.02
    assert max(values) == pytest.approx(0.0, abs=1e-12)


def _text_with_lengths(lengths: list[int]) -> str:
    words = [
        "the",
        "keeper",
        "climbed",
        "the",
        "stairs",
        "and",
        "watched",
        "grey",
        "water",
        "turn",
        "to",
        "silver",
        "over",
        "cold",
        "stone",
    ]
    return " ".join(" ".join(words[:n]).capitalize() + "." for n in lengths)


def test_sld_kl_of_real_texts_with_the_users_shape_is_zero_at_any_length():
    # a user writing 2 short (3-word) sentences for every 7-word one; texts of 3 and 150 sentences
    # with that shape score the same, against the profile and against a persona alike
    user = np.array([2, 1] + [0] * 11)
    short, long = (
        wqrm.analyze(_text_with_lengths([3, 3, 7])),
        wqrm.analyze(_text_with_lengths([3, 3, 7] * 50)),
    )
    assert sentence_length_counts(long.sentence_lengths).tolist() == [100, 50] + [0] * 11
    for ctx in (
        with_profile(sentence_length={"counts": user.tolist()}),
        with_persona(sentence_length_counts=user),
    ):
        assert sld_kl(short, ctx) == pytest.approx(0.0, abs=1e-12)
        assert sld_kl(long, ctx) == pytest.approx(0.0, abs=1e-12)


def test_sld_kl_needs_a_user_with_sentences():
    with pytest.raises(MetricUndefined, match="no sentence"):
        sld_kl_between([0] * 13, [1] + [0] * 12)


HISTOGRAMS = st.lists(st.integers(0, 40), min_size=13, max_size=13).filter(lambda h: sum(h) > 0)


@settings(max_examples=60, deadline=None)
@given(HISTOGRAMS, HISTOGRAMS)
def test_kl_is_non_negative_and_zero_on_equal_histograms(p, q):
    assert sld_kl_between(p, q) >= 0.0
    assert sld_kl_between(p, p) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("words", "window", "expected"),
    [
        ("a b a b c", 2, 1.0),  # every 2-word window holds two types
        ("a b a b c", 3, (2 / 3 + 2 / 3 + 1) / 3),  # aba, bab, abc
        ("a b a b c", 5, 3 / 5),  # one window: the plain TTR
        ("a a a a", 2, 0.5),
    ],
)
def test_mattr_golden(words, window, expected):
    assert mattr(words.split(), window) == pytest.approx(expected)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("abcde"), min_size=1, max_size=30), st.integers(1, 30))
def test_mattr_equals_mean_window_ttr(words, window):
    window = min(window, len(words))
    expected = np.mean([len(set(words[i : i + window])) / window for i in range(len(words) - window + 1)])
    assert mattr(words, window) == pytest.approx(expected)


def test_pooled_mattr_curve_golden():
    # windows never cross a segment: W=2 → "a b" 1, "b a" 1, "c c" ½ → 2.5/3; W=3 → "a b a" only → 2/3
    curve = pooled_mattr_curve([["a", "b", "a"], ["c", "c"]], max_window=4)
    assert curve[:3] == pytest.approx([1.0, 2.5 / 3, 2 / 3])
    assert np.isnan(curve[3])  # no segment has 4 words
    assert np.array_equal(
        curve, pooled_mattr_curve([["c", "c"], ["a", "b", "a"]], max_window=4), equal_nan=True
    )


def test_ttr_consistency_golden():
    a = wqrm.analyze("one two three four five six seven eight nine ten")
    # 10 words → window 10: text MATTR = TTR = 1.0; the user's MATTR at 10 words is 0.8
    # 1 − |0.8 − 1.0| / 0.8 = 0.75
    assert ttr_consistency(a, with_persona()) == pytest.approx(0.75)
    curve = [None] * 9 + [0.5] + [None] * 40  # profile mean MATTR at W = 10: 0.5 → 1 − 0.5/0.5 = 0
    assert ttr_consistency(a, with_profile(mattr={"mean": curve})) == 0.0


def test_ttr_consistency_needs_ten_words():
    mv = compute("Too short to judge.", names=["ttr_consistency"], context=with_persona())
    assert mv["ttr_consistency"] is None and "fewer than 10 words" in mv.reasons["ttr_consistency"]


def test_reference_metrics_need_profile_distributions():
    bare = MetricContext(profile=Profile(metrics={}, meta={"name": "bare"}))
    mv = compute(
        "one two three four five six seven eight nine ten.", names=["sld_kl", "ttr_consistency"], context=bare
    )
    assert mv["sld_kl"] is None and "no sentence_length distribution" in mv.reasons["sld_kl"]
    assert mv["ttr_consistency"] is None and "no mattr distribution" in mv.reasons["ttr_consistency"]


def test_pva_golden_with_known_embeddings():
    a = wqrm.analyze("One. Two.")
    a._embeddings = np.array([[1.0, 0.0], [0.0, 1.0]])  # paragraph/text embedding: (1, 1)/√2
    assert pva(a, with_persona(paragraph_embeddings=np.array([[1.0, 0.0], [1.0, 0.0]]))) == pytest.approx(
        1 / math.sqrt(2)
    )
    # persona vector = mean of (1, 0) and (0.6, 0.8) = (0.8, 0.4); cos with (1, 1)/√2 = 1.2/(√0.8 · √2)
    two = np.array([[1.0, 0.0], [0.6, 0.8]])
    assert pva(a, with_persona(paragraph_embeddings=two)) == pytest.approx(
        1.2 / (math.sqrt(0.8) * math.sqrt(2))
    )


def test_nsm_golden():
    user = ngram_sets([["the", "cat", "sat", "on", "the", "mat"]])
    a = wqrm.analyze("the cat sat down")
    # 2-grams: {the cat, cat sat, sat down} ∩ user = 2 of 3; 3-grams: {the cat sat, cat sat down}: 1 of 2;
    # 4-grams: {the cat sat down}: 0 of 1; no 5-gram in 4 words → NSM = (2/3 + 1/2 + 0) / 3 = 7/18
    assert nsm(a, with_persona(ngrams=user)) == pytest.approx(7 / 18)


def test_formality_gap_golden(tree):
    a = tree(
        ["The", "old", "man", "saw", "her", "quickly", "in", "town", "."],
        [2, 2, 3, 3, 3, 3, 3, 6, 3],
        ["det", "amod", "nsubj", "ROOT", "dobj", "advmod", "prep", "pobj", "punct"],
        ["DET", "ADJ", "NOUN", "VERB", "PRON", "ADV", "ADP", "NOUN", "PUNCT"],
    )
    assert formality_gap(a, with_persona(formality=50.0)) == pytest.approx(12.5)  # |62.5 − 50|


def test_persona_metrics_need_a_persona():
    mv = compute("A text with no persona to compare.", names=["pva", "nsm", "formality_gap"])
    for name in ("pva", "nsm", "formality_gap"):
        assert mv[name] is None and mv.reasons[name] == "no persona"
