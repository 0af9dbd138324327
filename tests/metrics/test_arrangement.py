import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wqrm.metrics.arrangement import min_linear_arrangement, min_linear_arrangements, projective_min_sum

# ---- projective minimum linear arrangement ---------------------------------------------------

# Hand-drawn trees (head of each node; the root points to itself) and their projective minimum
# sum of dependency distances, worked out by hand:
HAND_TREES = [
    # star, root 0 with 3 leaves: root in the middle, leaves at distances 1, 1, 2 → 4
    ([0, 0, 0, 0], 4),
    # star with 4 leaves: 1 + 1 + 2 + 2 = 6
    ([0, 0, 0, 0, 0], 6),
    # path 0 ← 1 ← 2 ← 3 (root 3): in order, every arc has length 1 → n − 1 = 3
    ([1, 2, 3, 3], 3),
    # root 0 with children 1, 2; node 1 with leaves 3, 4: "4 1 3 0 2" → 1 + 1 + 2 + 1 = 5
    # (4 is impossible: node 1 has degree 3, so not every arc can have length 1)
    ([0, 0, 0, 1, 1], 5),
    # root 0 with one child 1; 1 has children 2 and 3; 2 → 4, 3 → 5. The root must sit at an end
    # (nothing may cover it), so the best is "0 5 3 1 2 4": 3 + 1 + 1 + 1 + 1 = 7, although the
    # unconstrained minimum is 6 ("4 2 1 0 3 5" covers the root). The projective minimum is used.
    ([0, 0, 1, 1, 2, 3], 7),
]


@pytest.mark.parametrize(("head", "expected"), HAND_TREES)
def test_projective_min_hand_drawn(head, expected):
    assert projective_min_sum(np.array(head))[0] == expected


def test_projective_min_of_a_forest_is_per_tree():
    head = np.array([0, 0, 0, 0, 5, 6, 7, 7])  # star (4 nodes: 4), then a path of 4 nodes (3)
    tree = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    assert list(projective_min_sum(head, tree)) == [4, 3]


def _brute_projective_min(head):
    n = len(head)
    children = {v: [c for c in range(n) if head[c] == v and c != v] for v in range(n)}

    def subtree(v):
        out = [v]
        for c in children[v]:
            out += subtree(c)
        return out

    subtrees = [subtree(v) for v in range(n)]
    best = None
    for perm in itertools.permutations(range(n)):
        pos = {v: p for p, v in enumerate(perm)}
        if any(max(pos[u] for u in s) - min(pos[u] for u in s) != len(s) - 1 for s in subtrees):
            continue  # a subtree is not contiguous: not projective
        d = sum(abs(pos[i] - pos[h]) for i, h in enumerate(head) if h != i)
        best = d if best is None else min(best, d)
    return best


def _random_tree(n: int, seed: int) -> list[int]:
    """A random labelled tree as a head array: in a shuffled order, each node hangs from an
    earlier one."""
    rng = random.Random(seed)
    order = list(range(n))
    rng.shuffle(order)
    head = [0] * n
    head[order[0]] = order[0]
    for i, v in enumerate(order[1:], start=1):
        head[v] = order[rng.randrange(i)]
    return head


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 7), st.integers(0, 10_000))
def test_projective_min_matches_brute_force(n, seed):
    head = _random_tree(n, seed)
    assert projective_min_sum(np.array(head))[0] == _brute_projective_min(head)


# ---- unconstrained minimum linear arrangement (Chung 1984) ------------------------------------

_PERMUTATIONS: dict[int, np.ndarray] = {}


def _brute_min(head) -> int:
    """min over all n! arrangements of Σ |π(i) − π(head(i))|: positions[p, v] of permutation p."""
    n = len(head)
    arcs = np.array([(i, h) for i, h in enumerate(head) if h != i], dtype=np.int64).reshape(-1, 2)
    if arcs.size == 0:
        return 0
    if n not in _PERMUTATIONS:
        _PERMUTATIONS[n] = np.array(list(itertools.permutations(range(n))), dtype=np.int8)
    positions = _PERMUTATIONS[n].astype(np.int16)
    return int(np.abs(positions[:, arcs[:, 0]] - positions[:, arcs[:, 1]]).sum(axis=1).min())


# Hand-worked unconstrained minima:
UNCONSTRAINED = [
    ([0], 0),
    ([0, 0], 1),
    ([1, 2, 3, 3], 3),  # a path: every arc of length 1
    ([0, 0, 0, 0], 4),  # star with 3 leaves: ⌊4²/4⌋ = 4 (leaves at 1, 1, 2)
    ([0, 0, 0, 0, 0, 0], 9),  # star with 5 leaves: 1+1+2+2+3 = ⌊6²/4⌋
    # root 0 with one child 1; 1 has children 2, 3; 2 → 4, 3 → 5: "4 2 1 0 3 5" (root covered) is
    # 1+1+1+1+2 = 6, below the projective minimum 7 (the root must sit at an end there)
    ([0, 0, 1, 1, 2, 3], 6),
    # the tree: heads [1, 3, 2, 2, 3, 4] (root 2) in text order already costs 1+2+1+1+1 = 6
    # and 5 arcs of a 6-node tree with a degree-3 node cannot all have length 1: 6 is the minimum
    ([1, 3, 2, 2, 3, 4], 6),
]


