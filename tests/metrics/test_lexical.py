import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lexicalrichness import LexicalRichness

import wqrm
from wqrm.metrics import compute
from wqrm.metrics.lexical import mtld, ttr, word_entropy

WORDS = st.lists(
    st.sampled_from(["cat", "dog", "sat", "ran", "the", "a", "mat", "home", "red", "blue"]),
    min_size=1,
    max_size=60,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The cat sat on the mat.", 5 / 6),  # the ×2, cat, sat, on, mat
        ("Run!", 1.0),
        ("Go go GO, go.", 1 / 4),  # lower-cased: one type, four tokens
        ("She said: “yes, yes — yes!”", 3 / 5),  # she, said, yes ×3: punctuation is not a word
    ],
)
def test_ttr_golden(text, expected):
    assert ttr(wqrm.analyze(text)) == pytest.approx(expected, abs=1e-12)


def test_word_entropy_golden():
    # the: 2/6, cat, sat, on, mat: 1/6 each → H = (1/3)·log2(3) + (4/6)·log2(6)
    expected = (1 / 3) * math.log2(3) + (4 / 6) * math.log2(6)
    assert word_entropy(wqrm.analyze("The cat sat on the mat.")) == pytest.approx(expected, abs=1e-12)
    assert word_entropy(wqrm.analyze("Go, go, go.")) == 0.0


def test_mtld_equals_lexicalrichness(nlp):
    text = (
        "The river ran past the mill and the mill wheel turned. The miller watched the river and the "
        "wheel, and the wheel turned again while the river ran on past the mill and the town."
    )
    a = wqrm.analyze(text)
    expected = LexicalRichness(a.words, preprocessor=None, tokenizer=None).mtld(threshold=0.72)
    assert mtld(a) == expected
    assert 0 < expected < len(a.words)


def test_mtld_undefined_when_every_word_distinct():
    mv = compute("Quiet rivers seldom forget.", names=["mtld"])
    assert mv["mtld"] is None
    assert "distinct" in mv.reasons["mtld"]


def test_no_words_gives_none_with_reason():
    mv = compute("?!", names=["ttr", "word_entropy"])
    assert mv == {"ttr": None, "word_entropy": None}
    assert "no words" in mv.reasons["ttr"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(WORDS)
def test_ttr_in_unit_interval(words):
    value = compute(" ".join(words) + " .", names=["ttr"])["ttr"]  # " ." so "a." is no abbreviation
    assert 0 < value <= 1
    assert value == pytest.approx(len(set(words)) / len(words))


@settings(max_examples=25, deadline=None)
@given(WORDS)
def test_entropy_bounded_by_log_types(words):
    value = compute(" ".join(words) + " .", names=["word_entropy"])["word_entropy"]
    assert -1e-12 <= value <= math.log2(len(set(words))) + 1e-12
