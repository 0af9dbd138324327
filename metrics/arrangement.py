"""Minimum linear arrangements of dependency trees: the baselines of Ω (`wqrm.metrics.linguistic`).

A linear arrangement places a tree's n nodes at positions 0..n−1; its cost is the sum of its edge
lengths D = Σ |π(u) − π(v)|. Two minima are used:

* `min_linear_arrangement`: the *unconstrained* minimum over all n! arrangements of a free tree
  (the tree's edges, direction ignored), the D_min of Ferrer-i-Cancho et al.'s Ω. Exact, by Chung's
  (1984) quadratic algorithm (also implemented in the Linear Arrangement Library, Alemany-Puig,
  Esteban & Ferrer-i-Cancho 2021), with closed forms for stars and for anchors of degree one.
* `projective_min_sum`: the minimum over *projective* arrangements of a rooted tree (every subtree
  contiguous, no arc covering the root), Gildea & Temperley (2007); vectorised over many trees.

Trees are given as head arrays: `head[i]` is the head of node i and a root points to itself.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from itertools import accumulate, pairwise

import numpy as np

__all__ = ["min_linear_arrangement", "min_linear_arrangements", "projective_min_sum"]

#: The anchor of a free(S) subproblem (no anchor).
_FREE = -1


# --------------------------------------------------------------------------------------------
# Unconstrained minimum: Chung (1984)
# --------------------------------------------------------------------------------------------


class _Chung:
    """Chung's recursion for the minimum linear arrangement of one free tree, cost only.

    Chung, F. R. K. (1984), "On optimal linear arrangements of trees", Computers & Mathematics
    with Applications 10(1):43-60, Section 3. Two quantities are minimised over arrangements of
    a subtree S (a set of nodes):

    * free(S): the sum of S's edge lengths;
    * anchored(S, r): the sum of S's edge lengths plus the distance from r to one end of the
      segment (an edge from r leaves S on that side). By symmetry both ends give the same value.

    free(S): take a centroid u and its branches (the components of S − u) by size,
    t_0 ≥ t_1 ≥ …. With q the largest integer such that t_{2q} > ⌊(t_0 + 2)/2⌋ + ⌊(z + 2)/2⌋,
    z = |S| − t_0 − … − t_{2q}, an optimal arrangement puts 2q of the 2q + 1 largest branches
    outside a central part, q on each side, each anchored towards u, larger ones farther out; the
    central part (u, the remaining one of the 2q + 1 and every smaller branch) is arranged freely.
    The 2q + 1 choices are tried. The q edges to u from each side cross the central part in equal
    numbers, so their cost does not depend on where u lies in it: with the outer branches sorted
    by size s_0 ≥ … ≥ s_{2q−1},

        free(S) = Σ_j anchored(B_j) + free(C) + q (|C| + 1) + Σ_j ⌊j/2⌋ s_j.

    Without such q: free(S) = anchored(B_0) + anchored(S − B_0, u) + 1 (B_0 on one side of u).

    anchored(S, r): the branches of r by size, with p the largest integer such that
    t_{2p+1} > ⌊(t_0 + 2)/2⌋ + ⌊(y + 2)/2⌋, y = |S| − t_0 − … − t_{2p+1}; 2p + 1 of the 2p + 2
    largest branches go outside the central part (p on the anchor's side, p + 1 on the other),

        anchored(S, r) = Σ_j anchored(B_j) + free(C) + (p + 1)(|C| − 1) + 2p + 1 + Σ_j ⌈j/2⌉ s_j;

    without such p: anchored(S, r) = free(S − B_0) + anchored(B_0) + |S| − t_0.

    The extra terms follow from the placement: every outer branch's edge runs from its root
    (counted by its anchored cost) past the outer branches nearer the middle (the Σ w_j s_j term)
    to u, one position per edge into the central part, and across the central part to u (with
    equal numbers of edges from both sides, or the anchor counted on its side, these crossings
    sum to a constant). Shortcuts: a star (a vertex and leaves) has free = ⌊n²/4⌋ and, anchored at
    its hub with k leaves, min over a of a(a+1)/2 + (k−a)(k−a+1)/2 + a (a leaves on the anchor's
    side); an anchor with one neighbour in S goes first, anchored(S, r) = 1 + anchored(S − r, r'),
    peeled in a loop, so paths cost O(n). Checked against the brute-force minimum over every
    arrangement: all 200 unlabelled trees of 2-10 nodes (during development) and random trees
    up to 9 nodes (tests).

    Representation: the nodes are relabelled in depth-first preorder from the tree's root, so a
    subtree is a contiguous run of labels, and a node set is an int bit mask. Every set the
    recursion meets is connected, so the branches at a vertex are its child subtrees and the rest
    (one AND each), the centroid is found by walking down from the set's lowest label, and results
    are memoised per (mask, anchor) within one tree, anchor −1 for free(S).
    """

    def __init__(self, head: list[int]):
        n = len(head)
        children: list[list[int]] = [[] for _ in range(n)]
        roots = []
        for i, h in enumerate(head):
            (roots.append(i) if h == i else children[h].append(i))
        # relabel in depth-first preorder: every subtree is a contiguous run of labels
        order: list[int] = []
        stack = roots[:1] if len(roots) == 1 else []
        while stack:
            v = stack.pop()
            order.append(v)
            stack.extend(reversed(children[v]))
        if len(order) != n:  # no root, several roots, or a cycle unreachable from the root
            raise ValueError("the head array is not a single tree (it must have exactly one root)")
        new = [0] * n
        for i, v in enumerate(order):
            new[v] = i
        parent = [-1] * n
        for v in order[1:]:
            parent[new[v]] = new[head[v]]
        self.parent = parent
        self.children: list[list[int]] = [[] for _ in range(n)]
        size = [1] * n
        adj = [0] * n
        for v in range(n - 1, 0, -1):
            p = parent[v]
            size[p] += size[v]
            self.children[p].append(v)
            adj[p] |= 1 << v
            adj[v] |= 1 << p
        #: the bit mask of v's subtree (under the preorder root) and of v's neighbours
        self.desc = [((1 << size[v]) - 1) << v for v in range(n)]
        self.adj = adj
        self.n = n
        self._memo: dict[tuple[int, int], int] = {}

    def solve(self) -> int:
        """free(all nodes). The recursion runs on an explicit stack of generators (each yields the
        (nodes, anchor) subproblems it needs and receives their values), so a long path or star
        (a 2,000-word run-on sentence) cannot exhaust Python's recursion limit."""
        stack: list[tuple[tuple[int, int], Generator[tuple[int, int], int, int]]] = []
        memo = self._memo
        key: tuple[int, int] | None = ((1 << self.n) - 1, _FREE)
        value: int | None = None
        while True:
            if key is not None:
                nodes, r = key
                rest = nodes & (nodes - 1)  # nodes without its lowest node
                if r == _FREE and rest & (rest - 1) == 0:  # one or two nodes: 0 or 1
                    value = 1 if rest else 0
                elif r != _FREE and rest == 0:  # an anchored single node
                    value = 0
                elif key in memo:
                    value = memo[key]
                else:
                    stack.append((key, self._free(nodes) if r == _FREE else self._anchored(nodes, r)))
                    value = None
            if not stack:
                return value
            top_key, gen = stack[-1]
            try:
                key = gen.send(value)
            except StopIteration as done:
                stack.pop()
                value = memo[top_key] = done.value
                key = None

    def branches(self, nodes: int, v: int) -> list[tuple[int, int, int]]:
        """The components of `nodes` − v as (−size, root, mask), largest first (ties: smaller root
        first; the root is v's neighbour in it). `nodes` is connected, so a child c's component is
        its subtree within `nodes` and the parent's is everything outside v's subtree."""
        out = []
        for c in self.children[v]:
            if nodes >> c & 1:
                m = self.desc[c] & nodes
                out.append((-m.bit_count(), c, m))
        p = self.parent[v]
        if p >= 0 and nodes >> p & 1:
            m = nodes & ~self.desc[v]
            out.append((-m.bit_count(), p, m))
        out.sort()
        return out

    def centroid(self, nodes: int) -> int:
        """A vertex whose removal leaves components of at most |nodes| / 2 vertices: from the
        topmost node (the lowest label: preorder), walk into the child subtree holding more than
        half of the nodes while there is one."""
        n = nodes.bit_count()
        x = (nodes & -nodes).bit_length() - 1
        desc, children = self.desc, self.children
        while True:
            for c in children[x]:
                if nodes >> c & 1 and 2 * (desc[c] & nodes).bit_count() > n:
                    x = c
                    break
            else:
                return x

    def _free(self, nodes: int) -> Generator[tuple[int, int], int, int]:
        n = nodes.bit_count()
        u = self.centroid(nodes)
        br = self.branches(nodes, u)
        if br[0][0] == -1:  # a star (u and leaves): leaves alternate sides, ⌊n²/4⌋
            return n * n // 4
        q = _largest_split(n, [-k for k, _, _ in br], odd=False)
        if q is None:
            _, r0, b0 = br[0]
            left = yield (b0, r0)
            right = yield (nodes & ~b0, u)
            return left + right + 1
        extra = lambda c, sizes: q * (c + 1) + _weighted(sizes, 0)  # noqa: E731
        return (yield from self._split(nodes, u, br, 2 * q + 1, extra))

    def _anchored(self, nodes: int, r: int) -> Generator[tuple[int, int], int, int]:
        # An anchor with one neighbour goes first, next to its anchor edge: anchored(S, r) =
        # 1 + anchored(S − r, r's neighbour). Peel such anchors in one loop (a path is O(n)).
        adj = self.adj
        peeled = 0
        while True:
            inside = adj[r] & nodes
            if inside & (inside - 1):  # two or more neighbours
                break
            nodes &= ~(1 << r)
            peeled += 1
            r = inside.bit_length() - 1
            if nodes & (nodes - 1) == 0:
                return peeled
        if peeled:
            return peeled + (yield (nodes, r))
        n = nodes.bit_count()
        br = self.branches(nodes, r)
        if br[0][0] == -1:  # a star anchored at its hub: a of its k leaves before it
            k = n - 1
            return min(a * (a + 1) // 2 + (k - a) * (k - a + 1) // 2 + a for a in {(k - 1) // 2, k // 2})
        p = _largest_split(n, [-k for k, _, _ in br], odd=True)
        if p is None:
            neg_size, r0, b0 = br[0]
            rest = yield (nodes & ~b0, _FREE)
            first = yield (b0, r0)
            return rest + first + n + neg_size
        extra = lambda c, sizes: (p + 1) * (c - 1) + 2 * p + 1 + _weighted(sizes, 1)  # noqa: E731
        return (yield from self._split(nodes, r, br, 2 * p + 2, extra))

    def _split(self, nodes, v, br, m, extra) -> Generator[tuple[int, int], int, int]:
        """min over i < m of: the m largest branches but the i-th anchored outside, the rest
        (v, branch i, the smaller branches) arranged freely in the middle, plus `extra`."""
        big = br[:m]
        small = nodes & ~(1 << v)
        for _, _, b in big:
            small &= ~b
        best = None
        for i in range(m):
            outer = big[:i] + big[i + 1 :]
            central = small | big[i][2] | (1 << v)
            cost = extra(central.bit_count(), [-k for k, _, _ in outer])
            for _, r, b in outer:
                cost += yield (b, r)
            cost += yield (central, _FREE)
            best = cost if best is None else min(best, cost)
        return best


def _largest_split(n: int, sizes: Sequence[int], *, odd: bool) -> int | None:
    """Chung's q (odd=False: the largest q with t_{2q} > ⌊(t_0+2)/2⌋ + ⌊(z+2)/2⌋) or p (odd=True:
    the largest p with t_{2p+1} > ⌊(t_0+2)/2⌋ + ⌊(y+2)/2⌋), z or y being n minus the sizes up to
    that index; None when no value qualifies."""
    k = len(sizes) - 1
    if odd and k < 1:
        return None
    top = (k - 1) // 2 if odd else k // 2
    prefix = list(accumulate(sizes))
    for x in range(top, -1, -1):
        j = 2 * x + 1 if odd else 2 * x
        rest = n - prefix[j]
        if sizes[j] > (sizes[0] + 2) // 2 + (rest + 2) // 2:
            return x
    return None


def _weighted(sizes: Sequence[int], shift: int) -> int:
    """Σ_j w_j s_j with w_j = ⌊(j + shift)/2⌋ over sizes sorted largest first: the sizes lying
    between each outer branch and the central part, summed over the outer branches."""
    return sum(((j + shift) // 2) * s for j, s in enumerate(sizes))


def min_linear_arrangement(head: Sequence[int] | np.ndarray) -> int:
    """Exact unconstrained minimum sum of edge lengths of one tree (`head[i]` = head of i, the
    root pointing to itself), over all arrangements of its nodes (Chung 1984; see `_Chung`)."""
    head = [int(h) for h in head]
    n = len(head)
    if n == 0:
        return 0
    if min(head) < 0 or max(head) >= n:
        raise ValueError(f"the head array names a node outside 0..{n - 1}")
    return _Chung(head).solve()


def min_linear_arrangements(head: np.ndarray, tree: np.ndarray) -> np.ndarray:
    """`min_linear_arrangement` of every tree of a forest: `head` indexes the whole forest and
    `tree[i]` names node i's tree (0, 1, …; each tree's nodes contiguous)."""
    head = np.asarray(head, dtype=np.int64)
    tree = np.asarray(tree, dtype=np.int64)
    n_trees = int(tree.max(initial=-1)) + 1
    bounds = np.searchsorted(tree, np.arange(n_trees + 1)).tolist()
    local = (head - np.repeat(bounds[:-1], np.diff(bounds))).tolist()
    return np.array([min_linear_arrangement(local[lo:hi]) for lo, hi in pairwise(bounds)], dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Projective minimum: Gildea & Temperley (2007)
# --------------------------------------------------------------------------------------------


def _depths(head: np.ndarray) -> np.ndarray:
    idx = np.arange(head.size)
    depth = np.zeros(head.size, dtype=np.int64)
    cur = idx.copy()
    for _ in range(head.size):
        moving = head[cur] != cur
        if not moving.any():
            break
        depth[moving] += 1
        cur[moving] = head[cur[moving]]
    return depth


def _subtree_sizes(head: np.ndarray, depth: np.ndarray) -> np.ndarray:
    size = np.ones(head.size, dtype=np.int64)
    for d in range(int(depth.max(initial=0)), 0, -1):
        nodes = np.flatnonzero(depth == d)
        np.add.at(size, head[nodes], size[nodes])
    return size


def projective_min_sum(head: np.ndarray, tree: np.ndarray | None = None) -> np.ndarray:
    """Exact minimum sum of dependency distances over *projective* arrangements, per tree.

    `head[i]` is the head of node i (a root points to itself); `tree[i]` the tree of node i
    (default: a single tree). Returns D_min per tree. Projective: every subtree occupies a
    contiguous interval and no arc covers the root. The optimum (Gildea & Temperley 2007; proof
    and linear-time version: Alemany-Puig, Esteban & Ferrer-i-Cancho 2022) places the subtrees of
    each node's children alternately on its two sides, in decreasing size from the outside in;
    below the root, the largest child subtree goes on the side away from the node's own head.
    With a node's children ranked 0, 1, … by decreasing subtree size, rank r lies on side r mod 2
    and the arc to child c costs 1 + (sizes of the same-side subtrees nearer the node) + near(c),
    near(c) = total size of c's odd-ranked child subtrees (those between c and its head).
    Vectorised over all nodes: O(N log N) plus one numpy pass per tree level.
    """
    head = np.asarray(head, dtype=np.int64)
    n = head.size
    tree = np.zeros(n, dtype=np.int64) if tree is None else np.asarray(tree, dtype=np.int64)
    n_trees = int(tree.max(initial=-1)) + 1
    idx = np.arange(n)
    child = idx[head != idx]
    if child.size == 0:
        return np.zeros(n_trees)
    size = _subtree_sizes(head, _depths(head))
    parent = head[child]
    order = np.lexsort((child, -size[child], parent))
    c, p, s = child[order], parent[order], size[child[order]]
    new_group = np.r_[True, p[1:] != p[:-1]]
    group = np.cumsum(new_group) - 1
    rank = np.arange(c.size) - np.flatnonzero(new_group)[group]
    side = rank % 2
    # sizes of same-side siblings nearer the parent = same parity, higher rank
    block = group * 2 + side
    by_block = np.lexsort((rank, block))
    cs = np.cumsum(s[by_block])
    block_sorted = block[by_block]
    last = np.r_[block_sorted[1:] != block_sorted[:-1], True]
    block_total = np.zeros(block.max() + 1, dtype=np.int64)
    block_total[block_sorted[last]] = cs[last]
    nearer = np.empty(c.size, dtype=np.int64)
    nearer[by_block] = block_total[block_sorted] - cs
    near = np.bincount(p[side == 1], weights=s[side == 1], minlength=n).astype(np.int64)
    cost = 1 + nearer + near[c]
    return np.bincount(tree[c], weights=cost, minlength=n_trees)
