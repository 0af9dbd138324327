"""Edit-trace spans from token predictions: whole words, merged neighbours, a cap per paragraph."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wqrm.edit.tagger import Span, spans_from_tokens, word_bounds

TEXT = "The old Pellworth cannery, rusted and silent, waited."
#       0   4   8          19       28      36  40      48


def _tokens(pieces):
    """Char offsets of sub-word tokens given as (start, end) pairs."""
    return np.array(pieces, dtype=np.int64)


def test_word_bounds_golden():
    assert word_bounds("a  bc d").tolist() == [[0, 1], [3, 5], [6, 7]]
    assert word_bounds("   ").shape == (0, 2)


def test_sub_word_tokens_flag_whole_words_and_merge():
    # "Pell" + "worth" are two tokens of one word: the word is flagged whole, never cut to "Pe"
    offsets = _tokens([(0, 3), (4, 7), (8, 12), (12, 17), (18, 25), (25, 26), (27, 33), (34, 37)])
    flag = np.array([0.1, 0.2, 0.9, 0.7, 0.8, 0.1, 0.3, 0.2])
    cats = np.tile([[0.8, 0.2]], (8, 1))
    spans = spans_from_tokens(TEXT, offsets, flag, cats, ["Cliche", "Purple Prose"], threshold=0.5)
    assert [TEXT[s.start : s.end] for s in spans] == ["Pellworth cannery"]  # trailing comma left out
    assert spans[0].label == "Cliche"
    assert spans[0].probability == pytest.approx(np.mean([(0.9 + 0.7) / 2, 0.8]))


def test_label_is_the_category_with_most_probability_mass():
    offsets = _tokens([(0, 3), (4, 7)])
    cats = np.array([[0.3, 0.7], [0.4, 0.6]])
    spans = spans_from_tokens("The old", offsets, np.array([0.9, 0.9]), cats, ["A", "B"], threshold=0.5)
    assert spans == [Span(0, 7, "B", 0.9)]


def test_at_most_n_spans_per_paragraph_the_most_probable():
    text = "aa bb cc dd ee\n\nff gg"
    offsets = word_bounds(text)
    flag = np.array([0.9, 0.1, 0.6, 0.1, 0.8, 0.95, 0.1])
    cats = np.ones((7, 1))
    spans = spans_from_tokens(
        text, offsets, flag, cats, ["X"], threshold=0.5, paragraphs=[(0, 14), (16, 21)], max_per_paragraph=2
    )
    assert [text[s.start : s.end] for s in spans] == ["aa", "ee", "ff"]  # "cc" (0.6) dropped in paragraph 1


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=30), st.floats(0.05, 0.95))
def test_spans_always_cover_whole_words(probs, threshold):
    words = [f"w{i}x" for i in range(len(probs))]
    text = " ".join(words)
    offsets = word_bounds(text)
    spans = spans_from_tokens(text, offsets, np.array(probs), np.ones((len(probs), 1)), ["X"], threshold)
    starts, ends = set(offsets[:, 0].tolist()), set(offsets[:, 1].tolist())
    assert all(s.start in starts and s.end in ends for s in spans)
    assert all(s.probability >= threshold - 1e-12 for s in spans)  # a mean of values ≥ threshold
