"""Creativity measures m1-m9 of Chiru (2013) and the creativity classifier (component S7).

Chiru, C.-G. (2013), "Creativity detection in texts". Its nine measures and their offline
stand-ins (DESIGN.md):

* m1 TTR: `wqrm.metrics.lexical.ttr`.
* m2 WNF (word norms fraction): free-association norms are not available offline; a word pair is
  a *conventional association* when the corpus resources' passage co-occurrence PMI is high or
  its GloVe cosine is high (`wnf`).
* m3 GSD (Google similarity distance): web page counts are not available offline; the
  normalised distance is computed over the corpus resources' passage (document) frequencies
  (`gsd`).
* m4 ESA: Wikipedia is not available offline; the concepts are reference passages of the
  corpus resources (`esa`).
* m5, m6 named entities (`ne_count`, `ne_diversity`), m7 WordNet similarity (`wordnet_sim`).
* m8 coherence (`coherence_tau`) and m9 LSA similarities (`lsa_m9a`..`lsa_m9d`) compare the
  text's sentences over its own TF-IDF: `wqrm.metrics.sentence_tfidf`.
* `creativity_prob`: logistic regression over m1-m9 with forward sequential feature selection,
  trained by `wqrm build-corpus` (`wqrm.fit.creativity.fit_creativity_model`) and shipped as JSON
  coefficients.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np

from wqrm import resources
from wqrm.analysis import Analysis
from wqrm.metrics.aesthetics import glove_vectors, paragraph_bounds
from wqrm.metrics.registry import MetricUndefined, get_spec, metric
from wqrm.words import is_content_word

__all__ = [
    "FEATURES",
    "NAMED_ENTITY_LABELS",
    "WNF_COSINE",
    "WNF_MIN_PAIR_DF",
    "WNF_PMI",
    "creativity_features",
    "creativity_prob",
    "esa",
    "gsd",
    "ne_count",
    "ne_diversity",
    "wnf",
    "wordnet_sim",
]

#: A pair is a conventional association when its windowed PMI(x, y) >= WNF_PMI nats (x and y meet
#: within 5 content words at least e^2 ≈ 7.4 times as often as independence predicts in the
#: reference passages) in at least WNF_MIN_PAIR_DF passages, or when cos(GloVe x, GloVe y) >=
#: WNF_COSINE. About 3 % of adjacent pairs of human prose pass the PMI test, 10 % the cosine test.
WNF_PMI = 2.0
WNF_MIN_PAIR_DF = 3
WNF_COSINE = 0.7
#: spaCy entity labels counted as named entities (numeric types such as DATE or CARDINAL are not).
NAMED_ENTITY_LABELS = frozenset(
    {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
#: The classifier's candidate features, Chiru's m1-m9.
FEATURES = (
    "ttr",
    "wnf",
    "gsd",
    "esa",
    "ne_count",
    "ne_diversity",
    "wordnet_sim",
    "coherence_tau",
    "lsa_m9a",
    "lsa_m9b",
    "lsa_m9c",
    "lsa_m9d",
)


def _memoized(func: Callable[[Analysis], float]) -> Callable[[Analysis], float]:
    """Compute a feature once per analysis (the scorer and `creativity_prob` both ask for it)."""
    key = f"creativity:{func.__name__}"

    def compute(a: Analysis) -> float | str:
        try:
            return func(a)
        except MetricUndefined as exc:
            return exc.reason

    @functools.wraps(func)
    def wrapper(a: Analysis) -> float:
        result = a.cached(key, lambda: compute(a))
        if isinstance(result, str):
            raise MetricUndefined(result)
        return result

    return wrapper


def _content_ids(a: Analysis, corpus) -> list[np.ndarray]:
    """Corpus-vocabulary ids (-1 outside it) of each paragraph's content words, in order."""

    def build() -> list[np.ndarray]:
        out = []
        for lo, hi in paragraph_bounds(a):
            words = [w for w in a.words[lo:hi] if is_content_word(w)]
            out.append(corpus.ids(words))
        return out

    return a.cached("corpus_content_ids", build)


# --------------------------------------------------------------------------------------------
# m2 WNF, m3 GSD, m4 ESA
# --------------------------------------------------------------------------------------------


