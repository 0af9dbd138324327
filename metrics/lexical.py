"""Lexical diversity: type-token ratio, MTLD and word entropy (component S7, creativity).

All three count `Analysis.lexemes`: DESIGN.md's words in English, their lemmas in Russian (a
Russian noun has up to twelve case and number forms; counting forms would read inflection as
lexical diversity). docs/design-decisions.md, "Languages and Russian".
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from wqrm.analysis import Analysis
from wqrm.metrics.registry import MetricUndefined, metric

__all__ = ["mtld", "ttr", "word_entropy"]

MTLD_THRESHOLD = 0.72


def _words(a: Analysis) -> list[str]:
    if not a.words:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")
    return a.lexemes


@metric(
    "ttr",
    component="S7",
    direction="higher",
    reference="Templin 1957; Chiru 2013 (creativity m1)",
    valid_range=(0.0, 1.0),
)
def ttr(a: Analysis) -> float:
    """Type-token ratio: distinct words / words.

    TTR = |V| / N over DESIGN.md's words (lower-cased, punctuation and spaces dropped; lemmas in
    Russian).
    Range (0, 1]; 1 when no word repeats. Falls with length, so compare texts of similar length.
    """
    words = _words(a)
    return len(set(words)) / len(words)


@metric(
    "mtld",
    component="S7",
    direction="higher",
    reference="McCarthy & Jarvis 2010 (MTLD); lexicalrichness implementation",
    valid_range=(0.0, float("inf")),
)
def mtld(a: Analysis) -> float:
    """Measure of Textual Lexical Diversity, threshold 0.72, via `lexicalrichness` on our words.

    MTLD = mean of the forward and backward N / factors, where a factor ends each time the running
    TTR of the current run falls to 0.72 or below, and the last, unfinished run counts as the
    partial factor (1 − TTR_run) / (1 − 0.72). Range (0, ∞); about 50-120 for edited English
    prose. Undefined when every word is distinct: no run ends and the partial factor is
    (1 − 1) / 0.28 = 0, so N / factors divides by zero (lexicalrichness returns N there, which
    would score a text of distinct words by its length). A text with repeats whose running TTR
    never reaches 0.72 is defined: N over its partial factor.
    """
    words = _words(a)
    if len(set(words)) == len(words):
        raise MetricUndefined("every word is distinct: MTLD's factor count is 0, so MTLD is undefined")
    from lexicalrichness import LexicalRichness  # deferred: it imports textblob, nltk and scipy

    return LexicalRichness(words, preprocessor=None, tokenizer=None).mtld(threshold=MTLD_THRESHOLD)


@metric(
    "word_entropy",
    component=None,
    direction="higher",
    reference="Shannon 1948; WQRM guide §3.2.2 (entropy-based lexical richness)",
    valid_range=(0.0, float("inf")),
)
def word_entropy(a: Analysis) -> float:
    """Shannon entropy of the word distribution, in bits.

    H = −Σ_w p(w) log₂ p(w), p(w) = count(w) / N. Range [0, log₂ |V|]; 0 for a single repeated word.
    Descriptive (in no component) since session 26: it grows with length (Spearman ρ 0.84 with word
    count on the validity texts), so as a `higher` member of S7 it paid for padding (it rose in
    every pair of appended filler, spliced text and rare-word stuffing) and disagreed with LAMP's
    editors, who cut (0.33; docs/design-decisions.md).
    """
    counts = np.fromiter(Counter(_words(a)).values(), dtype=np.float64)
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())
