"""Coherence and flow (component S4): semantic continuity and syntactic structure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wqrm.analysis import Analysis, Sentence
from wqrm.metrics.registry import MetricUndefined, metric
from wqrm.sentence_order import adjacency_weights

__all__ = [
    "adjacent_similarity_gain",
    "branching_mean",
    "dep_depth_mean",
    "ec",
    "entity_relations",
    "mi_segments",
    "next_sentence_gain",
    "parse_validity",
    "sc",
    "syn",
    "tree_shape",
]

SYN_ALPHA = 0.6
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass", "expl", "nsubj:pass", "csubj:pass"})


@metric(
    "sc",
    component="S4",
    direction="band",
    band=(0.3, 0.7),
    reference="WQRM guide §2.3.5 (SC, semantic continuity); all-MiniLM-L6-v2 embeddings",
    valid_range=(-1.0, 1.0),
    resources=("spacy", "sentence_encoder"),
)
def sc(a: Analysis) -> float:
    """Semantic continuity: mean cosine of adjacent sentence embeddings.

    SC = (1/(n−1)) Σ_{i<n} cos(e_i, e_{i+1}), e_i the unit-length all-MiniLM-L6-v2 embedding of
    sentence i. Range [−1, 1]; the source's good band is 0.3-0.7 (lower reads incoherent, higher
    repetitive), refined by the reference profile. Undefined for a single sentence.
    """
    if len(a.sentences) < 2:
        raise MetricUndefined("one sentence: no adjacent sentence pair")
    e = a.sentence_embeddings
    return float(np.einsum("ij,ij->i", e[:-1], e[1:]).mean())


@metric(
    "adjacent_similarity_gain",
    component="S4",
    direction="higher",
    reference="Foltz, Kintsch & Landauer 1998 (adjacent-sentence coherence); sentence-order "
    "discrimination as in Barzilay & Lapata 2008; all-MiniLM-L6-v2 embeddings",
    valid_range=(-2.0, 2.0),
    resources=("spacy", "sentence_encoder"),
    version=2,
)
def adjacent_similarity_gain(a: Analysis) -> float:
    """How much closer each sentence is to its successor than to the text's other sentences:
    `sc` minus, sentence by sentence, its weighted mean cosine with the others.

    G = (1/(n−1)) Σ_{i<n} [cos(e_i, e_{i+1}) − Σ_{k≠i} w_k cos(e_i, e_k) / Σ_{k≠i} w_k], e_i the
    unit sentence embeddings of `sc` and w_k the number of adjacent pairs sentence k belongs to (1
    at the ends, 2 inside; `wqrm.sentence_order.adjacency_weights`). Each sentence's row is
    centred on its own mean (version 2, session 35): with one baseline over all pairs, a sentence
    close to everything (a borrowed generic sentence, appended or swapped in) earned the gain
    wherever it stood. For a sentence at position i any other sentence is as likely at i + 1 as
    anywhere else when the order is shuffled, so E[G] = 0 for shuffled sentences; text that
    develops a thought sentence by sentence has G > 0. Range [−2, 2]; `higher`: a band would
    charge the most cohesive human paragraphs and pay a variant that breaks them up into the
    band. Undefined below three sentences (with two, G = 0 whatever their order).
    """
    n = len(a.sentences)
    if n < 3:
        raise MetricUndefined("fewer than three sentences: no order to judge")
    e = np.asarray(a.sentence_embeddings, dtype=np.float64)
    w = adjacency_weights(n)
    rows = e[:-1]  # the last sentence has no successor: its row is not read
    baseline = (rows @ (w @ e) - w[:-1] * np.einsum("ij,ij->i", rows, rows)) / (w.sum() - w[:-1])
    return float(np.mean(np.einsum("ij,ij->i", rows, e[1:]) - baseline))


@metric(
    "next_sentence_gain",
    component="S4",
    direction="higher",
    reference="next-sentence prediction (Devlin et al. 2019) and sentence-order discrimination "
    "(Barzilay & Lapata 2008) by a pairwise model on sentence vectors (Chen, Qiu & Huang 2016); "
    "all-MiniLM-L6-v2 embeddings, model trained on reference books (wqrm.build.sentence_order)",
    valid_range=(-float("inf"), float("inf")),
    resources=("spacy", "sentence_encoder", "corpus"),
    languages=("en",),
    version=2,
)
def next_sentence_gain(a: Analysis) -> float:
    """How much more likely each sentence is to be followed by its own successor than by any other
    sentence of the text, in logits of a learned next-sentence model.

    G = (1/(n−1)) Σ_{i<n} [f(e_i, e_{i+1}) − Σ_{k≠i} w_k f(e_i, e_k) / Σ_{k≠i} w_k], e_i the unit
    sentence embeddings of `sc`, w_k the adjacent pairs sentence k belongs to (1 at the ends, 2
    inside, as in `adjacent_similarity_gain`) and f the logit that e_k is the sentence written
    right after e_i (`wqrm.sentence_order.SentenceOrderModel`, trained on adjacent sentence pairs
    of reference books against the pair reversed, pairs of the same passage further apart and
    pairs with a sentence of another passage; `wqrm.build.sentence_order`). Each sentence's row is
    centred on its own mean (version 2, session 35): one baseline over all pairs credited a
    successor that reads as a plausible follower of anything, wherever it stood (the red team's
    borrowed sentence). Shuffled sentences give E[G] = 0, and so do sentences that could stand in
    any order (one sentence repeated, lorem ipsum); text that moves forward sentence by sentence
    has G > 0. Range (−∞, ∞), in practice about −1 to 2. `higher`: the learned counterpart of
    `adjacent_similarity_gain`, which reads cosines instead of a model of what comes next.
    Undefined below three sentences (with two, G = 0 whatever their order).
    """
    from wqrm import resources  # deferred: the corpus resources load on first use, not at import

    if len(a.sentences) < 3:
        raise MetricUndefined("fewer than three sentences: no order to judge")
    return resources.get("corpus").sentence_order.order_gain(a.sentence_embeddings)


@dataclass(frozen=True)
class TreeShape:
    """Per-sentence dependency-tree shape over words: depth and mean branching factor."""

    depth: np.ndarray  # longest root-to-word path, in arcs (one-word sentence: 0)
    branching: np.ndarray  # mean number of word children of the words that have any (else 0)


def _doc_shapes(doc) -> list[tuple[int, float]]:
    """(depth, branching) of every sentence of `doc` that holds a word, vectorised over the doc."""
    arr = doc.to_array(["HEAD", "IS_PUNCT", "IS_SPACE"]).astype(np.int64)
    n = len(arr)
    if n == 0:
        return []
    idx = np.arange(n)
    heads = idx + arr[:, 0]
    is_word = (arr[:, 1] == 0) & (arr[:, 2] == 0)
    # depth of every token by pointer jumping: one vectorised step per tree level
    depth = np.zeros(n, dtype=np.int64)
    cur = idx.copy()
    for _ in range(n):
        moving = heads[cur] != cur
        if not moving.any():
            break
        depth[moving] += 1
        cur[moving] = heads[cur[moving]]
    children = np.bincount(heads[is_word & (heads != idx)], minlength=n)
    shapes = []
    for sent in doc.sents:
        words = is_word[sent.start : sent.end]
        if not words.any():
            continue
        c = children[sent.start : sent.end][words]
        internal = c[c > 0]
        shapes.append(
            (int(depth[sent.start : sent.end][words].max()), float(internal.mean()) if internal.size else 0.0)
        )
    return shapes


def tree_shape(a: Analysis) -> TreeShape:
    """Depth and branching of every sentence's dependency tree (computed once per analysis)."""

    def build() -> TreeShape:
        shapes = [s for doc in a.docs for s in _doc_shapes(doc)]
        return TreeShape(
            np.array([d for d, _ in shapes], dtype=np.float64),
            np.array([b for _, b in shapes], dtype=np.float64),
        )

    return a.cached("tree_shape", build)


