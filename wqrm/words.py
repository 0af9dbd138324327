"""Word helpers shared by metrics and builders: content words and phrase forms (DESIGN.md's words)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["STOP_WORDS", "clause_segments", "content_words", "is_content_word", "phrase_form"]


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


STOP_WORDS = _stop_words()


def is_content_word(word: str) -> bool:
    """A content word: alphabetic, at least two letters, not a spaCy English stop word."""
    return len(word) > 1 and word.isalpha() and word not in STOP_WORDS


def content_words(words: Iterable[str]) -> list[str]:
    """The content words of a word sequence, in order."""
    return [w for w in words if is_content_word(w)]


def phrase_form(word: str) -> str:
    """A word as the phrase database spells it: lower-cased, typographic apostrophes made straight
    (so "didn’t" and "didn't" match alike; a curly apostrophe is a typesetting habit, not slop)."""
    return word.replace("\u2019", "'")


def clause_segments(tokens: Iterable[Any]) -> list[list[str]]:
    """Maximal runs of words between punctuation/space tokens, in `phrase_form`.

    `tokens` are spaCy tokens (of a parsed or merely tokenised doc; only lexical attributes are
    read, so both give the same segments). Generic phrases are counted and matched inside these
    runs: a phrase never spans a comma or a sentence end.
    """
    segments: list[list[str]] = []
    current: list[str] = []
    for t in tokens:
        if t.is_punct or t.is_space:
            if current:
                segments.append(current)
                current = []
        else:
            current.append(phrase_form(t.lower_))
    if current:
        segments.append(current)
    return segments