@metric(
    "wnf",
    component="S7",
    direction="band",
    reference="Chiru 2013 (m2, word norms fraction); corpus PMI / GloVe for free-association norms",
    valid_range=(0.0, 1.0),
    resources=("spacy", "corpus", "glove"),
)
@_memoized
def wnf(a: Analysis) -> float:
    """Word norms fraction: share of adjacent content-word pairs that are conventional associations.

    WNF = C_norm / n over the n pairs of consecutive content words of each paragraph that are both
    in the corpus vocabulary and differ. Free-association norms are not available offline: a pair
    counts as conventional when its windowed PMI in the corpus resources (`CorpusResources.pmi`)
    is at least `WNF_PMI` (2 nats, the pair seen in >= 3 passages) or its GloVe 6B 50d cosine is at
    least `WNF_COSINE` (0.7). Range [0, 1]; about 0.05-0.15 for prose; high for usual, predictable
    word combinations.
    """
    corpus = resources.get("corpus")
    left_all, right_all = [], []
    for ids in _content_ids(a, corpus):
        if ids.size < 2:
            continue
        left, right = ids[:-1], ids[1:]
        ok = (left >= 0) & (right >= 0) & (left != right)
        left_all.append(left[ok])
        right_all.append(right[ok])
    left = np.concatenate(left_all) if left_all else np.zeros(0, dtype=np.int64)
    right = np.concatenate(right_all) if right_all else np.zeros(0, dtype=np.int64)
    if left.size == 0:
        raise MetricUndefined("no pair of adjacent content words in the corpus vocabulary")
    pmi = corpus.pmi(left, right)
    conventional = (pmi >= WNF_PMI) & (corpus.pair_df(left, right) >= WNF_MIN_PAIR_DF)
    glove = glove_vectors()
    vocab = corpus.vocab
    vl, fl = glove.lookup([vocab[i] for i in left])
    vr, fr = glove.lookup([vocab[i] for i in right])
    both = fl & fr
    cos = np.zeros(left.size)
    if both.any():
        # rows of vl/vr follow the found words of each side; align them on the pairs found on both
        il = np.cumsum(fl) - 1
        ir = np.cumsum(fr) - 1
        x, y = vl[il[both]], vr[ir[both]]
        norms = np.linalg.norm(x, axis=1) * np.linalg.norm(y, axis=1)
        cos[both] = np.divide(np.sum(x * y, axis=1), norms, out=np.zeros(len(x)), where=norms > 0)
    conventional |= cos >= WNF_COSINE
    return float(conventional.mean())


@metric(
    "gsd",
    component="S7",
    direction="band",
    reference="Chiru 2013 (m3, Google similarity distance, Cilibrasi & Vitanyi 2007); corpus passage counts",
    valid_range=(0.0, float("inf")),
    resources=("spacy", "corpus"),
)
@_memoized
def gsd(a: Analysis) -> float:
    """Mean normalised co-occurrence distance of content-word pairs within the corpus window.

    GSD(x, y) = (max(log f(x), log f(y)) - log f(x,y)) / (log M - min(log f(x), log f(y))) with
    f the number of reference passages holding the word(s) (f(x, y): within 5 content words of
    each other; 1/2 when never seen together) and M the number of passages, from the corpus
    resources: web page counts are not available offline. Averaged over the pairs of distinct
    in-vocabulary content words at most 5 content words apart in a paragraph. Range [0, ∞); about
    0.9-1.3 for prose with the shipped corpus (most pairs were never seen together in it); higher
    means less usual combinations.
    """
    corpus = resources.get("corpus")
    values = []
    for ids in _content_ids(a, corpus):
        for k in range(1, corpus.window + 1):
            if k >= ids.size:
                break
            left, right = ids[:-k], ids[k:]
            ok = (left >= 0) & (right >= 0) & (left != right)
            if ok.any():
                values.append(corpus.ngd(left[ok], right[ok]))
    if not values:
        raise MetricUndefined("no pair of nearby content words in the corpus vocabulary")
    return float(np.concatenate(values).mean())