def _shape_or_undefined(a: Analysis) -> TreeShape:
    shape = tree_shape(a)
    if shape.depth.size == 0:
        raise MetricUndefined("no sentence holds a word")
    return shape


@metric(
    "syn",
    component="S4",
    direction="band",
    reference="WQRM guide §2.3.5 (SYN, syntactic complexity)",
    valid_range=(0.0, float("inf")),
)
def syn(a: Analysis) -> float:
    """Syntactic complexity: SYN = 0.6 · mean depth(T_i) + 0.4 · mean branching(T_i).

    Over each sentence's dependency tree restricted to words: depth(T) = arcs on the longest
    root-to-word path (0 for a one-word sentence); branching(T) = mean number of word children of
    the words that have at least one (0 for a one-word sentence). Range [0, ∞); about 3-5 for prose.
    """
    shape = _shape_or_undefined(a)
    return SYN_ALPHA * float(shape.depth.mean()) + (1 - SYN_ALPHA) * float(shape.branching.mean())


@metric(
    "dep_depth_mean",
    component=None,
    direction="band",
    reference="descriptive (SYN's depth term)",
    valid_range=(0.0, float("inf")),
)
def dep_depth_mean(a: Analysis) -> float:
    """Mean dependency-tree depth: (1/S) Σ_s depth(T_s), depth = arcs on the longest root-to-word
    path of sentence s's tree over words (0 for a one-word sentence); SYN's first term.
    Descriptive (not scored). Range [0, ∞)."""
    return float(_shape_or_undefined(a).depth.mean())


