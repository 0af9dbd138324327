"""Chiru's (2013) sentence-similarity creativity measures over the text's own TF-IDF (component S7).

m8 coherence (`coherence_tau`): the share of sentence pairs whose TF-IDF cosine reaches τ.
m9 LSA similarities (`lsa_m9a`..`lsa_m9d`): similarities of the sentences' vectors in a rank-k
SVD of the sentence-term TF-IDF matrix. Both are features of the creativity classifier
(`wqrm.metrics.creativity.creativity_prob`).
"""

from __future__ import annotations

import math

import numpy as np

from wqrm.analysis import Analysis
from wqrm.metrics.registry import MetricUndefined, metric
from wqrm.words import is_content_word

__all__ = [
    "COHERENCE_TAU",
    "coherence_tau",
    "lsa_from_tfidf",
    "lsa_m9a",
    "lsa_m9b",
    "lsa_m9c",
    "lsa_m9d",
    "lsa_similarities",
    "sentence_tfidf",
]

#: Chiru's coherence threshold on sentence TF-IDF cosines.
COHERENCE_TAU = 0.05
#: Dimensions kept by the LSA (rank-k SVD) of the sentence-term matrix (more when σ_k is tied).
LSA_COMPONENTS = 10
#: Singular values within LSA_TIE_TOL · σ_1 of σ_k are tied with it (LAPACK's rounding is ~1e-16 σ_1).
LSA_TIE_TOL = 1e-8
#: Reduced sentence vectors with a norm at most this are zero (TF-IDF rows have norm 1).
LSA_ZERO_TOL = 1e-8
#: Sentence-term matrices up to this many cells are built dense and get LAPACK's dense SVD;
#: larger ones (a book) are sparse and get ARPACK.
LSA_DENSE_CELLS = 4_000_000


def _mean_pairwise_cosine(unit_rows: np.ndarray) -> float:
    """Mean over i<j of u_i . u_j for unit rows: (|sum u|^2 - sum |u|^2) / (n (n - 1))."""
    n = unit_rows.shape[0]
    s = unit_rows.sum(axis=0)
    return float((s @ s - np.sum(unit_rows * unit_rows)) / (n * (n - 1)))


# --------------------------------------------------------------------------------------------
# m8 coherence, m9 LSA
# --------------------------------------------------------------------------------------------


def sentence_tfidf(a: Analysis):
    """TF-IDF rows (l2-normalised, sklearn defaults) of the sentences holding a content word,
    with the text's own sentences as the document collection; None when fewer than two.

    Same values as sklearn's `TfidfVectorizer()` (smooth idf = ln((1 + n)/(1 + df)) + 1, raw
    counts, l2 rows; a test compares them), built directly: sklearn's vectorizer costs
    milliseconds of overhead per text. A dense array up to `LSA_DENSE_CELLS` cells (a paragraph:
    scipy's sparse bookkeeping would cost more than the arithmetic), a scipy CSR matrix beyond (a
    book). Terms are content `lexemes` (lemmas in Russian, with Russian stop words).
    """

    def build():
        docs = [[w for w in s.lexemes if is_content_word(w, a.lang)] for s in a.sentences]
        docs = [d for d in docs if d]
        if len(docs) < 2:
            return None
        vocab: dict[str, int] = {}
        rows = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
        cols = np.array([vocab.setdefault(w, len(vocab)) for d in docs for w in d], dtype=np.int64)
        shape = (len(docs), len(vocab))
        if shape[0] * shape[1] <= LSA_DENSE_CELLS:
            counts = np.bincount(rows * shape[1] + cols, minlength=shape[0] * shape[1])
            x = counts.reshape(shape).astype(np.float64)
            df = np.count_nonzero(x, axis=0)
            x *= np.log((1 + shape[0]) / (1 + df)) + 1.0
            x /= np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
            return x
        from scipy.sparse import csr_matrix

        counts = csr_matrix((np.ones(rows.size), (rows, cols)), shape=shape)
        counts.sum_duplicates()
        df = np.bincount(counts.indices, minlength=shape[1])
        x = counts.multiply(np.log((1 + shape[0]) / (1 + df)) + 1.0).tocsr()
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        return csr_matrix(x.multiply(1.0 / norms[:, None]))

    return a.cached("sentence_tfidf", build)


