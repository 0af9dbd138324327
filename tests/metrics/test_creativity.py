import math
from collections import defaultdict

import numpy as np
import pytest
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
    typical = {f: model["scale_mean"][f] for f in model["selected"]}  # contribute 0 to the logit
    p_hi = C.creativity_probability({**typical, "gsd": 3.0}, model)
    p_lo = C.creativity_probability({**typical, "gsd": -1.0}, model)
    assert 0 < p_lo < 0.5 < p_hi < 1
    with pytest.raises(ValueError, match="missing: gsd"):
        C.creativity_probability({**typical, "gsd": None}, model)


def test_creativity_prob_uses_the_shipped_coefficients(analysis, corpus):
    model = corpus.creativity_model
    feats = C.creativity_features(analysis, model["selected"])
    assert all(v is not None for v in feats.values())
    logit = model["intercept"] + sum(
        model["coef"][f] * (feats[f] - model["scale_mean"][f]) / model["scale_std"][f]
        for f in model["selected"]
    )
    assert C.creativity_prob(analysis) == pytest.approx(1 / (1 + math.exp(-logit)), abs=1e-12)
    assert 0 < C.creativity_prob(analysis) < 1


def test_creativity_prob_is_undefined_when_a_selected_feature_is(corpus):
    # one sentence: no sentence pair for esa and coherence_tau. The probability is not computed
    # with their training means standing in: it is undefined, and the reason says why.
    model = corpus.creativity_model
    assert {"esa", "coherence_tau"} <= set(model["selected"])
    mv = compute("The old fisherman mended his nets by the harbour wall.", names=["creativity_prob"])
    assert mv["creativity_prob"] is None
    reason = mv.reasons["creativity_prob"]
    assert "esa" in reason and "coherence_tau" in reason and "undefined" in reason


def test_wordnet_index_is_nltks_own():
    """wqrm's plain-file parse of WordNet's index files gives NLTK's map, entry for entry (adjective
    satellites included), and the lookups that read it agree."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    wn = resources.get("wordnet")
    mine = wn._lemma_pos_offset_map
    theirs = type(wn).__new__(type(wn))
    theirs._lemma_pos_offset_map = defaultdict(dict)
    theirs.__dict__.update({k: v for k, v in wn.__dict__.items() if k != "_lemma_pos_offset_map"})
    WordNetCorpusReader._load_lemma_pos_offset_map(theirs)  # NLTK's parse, on the same files
    assert len(mine) == len(theirs._lemma_pos_offset_map) > 140_000
    assert mine == theirs._lemma_pos_offset_map
    assert [s.name() for s in wn.synsets("light")][:3] == ["light.n.01", "light.n.02", "light.n.03"]
    assert "s" in mine["dark"] and mine["dark"]["s"] == [
        o for o in mine["dark"]["a"] if o in wn.satellite_offsets
    ]