@pytest.mark.parametrize(("head", "expected"), UNCONSTRAINED)
def test_min_linear_arrangement_hand_worked(head, expected):
    assert min_linear_arrangement(head) == expected == _brute_min(head)


def test_unconstrained_is_below_projective_where_the_root_must_be_covered():
    head = [1, 3, 2, 2, 3, 4]
    assert projective_min_sum(np.array(head))[0] == 7 > min_linear_arrangement(head) == 6


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 9), st.integers(0, 1_000_000))
def test_min_linear_arrangement_equals_brute_force_up_to_nine_nodes(n, seed):
    head = _random_tree(n, seed)
    assert min_linear_arrangement(head) == _brute_min(head)


def _subset_dp_min(head) -> int:
    """The exact minimum by dynamic programming over node subsets (Held-Karp style, O(2^n n)): an
    arrangement's cost is Σ over its n − 1 gaps of the arcs crossing the gap, i.e. of cut(S) for
    each prefix set S, so min cost(S placed first) = min over v ∈ S of cost(S − v) + cut(S)."""
    n = len(head)
    arcs = [(i, h) for i, h in enumerate(head) if h != i]
    subsets = np.arange(1 << n)
    cut = np.zeros(1 << n, dtype=np.int64)
    for u, v in arcs:
        cut += ((subsets >> u) ^ (subsets >> v)) & 1
    best = [0] * (1 << n)
    for s in range(1, 1 << n):
        best[s] = min(best[s & ~(1 << v)] for v in range(n) if s >> v & 1) + int(cut[s])
    return best[-1] - int(cut[-1])


def _deep_random_tree(n: int, seed: int) -> list[int]:
    """A random tree biased to the shapes of long sentences: each node hangs from one of the last
    few nodes (paths, caterpillars and spiders as well as bushy trees)."""
    rng = random.Random(seed)
    reach = rng.choice([1, 2, 3, n])
    return [0] + [rng.randrange(max(0, i - reach), i) for i in range(1, n)]


@settings(max_examples=30, deadline=None)
@given(st.integers(10, 13), st.integers(0, 1_000_000), st.booleans())
def test_min_linear_arrangement_equals_subset_dp_up_to_thirteen_nodes(n, seed, deep):
    # beyond brute force: an independent exact method on trees of 10-13 nodes
    head = _deep_random_tree(n, seed) if deep else _random_tree(n, seed)
    assert min_linear_arrangement(head) == _subset_dp_min(head)


def test_subset_dp_agrees_with_brute_force():
    for seed in range(5):
        head = _random_tree(7, seed)
        assert _subset_dp_min(head) == _brute_min(head)


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 60), st.integers(0, 1_000_000))
def test_min_linear_arrangement_is_a_lower_bound(n, seed):
    # below every arrangement we can write down (text order, random orders) and the projective
    # minimum; at least n − 1 (every arc has length ≥ 1)
    head = _random_tree(n, seed)
    best = min_linear_arrangement(head)
    rng = np.random.default_rng(seed)
    arcs = np.array([(i, h) for i, h in enumerate(head) if h != i])
    for _ in range(20):
        pos = rng.permutation(n)
        assert best <= np.abs(pos[arcs[:, 0]] - pos[arcs[:, 1]]).sum()
    assert n - 1 <= best <= projective_min_sum(np.array(head))[0]


def test_min_linear_arrangement_of_long_paths_and_stars_is_fast_and_exact():
    # closed forms: a path n − 1, a star ⌊n²/4⌋ (the long run-on "sentences" of degenerate text)
    n = 3000
    assert min_linear_arrangement([max(i - 1, 0) for i in range(n)]) == n - 1
    assert min_linear_arrangement([0] * n) == n * n // 4
    # a caterpillar: a path with a leaf on every node; also deep, also exact by the recursion
    spine = 400
    head = [max(i - 1, 0) for i in range(spine)] + list(range(spine))
    assert min_linear_arrangement(head) <= projective_min_sum(np.array(head))[0]


def test_min_linear_arrangements_of_a_forest_is_per_tree():
    head = np.array([1, 3, 2, 2, 3, 4, 6, 6, 6, 6])  # the tree, then a star of 4 nodes
    tree = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    assert list(min_linear_arrangements(head, tree)) == [6, 4]


def test_min_linear_arrangement_rejects_a_forest():
    with pytest.raises(ValueError, match="single tree"):
        min_linear_arrangement([0, 1])


@pytest.mark.parametrize("head", [[1, 0], [0, 2, 1], [1, 2, 0]])
def test_min_linear_arrangement_rejects_a_cycle(head):
    # no root, or a cycle cut off from the root: not a tree
    with pytest.raises(ValueError, match="single tree"):
        min_linear_arrangement(head)


def test_min_linear_arrangement_rejects_a_head_outside_the_tree():
    with pytest.raises(ValueError, match="outside"):
        min_linear_arrangement([0, 5])
