"""Text aesthetics features of Ganguly et al. (2014) (component S7).

Ganguly, Kumar, Ghosh & Joshi (2014), "Automatic prediction of text aesthetics and
interestingness", COLING. Per-paragraph features; a document's value is the word-weighted mean over
its paragraphs, which for W2 equals the mean over all its words.
"""

from __future__ import annotations

from wqrm.metrics.registry import MetricUndefined, metric

from wqrm.analysis import Analysis

__all__ = ["w2"]


@metric(
    "w2",
    component="S7",
    direction="band",
    reference="Ganguly et al. 2014 (W2, average word length)",
    valid_range=(1.0, float("inf")),
)
def w2(a: Analysis) -> float:
    """Average word length in characters: W2 = (1/N) Σ len(w_i).

    Range [1, ∞); about 4-5 for English prose. `band`: very short words read as simplistic, very
    long ones as jargon or purple prose.
    """
    if not a.words:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")
    return sum(len(w) for w in a.words) / len(a.words)