@metric(
    "coherence_tau",
    component="S7",
    direction="band",
    reference="Chiru 2013 (m8, coherence: share of sentence pairs with TF-IDF cosine >= 0.05)",
    valid_range=(0.0, 1.0),
)
def coherence_tau(a: Analysis) -> float:
    """Share of sentence pairs i<j whose TF-IDF cosine is at least τ = 0.05.

    Sentences are the text's sentences holding a content word, as TF-IDF vectors over content
    words with the text's own sentences as documents (sklearn defaults). Chiru divides by |D|^2
    (ordered pairs, self-pairs included); we count each unordered pair of distinct sentences once.
    Range [0, 1]; "creative texts show a coherence balance": `band`. Computed once per analysis
    (`creativity_prob` asks for it again).
    """

    def build() -> float | str:
        x = sentence_tfidf(a)
        if x is None:
            return "fewer than two sentences with a content word"
        n = x.shape[0]
        threshold = COHERENCE_TAU - 1e-12
        if isinstance(x, np.ndarray):
            hits = int(np.count_nonzero((x @ x.T)[np.triu_indices(n, 1)] >= threshold))
            return hits / (n * (n - 1) / 2)
        hits = 0
        block = 1024
        xt = x.T.tocsc()
        for start in range(0, n, block):  # a book: sparse products, a block of rows at a time
            sims = (x[start : start + block] @ xt).tocoo()
            upper = sims.col > sims.row + start
            hits += int(np.count_nonzero(sims.data[upper] >= threshold))
        return hits / (n * (n - 1) / 2)

    result = a.cached("coherence_tau", build)
    if isinstance(result, str):
        raise MetricUndefined(result)
    return result


