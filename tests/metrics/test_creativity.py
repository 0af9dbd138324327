import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from spacy.tokens import Doc

import wqrm
from wqrm import resources
from wqrm.analysis import from_doc
from wqrm.fit.creativity import fit_creativity_model
from wqrm.metrics import compute
from wqrm.metrics import creativity as C
from wqrm.words import is_content_word

TEXT = (
    "The old fisherman mended his nets while the harbour lights flickered across the water.\n\n"
    "At dawn he rowed past the lighthouse, and gulls followed the boat toward the open sea. "
    "His daughter waited on the pier with bread and a flask of tea."
)


@pytest.fixture(scope="module")
def corpus():
    return resources.get("corpus")


@pytest.fixture(scope="module")
def analysis():
    return wqrm.analyze(TEXT)


def _content_pairs(a, corpus, max_gap):
    """Pairs (x, y) of distinct in-vocabulary content words at most max_gap content words apart,
    per paragraph: the definition, by loops."""
    pairs = []
    for p in a.paragraphs:
        ids = [corpus.index.get(w, -1) for w in p.words if is_content_word(w)]
        for i in range(len(ids)):
            for j in range(i + 1, min(len(ids), i + max_gap + 1)):
                if ids[i] >= 0 and ids[j] >= 0 and ids[i] != ids[j]:
                    pairs.append((ids[i], ids[j]))
    return pairs


def test_wnf_equals_its_definition(analysis, corpus):
    from wqrm.metrics.aesthetics import glove_vectors

    glove = glove_vectors()
    hits = []
    for x, y in _content_pairs(analysis, corpus, 1):
        pmi = corpus.pmi(np.array([x]), np.array([y]))[0]
        df = corpus.pair_df(np.array([x]), np.array([y]))[0]
        vx, fx = glove.lookup([corpus.vocab[x]])
        vy, fy = glove.lookup([corpus.vocab[y]])
        cos = float(vx[0] @ vy[0] / np.linalg.norm(vx[0]) / np.linalg.norm(vy[0])) if fx[0] and fy[0] else 0.0
        hits.append((pmi >= C.WNF_PMI and df >= C.WNF_MIN_PAIR_DF) or cos >= C.WNF_COSINE)
    assert len(hits) >= 5
    assert C.wnf(analysis) == pytest.approx(np.mean(hits), abs=1e-12)


def test_wnf_conventional_pair_and_undefined(corpus):
    assert C.wnf(wqrm.analyze("Bread and butter.")) == 1.0  # cos(bread, butter) >= 0.7 in GloVe
    mv = compute("Lighthouse.", names=["wnf"])
    assert mv["wnf"] is None and "adjacent content words" in mv.reasons["wnf"]


def test_gsd_equals_its_definition(analysis, corpus):
    values = []
    for x, y in _content_pairs(analysis, corpus, corpus.window):
        fx, fy = corpus.df[x], corpus.df[y]
        fxy = max(corpus.pair_df(np.array([x]), np.array([y]))[0], 0.5)
        m = corpus.n_passages
        values.append(
            (max(math.log(fx), math.log(fy)) - math.log(fxy))
            / (math.log(m) - min(math.log(fx), math.log(fy)))
        )
    assert C.gsd(analysis) == pytest.approx(np.mean(values), abs=1e-12)
    assert C.gsd(analysis) >= 0


def test_esa_equals_its_definition(analysis, corpus):
    term_concept, idf = corpus._esa
    dense = term_concept.toarray()
    vectors = []
    for s in analysis.sentences:
        counts = {}
        for w in s.words:
            if is_content_word(w) and w in corpus.index:
                counts[corpus.index[w]] = counts.get(corpus.index[w], 0) + 1
        v = np.zeros(dense.shape[1])
        for i, c in counts.items():
            v += (1 + math.log(c)) * idf[i] * dense[i]
        if np.linalg.norm(v) > 0:
            vectors.append(v / np.linalg.norm(v))
    sims = [vectors[i] @ vectors[j] for i in range(len(vectors)) for j in range(i + 1, len(vectors))]
    assert C.esa(analysis) == pytest.approx(np.mean(sims), abs=1e-9)


