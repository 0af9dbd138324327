"""Word helpers shared by metrics and builders: content words and phrase forms (DESIGN.md's words)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

__all__ = [
    "clause_segments",
    "content_words",
    "is_content_word",
    "moving_average_ttr",
    "phrase_form",
    "stop_words",
]


@cache
def stop_words(lang: str = "en") -> frozenset[str]:
    """spaCy's stop words of `lang` ("en", "ru"; Russian ones with ё also written е, as lemmas are),
    loaded on first use (importing spaCy takes seconds; `import wqrm.metrics` must not)."""
    if lang == "en":
        from spacy.lang.en.stop_words import STOP_WORDS as EN  # deferred: spaCy is heavy to import

        return frozenset(EN)
    if lang == "ru":
        from spacy.lang.ru.stop_words import STOP_WORDS as RU  # deferred: spaCy is heavy to import

        return frozenset(RU) | frozenset(w.replace("ё", "е") for w in RU)
    raise ValueError(f"no stop words for language {lang!r}")


def __getattr__(name: str) -> Any:
    # `STOP_WORDS`, the English set, kept as a module attribute but loaded on first access (PEP 562)
    if name == "STOP_WORDS":
        return stop_words("en")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_content_word(word: str, lang: str = "en") -> bool:
    """A content word: alphabetic, at least two letters, not a spaCy stop word of `lang`."""
    return len(word) > 1 and word.isalpha() and word not in stop_words(lang)


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


def moving_average_ttr(words: Sequence[str], window: int) -> float:
    """Moving-average type-token ratio (Covington & McFall 2010): the mean over every window of
    `window` consecutive words of distinct / `window`; the plain TTR when there are `window` words
    or fewer, 0 for none. O(n) with a rolling count. Range [0, 1]."""
    if not words:
        return 0.0
    if len(words) <= window:
        return len(set(words)) / len(words)
    counts: dict[str, int] = {}
    for w in words[:window]:
        counts[w] = counts.get(w, 0) + 1
    total = len(counts)
    for i in range(window, len(words)):
        old, new = words[i - window], words[i]
        counts[old] -= 1
        if counts[old] == 0:
            del counts[old]
        counts[new] = counts.get(new, 0) + 1
        total += len(counts)
    return total / ((len(words) - window + 1) * window)
