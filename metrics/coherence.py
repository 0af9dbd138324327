"""Coherence and flow (component S4): semantic continuity and syntactic structure."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from spacy.attrs import HEAD, IS_PUNCT, IS_SPACE
from wqrm.metrics.registry import MetricUndefined, metric

from wqrm.analysis import Analysis, Sentence

__all__ = ["branching_mean", "dep_depth_mean", "parse_validity", "sc", "syn", "tree_shape"]

SYN_ALPHA = 0.6
SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass", "expl"})


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


@dataclass(frozen=True)
class TreeShape:
    """Per-sentence dependency-tree shape over words: depth and mean branching factor."""

    depth: np.ndarray  # longest root-to-word path, in arcs (one-word sentence: 0)
    branching: np.ndarray  # mean number of word children of the words that have any (else 0)


def _doc_shapes(doc) -> list[tuple[int, float]]:
    """(depth, branching) of every sentence of `doc` that holds a word, vectorised over the doc."""
    arr = doc.to_array([HEAD, IS_PUNCT, IS_SPACE]).astype(np.int64)
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
    """Mean over sentences of the dependency-tree depth in arcs (SYN's first term). Range [0, ∞)."""
    return float(_shape_or_undefined(a).depth.mean())


@metric(
    "branching_mean",
    component=None,
    direction="band",
    reference="descriptive (SYN's branching term)",
    valid_range=(0.0, float("inf")),
)
def branching_mean(a: Analysis) -> float:
    """Mean over sentences of the mean branching factor (SYN's second term). Range [0, ∞)."""
    return float(_shape_or_undefined(a).branching.mean())


def is_complete_clause(sent: Sentence) -> bool:
    """A sentence parses as a complete clause: its root is a verb or auxiliary with a subject
    (nsubj, nsubjpass, csubj, csubjpass, expl), or a bare-form verb (imperative, tag VB)."""
    root = sent.span.root
    if root.pos_ not in ("VERB", "AUX"):
        return False
    if any(child.dep_ in SUBJECT_DEPS for child in root.children):
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
    return sum(is_complete_clause(s) for s in sentences) / len(sentences)
