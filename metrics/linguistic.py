"""Human-like linguistic patterns (component S6), after Muñoz-Ortiz, Gómez-Rodríguez & Vilares
(2024), "Contrasting linguistic patterns in human and LLM-generated news text".

Syntax: dependency-length optimality Ω (its minimum linear arrangements are in
`wqrm.metrics.arrangement`), mean dependency distance, the share of left arcs, and
the divergence of the dependency-label and part-of-speech distributions from human reference
text. Emotion: the NRC Emotion Lexicon's eight Plutchik emotions over the text and its
sentences, and the spread of VADER sentiment over sentences. Representation: the balance of
masculine and feminine mentions.

Trees are taken over DESIGN.md's words: punctuation and space tokens are removed and a word
whose head was removed is attached to the nearest word above it. A sentence whose words do not
form a single tree (its only root was punctuation) is left out of Ω. Every per-text array is
built once per analysis (`word_trees`, `emotion_matrix`) and shared by the metrics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from wqrm import resources
from wqrm.analysis import Analysis
from wqrm.metrics.arrangement import min_linear_arrangements, projective_min_sum
from wqrm.metrics.registry import MetricContext, MetricUndefined, metric
from wqrm.metrics.style import reference_distribution

__all__ = [
    "FEMININE",
    "GENDER_MIN_MENTIONS",
    "MASCULINE",
    "WordTrees",
    "dep_dist_mean",
    "dep_label_counts",
    "dep_label_js",
    "emotion_counts",
    "emotion_entropy",
    "emotion_js",
    "emotion_matrix",
    "emotion_transition_rate",
    "gender_balance",
    "js_divergence",
    "left_arc_ratio",
    "omega",
    "omega_projective",
    "omega_terms",
    "pos_counts",
    "pos_js",
    "sentiment_arc_std",
    "word_trees",
]

#: Sentences with fewer words are skipped by Ω (for n = 2, D = D_min = D_rla).
OMEGA_MIN_WORDS = 3


# --------------------------------------------------------------------------------------------
# Word-level dependency trees, built once per analysis
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordTrees:
    """The text's dependency trees restricted to words, as flat arrays over its N words.

    Words are numbered in text order, so |i − head[i]| is a dependency distance in words.
    """

    head: np.ndarray  # (N,) word index of each word's head; a root points to itself
    sentence: np.ndarray  # (N,) sentence index of each word (sentences that hold a word)
    n_sentences: int
    single_tree: np.ndarray  # (n_sentences,) the sentence's words form one tree (one root)
    dep_counts: dict[str, int]  # dependency label → count over words
    pos_counts: dict[str, int]  # universal part of speech → count over words


def _label_counts(ids: np.ndarray, strings) -> dict[str, int]:
    values, counts = np.unique(ids, return_counts=True)
    return {strings[int(v)]: int(c) for v, c in zip(values, counts, strict=True)}


def _doc_word_tree(doc) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """(head, sentence, dep ids, pos ids, n_sentences) over the words of one doc, word-indexed."""
    arr = doc.to_array(["HEAD", "DEP", "POS", "IS_PUNCT", "IS_SPACE"])
    n = len(arr)
    idx = np.arange(n)
    head = idx + arr[:, 0].astype(np.int64)
    is_word = (arr[:, 3] == 0) & (arr[:, 4] == 0)
    # climb from every non-word token to the nearest word (or root) above it: pointer jumping
    up = np.where(is_word | (head == idx), idx, head)
    for _ in range(64):
        nxt = up[up]
        if np.array_equal(nxt, up):
            break
        up = nxt
    words = np.flatnonzero(is_word)
    word_head_tok = up[head[words]]
    is_root = (head[words] == words) | ~is_word[word_head_tok]
    word_index = np.cumsum(is_word) - 1
    whead = np.where(is_root, np.arange(words.size), word_index[word_head_tok])
    starts = np.array([s.start for s in doc.sents], dtype=np.int64)
    tok_sentence = np.searchsorted(starts, idx, side="right") - 1
    sent_of_word = tok_sentence[words]
    # renumber sentences to those holding a word, in order
    used, sentence = np.unique(sent_of_word, return_inverse=True)
    return whead, sentence.astype(np.int64), arr[words, 1], arr[words, 2], int(used.size)


def word_trees(a: Analysis) -> WordTrees:
    """The `WordTrees` of the text (built once per analysis and cached)."""

    def build() -> WordTrees:
        heads, sents, deps, poss = [], [], [], []
        word_offset = sent_offset = 0
        strings = None
        for doc in a.docs:
            strings = doc.vocab.strings
            h, s, d, p, k = _doc_word_tree(doc)
            heads.append(h + word_offset)
            sents.append(s + sent_offset)
            deps.append(d)
            poss.append(p)
            word_offset += h.size
            sent_offset += k
        if word_offset == 0:
            empty = np.zeros(0, dtype=np.int64)
            return WordTrees(empty, empty, 0, np.zeros(0, dtype=bool), {}, {})
        head = np.concatenate(heads)
        sentence = np.concatenate(sents)
        roots = np.bincount(sentence[head == np.arange(head.size)], minlength=sent_offset)
        return WordTrees(
            head=head,
            sentence=sentence,
            n_sentences=sent_offset,
            single_tree=roots == 1,
            dep_counts=_label_counts(np.concatenate(deps), strings),
            pos_counts=_label_counts(np.concatenate(poss), strings),
        )

    return a.cached("word_trees", build)


# --------------------------------------------------------------------------------------------
# Ω: dependency length optimality
# --------------------------------------------------------------------------------------------


def omega_terms(trees: WordTrees, projective: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n, D, D_min) for every sentence that is a single tree of at least 3 words; D_min is the
    unconstrained minimum linear arrangement, or the projective minimum with `projective=True`."""
    sentence_words = np.bincount(trees.sentence, minlength=trees.n_sentences)
    keep_sentence = trees.single_tree & (sentence_words >= OMEGA_MIN_WORDS)
    keep = keep_sentence[trees.sentence]
    if not keep.any():
        return np.zeros(0), np.zeros(0), np.zeros(0)
    words = np.flatnonzero(keep)
    renumber = np.full(trees.head.size, -1, dtype=np.int64)
    renumber[words] = np.arange(words.size)
    head = renumber[trees.head[words]]
    used, tree = np.unique(trees.sentence[words], return_inverse=True)
    n = sentence_words[used].astype(np.float64)
    d = np.bincount(tree, weights=np.abs(np.arange(words.size) - head), minlength=used.size)
    d_min = projective_min_sum(head, tree) if projective else min_linear_arrangements(head, tree)
    return n, d, d_min


