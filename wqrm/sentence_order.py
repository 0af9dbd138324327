"""The next-sentence model read by `next_sentence_gain`, evaluated in numpy.

f(a, b) = w₂ · gelu(W₁ [a, b, a⊙b, b − a] + b₁) + b₂, the logit of "b is the sentence written
right after a" for unit sentence embeddings a, b (`wqrm.build.sentence_order` trains it; gelu is
the tanh approximation, as in training, so numpy and torch agree to float32 rounding), and the
order gain `next_sentence_gain` reads from it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["MODEL_FILE", "SentenceOrderModel", "adjacency_weights", "pair_features"]

MODEL_FILE = "model.safetensors"
#: Up to this many ordered sentence pairs (a text of 64 sentences) `order_gain` reads every row whole.
EXACT_PAIRS = 4032
_GELU_C = np.float32(np.sqrt(2.0 / np.pi))


def adjacency_weights(n: int) -> np.ndarray:
    """How many adjacent pairs each of n sentences belongs to: 1 for the first and the last, 2 for
    the others (n ≥ 2). The order gains weight each sentence by it in their baselines, so a
    sentence counts in the baseline as often as it counts among the adjacent pairs: an unrelated
    sentence appended at the end (one adjacent pair, but 2(n − 1) of the n(n − 1) pairs of an
    unweighted baseline) no longer lowers the baseline more than the adjacent mean, which made
    appending a non-sequitur *raise* the gain (the red team's `append_foreign`, session 33). Since
    session 35 the baseline is taken row by row (`SentenceOrderModel.order_gain`) with the same
    weights on the other sentences."""
    w = np.full(n, 2.0)
    w[0] = w[-1] = 1.0
    return w


def pair_features(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """[a, b, a⊙b, b − a] row by row (float32): symmetric and order-carrying parts of the pair."""
    a = np.asarray(first, dtype=np.float32)
    b = np.asarray(second, dtype=np.float32)
    return np.concatenate([a, b, a * b, b - a], axis=1)


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.tanh(_GELU_C * (x + np.float32(0.044715) * x**3)))


class SentenceOrderModel:
    """Weights of the two-layer network (W₁: hidden × 4d, b₁, w₂: 1 × hidden, b₂)."""

    def __init__(self, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray):
        self.w1 = np.asarray(w1, dtype=np.float32)
        self.b1 = np.asarray(b1, dtype=np.float32)
        self.w2 = np.asarray(w2, dtype=np.float32)
        self.b2 = np.asarray(b2, dtype=np.float32)
        if self.w1.shape[1] % 4 or self.w2.shape != (1, self.w1.shape[0]):
            raise ValueError(f"inconsistent sentence-order weights: W1 {self.w1.shape}, w2 {self.w2.shape}")

    @property
    def dim(self) -> int:
        """The sentence-embedding width the model reads."""
        return self.w1.shape[1] // 4

    def pair_logits(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """f(a_i, b_i) for each row pair (float64)."""
        x = pair_features(first, second)
        if x.shape[1] != self.w1.shape[1]:
            raise ValueError(f"sentence embeddings of width {x.shape[1] // 4}; the model reads {self.dim}")
        h = _gelu(x @ self.w1.T + self.b1)
        return (h @ self.w2.T + self.b2)[:, 0].astype(np.float64)

    def next_probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        """σ(f(e_i, e_{i+1})) for each adjacent pair of a text's sentence embeddings (n − 1 values)."""
        e = np.asarray(embeddings)
        if len(e) < 2:
            return np.zeros(0)
        return 1.0 / (1.0 + np.exp(-self.pair_logits(e[:-1], e[1:])))

    def order_gain(self, embeddings: np.ndarray, max_pairs: int = EXACT_PAIRS) -> float:
        """G = (1/(n−1)) Σ_{i<n} [f(e_i, e_{i+1}) − Σ_{k≠i} w_k f(e_i, e_k) / Σ_{k≠i} w_k]: how much
        more the model expects each sentence's own successor after it than the text's other
        sentences, each row of the pair matrix centred on its own mean (session 35), w_k the number
        of adjacent pairs sentence k belongs to (`adjacency_weights`: 1 at the ends, 2 inside).

        Centring each row asks whether sentence i leads into its successor better than into the
        rest of the text. The all-pairs baseline it replaces credited a successor that reads as a
        plausible follower of anything (the red team's borrowed sentence, appended or swapped in)
        wherever it stood. For a given sentence at position i, any other sentence is as likely at
        i + 1 as at any other position when the order is shuffled, so shuffled text has E[G] = 0,
        and so has text whose sentences are interchangeable (one sentence repeated). Above
        `max_pairs` ordered pairs (a text of 64 sentences) each row's mean is taken over
        `max_pairs` // n of its pairs drawn uniformly with a fixed seed (the text's own, so a text
        always gets the same value). Needs three sentences: with two, each row holds only its
        successor and G = 0 whatever the order."""
        e = np.asarray(embeddings)
        n = len(e)
        if n < 3:
            raise ValueError("the order gain needs three or more sentences")
        w = adjacency_weights(n)
        rows = n - 1  # the last sentence has no successor: its row is not read
        if rows * (n - 1) <= max_pairs:
            i, j = np.nonzero(~np.eye(rows, n, dtype=bool))
        else:
            rng = np.random.default_rng(n)
            i = np.repeat(np.arange(rows), max(1, max_pairs // n))
            j = (i + rng.integers(1, n, len(i))) % n  # uniform over j ≠ i
        logits = self.pair_logits(e[i], e[j])
        baseline = np.bincount(i, w[j] * logits, rows) / np.bincount(i, w[j], rows)
        return float(np.mean(self.pair_logits(e[:-1], e[1:]) - baseline))

    # ------------------------------------------------------------------ persistence / training
    @classmethod
    def load(cls, directory: str | Path) -> SentenceOrderModel:
        from safetensors.numpy import load_file  # deferred: read once, when the metric first runs

        t = load_file(str(Path(directory) / MODEL_FILE))
        return cls(t["w1"], t["b1"], t["w2"], t["b2"])

    def save(self, directory: str | Path) -> None:
        from safetensors.numpy import save_file  # deferred: only the build writes

        tensors = {"w1": self.w1, "b1": self.b1, "w2": self.w2, "b2": self.b2}
        save_file({k: np.ascontiguousarray(v) for k, v in tensors.items()}, str(Path(directory) / MODEL_FILE))

    @staticmethod
    def network(dim: int, hidden: int) -> Any:
        """The torch module `from_network` reads (Linear → tanh-GELU → Dropout → Linear)."""
        import torch  # deferred: torch is needed to train, not to score

        return torch.nn.Sequential(
            torch.nn.Linear(4 * dim, hidden),
            torch.nn.GELU(approximate="tanh"),
            torch.nn.Dropout(0.1),
            torch.nn.Linear(hidden, 1),
        )

    @classmethod
    def from_network(cls, net: Any) -> SentenceOrderModel:
        first, last = net[0], net[3]
        return cls(*(p.detach().cpu().numpy() for p in (first.weight, first.bias, last.weight, last.bias)))