@metric(
    "esa",
    component="S7",
    direction="band",
    reference="Chiru 2013 (m4, ESA, Gabrilovich & Markovitch 2007); reference passages as concepts",
    valid_range=(0.0, 1.0),
    resources=("spacy", "corpus"),
)
@_memoized
def esa(a: Analysis) -> float:
    """Mean ESA relatedness of sentence pairs: mean over i<j of cos(c_i, c_j).

    c_i = sum_w tfidf(w) C[:, w], the sentence's interpretation vector over the corpus resources'
    concept space (reference passages as concepts, TF-IDF, capped; Wikipedia is not available
    offline). Sentences without an in-vocabulary content word are left out. Range [0, 1]; high
    when every sentence evokes the same concepts. Undefined with fewer than two such sentences.
    """
    corpus = resources.get("corpus")
    sentences = [[w for w in s.words if is_content_word(w)] for s in a.sentences]
    vectors = corpus.esa_vectors(sentences)
    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    keep = norms > 0
    if keep.sum() < 2:
        raise MetricUndefined("fewer than two sentences with a word in the concept space")
    from scipy import sparse

    unit = sparse.diags(1.0 / norms[keep]) @ vectors[np.nonzero(keep)[0]]
    n = unit.shape[0]
    s = np.asarray(unit.sum(axis=0)).ravel()
    return float(np.clip((s @ s - n) / (n * (n - 1)), 0.0, 1.0))


# --------------------------------------------------------------------------------------------
# m5, m6 named entities; m7 WordNet
# --------------------------------------------------------------------------------------------


def _entities(a: Analysis) -> list[str]:
    def build() -> list[str]:
        return [
            " ".join(e.text.lower().split())
            for d in a.docs
            for e in d.ents
            if e.label_ in NAMED_ENTITY_LABELS
        ]

    return a.cached("named_entities", build)


@metric(
    "ne_count",
    component="S7",
    direction="band",
    reference="Chiru 2013 (m5, number of named entities); spaCy NER",
    valid_range=(0.0, float("inf")),
    band_include=(0.0,),  # a text without named entities is not at fault: only too many are
)
def ne_count(a: Analysis) -> float:
    """Number of named entities (spaCy NER; people, places, organisations, works, … — numeric
    types such as DATE, CARDINAL or MONEY are not counted). Chiru's raw count: it grows with
    length, so compare texts of similar length. Range [0, ∞)."""
    if not a.words:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")
    return float(len(_entities(a)))


@metric(
    "ne_diversity",
    component="S7",
    direction="higher",
    reference="Chiru 2013 (m6, named-entity diversity); spaCy NER",
    valid_range=(0.0, 1.0),
)
def ne_diversity(a: Analysis) -> float:
    """Distinct named entities / named entities (lower-cased surface forms, `ne_count`'s labels).

    Range (0, 1]; 1 when no entity repeats. Undefined for a text without named entities.
    """
    ents = _entities(a)
    if not ents:
        raise MetricUndefined("no named entities")
    return len(set(ents)) / len(ents)


@lru_cache(maxsize=65536)
def _first_synset(lemma: str, pos: str):
    wn = resources.get("wordnet")
    synsets = wn.synsets(lemma, pos=pos)
    return synsets[0] if synsets else None


@lru_cache(maxsize=262144)
def _wup(a_name: str, b_name: str) -> float | None:
    wn = resources.get("wordnet")
    return wn.synset(a_name).wup_similarity(wn.synset(b_name))


@metric(
    "wordnet_sim",
    component="S7",
    direction="band",
    reference="Chiru 2013 (m7, WordNet similarity); Wu & Palmer 1994 via NLTK WordNet 3.0",
    valid_range=(0.0, 1.0),
    resources=("spacy", "wordnet"),
)
@_memoized
def wordnet_sim(a: Analysis) -> float:
    """Mean Wu-Palmer similarity of adjacent content nouns and of adjacent content verbs.

    Nouns and verbs (spaCy POS, lemmas, content words) form two sequences; each pair of
    consecutive, different lemmas in a sequence is compared by the Wu-Palmer similarity of their
    first (most frequent) WordNet senses, 2 depth(lcs) / (depth(s1) + depth(s2)). Range (0, 1];
    lower means semantically distant neighbours (Chiru: more creative). Undefined when no pair has
    WordNet senses.
    """
    pos_map = {"NOUN": "n", "VERB": "v"}
    sequences: dict[str, list[str]] = {"n": [], "v": []}
    for t in a.word_tokens:
        p = pos_map.get(t.pos_)
        if p is not None:
            lemma = t.lemma_.lower()
            if is_content_word(lemma):
                sequences[p].append(lemma)
    sims = []
    for p, lemmas in sequences.items():
        for x, y in pairwise(lemmas):
            if x == y:
                continue
            sx, sy = _first_synset(x, p), _first_synset(y, p)
            if sx is None or sy is None:
                continue
            sim = _wup(sx.name(), sy.name())
            if sim is not None:
                sims.append(sim)
    if not sims:
        raise MetricUndefined("no pair of adjacent nouns or verbs with WordNet senses")
    return float(np.mean(sims))