def _omega(a: Analysis, projective: bool) -> float:
    key = "omega_terms_projective" if projective else "omega_terms"
    n, d, d_min = a.cached(key, lambda: omega_terms(word_trees(a), projective))
    if n.size == 0:
        raise MetricUndefined(f"no sentence with a dependency tree of at least {OMEGA_MIN_WORDS} words")
    d_rla = (n**2 - 1) / 3
    return float(np.mean((d_rla - d) / (d_rla - d_min)))


@metric(
    "omega",
    component="S6",
    direction="band",
    reference="Ferrer-i-Cancho et al. 2022 (Ω); Muñoz-Ortiz et al. 2024; D_min: Chung 1984",
    valid_range=(float("-inf"), 1.0),
)
def omega(a: Analysis) -> float:
    """Dependency length optimality Ω, averaged over sentences.

    Ω = (D_rla − D) / (D_rla − D_min) per sentence, D = Σ |i − head(i)| over its word arcs,
    D_rla = (n² − 1)/3 the expected D of a uniformly random arrangement of its n words, and D_min
    the **unconstrained** minimum linear arrangement of its tree (the minimum of D over all n!
    orders of the words, Ferrer-i-Cancho et al.'s definition), computed exactly by Chung's
    algorithm (`wqrm.metrics.arrangement.min_linear_arrangement`). Sentences under 3 words, or
    whose words do not form one tree, are skipped. Range (−∞, 1]: 1 when the sentence is
    arranged optimally, 0 at random expectation, negative when worse than random (a star with
    its hub at one end gives about −2). About 0.6-0.9 for English prose.
    """
    return _omega(a, projective=False)


