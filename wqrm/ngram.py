"""The Kneser-Ney n-gram model of `ppl_div`: nltk.lm's `KneserNeyInterpolated` estimator, vectorised.

Counts of every k-gram (k = 1..order) of padded sentences are stored as sorted integer keys
(`encode_keys`) and looked up with binary search (`lookup`), so scoring a text is a handful of
NumPy operations instead of nltk's per-gram Python calls; `KneserNeyLM.to_nltk` rebuilds nltk's
model from the same counts (the tests compare the two).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

__all__ = ["BOS", "EOS", "UNK", "KneserNeyLM", "count_ngrams", "encode_keys", "lookup"]

BOS, EOS, UNK = "<s>", "</s>", "<UNK>"


def encode_keys(cols: Sequence[np.ndarray], base: int) -> np.ndarray:
    key = np.zeros(len(cols[0]) if len(cols) else 0, dtype=np.int64)
    for c in cols:
        key = key * base + np.asarray(c, dtype=np.int64)
    return key


def lookup(sorted_keys: np.ndarray, values: np.ndarray, query: np.ndarray, default: float = 0):
    """values[sorted_keys == query] per query, `default` where absent (vectorised)."""
    if sorted_keys.size == 0:
        return np.full(query.shape, default, dtype=np.float64), np.zeros(query.shape, dtype=bool)
    pos = np.searchsorted(sorted_keys, query)
    pos_c = np.minimum(pos, sorted_keys.size - 1)
    found = sorted_keys[pos_c] == query
    out = np.where(found, values[pos_c], default).astype(np.float64)
    return out, found


def count_ngrams(sentences: Iterable[Sequence[int]], order: int, bos: int = 0, eos: int = 1):
    """Counts of every k-gram (k = 1..order) of the padded id sentences.

    Each sentence is padded with order-1 `bos` on the left and order-1 `eos` on the right, as
    ``nltk.lm.preprocessing.padded_everygram_pipeline`` does. Returns {k: (ids (m x k) int64,
    counts (m,) int64)}, rows sorted.
    """
    pads = order - 1
    chunks, sent_ids = [], []
    for si, s in enumerate(sentences):
        padded = np.concatenate([np.full(pads, bos), np.asarray(s, dtype=np.int64), np.full(pads, eos)])
        chunks.append(padded)
        sent_ids.append(np.full(len(padded), si, dtype=np.int64))
    out = {}
    if not chunks:
        return {
            k: (np.zeros((0, k), dtype=np.int64), np.zeros(0, dtype=np.int64)) for k in range(1, order + 1)
        }
    arr = np.concatenate(chunks).astype(np.int64)
    sid = np.concatenate(sent_ids)
    base = int(arr.max()) + 1
    for k in range(1, order + 1):
        m = len(arr) - k + 1
        if m <= 0:
            out[k] = (np.zeros((0, k), dtype=np.int64), np.zeros(0, dtype=np.int64))
            continue
        valid = sid[:m] == sid[k - 1 : k - 1 + m]
        cols = [arr[j : j + m][valid] for j in range(k)]
        keys, counts = np.unique(encode_keys(cols, base), return_counts=True)
        ids = np.stack([(keys // base ** (k - 1 - j)) % base for j in range(k)], axis=1)
        out[k] = (ids, counts.astype(np.int64))
    return out


class KneserNeyLM:
    """Interpolated Kneser-Ney n-gram model over stored counts.

    The estimator is exactly nltk's ``KneserNeyInterpolated`` (nltk.lm 3.9) on the same counts:
    top order alpha = max(c(ctx, w) - d, 0) / c(ctx, .), gamma = d N1+(ctx .) / c(ctx, .); lower
    orders use continuation counts N1+(. ctx w) over N1+(. ctx .); the unigram level is
    N1+(. w) / N1+(. .); an unseen context defers to the next lower order. nltk recomputes the
    continuation counts by scanning every stored n-gram on every call (O(model) per word), which
    makes it unusable on texts; here they are precomputed once with numpy and every n-gram of a
    text is scored in one vectorised pass. `to_nltk` rebuilds the nltk model from the same counts
    (the tests check both agree to 1e-12). The one case nltk cannot score (a lower-order context
    that has followers but never occurs as the middle of a higher-order n-gram: a division by
    zero in nltk, impossible with unpruned counts) defers to the next lower order here.
    """

    def __init__(
        self, vocab: Sequence[str], counts: dict[int, tuple[np.ndarray, np.ndarray]], discount: float
    ):
        if not 0 <= discount <= 1:
            raise ValueError("discount must be in [0, 1]")
        self.vocab = list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.order = max(counts)
        if self.order < 2:
            raise ValueError("a Kneser-Ney model needs order >= 2")
        self.discount = float(discount)
        self.counts = counts
        self.base = len(self.vocab)
        if self.base**self.order >= 2**62:
            raise ValueError(f"vocabulary of {self.base} too large for order {self.order}")
        self.bos, self.eos, self.unk = self.index[BOS], self.index[EOS], self.index[UNK]
        self._build()

    def _build(self) -> None:
        B, n = self.base, self.order
        self._keys: dict[int, np.ndarray] = {}
        self._cnt: dict[int, np.ndarray] = {}
        for k in range(1, n + 1):
            ids, c = self.counts[k]
            keys = encode_keys([ids[:, j] for j in range(k)], B)
            order = np.argsort(keys, kind="stable")
            self._keys[k], self._cnt[k] = keys[order], c[order].astype(np.float64)
        # contexts of length L (prefixes of the (L+1)-grams): total count and distinct followers
        self._ctx: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for L in range(1, n):
            keys, cnt = self._keys[L + 1], self._cnt[L + 1]
            ctx = keys // B
            uniq, start = np.unique(ctx, return_index=True)
            tot = np.add.reduceat(cnt, start) if cnt.size else np.zeros(0)
            n1p = np.diff(np.append(start, ctx.size)).astype(np.float64)
            self._ctx[L] = (uniq, tot, n1p)
        # continuation counts for levels 1..n-2: N1+(. ctx w) and N1+(. ctx .)
        self._cont: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
        for L in range(1, n - 1):
            keys = self._keys[L + 2]
            suffix = keys % B ** (L + 1)
            s_keys, s_cnt = np.unique(suffix, return_counts=True)
            middle = suffix // B
            m_keys, m_cnt = np.unique(middle, return_counts=True)
            self._cont[L] = (s_keys, s_cnt.astype(np.float64), m_keys, m_cnt.astype(np.float64))
        # unigram level: N1+(. w) / N1+(. .)
        if n >= 2:
            bigram_words = (self._keys[2] % B).astype(np.int64)
            self._cont1 = np.bincount(bigram_words, minlength=B).astype(np.float64)
            self._total1 = float(self._keys[2].size)
        else:
            self._cont1 = np.zeros(B)
            self._total1 = 0.0

    def ids(self, words: Sequence[str]) -> np.ndarray:
        unk = self.unk
        return np.fromiter((self.index.get(w, unk) for w in words), dtype=np.int64, count=len(words))

    def score_ids(self, grams: np.ndarray) -> np.ndarray:
        """P(w | context) for each row of `grams` (m x order ids, word last)."""
        grams = np.asarray(grams, dtype=np.int64)
        B, n, d = self.base, self.order, self.discount
        w = grams[:, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            p = self._cont1[w] / self._total1 if self._total1 else np.zeros(len(w))
            for L in range(1, n):
                ctx_cols = [grams[:, j] for j in range(n - 1 - L, n - 1)]
                ctx_key = encode_keys(ctx_cols, B)
                uniq, tot, n1p = self._ctx[L]
                total_ctx, has = lookup(uniq, tot, ctx_key)
                n1p_ctx, _ = lookup(uniq, n1p, ctx_key)
                full_key = ctx_key * B + w
                if n - 1 == L:
                    c, _ = lookup(self._keys[n], self._cnt[n], full_key)
                    denom = total_ctx
                else:
                    s_keys, s_cnt, m_keys, m_cnt = self._cont[L]
                    c, _ = lookup(s_keys, s_cnt, full_key)
                    denom, _ = lookup(m_keys, m_cnt, ctx_key)
                    has = has & (denom > 0)
                alpha = np.maximum(c - d, 0.0) / denom
                gamma = d * n1p_ctx / denom
                p = np.where(has, alpha + gamma * p, p)
        return p

    def sentence_grams(self, sentences: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """All order-grams of the padded sentences (as nltk's ``ngrams(pad_both_ends(s, n), n)``)
        and the sentence index of each."""
        n = self.order
        rows, owner = [], []
        for si, s in enumerate(sentences):
            padded = np.concatenate([np.full(n - 1, self.bos), self.ids(s), np.full(n - 1, self.eos)])
            m = len(padded) - n + 1
            rows.append(np.stack([padded[j : j + m] for j in range(n)], axis=1))
            owner.append(np.full(m, si))
        if not rows:
            return np.zeros((0, n), dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(rows), np.concatenate(owner)

    def sentence_perplexities(self, sentences: Sequence[Sequence[str]]) -> np.ndarray:
        """Perplexity 2^(-mean log2 P) of each sentence (padded; the </s> terms are scored)."""
        grams, owner = self.sentence_grams(sentences)
        p = self.score_ids(grams)
        with np.errstate(divide="ignore"):
            lp = np.log2(p)
        sums = np.bincount(owner, weights=lp, minlength=len(sentences))
        lengths = np.bincount(owner, minlength=len(sentences))
        return np.power(2.0, -sums / np.maximum(lengths, 1))

    def end_surprisals(self, sentences: Sequence[Sequence[str]]) -> np.ndarray:
        """Bits of each sentence's ending: −log2 P(last token | context) − log2 P(</s> | context),
        the two events that decide whether the sentence may stop where it stops (an empty sentence:
        its </s> after <s> alone)."""
        grams, owner = self.sentence_grams(sentences)
        if grams.shape[0] == 0:
            return np.zeros(0)
        with np.errstate(divide="ignore"):
            bits = -np.log2(self.score_ids(grams))
        # each sentence of L tokens owns L + order − 1 grams; gram k ends at token k (k < L), gram L
        # at the first </s>
        lengths = np.bincount(owner, minlength=len(sentences))
        start = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        n_tokens = lengths - (self.order - 1)
        last = start + np.maximum(n_tokens - 1, 0)
        eos = start + n_tokens
        return np.where(n_tokens > 0, bits[last], 0.0) + bits[eos]

    def surprisal_bits(self, sentences: Sequence[Sequence[str]]) -> float:
        """Mean surprisal −log2 P per scored token (each word and each sentence's </s>) over all
        of `sentences`; nan when there is none."""
        grams, _ = self.sentence_grams(sentences)
        if grams.shape[0] == 0:
            return float("nan")
        with np.errstate(divide="ignore"):
            return float(-np.mean(np.log2(self.score_ids(grams))))

    def to_nltk(self):
        """The same model as an ``nltk.lm.KneserNeyInterpolated`` rebuilt from the stored counts."""
        from nltk.lm import KneserNeyInterpolated, NgramCounter, Vocabulary

        counter = NgramCounter()
        unigram_counts = {}
        for k in range(1, self.order + 1):
            ids, c = self.counts[k]
            for row, cnt in zip(ids.tolist(), c.tolist(), strict=True):
                words = tuple(self.vocab[i] for i in row)
                if k == 1:
                    counter.unigrams[words[0]] += cnt
                    unigram_counts[words[0]] = cnt
                else:
                    counter[k][words[:-1]][words[-1]] += cnt
        vocab = Vocabulary(counts=unigram_counts, unk_cutoff=1)
        return KneserNeyInterpolated(self.order, discount=self.discount, vocabulary=vocab, counter=counter)

    # ---- io ---------------------------------------------------------------------------------

    def save(self, out_dir: Path) -> None:
        arrays: dict[str, np.ndarray] = {"order": np.array(self.order), "discount": np.array(self.discount)}
        for k in range(1, self.order + 1):
            ids, c = self.counts[k]
            for j in range(k):
                col = ids[:, j].astype(np.int64)
                if j == 0:  # sorted: store deltas (compresses far better)
                    col = np.diff(col, prepend=0)
                arrays[f"o{k}_c{j}"] = col.astype(np.uint16 if self.base <= 65535 else np.uint32)
            arrays[f"o{k}_n"] = c.astype(np.uint16 if c.size and c.max() <= 65535 else np.uint32)
        np.savez_compressed(out_dir / "ngram_lm.npz", **arrays)
        (out_dir / "ngram_lm_vocab.json").write_text(
            json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> KneserNeyLM:
        vocab = json.loads((directory / "ngram_lm_vocab.json").read_text(encoding="utf-8"))
        with np.load(directory / "ngram_lm.npz", allow_pickle=False) as z:
            order = int(z["order"])
            discount = float(z["discount"])
            counts = {}
            for k in range(1, order + 1):
                cols = []
                for j in range(k):
                    col = z[f"o{k}_c{j}"].astype(np.int64)
                    if j == 0:
                        col = np.cumsum(col)
                    cols.append(col)
                counts[k] = (np.stack(cols, axis=1), z[f"o{k}_n"].astype(np.int64))
        return cls(vocab, counts, discount)
