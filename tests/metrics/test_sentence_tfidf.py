import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from spacy.tokens import Doc

import wqrm
from wqrm.analysis import from_doc
from wqrm.metrics import compute
from wqrm.metrics import sentence_tfidf as T
from wqrm.words import is_content_word


def test_coherence_tau_golden():
    a = wqrm.analyze("Cats purr. Cats sleep. Dogs bark.")
    assert len(a.sentences) == 3
    # TF-IDF over content words, smooth idf: cats ln(4/3)+1, others ln(4/2)+1; only sentences 1 and 2
    # share a term: cos = 1.2877² / (1.2877² + 1.6931²) = 0.366 >= 0.05; the other two pairs are 0 → 1/3
    assert T.coherence_tau(a) == pytest.approx(1 / 3)
    mv = compute("Only one sentence here.", names=["coherence_tau"])
    assert mv["coherence_tau"] is None


def test_lsa_equals_exact_svd():
    from sklearn.feature_extraction.text import TfidfVectorizer

    text = (
        "The harbour boats rocked in the harbour wind. The wind carried salt over the boats. "
        "Salt dried on the harbour wall. The wall held the boats through the storm. "
        "The storm broke the wall at night. At night the harbour lights shone on the boats and the wall."
    )
    a = wqrm.analyze(text)
    docs = [[w for w in s.words if is_content_word(w)] for s in a.sentences]
    docs = [d for d in docs if d]
    x = TfidfVectorizer(analyzer=lambda d: d, lowercase=False).fit_transform(docs).toarray()
    k = min(T.LSA_COMPONENTS, x.shape[0] - 1, x.shape[1] - 1)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    assert k == 5 and s[k - 1] - s[k] > 1e-3  # a unique top-k subspace: the reference is well defined
    v = u[:, :k] * s[:k]
    n = len(v)
    unit = v / np.linalg.norm(v, axis=1, keepdims=True)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    expected = {
        "lsa_m9a": np.mean([v[i] @ v[i + 1] for i in range(n - 1)]),
        "lsa_m9b": np.mean([v[i] @ v[j] for i, j in pairs]),
        "lsa_m9c": np.mean([unit[i] @ unit[i + 1] for i in range(n - 1)]),
        "lsa_m9d": np.mean([unit[i] @ unit[j] for i, j in pairs]),
    }
    got = compute(a, names=list(expected))
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-8), name
    assert -1 <= got["lsa_m9c"] <= 1 and -1 <= got["lsa_m9d"] <= 1


TFIDF_TEXT = (
    "The lamp hissed in the kitchen. Rain kept on at the glass, and the lamp hissed again. "
    "Nobody spoke. Her brother counted coins on the table, and the coins rang. "
    "Outside, the rain filled the yard and the kitchen smelled of wet coats."
)


@pytest.mark.parametrize("sparse", [False, True])
def test_sentence_tfidf_equals_sklearn(monkeypatch, sparse):
    # dense (a paragraph) and sparse (a book: forced here by lowering the cell limit) agree with
    # sklearn's TfidfVectorizer on the same content lexemes, and so does coherence_tau
    from sklearn.feature_extraction.text import TfidfVectorizer

    if sparse:
        monkeypatch.setattr(T, "LSA_DENSE_CELLS", 10)
    a = wqrm.analyze(TFIDF_TEXT)
    docs = [[w for w in s.lexemes if is_content_word(w, a.lang)] for s in a.sentences]
    docs = [d for d in docs if d]
    vec = TfidfVectorizer(analyzer=lambda d: d, lowercase=False)
    expected = vec.fit_transform(docs).toarray()
    x = T.sentence_tfidf(a)
    assert isinstance(x, csr_matrix) == sparse
    got = x.toarray() if sparse else x
    # the same terms, numbered in order of first use here and alphabetically by sklearn
    first_use = list(dict.fromkeys(w for d in docs for w in d))
    got = got[:, np.argsort(first_use)]
    assert got.shape == expected.shape == (5, len(vec.vocabulary_))
    np.testing.assert_allclose(got, expected, atol=1e-12)
    cos = expected @ expected.T
    pairs = [(i, j) for i in range(5) for j in range(i + 1, 5)]
    share = sum(cos[i, j] >= T.COHERENCE_TAU for i, j in pairs) / len(pairs)
    assert 0 < share < 1 and T.coherence_tau(a) == pytest.approx(share)


def test_lsa_needs_three_sentences():
    mv = compute("One cat sat. One dog ran.", names=["lsa_m9a"])
    assert mv["lsa_m9a"] is None and "three sentences" in mv.reasons["lsa_m9a"]


def _hand_sentences(nlp, sentences: list[list[str]]):
    """An analysis of the given sentences (words in the given order), one paragraph."""
    words = [w for s in sentences for w in [*s, "."]]
    starts = [i == 0 for s in sentences for i in range(len(s) + 1)]
    return from_doc(Doc(nlp.vocab, words=words, sent_starts=starts))