@metric(
    "omega_projective",
    component=None,
    direction="band",
    reference="descriptive (Ω against the projective minimum; Gildea & Temperley 2007)",
    valid_range=(float("-inf"), float("inf")),
)
def omega_projective(a: Analysis) -> float:
    """Ω with D_min the minimum over *projective* arrangements (every subtree contiguous, no arc
    covering the root; `wqrm.metrics.arrangement.projective_min_sum`) instead of all arrangements.

    Same averaging and skipped sentences as `omega`. Range (−∞, ∞): 1 at the projective optimum;
    above 1 when a non-projective order beats every projective one (the tree heads = [1, 3, 2, 2,
    3, 4] in text order gives 1.214). Descriptive: reported, not scored.
    """
    return _omega(a, projective=True)


def _arcs(a: Analysis) -> tuple[np.ndarray, np.ndarray]:
    trees = word_trees(a)
    dependents = np.flatnonzero(trees.head != np.arange(trees.head.size))
    if dependents.size == 0:
        raise MetricUndefined("no dependency arc between words (every sentence is one word)")
    return dependents, trees.head[dependents]


@metric(
    "dep_dist_mean",
    component="S6",
    direction="band",
    reference="Liu 2008 (mean dependency distance); Muñoz-Ortiz et al. 2024",
    valid_range=(1.0, float("inf")),
)
def dep_dist_mean(a: Analysis) -> float:
    """Mean dependency distance: (1/|A|) Σ_{arcs} |i − head(i)|, in words, over every word arc.

    Range [1, ∞); about 2-3 for English prose.
    """
    dependents, heads = _arcs(a)
    return float(np.abs(dependents - heads).mean())


@metric(
    "left_arc_ratio",
    component="S6",
    direction="band",
    reference="Muñoz-Ortiz et al. 2024 (dependency directions)",
    valid_range=(0.0, 1.0),
)
def left_arc_ratio(a: Analysis) -> float:
    """Share of left arcs: word arcs whose dependent precedes its head (i < head(i)).

    Range [0, 1]; about 0.5-0.6 for English prose (determiners, adjectives and subjects precede
    their heads).
    """
    dependents, heads = _arcs(a)
    return float((dependents < heads).mean())


# --------------------------------------------------------------------------------------------
# Distributions compared with the reference profile
# --------------------------------------------------------------------------------------------


def js_divergence(p: Mapping[str, float], q: Mapping[str, float]) -> float:
    """Jensen–Shannon divergence in bits between two count tables (normalised; union of keys).

    JS(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = (P + Q)/2, via scipy's `jensenshannon` (which
    returns its square root). Range [0, 1]; symmetric; 0 iff the distributions are equal.
    """
    from scipy.spatial.distance import jensenshannon

    keys = sorted(set(p) | set(q))
    pv = np.array([p.get(k, 0.0) for k in keys], dtype=np.float64)
    qv = np.array([q.get(k, 0.0) for k in keys], dtype=np.float64)
    if pv.sum() <= 0 or qv.sum() <= 0:
        raise MetricUndefined("an empty distribution")
    return float(np.clip(jensenshannon(pv, qv, base=2) ** 2, 0.0, 1.0))


def dep_label_counts(a: Analysis) -> dict[str, int]:
    """Dependency label → count over the text's words (ROOT included)."""
    return word_trees(a).dep_counts


def pos_counts(a: Analysis) -> dict[str, int]:
    """Universal part of speech → count over the text's words."""
    return word_trees(a).pos_counts


def _js_from_stats(key: str, stats: dict[str, Any], distributions: dict[str, Any]) -> float:
    counts = stats[key]
    if counts is None or not sum(counts.values()):
        raise MetricUndefined(f"no {key} counts for this text")
    return js_divergence(counts, distributions[key]["counts"])


def dep_label_js_from_stats(stats: dict[str, Any], distributions: dict[str, Any]) -> float:
    return _js_from_stats("dep_label", stats, distributions)


def pos_js_from_stats(stats: dict[str, Any], distributions: dict[str, Any]) -> float:
    return _js_from_stats("pos", stats, distributions)


def emotion_js_from_stats(stats: dict[str, Any], distributions: dict[str, Any]) -> float:
    return _js_from_stats("emotion", stats, distributions)


def _require_words(a: Analysis) -> None:
    if not a.words:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")