def test_esa_identical_sentences_and_undefined():
    assert C.esa(wqrm.analyze("The ship sailed home. The ship sailed home.")) == pytest.approx(1.0, abs=1e-9)
    mv = compute("The ship sailed home.", names=["esa"])
    assert mv["esa"] is None and "two sentences" in mv.reasons["esa"]


def test_wordnet_sim_golden():
    wn = resources.get("wordnet")
    # nouns dog, cat (adjacent), first senses: lcs carnivore.n.01 at depth 12, each 2 edges below it:
    # Wu-Palmer 2·12 / ((12 + 2) + (12 + 2)) = 6/7
    expected = wn.synsets("dog", "n")[0].wup_similarity(wn.synsets("cat", "n")[0])
    assert expected == pytest.approx(0.857142857142857)
    assert C.wordnet_sim(wqrm.analyze("The dog chased the cat.")) == pytest.approx(expected)
    mv = compute("Run!", names=["wordnet_sim"])
    assert mv["wordnet_sim"] is None


def test_named_entities_golden(nlp):
    words = ["Anna", "met", "Anna", "in", "Paris", "on", "Monday", "."]
    ents = ["B-PERSON", "O", "B-PERSON", "O", "B-GPE", "O", "B-DATE", "O"]
    a = from_doc(Doc(nlp.vocab, words=words, ents=ents, sent_starts=[True] + [False] * 7))
    assert C.ne_count(a) == 3.0  # Anna, Anna, Paris; the DATE is not a named entity
    assert C.ne_diversity(a) == pytest.approx(2 / 3)
    mv = compute("it rained all day.", names=["ne_count", "ne_diversity"])
    assert mv["ne_count"] == 0.0 and mv["ne_diversity"] is None


def test_coherence_tau_golden():
    a = wqrm.analyze("Cats purr. Cats sleep. Dogs bark.")
    assert len(a.sentences) == 3
    # TF-IDF over content words, smooth idf: cats ln(4/3)+1, others ln(4/2)+1; only sentences 1 and 2
    # share a term: cos = 1.2877² / (1.2877² + 1.6931²) = 0.366 >= 0.05; the other two pairs are 0 → 1/3
    assert C.coherence_tau(a) == pytest.approx(1 / 3)
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
    k = min(C.LSA_COMPONENTS, x.shape[0] - 1, x.shape[1] - 1)
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


def test_lsa_needs_three_sentences():
    mv = compute("One cat sat. One dog ran.", names=["lsa_m9a"])
    assert mv["lsa_m9a"] is None and "three sentences" in mv.reasons["lsa_m9a"]


def test_fit_creativity_model_selects_the_informative_feature():
    rng = np.random.default_rng(0)
    rows, labels = [], []
    for i in range(60):
        y = i % 2
        row = {f: float(rng.normal()) for f in C.FEATURES}
        row["gsd"] = float(rng.normal(loc=2.0 * y))  # separates the classes
        row["ne_diversity"] = None  # undefined everywhere: imputed, never useful
        rows.append(row)
        labels.append(y)
    model = fit_creativity_model(rows, labels, seed=0, folds=3)
    assert "gsd" in model["selected"] and model["coef"]["gsd"] > 0
    assert model["cv_accuracy"]["nested_mean"] > 0.7
    p_hi = C.creativity_probability({"gsd": 3.0}, model)
    p_lo = C.creativity_probability({"gsd": -1.0}, model)
    assert 0 < p_lo < 0.5 < p_hi < 1


def test_creativity_prob_uses_the_shipped_coefficients(analysis, corpus):
    model = corpus.creativity_model
    feats = C.creativity_features(analysis, model["selected"])
    logit = model["intercept"] + sum(
        model["coef"][f]
        * ((model["impute_mean"][f] if feats[f] is None else feats[f]) - model["scale_mean"][f])
        / model["scale_std"][f]
        for f in model["selected"]
    )
    assert C.creativity_prob(analysis) == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-12)
    assert 0 < C.creativity_prob(analysis) < 1


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
    x = C._sentence_tfidf(base)
    s = np.linalg.svd(x.toarray(), compute_uv=False)
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
    first, second = C.lsa_from_tfidf(x), C.lsa_from_tfidf(x[:, perm])
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