@metric(
    "branching_mean",
    component=None,
    direction="band",
    reference="descriptive (SYN's branching term)",
    valid_range=(0.0, float("inf")),
)
def branching_mean(a: Analysis) -> float:
    """Mean branching factor: (1/S) Σ_s b(T_s), b(T) = the mean number of word children over the
    words of T that have at least one (0 for a one-word sentence); SYN's second term.
    Descriptive (not scored). Range [0, ∞)."""
    return float(_shape_or_undefined(a).branching.mean())


def is_complete_clause(sent: Sentence, lang: str = "en") -> bool:
    """A sentence parses as a complete clause.

    English: its root is a verb or auxiliary with a subject (nsubj, nsubjpass, csubj, csubjpass,
    expl), or a bare-form verb (imperative, tag VB). Russian (UD labels, nsubj:pass, csubj:pass):
    its root has a subject whatever its part of speech (the present-tense copula is not written:
    "Он врач."), or is a finite verb (VerbForm=Fin, imperatives included: the verb's ending
    carries the dropped subject, "Пошёл домой."). Infinitive, participle and verbless roots
    without a subject are fragments in both.
    """
    root = sent.span.root
    has_subject = any(child.dep_ in SUBJECT_DEPS for child in root.children)
    if lang == "ru":
        return has_subject or (root.pos_ in ("VERB", "AUX") and "Fin" in root.morph.get("VerbForm"))
    if root.pos_ not in ("VERB", "AUX"):
        return False
    if has_subject:
        return True
    return root.tag_ == "VB"


@metric(
    "parse_validity",
    component="S4",
    direction="higher",
    reference="WQRM guide §3.2.2 (parse tree validity)",
    valid_range=(0.0, 1.0),
)
def parse_validity(a: Analysis) -> float:
    """Share of sentences whose parse is a complete clause (see `is_complete_clause`).

    PV = |{sentences with a verbal root and a subject, or an imperative root}| / |sentences with
    words|. Range [0, 1]. Fragments ("In the morning.") and verbless lines count as not valid.
    """
    sentences = [s for s in a.sentences if s.words]
    if not sentences:
        raise MetricUndefined("no sentence holds a word")
    return sum(is_complete_clause(s, a.lang) for s in sentences) / len(sentences)


# --------------------------------------------------------------------------------------------
# ec: entity consistency
# --------------------------------------------------------------------------------------------