@metric(
    "dep_label_js",
    component="S6",
    direction="lower",
    reference="Muñoz-Ortiz et al. 2024 (dependency-type distributions); Lin 1991 (JS)",
    valid_range=(0.0, 1.0),
)
def dep_label_js(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Jensen–Shannon divergence (bits) of the text's dependency-label distribution from human text.

    JS(P_text, P_ref) over spaCy dependency labels of the text's words (ROOT included), against
    the reference profile's pooled human label counts. Range [0, 1]; lower is more human-like.
    """
    _require_words(a)
    return dep_label_js_from_stats(
        {"dep_label": dep_label_counts(a)}, {"dep_label": reference_distribution(ctx, "dep_label", a.lang)}
    )


@metric(
    "pos_js",
    component="S6",
    direction="lower",
    reference="Muñoz-Ortiz et al. 2024 (part-of-speech distributions); Lin 1991 (JS)",
    valid_range=(0.0, 1.0),
)
def pos_js(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Jensen–Shannon divergence (bits) of the text's part-of-speech distribution from human text.

    JS(P_text, P_ref) over the universal POS tags of the text's words, against the reference
    profile's pooled human counts. Range [0, 1]; lower is more human-like.
    """
    _require_words(a)
    return pos_js_from_stats({"pos": pos_counts(a)}, {"pos": reference_distribution(ctx, "pos", a.lang)})


# --------------------------------------------------------------------------------------------
# Emotions (NRC Emotion Lexicon) and sentiment (VADER)
# --------------------------------------------------------------------------------------------


def emotion_matrix(a: Analysis) -> np.ndarray:
    """(n_sentences, 8) counts of NRC emotion associations per sentence, in `NRC_EMOTIONS` order.

    A word counts for every emotion the lexicon lists for it, looked up by its lower-cased form,
    else by its lemma. Cached per analysis.
    """

    def build() -> np.ndarray:
        lexicon = resources.get("nrc")
        rows, cols = [], []
        for i, sent in enumerate(a.sentences):
            for word, token in zip(sent.words, sent.word_tokens, strict=True):
                ids = lexicon.get(word)
                if ids is None:
                    ids = lexicon.get(token.lemma_.lower())
                if ids:
                    rows.extend([i] * len(ids))
                    cols.extend(ids)
        m = np.zeros((len(a.sentences), len(resources.NRC_EMOTIONS)), dtype=np.int64)
        np.add.at(m, (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)), 1)
        return m

    return a.cached("emotion_matrix", build)


def emotion_counts(a: Analysis) -> dict[str, int]:
    """Emotion → number of the text's word-emotion associations (NRC, 8 emotions)."""
    totals = emotion_matrix(a).sum(axis=0)
    return {e: int(c) for e, c in zip(resources.NRC_EMOTIONS, totals, strict=True)}


def _emotion_totals(a: Analysis) -> np.ndarray:
    totals = emotion_matrix(a).sum(axis=0)
    if totals.sum() == 0:
        raise MetricUndefined("no word of the text is in the NRC emotion lexicon")
    return totals