# --------------------------------------------------------------------------------------------
# The classifier
# --------------------------------------------------------------------------------------------


def _feature(a: Analysis, name: str) -> float | str:
    """A feature's value, or the reason it is undefined for this text."""
    try:
        value = float(get_spec(name).func(a))
    except MetricUndefined as exc:
        return exc.reason
    return value if math.isfinite(value) else f"non-finite value ({value})"


def creativity_features(a: Analysis, names: Sequence[str] = FEATURES) -> dict[str, float | None]:
    """The named m1-m9 features of a text (None where undefined): the classifier's training rows."""
    out: dict[str, float | None] = {}
    for name in names:
        value = _feature(a, name)
        out[name] = None if isinstance(value, str) else value
    return out


def creativity_probability(features: dict[str, float | None], model: dict[str, Any]) -> float:
    """P(creative) = σ(b + Σ_f c_f (x_f − μ_f) / σ_f) over the model's selected features f, with
    σ(t) = 1 / (1 + e^−t), b the intercept, c_f the coefficients and μ_f, σ_f the training
    standardisation. Every selected feature must be given (ValueError otherwise): the metric
    never fills an undefined feature in."""
    missing = [f for f in model["selected"] if features.get(f) is None]
    if missing:
        raise ValueError(
            f"creativity_probability needs every selected feature; missing: {', '.join(missing)}"
        )
    logit = model["intercept"]
    for f in model["selected"]:
        logit += model["coef"][f] * (features[f] - model["scale_mean"][f]) / model["scale_std"][f]
    return float(1.0 / (1.0 + math.exp(-logit)))


@metric(
    "creativity_prob",
    component="S7",
    direction="higher",
    reference="Chiru 2013 (stepwise logistic regression over m1-m9); trained by wqrm build-corpus",
    valid_range=(0.0, 1.0),
    resources=("spacy", "corpus", "glove", "wordnet"),
)
def creativity_prob(a: Analysis) -> float:
    """Probability that the text is creative prose rather than conventional prose.

    P = σ(b + Σ_f c_f (x_f − μ_f) / σ_f), σ(t) = 1 / (1 + e^−t): a logistic regression over the
    m1-m9 features its forward selection kept (the shipped classifier: wnf, gsd, esa and
    coherence_tau), with the intercept b, coefficients c_f and standardisation μ_f, σ_f shipped
    in the corpus resources' creativity_lr.json (see `wqrm.fit.creativity.fit_creativity_model`).
    Trained on reference book passages and human creative-writing texts against human news,
    Wikipedia and QA texts. Range (0, 1).

    Undefined when the corpus resources hold no classifier, or when any selected feature is
    undefined for the text (the reason names it; e.g. a one-sentence text has no sentence pairs
    for esa and coherence_tau). Training filled undefined features with their mean, but a score
    that silently stands in the training mean for a missing input would look like a measurement
    of this text; such texts are about 0.5% of the development data.
    """
    model = resources.get("corpus").creativity_model
    if model is None:
        raise MetricUndefined("the corpus resources hold no creativity classifier (creativity_lr.json)")
    features = {f: _feature(a, f) for f in model["selected"]}
    undefined = {f: v for f, v in features.items() if isinstance(v, str)}
    if undefined:
        why = "; ".join(f"{f}: {reason}" for f, reason in undefined.items())
        raise MetricUndefined(f"the classifier needs {', '.join(model['selected'])}, undefined here ({why})")
    return creativity_probability(features, model)
