"""Edit-trace spans: which words of a text a human editor would delete or replace.

The edit model (`wqrm.edit.model`) predicts, for every token, a distribution over "not flagged"
and the LAMP edit categories (Cliche, Purple Prose, Awkward Word Choice and Phrasing, Unnecessary
Exposition, …; "Edited" for words that editors' diffs changed without a category). A token's flag
probability is 1 − p(not flagged). `spans_from_tokens` turns those into spans a writer can use:

* aligned to whole words (a span never cuts "Pell" to "Pe"): a word is flagged when the mean flag
  probability of its tokens (those holding a letter or digit) reaches the threshold;
* neighbouring flagged words merge into one span, labelled by the category with the highest mean
  probability over its tokens, with the span's mean flag probability;
* at most `max_per_paragraph` spans per paragraph, the most probable ones, in text order.

The threshold is chosen on development annotations for precision (`wqrm.fit.tagger`), not for F1:
a flagged span should usually be one an editor would have changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["EDITED", "NOT_FLAGGED", "Span", "spans_from_tokens", "word_bounds"]

EDITED = "Edited"
NOT_FLAGGED = "O"
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Span:
    """A flagged stretch of text: character offsets [start, end), a label and a probability."""

    start: int
    end: int
    label: str
    probability: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "probability": round(self.probability, 4),
        }


def word_bounds(text: str) -> np.ndarray:
    """(n_words, 2) character offsets of the whitespace-separated words of `text`."""
    return np.array([(m.start(), m.end()) for m in _WORD.finditer(text)], dtype=np.int64).reshape(-1, 2)


def spans_from_tokens(
    text: str,
    offsets: np.ndarray,
    flag: np.ndarray,
    categories: np.ndarray,
    labels: list[str],
    threshold: float,
    *,
    paragraphs: list[tuple[int, int]] | None = None,
    max_per_paragraph: int = 3,
) -> list[Span]:
    """Word-aligned spans of `text` from per-token predictions.

    `offsets` (n, 2) are the tokens' character offsets in `text`; `flag` (n,) their flag
    probabilities; `categories` (n, len(labels)) their category probabilities (renormalised over
    the categories). `paragraphs` are the (start, end) offsets the per-paragraph cap applies to
    (default: the whole text is one paragraph).
    """
    words = word_bounds(text)
    if len(words) == 0 or len(offsets) == 0:
        return []
    # the word each token belongs to: the last word starting at or before the token's start
    owner = np.searchsorted(words[:, 0], offsets[:, 0], side="right") - 1
    inside = (owner >= 0) & (offsets[:, 0] < words[np.maximum(owner, 0), 1])
    owner, flag, categories, offsets = owner[inside], flag[inside], categories[inside], offsets[inside]
    # a word's flag is the mean over its tokens that hold a letter or digit (a trailing comma token
    # does not dilute "cannery,"), over all its tokens when none does
    alnum = np.array([any(c.isalnum() for c in text[a:b]) for a, b in offsets], dtype=bool)
    n = len(words)
    has_alnum = np.bincount(owner, weights=alnum, minlength=n) > 0
    use = alnum | ~has_alnum[owner]
    counts = np.bincount(owner, weights=use, minlength=n)
    word_flag = np.bincount(owner, weights=flag * use, minlength=n) / np.maximum(counts, 1)
    word_cat = np.zeros((n, categories.shape[1]))
    np.add.at(word_cat, owner[use], categories[use])
    flagged = (counts > 0) & (word_flag >= threshold)
    bounds = paragraphs or [(0, len(text))]
    para = np.searchsorted(np.array([a for a, _ in bounds]), words[:, 0], side="right") - 1
    spans: list[tuple[int, int, float]] = []  # (first word, last word, mean flag probability)
    i = 0
    while i < n:
        if not flagged[i]:
            i += 1
            continue
        j = i
        while j + 1 < n and flagged[j + 1] and para[j + 1] == para[i]:  # never across paragraphs
            j += 1
        spans.append((i, j, float(word_flag[i : j + 1].mean())))
        i = j + 1
    out = []
    for i, j, p in spans:
        start, end = int(words[i, 0]), int(words[j, 1])
        while end > start and not text[end - 1].isalnum() and text[end - 1] not in "'’":
            end -= 1  # trailing punctuation is not part of what the editor changed
        label = labels[int(word_cat[i : j + 1].sum(axis=0).argmax())] if labels else EDITED
        out.append(Span(start, end if end > start else int(words[j, 1]), label, p))
    kept: list[Span] = []
    for a, b in bounds:
        mine = [s for s in out if a <= s.start < b]
        mine = sorted(mine, key=lambda s: -s.probability)[:max_per_paragraph]
        kept += sorted(mine, key=lambda s: s.start)
    return sorted(kept, key=lambda s: s.start)