def _top_singular(x, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(U, σ) of the leading singular triplets of `x`, σ descending, covering at least the first
    k values and every value tied with the k-th (see `lsa_from_tfidf`)."""
    n, terms = x.shape
    if n * terms <= LSA_DENSE_CELLS:  # small: the exact SVD is faster than ARPACK's iterations
        u, sigma, _ = np.linalg.svd(x.toarray() if hasattr(x, "toarray") else x, full_matrices=False)
        return u, sigma
    from scipy.sparse.linalg import svds

    most = min(n, terms) - 1  # ARPACK computes at most min(shape) - 1 triplets
    want = min(k + 8, most)
    while True:
        u, sigma, _ = svds(x, k=want, solver="arpack", random_state=0)
        order = np.argsort(-sigma, kind="stable")
        u, sigma = u[:, order], sigma[order]
        if want >= most or sigma[k - 1] - sigma[-1] > LSA_TIE_TOL * sigma[0]:
            return u, sigma
        want = min(2 * want, most)


def lsa_from_tfidf(x) -> dict[str, float] | str:
    """Chiru's m9a-m9d from the sentence TF-IDF matrix `x` (rows: sentences), or the reason they
    are undefined. See `lsa_similarities` for the definition."""
    n, terms = x.shape
    k = min(LSA_COMPONENTS, n - 1, terms - 1)
    if k < 2:
        return "fewer than three sentences (or terms) for a two-dimensional LSA"
    u, sigma = _top_singular(x, k)
    # the rank-k subspace is unique only when σ_k > σ_{k+1}: keep the whole block tied with σ_k
    tied = np.flatnonzero(sigma[k - 1] - sigma[k:] <= LSA_TIE_TOL * sigma[0])
    k_used = k + (int(tied[-1]) + 1 if tied.size else 0)
    v = u[:, :k_used] * sigma[:k_used]
    norms = np.linalg.norm(v, axis=1)
    zero = norms <= LSA_ZERO_TOL  # rounding noise, not a direction: the row is the zero vector
    v[zero] = 0.0
    unit = np.divide(v, norms[:, None], out=np.zeros_like(v), where=~zero[:, None])
    return {
        "lsa_m9a": float(np.mean(np.sum(v[:-1] * v[1:], axis=1))),
        "lsa_m9b": _mean_pairwise_cosine(v),
        "lsa_m9c": float(np.mean(np.sum(unit[:-1] * unit[1:], axis=1))),
        "lsa_m9d": _mean_pairwise_cosine(unit),
    }


def lsa_similarities(a: Analysis) -> dict[str, float]:
    """Chiru's m9a-m9d from a rank-k SVD of the sentence TF-IDF matrix X (rows: sentences).

    k = min(10, n − 1, terms − 1) (k ≥ 2 needed); v_i = row i of U_k Σ_k, the sentence's reduced
    vector. m9a: mean v_i · v_{i+1}; m9b: mean over i<j of v_i · v_j; m9c, m9d: the same with
    cosines. Only the Gram matrix U_k Σ_k² U_kᵀ enters, so the SVD's sign choices do not matter.

    * Ties: when σ_k = σ_{k+1} (to `LSA_TIE_TOL` · σ_1) the rank-k subspace is not unique and any
      choice depends on the order of the TF-IDF columns (about one text in ten). k is then raised
      to the end of the block of singular values tied with σ_k: within a tied block the Gram
      matrix does not depend on the basis, so the values do not depend on the column order.
    * A reduced row of norm at most `LSA_ZERO_TOL` (a sentence whose TF-IDF vector is orthogonal
      to the kept subspace, up to rounding) is the zero vector: its cosines are 0, not the
      cosines of rounding noise.

    The SVD is LAPACK's exact dense SVD (numpy) for matrices up to `LSA_DENSE_CELLS` cells, else
    ARPACK (scipy `svds`, seeded) for enough leading triplets to cover the tied block.
    """

    def build() -> dict[str, float] | str:
        x = sentence_tfidf(a)
        if x is None:
            return "fewer than two sentences with a content word"
        return lsa_from_tfidf(x)

    result = a.cached("lsa_similarities", build)
    if isinstance(result, str):
        raise MetricUndefined(result)
    return result


_LSA_REF = "Chiru 2013 (m9, LSA sentence similarity); exact SVD (LAPACK), tied singular values kept together"


@metric("lsa_m9a", component="S7", direction="band", reference=_LSA_REF, valid_range=(-math.inf, math.inf))
def lsa_m9a(a: Analysis) -> float:
    """Mean LSA similarity (dot product of reduced vectors) of adjacent sentences, (1/(n-1)) Σ v_i·v_{i+1}.

    See `lsa_similarities`. Range: real; about 0-0.3 for prose.
    """
    return lsa_similarities(a)["lsa_m9a"]


@metric("lsa_m9b", component="S7", direction="band", reference=_LSA_REF, valid_range=(-math.inf, math.inf))
def lsa_m9b(a: Analysis) -> float:
    """Mean LSA similarity (dot product) over all sentence pairs, 2/(n(n-1)) Σ_{i<j} v_i·v_j.

    See `lsa_similarities`. Range: real.
    """
    return lsa_similarities(a)["lsa_m9b"]


@metric("lsa_m9c", component="S7", direction="band", reference=_LSA_REF, valid_range=(-1.0, 1.0))
def lsa_m9c(a: Analysis) -> float:
    """Mean LSA cosine of adjacent sentences, (1/(n-1)) Σ cos(v_i, v_{i+1}). Range [-1, 1]."""
    return lsa_similarities(a)["lsa_m9c"]


@metric("lsa_m9d", component="S7", direction="band", reference=_LSA_REF, valid_range=(-1.0, 1.0))
def lsa_m9d(a: Analysis) -> float:
    """Mean LSA cosine over all sentence pairs, 2/(n(n-1)) Σ_{i<j} cos(v_i, v_j). Range [-1, 1]."""
    return lsa_similarities(a)["lsa_m9d"]
