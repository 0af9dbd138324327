"""The surface counts the S1 degeneracy head reads (wqrm.edit.surface) and the moving-average TTR
(its equality with the metric implementation: tests/test_substance.py)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wqrm.edit.surface import SURFACE_FEATURES, sentences, surface_features, text_words
from wqrm.words import moving_average_ttr


@pytest.mark.parametrize(
    "text, expected",
    [
        # 9 words, 3 sentences (one repeats the first), 6 distinct words, 3 words a sentence
        (
            "The cat sat. The cat sat. A dog ran!",
            [math.log(10) / 5, math.log(4) / 3, 6 / 9, 1 / 3, math.log(4) / 4],
        ),
        # no sentence punctuation: one sentence of 5 words
        ("no punctuation here at all", [math.log(6) / 5, math.log(2) / 3, 1.0, 0.0, math.log(6) / 4]),
        # punctuation-only tokens are not words; case and edge punctuation fold
        ("“Stop!” — stop.", [math.log(3) / 5, math.log(3) / 3, 0.5, 0.5, math.log(2) / 4]),
        ("", [0.0, 0.0, 0.0, 0.0, 0.0]),
    ],
)
def test_golden(text, expected):
    assert surface_features([text])[0] == pytest.approx(expected)


def test_shape_and_names():
    x = surface_features(["One two three.", "Four five."])
    assert x.shape == (2, len(SURFACE_FEATURES)) and x.dtype == np.float64
    assert surface_features([]).shape == (0, len(SURFACE_FEATURES))


def test_helpers():
    assert sentences("He said “no.” Then left!\n\nNew paragraph") == [
        "He said “no.”",
        "Then left!",
        "New paragraph",
    ]
    assert text_words("“Well—” she said, (quietly).") == ["well", "she", "said", "quietly"]


@pytest.mark.parametrize(
    "words, window, expected",
    [
        ([], 3, 0.0),
        (["a", "b", "a"], 3, 2 / 3),  # up to the window: the plain TTR
        (["a", "b", "a", "c"], 2, (2 + 2 + 2) / (3 * 2)),
        (["a", "a", "a", "b"], 2, (1 + 1 + 2) / (3 * 2)),
    ],
)
def test_moving_average_ttr_golden(words, window, expected):
    assert moving_average_ttr(words, window) == pytest.approx(expected)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from(["The sea rose.", "Gulls cried over the pier.", "Night came."]),
        min_size=1,
        max_size=12,
    )
)
def test_ranges_and_repetition(sents):
    text = " ".join(sents)
    x = surface_features([text])[0]
    assert (x >= 0).all()
    assert 0 < x[2] <= 1
    assert x[3] == pytest.approx(1 - len(set(sents)) / len(sents))
    # pasting the text again adds words and sentences, never distinct sentences
    y = surface_features([text + " " + text])[0]
    assert y[0] > x[0] and y[1] > x[1] and y[3] >= x[3]