@metric(
    "emotion_js",
    component="S6",
    direction="lower",
    reference="Muñoz-Ortiz et al. 2024 (emotion distributions); Mohammad & Turney 2013 (NRC lexicon)",
    valid_range=(0.0, 1.0),
    resources=("spacy", "nrc"),
)
def emotion_js(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Jensen–Shannon divergence (bits) of the text's emotion distribution from human text.

    P_text(e) ∝ the number of word-emotion associations of emotion e (NRC lexicon, Plutchik's 8
    emotions; see `emotion_matrix`), against the reference profile's pooled human counts.
    Range [0, 1]; undefined when no word is in the lexicon.
    """
    _emotion_totals(a)
    return emotion_js_from_stats(
        {"emotion": emotion_counts(a)}, {"emotion": reference_distribution(ctx, "emotion", a.lang)}
    )


@metric(
    "emotion_entropy",
    component="S6",
    direction="band",
    reference="Muñoz-Ortiz et al. 2024 (emotions); Mohammad & Turney 2013 (NRC lexicon); Shannon 1948",
    valid_range=(0.0, 3.0),
    resources=("spacy", "nrc"),
)
def emotion_entropy(a: Analysis) -> float:
    """Shannon entropy (bits) of the text's NRC emotion distribution: H = −Σ_e p(e) log₂ p(e).

    Over Plutchik's 8 emotions, p(e) ∝ word-emotion associations. Range [0, 3]: 0 when one
    emotion is expressed, 3 when all eight are equally present; low values read emotionally flat.
    """
    from scipy.stats import entropy

    return float(entropy(_emotion_totals(a), base=2))


@metric(
    "emotion_transition_rate",
    component="S6",
    direction="band",
    reference="WQRM guide §2.3.5 (emotion transitions); Mohammad & Turney 2013 (NRC lexicon)",
    valid_range=(0.0, 1.0),
    resources=("spacy", "nrc"),
)
def emotion_transition_rate(a: Analysis) -> float:
    """Share of consecutive emotion-bearing sentences whose dominant emotion changes.

    A sentence's dominant emotions are those with its highest NRC association count (ties kept
    together); sentences without an emotion word are skipped; a transition is a pair of
    consecutive emotion-bearing sentences whose dominant sets are disjoint. Rate = transitions /
    pairs. Range [0, 1]; undefined with fewer than 2 emotion-bearing sentences.
    """
    m = emotion_matrix(a)
    m = m[m.sum(axis=1) > 0]
    if m.shape[0] < 2:
        raise MetricUndefined("fewer than 2 sentences with an emotion word")
    dominant = m == m.max(axis=1, keepdims=True)
    shared = (dominant[1:] & dominant[:-1]).any(axis=1)
    return float((~shared).mean())


@metric(
    "sentiment_arc_std",
    component="S6",
    direction="band",
    reference="Hutto & Gilbert 2014 (VADER); WQRM guide §3.2.3 (sentiment dynamics)",
    valid_range=(0.0, 1.0),
    resources=("spacy", "vader"),
)
def sentiment_arc_std(a: Analysis) -> float:
    """Spread of the sentiment arc: population std of VADER compound scores over sentences.

    Each sentence holding a word gets VADER's compound score in [−1, 1]. Range [0, 1]; 0 for a
    flat arc. Undefined with fewer than 2 sentences.
    """
    sentences = [s.text for s in a.sentences if s.words]
    if len(sentences) < 2:
        raise MetricUndefined("fewer than 2 sentences: no sentiment arc")
    vader = resources.get("vader")
    scores = np.array([vader.polarity_scores(s)["compound"] for s in sentences])
    return float(scores.std())


# --------------------------------------------------------------------------------------------
# Gender balance
# --------------------------------------------------------------------------------------------

#: Masculine mentions: pronouns and a small list of gendered nouns and titles (lower-cased words).
MASCULINE = frozenset(
    """
    he him his himself man men boy boys father fathers son sons brother brothers husband husbands
    king kings prince princes uncle uncles nephew nephews grandfather grandfathers grandson
    grandsons gentleman gentlemen lord lords sir mr mr. dad daddy boyfriend mister monk monks
    """.split()  # noqa: SIM905
)
#: Feminine mentions: the counterparts of `MASCULINE`.
FEMININE = frozenset(
    """
    she her hers herself woman women girl girls mother mothers daughter daughters sister sisters
    wife wives queen queens princess princesses aunt aunts niece nieces grandmother grandmothers
    granddaughter granddaughters lady ladies madam mrs mrs. ms ms. mom mum mommy girlfriend nun
    nuns
    """.split()  # noqa: SIM905
)
#: Fewest gendered mentions for which `gender_balance` is reported.
GENDER_MIN_MENTIONS = 5


@metric(
    "gender_balance",
    component="S6",
    direction="higher",
    reference="Muñoz-Ortiz et al. 2024 (gender bias); WQRM guide §2.3.5 (representation balance)",
    valid_range=(0.0, 1.0),
    languages=("en",),  # English gendered pronouns and nouns
)
def gender_balance(a: Analysis) -> float:
    """Balance of gendered mentions: 1 − |m − f| / (m + f).

    m, f = the text's words in `MASCULINE` / `FEMININE` (pronouns he/him/his/himself and
    she/her/hers/herself, plus a small list of gendered nouns and titles). Range [0, 1]: 1 when
    both are mentioned equally, 0 when only one is. Undefined under 5 gendered mentions.
    Higher is better (the guide's "representation balance"): its goodness is the percentile among
    reference passages, so perfect balance is at the top of the scale.
    """
    m = sum(w in MASCULINE for w in a.words)
    f = sum(w in FEMININE for w in a.words)
    if m + f < GENDER_MIN_MENTIONS:
        raise MetricUndefined(f"fewer than {GENDER_MIN_MENTIONS} gendered mentions ({m + f})")
    return 1.0 - abs(m - f) / (m + f)
