"""Anti-"AI slop" measures (component S3): n-gram novelty and compression ratio."""

from __future__ import annotations

import lzma

from wqrm.metrics.registry import MetricUndefined, metric

from wqrm.analysis import Analysis

__all__ = ["cbq", "lzma_raw_size", "nns"]

NNS_ORDERS = (2, 3, 4, 5)


@metric(
    "nns",
    component="S3",
    direction="higher",
    reference="WQRM guide §2.3.5 (NNS, n-gram novelty score)",
    valid_range=(0.0, 1.0),
)
def nns(a: Analysis) -> float:
    """N-gram novelty: mean over k = 2..5 of distinct k-grams / k-grams, over the text's words.

    NNS = (1/K) Σ_k |distinct k-grams| / |k-grams|, averaged over the orders k that have at least
    one k-gram (a 3-word text uses k = 2, 3). Range (0, 1]; 1 when no k-gram repeats. Undefined for
    fewer than 2 words.
    """
    words = a.words
    if len(words) < 2:
        raise MetricUndefined("fewer than 2 words: no 2-grams")
    ratios = []
    for k in NNS_ORDERS:
        total = len(words) - k + 1
        if total <= 0:
            break
        grams = {tuple(words[i : i + k]) for i in range(total)}
        ratios.append(len(grams) / total)
    return sum(ratios) / len(ratios)


def lzma_raw_size(data: bytes) -> int:
    """Size of `data` compressed as a raw LZMA2 stream at preset 9 (no container header).

    The dictionary is capped to the input size (at least 4 KiB): the compressed bytes are identical
    to preset 9's 64 MiB dictionary for inputs that fit, at a fraction of the memory and time.
    """
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": max(4096, min(len(data), 1 << 26))}]
    return len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters))


@metric(
    "cbq",
    component="S3",
    direction="band",
    reference="WQRM guide §2.3.5 (CBQ, compression-based quality); LZMA2",
    valid_range=(0.0, float("inf")),
)
def cbq(a: Analysis) -> float:
    """Compression ratio: UTF-8 bytes / raw-LZMA2 (preset 9) compressed bytes.

    CBQ = |utf8(text)| / |lzma_raw(utf8(text))|. Range (0, ∞): below 1 for very short texts, about
    1.5-2.5 for a paragraph of prose, high for repetitive text. A high ratio means *more*
    redundancy, so the direction is `band` against human reference text (DESIGN.md).
    """
    data = a.text.encode("utf-8")
    return len(data) / lzma_raw_size(data)
