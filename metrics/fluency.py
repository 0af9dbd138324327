"""Fluency (component S4): whether the words are real words and stand in an order English uses.

Two failure modes a reward must not pay for, and that the other S4 metrics read only indirectly:
garbled words (typos, letter salad) and garbled order (word salad, sentences read backwards, lists
of keywords, sentences cut off before their end).

* `unknown_word_rate`: the share of lower-case words absent from wordfreq's English word list.
* `pos_ngram_surprisal`: bits per token of the text's part-of-speech sequence under a 4-gram
  model of human reference prose (`wqrm.build.pos_lm`).
"""

from __future__ import annotations

from functools import cache

from wqrm.analysis import Analysis
from wqrm.metrics.registry import MetricUndefined, metric

__all__ = ["known_words", "pos_ngram_surprisal", "sentence_tags", "unknown_word_rate"]


@cache
def known_words(lang: str = "en") -> frozenset[str]:
    """wordfreq's word list of `lang` ('large': every word seen at least about once per 10⁸ words
    across its sources; 321,180 English words in wordfreq 3.1), loaded once per process."""
    from wordfreq import get_frequency_dict  # deferred: its lists load only when a text needs them

    return frozenset(get_frequency_dict(lang, wordlist="large"))


@metric(
    "unknown_word_rate",
    component="S4",
    direction="lower",
    reference="wordfreq 'large' English word list (Speer 2022); misspelling rate as in Flor et al. 2013",
    valid_range=(0.0, 1.0),
    best=0.0,
    languages=("en",),
)
def unknown_word_rate(a: Analysis) -> float:
    """Share of the checkable words that are not English words.

    UWR = |{w checkable : w ∉ wordfreq's English list}| / |{w checkable}|, checkable = an all
    lower-case alphabetic word of at least two letters (capitalised words are names or sentence
    starts; contractions and numbers are not checked). Range [0, 1]; 0 for most edited prose,
    about 0.05-0.1 when a third of the longer words have two letters swapped.
    wordfreq's list is built from web text, so common misspellings ("teh", "recieve") count as
    known and coinages ("susurrus") as unknown. Undefined without a checkable word.
    """
    known = known_words(a.lang)
    words = (t.text for t in a.word_tokens)
    checkable = [w for w in words if len(w) > 1 and w.isalpha() and w.islower()]
    if not checkable:
        raise MetricUndefined("no lower-case alphabetic word to check")
    return sum(w not in known for w in checkable) / len(checkable)


def sentence_tags(a: Analysis) -> list[list[str]]:
    """The UPOS tag of every non-space token of each sentence holding a word (punctuation kept):
    what `pos_ngram_surprisal` reads and `wqrm.build.pos_lm` counts."""
    return [[t.pos_ for t in s.span if not t.is_space] for s in a.sentences if s.words]


@metric(
    "pos_ngram_surprisal",
    component="S4",
    direction="band",
    reference="Kneser-Ney 4-gram model (Chen & Goodman 1999) over Universal POS tags of reference prose",
    valid_range=(0.0, float("inf")),
    resources=("spacy", "corpus"),
    languages=("en",),
)
def pos_ngram_surprisal(a: Analysis) -> float:
    """Mean surprisal of the text's part-of-speech sequence, in bits per token.

    S = −(1/N) Σ_i log₂ P(t_i | t_{i−3} t_{i−2} t_{i−1}) over the UPOS tags t of every sentence's
    tokens (punctuation included) and its end-of-sentence padding, under the interpolated
    Kneser-Ney 4-gram model of `wqrm.build.pos_lm` (counted on reference books kept apart from
    the profile's passages). Range [0, ∞): about 2.2-2.8 for edited prose; higher for word salad,
    reversed or telegraphic sentences and sentences without their full stop; lower for
    monotonous, formulaic syntax. `band`: the reference profile's range is good. Undefined
    without a sentence holding a word.
    """
    from wqrm import resources  # deferred: the corpus resources load on first use, not at import

    tags = a.cached("sentence_tags", lambda: sentence_tags(a))
    if not tags:
        raise MetricUndefined("no sentence holds a word")
    return resources.get("corpus").pos_lm.surprisal_bits(tags)