LSA_NAMES = ["lsa_m9a", "lsa_m9b", "lsa_m9c", "lsa_m9d"]


RING = ["harbour", "gulls", "lanterns", "fog", "daughter", "anchor", "kettle"]
OWN = ["rocked", "circled", "flickered", "swallowed", "waited", "rusted", "whistled"]


def _ring_text_analysis(nlp, order=(0, 1, 2)):
    """Seven sentences in a ring: sentence i holds ring words i and i+1 (mod 7) and a word of its
    own. The TF-IDF Gram matrix is circulant, so the singular values come in equal pairs and the
    rank-6 cut (k = n - 1) falls inside a tied pair."""
    n = len(RING)
    ring = [[RING[i], RING[(i + 1) % n], OWN[i]] for i in range(n)]
    return _hand_sentences(nlp, [[s[j] for j in order] for s in ring])


def test_lsa_does_not_depend_on_the_column_order_of_tied_singular_values(nlp):
    base = _ring_text_analysis(nlp)
    x = T.sentence_tfidf(base)
    s = np.linalg.svd(x, compute_uv=False)
    assert abs(s[5] - s[6]) < 1e-12  # the tie at the cut this test is about
    first = compute(base, names=LSA_NAMES)
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = _ring_text_analysis(nlp)
        perm = rng.permutation(x.shape[1])
        a.cached("sentence_tfidf", lambda p=perm: x[:, p])  # the same text, columns reordered
        got = compute(a, names=LSA_NAMES)
        for name in LSA_NAMES:
            assert got[name] == pytest.approx(first[name], abs=1e-12), name
    # reordering the words of every sentence renumbers the vocabulary the same way
    for order in [(2, 1, 0), (1, 2, 0), (2, 0, 1)]:
        got = compute(_ring_text_analysis(nlp, order), names=LSA_NAMES)
        for name in LSA_NAMES:
            assert got[name] == pytest.approx(first[name], abs=1e-12), name


def _tfidf_rows(counts: np.ndarray) -> np.ndarray:
    """sklearn's TfidfVectorizer() weighting of a sentence × term count matrix (l2 rows)."""
    n = counts.shape[0]
    idf = np.log((1 + n) / (1 + (counts > 0).sum(axis=0))) + 1.0
    x = counts * idf
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@st.composite
def count_matrices_and_permutations(draw):
    """Small sentence × term count matrices, sparse enough that duplicate sentences, disjoint
    sentences and other exact ties are common, with a permutation of their columns."""
    n = draw(st.integers(3, 9))
    terms = draw(st.integers(3, 12))
    cells = draw(st.lists(st.sampled_from([0, 0, 0, 1, 1, 2]), min_size=n * terms, max_size=n * terms))
    counts = np.array(cells, dtype=np.float64).reshape(n, terms)
    for i in np.flatnonzero(counts.sum(axis=1) == 0):  # every sentence holds a content word
        counts[i, draw(st.integers(0, terms - 1))] = 1.0
    return counts, np.array(draw(st.permutations(range(terms))))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count_matrices_and_permutations())
def test_lsa_is_invariant_to_column_permutations(case):
    counts, perm = case
    x = _tfidf_rows(counts)
    first, second = T.lsa_from_tfidf(x), T.lsa_from_tfidf(x[:, perm])
    if isinstance(first, str):
        assert first == second
        return
    for name in LSA_NAMES:
        assert second[name] == pytest.approx(first[name], abs=1e-12), name
    assert -1 - 1e-12 <= first["lsa_m9c"] <= 1 + 1e-12 and -1 - 1e-12 <= first["lsa_m9d"] <= 1 + 1e-12


def test_lsa_zero_rows_have_zero_cosines(nlp):
    # rank 3, k = terms - 1 = 2, no tie: the two sentences holding only the first term lie in the
    # dropped direction, so their reduced rows are rounding noise (~1e-16): zero vectors, not units
    rows = [[0, 1, 1], [1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1], [1, 0, 0]]
    counts = np.array(rows)
    x = _tfidf_rows(counts.astype(np.float64))
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    v = u[:, :2] * s[:2]
    norms = np.linalg.norm(v, axis=1)
    zero = norms < 1e-8
    assert zero.sum() == 2 and s[1] - s[2] > 0.1  # the subspace is unique
    unit = np.where(zero[:, None], 0.0, v / np.where(zero, 1.0, norms)[:, None])
    n = len(v)
    expected = {
        "lsa_m9c": np.mean([unit[i] @ unit[i + 1] for i in range(n - 1)]),
        "lsa_m9d": np.mean([unit[i] @ unit[j] for i in range(n) for j in range(i + 1, n)]),
    }
    a = _hand_sentences(nlp, [["word"]] * n)
    a.cached("sentence_tfidf", lambda: csr_matrix(x))  # the metric reads this text's TF-IDF matrix
    got = compute(a, names=list(expected))
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=1e-12), name
