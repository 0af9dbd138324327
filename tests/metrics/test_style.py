import pytest
from wqrm.metrics import compute
from wqrm.metrics.style import formality, sentence_length_mean, sentence_length_std

import wqrm


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
