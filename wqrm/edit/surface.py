"""Surface counts the S1 degeneracy head reads beside the encoder's embedding.

A mean-pooled, unit-length sentence embedding says what a text is about, hardly how much of it
there is: two words of a paragraph, one of its sentences, and the paragraph itself embed close
together, and so do a sentence and that sentence pasted ten times. The degeneracy head
(`wqrm.fit.degeneracy`) therefore also reads five counts of the text's substance, each scaled to
about [0, 1] for the prose it was fitted on (`surface_features`, in the order of
`SURFACE_FEATURES`):

* ``log_words`` = ln(1 + words) / 5: a paragraph of 150 words gives 1.0, two words 0.22;
* ``log_sentences`` = ln(1 + sentences) / 3: eight sentences 0.73, one 0.23;
* ``distinct_words``: moving-average type-token ratio over windows of 50 words
  (`wqrm.words.moving_average_ttr`), ∈ [0, 1];
* ``repeated_sentences``: share of the sentences that repeat an earlier one word for word
  (case-folded), ∈ [0, 1);
* ``log_sentence_words`` = ln(1 + mean words per sentence) / 4: 20 words 0.76.

Words are whitespace tokens stripped of surrounding punctuation and lower-cased (tokens that are
only punctuation dropped); sentences are split at ., !, ? and … (`sentences`), without a parser:
the counts must cost nothing next to the encoder. They describe the training family of
`wqrm.fit.negatives` (fewer words and sentences, repetition, lists); none of them reads spelling,
word order or punctuation, which the held-apart family degrades.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from wqrm.words import moving_average_ttr

__all__ = ["SURFACE_FEATURES", "sentences", "surface_features", "text_words"]

#: Names of the columns of `surface_features`, in order (saved in a model's config).
SURFACE_FEATURES = (
    "log_words",
    "log_sentences",
    "distinct_words",
    "repeated_sentences",
    "log_sentence_words",
)
#: Window of the moving-average type-token ratio (the degeneracy floor's, `wqrm.substance`).
DISTINCT_WINDOW = 50

_SENTENCE = re.compile(r"[^.!?…]+(?:[.!?…]+[\"'”’)\]]*|$)")
_TOKEN = re.compile(r"\S+")
_EDGE = ".,;:!?…\"'“”‘’()[]{}—–-*_"


def sentences(text: str) -> list[str]:
    """Sentences by punctuation (., !, ?, … and closing quotes), stripped; paragraphs joined."""
    return [s.strip() for s in _SENTENCE.findall(" ".join(text.split())) if s.strip()]


def text_words(text: str) -> list[str]:
    """Whitespace tokens stripped of surrounding punctuation, lower-cased; empty ones dropped."""
    return [w for w in (t.strip(_EDGE).lower() for t in _TOKEN.findall(text)) if w]


def _row(text: str) -> list[float]:
    words = text_words(text)
    keys = [" ".join(ws) for ws in map(text_words, sentences(text)) if ws]  # sentences with words
    n_sents = len(keys)
    repeated = n_sents - len(set(keys))  # each repeat of an earlier sentence counts once
    return [
        math.log1p(len(words)) / 5,
        math.log1p(n_sents) / 3,
        moving_average_ttr(words, DISTINCT_WINDOW),
        repeated / n_sents if n_sents else 0.0,
        math.log1p(len(words) / n_sents if n_sents else 0.0) / 4,
    ]


def surface_features(texts: Sequence[str]) -> np.ndarray:
    """The `SURFACE_FEATURES` of each text (module docstring), shape (len(texts), 5), float64.
    An empty text gives zeros."""
    return np.array([_row(t) for t in texts], dtype=np.float64).reshape(len(texts), len(SURFACE_FEATURES))
