"""Style measures (component S2) and descriptive sentence-length statistics."""

from __future__ import annotations

import numpy as np
from wqrm.metrics.registry import MetricUndefined, metric

from wqrm.analysis import Analysis

__all__ = ["formality", "sentence_length_mean", "sentence_length_std"]

ARTICLES = frozenset({"a", "an", "the"})
_FORMAL = {"NOUN": "noun", "PROPN": "noun", "ADJ": "adjective", "ADP": "preposition"}
_DEICTIC = {"PRON": "pronoun", "VERB": "verb", "AUX": "verb", "ADV": "adverb", "INTJ": "interjection"}


@metric(
    "formality",
    component="S2",
    direction="band",
    reference="Heylighen & Dewaele 2002 (F-score)",
    valid_range=(0.0, 100.0),
)
def formality(a: Analysis) -> float:
    """Heylighen & Dewaele's formality F-score from part-of-speech frequencies.

    F = (noun% + adjective% + preposition% + article% − pronoun% − verb% − adverb% − interjection%
    + 100) / 2, each a percentage of the words. spaCy UPOS mapping: NOUN+PROPN nouns, ADJ, ADP
    prepositions, DET tokens "a"/"an"/"the" articles, PRON, VERB+AUX verbs, ADV, INTJ.
    Range [0, 100]; about 50-60 for narrative prose, higher for expository text.
    """
    tokens = a.word_tokens
    if not tokens:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")
    formal = deictic = 0
    for t in tokens:
        pos = t.pos_
        if pos in _FORMAL or (pos == "DET" and t.lower_ in ARTICLES):
            formal += 1
        elif pos in _DEICTIC:
            deictic += 1
    return (100.0 * (formal - deictic) / len(tokens) + 100.0) / 2.0


def _lengths(a: Analysis) -> np.ndarray:
    lengths = a.sentence_lengths
    if lengths.size == 0:
        raise MetricUndefined("no sentence holds a word")
    return lengths


@metric(
    "sentence_length_mean",
    component=None,
    direction="band",
    reference="descriptive statistic",
    valid_range=(1.0, float("inf")),
)
def sentence_length_mean(a: Analysis) -> float:
    """Mean sentence length in words, over sentences holding at least one word. Range [1, ∞)."""
    return float(_lengths(a).mean())


@metric(
    "sentence_length_std",
    component=None,
    direction="band",
    reference="descriptive statistic",
    valid_range=(0.0, float("inf")),
)
def sentence_length_std(a: Analysis) -> float:
    """Population standard deviation of sentence length in words. Range [0, ∞); needs ≥ 2 sentences."""
    lengths = _lengths(a)
    if lengths.size < 2:
        raise MetricUndefined("one sentence: the spread of sentence lengths is undefined")
    return float(lengths.std())