#: Named-entity types that name a character, place or thing whose attributes should persist.
ENTITY_TYPES = frozenset(
    {"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LANGUAGE"}
)
#: Colour words (one slot: two different colours for the same thing conflict); variants → canonical.
_BASIC_COLOURS = "red blue green yellow brown black white grey purple pink orange violet silver"
COLOURS = {
    **{c: c for c in _BASIC_COLOURS.split()},
    **{"gray": "grey", "blonde": "blond", "blond": "blond", "auburn": "auburn", "hazel": "hazel"},
    **{"golden": "gold", "gold": "gold", "ginger": "ginger"},
}
#: Stable attributes with antonymous values: adjective → (scale, polarity). Values of one scale
#: with different polarity conflict. Passing states (happy/sad, tired, angry) are left out.
SCALES = {
    **dict.fromkeys(("tall", "long"), ("length", 1)),
    "short": ("length", -1),
    **dict.fromkeys(("old", "elderly", "aged"), ("age", 1)),
    **dict.fromkeys(("young", "youthful", "new"), ("age", -1)),
    **dict.fromkeys(("alive", "living"), ("life", 1)),
    **dict.fromkeys(("dead", "deceased"), ("life", -1)),
    "married": ("marriage", 1),
    **dict.fromkeys(("single", "unmarried"), ("marriage", -1)),
    **dict.fromkeys(("rich", "wealthy"), ("wealth", 1)),
    **dict.fromkeys(("poor", "penniless"), ("wealth", -1)),
    **dict.fromkeys(("fat", "stout", "plump", "heavy", "overweight"), ("build", 1)),
    **dict.fromkeys(("thin", "slim", "skinny", "slender", "lean"), ("build", -1)),
    **dict.fromkeys(("big", "large", "huge", "enormous"), ("size", 1)),
    **dict.fromkeys(("small", "tiny", "little"), ("size", -1)),
}
#: Occupations (one slot: two different occupations for the same entity conflict).
PROFESSIONS = frozenset(
    """
    accountant actor actress architect artist astronaut baker banker barber blacksmith butcher
    captain carpenter cashier chef clerk cook dancer dentist detective doctor driver editor
    engineer farmer firefighter fisherman gardener guard hunter janitor journalist judge lawyer
    librarian maid mechanic merchant midwife miner musician nurse painter pharmacist photographer
    physician pilot plumber poet police policeman policewoman politician priest professor
    programmer sailor salesman scientist secretary senator sheriff shepherd singer soldier surgeon
    tailor teacher thief veterinarian waiter waitress writer
    """.split()  # noqa: SIM905
)
_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
)
NUMBER_WORDS = {w: i for i, w in enumerate(_NUMBERS.split())} | {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
#: spaCy's symbol ids of the universal tags NOUN and PROPN (fixed in spaCy's symbol table; the
#: arrays of `Doc.to_array(["POS"])` hold them). Literal so that importing the metrics does not
#: import spaCy; tests/metrics/test_coherence.py checks them against `spacy.parts_of_speech`.
_NOUN, _PROPN = 92, 96


def _number(token) -> str:
    text = token.lower_.replace(",", "")
    if text in NUMBER_WORDS:
        return str(NUMBER_WORDS[text])
    try:
        return str(float(text)).removesuffix(".0")
    except ValueError:
        return text


def _age_of(token) -> str | None:
    """'twelve years old' → '12': an `old` with a `year(s)` child that has a number."""
    for child in token.children:
        if child.lemma_.lower() in ("year", "years"):
            for num in child.children:
                if num.dep_ == "nummod":
                    return _number(num)
    return None


def _values(token, numbers_are_ages: bool) -> list[tuple[str, str]]:
    """(slot, value) pairs a predicate or modifier token states, for itself and its conjuncts."""
    out = []
    for t in (token, *(c for c in token.children if c.dep_ == "conj")):
        lower = t.lower_
        if t.pos_ == "NUM" or t.like_num:
            if numbers_are_ages:
                out.append(("age", _number(t)))
            continue
        if lower == "old" and (age := _age_of(t)) is not None:
            out.append(("age", age))
        elif lower in COLOURS:
            out.append(("colour", COLOURS[lower]))
        elif lower in SCALES:
            scale, polarity = SCALES[lower]
            out.append((scale, str(polarity)))
        elif t.pos_ == "NOUN" and t.lemma_.lower() in PROFESSIONS:
            out.append(("profession", t.lemma_.lower()))
    return out


@dataclass(frozen=True)
class Relation:
    """One stated attribute: entity, the part of it described ('' for itself), slot and value."""

    entity: str
    target: str
    slot: str
    value: str


class _EntityKeys:
    """Token → entity key, computed on demand: named entities (whole span), proper nouns (with
    their compound proper nouns) and common nouns whose lemma recurs in the doc. Pronouns are not
    resolved."""

    def __init__(self, doc, pos: np.ndarray, lemma: np.ndarray):
        self.doc = doc
        values, counts = np.unique(lemma[pos == _NOUN], return_counts=True)
        self.recurring = set(values[counts >= 2].tolist())
        self.lemma = lemma
        self._ents: dict[int, str] | None = None

    def __call__(self, t) -> str | None:
        if t.ent_type_:
            if self._ents is None:
                self._ents = {
                    i: ent.text.lower()
                    for ent in self.doc.ents
                    if ent.label_ in ENTITY_TYPES
                    for i in range(ent.start, ent.end)
                }
            if t.i in self._ents:
                return self._ents[t.i]
        if t.pos == _PROPN:
            parts = [c.lower_ for c in t.lefts if c.dep_ == "compound" and c.pos == _PROPN]
            return " ".join([*parts, t.lower_])
        if t.pos == _NOUN and int(self.lemma[t.i]) in self.recurring:
            return t.lemma_.lower()
        return None


def _doc_relations(doc) -> list[Relation]:
    arr = doc.to_array(["HEAD", "DEP", "POS", "LEMMA"])
    idx = np.arange(len(arr))
    heads = idx + arr[:, 0].astype(np.int64)
    dep, pos, lemma = arr[:, 1], arr[:, 2], arr[:, 3]
    strings = doc.vocab.strings
    subject = (dep == strings["nsubj"]) | (dep == strings["nsubjpass"])
    # only the tokens that can state an attribute are visited (no Python loop over every token)
    candidates = np.flatnonzero(
        (subject & (lemma[heads] == strings["be"]))
        | ((dep == strings["poss"]) & (pos[heads] == _NOUN))
        | (dep == strings["appos"])
        | ((dep == strings["dobj"]) & (lemma[heads] == strings["have"]))
    )
    if candidates.size == 0:
        return []
    key = _EntityKeys(doc, pos, lemma)
    out: list[Relation] = []

    def add(entity_token, target: str, pairs: list[tuple[str, str]]) -> None:
        if not pairs:
            return
        entity = key(entity_token)
        if entity is not None:
            out.extend(Relation(entity, target, slot, value) for slot, value in pairs)

    for i in candidates.tolist():
        t = doc[i]
        d = t.dep_
        if d in _SUBJECTS:
            # copula: "Anna was tall", "Anna was a nurse", "Anna was 12", "Anna's eyes were blue"
            possessor = next((c for c in t.children if c.dep_ == "poss"), None)
            for pred in t.head.children:
                if pred.dep_ in ("acomp", "attr"):
                    pairs = _values(pred, numbers_are_ages=True)
                    if possessor is not None and key(possessor) is not None:
                        add(possessor, t.lemma_.lower(), [p for p in pairs if p[0] != "age"])
                    else:
                        add(t, "", pairs)
        elif d == "poss":
            # possessive with modifiers: "Anna's blue eyes", "Tom's two dogs"
            owned = t.head
            pairs = [p for c in owned.children if c.dep_ == "amod" for p in _values(c, False)]
            pairs += [("count", _number(c)) for c in owned.children if c.dep_ == "nummod"]
            add(t, owned.lemma_.lower(), pairs)
        elif d == "appos":
            # apposition: "Anna, a nurse,", "Anna, 12,", "Tom, a tall man,"
            pairs = _values(t, numbers_are_ages=True)
            pairs += [p for c in t.children if c.dep_ == "amod" for p in _values(c, False)]
            add(t.head, "", pairs)
        else:
            # counts: "Tom had three sisters"
            subject_token = next((c for c in t.head.children if c.dep_ in _SUBJECTS), None)
            nums = [c for c in t.children if c.dep_ == "nummod"]
            if subject_token is not None and nums:
                add(subject_token, t.lemma_.lower(), [("count", _number(nums[0]))])
    return out


def entity_relations(a: Analysis) -> list[Relation]:
    """Every (entity, target, slot, value) the text states, in text order (cached)."""
    return a.cached("entity_relations", lambda: [r for doc in a.docs for r in _doc_relations(doc)])


@metric(
    "ec",
    component="S4",
    direction="higher",
    # already a goodness: identity ramp. Reference prose states an attribute twice too rarely for
    # quantiles (5 of the default profile's 1,466 passages), so the profile does not hold it.
    band=(0.0, 1.0),
    reference="WQRM guide §2.3.5 (EC, entity consistency)",
    valid_range=(0.0, 1.0),
    languages=("en",),  # English colour, scale, profession and number words; English copula
)
def ec(a: Analysis) -> float:
    """Entity consistency: EC = consistent relations / relations.

    Relations (entity, target, slot, value) are read off the parse: copular predicates ("Anna
    was tall", "Anna was a nurse", "Anna was twelve years old", "Anna's eyes were blue"),
    possessives and their modifiers ("Anna's blue eyes", "Tom's two dogs"), appositions ("Anna, a
    nurse,", "Anna, 12,") and counted possessions ("Tom had three sisters"). Entities are named
    entities, proper nouns and common nouns whose lemma recurs in the paragraph; pronouns are not
    resolved. Slots: colour, a stable antonym scale (length, age, life, marriage, wealth, build,
    size; see `SCALES`), profession (`PROFESSIONS`), age and count. Only an attribute the text
    states at least twice (same entity, target and slot) can be checked: its statements are the
    relations counted, and one is consistent when none of the others states a different value
    (both sides of a contradiction count as inconsistent). Range [0, 1]; undefined when no
    attribute is stated twice (an attribute stated once cannot contradict anything: counting it as
    consistent made EC 1.0 on 96% of the texts where it was defined).
    """
    relations = entity_relations(a)
    if not relations:
        raise MetricUndefined("no entity attribute (copula, possessive, apposition, count) found")
    statements: dict[tuple[str, str, str], list[str]] = {}
    for r in relations:
        statements.setdefault((r.entity, r.target, r.slot), []).append(r.value)
    checked = [values for values in statements.values() if len(values) >= 2]
    if not checked:
        raise MetricUndefined("no entity attribute is stated twice, so none can be checked for consistency")
    consistent = sum(len(values) for values in checked if len(set(values)) == 1)
    return consistent / sum(len(values) for values in checked)


# --------------------------------------------------------------------------------------------
# mi_segments: information each sentence adds
# --------------------------------------------------------------------------------------------

#: Preceding sentences a sentence is compared with.
MI_WINDOW = 3


@metric(
    "mi_segments",
    component="S4",
    direction="band",
    reference="WQRM guide §3.2.2 (mutual information between text segments); embedding estimate",
    valid_range=(0.0, 2.0),
    resources=("spacy", "sentence_encoder"),
)
def mi_segments(a: Analysis) -> float:
    """Information each sentence adds given its preceding context, estimated with embeddings.

    novelty_i = 1 − max_{i−3 ≤ j < i} cos(e_i, e_j) for every sentence i after the first (e the
    unit all-MiniLM-L6-v2 sentence embeddings), averaged: MI = (1/(n−1)) Σ_{i≥1} novelty_i. A
    sentence that restates one of the three before it adds ~0; an unrelated one adds ~1. This is
    an embedding proxy for the guide's "mutual information between segments", not an
    information-theoretic estimate. Range [0, 2]; `band`: too low reads repetitive, too high
    disconnected. Undefined for a single sentence.
    """
    if len(a.sentences) < 2:
        raise MetricUndefined("one sentence: no preceding context")
    e = a.sentence_embeddings
    best = np.full(e.shape[0] - 1, -np.inf)
    for lag in range(1, min(MI_WINDOW, e.shape[0] - 1) + 1):
        sims = np.einsum("ij,ij->i", e[lag:], e[:-lag])
        best[lag - 1 :] = np.maximum(best[lag - 1 :], sims)
    return float(np.clip(1.0 - best, 0.0, 2.0).mean())
