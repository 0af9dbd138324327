"""Corpus-built resources: offline stand-ins for the web-scale resources of the source papers.

Ganguly et al. (2014) and Chiru (2013) lean on resources that are not available offline
(SentiWordNet, DISCO, free-association norms, web page counts, Wikipedia). wqrm replaces them with
statistics built reproducibly from human reference prose (default: the English reference books and
the LAMP human paragraphs of the development data), stored next to the default profile in
non-pickle formats and rebuilt by one command with a fixed seed::

    wqrm build-corpus --data ../shared/data --out wqrm/data/profiles/default/corpus --seed 0

Files of a corpus directory (format ``wqrm-corpus/1``):

``manifest.json``
    command, seed, options, source files with their sha256, stage runtimes, file sizes and the
    evaluation figures of the generic-phrase database and the creativity classifier.
``vocab.json``
    the *content-word* vocabulary (alphabetic, at least two letters, not a spaCy stop word), in
    order of falling passage document frequency, capped (`BuildOptions.vocab_size`).
``cooc.npz``
    counts over the content words of the reference passages, for pairs of distinct words at most
    `window` content words apart (pairs found in fewer than `min_pair_count` passages are not
    stored): ``near_df`` f(x, y), the number of passages in which the pair occurs within the
    window, with ``df`` f(x) (passage frequency) and M (passages) for the normalised
    co-occurrence distance; ``window_count`` c(x, y), the number of such position pairs, with
    ``freq`` c(x) (content tokens) and N (content tokens) for the windowed PMI
    (Church & Hanks 1990) PMI(x, y) = log(c(x,y) N / (2 window c(x) c(y))).
``lda.npz``
    LDA (gensim ``LdaModel``, trained at build time; only its topic-word matrix is kept) over the
    `lda_vocab` most frequent content words: ``topic_word`` (K x V, rows p(w|k)) and
    ``topic_prior`` p(k) (token-weighted mean topic share of the training passages), so that
    p(k|w) = p(w|k) p(k) / sum_k' p(w|k') p(k').
``esa.npz``
    an ESA-style concept space: `esa_concepts` reference passages (seeded sample) as concepts,
    each a TF-IDF vector (tf = 1 + log count, idf over the concepts) L2-normalised and capped at
    its `esa_terms` heaviest terms (CSR, float16 weights).
``ngram_lm.npz`` + ``ngram_lm_vocab.json``
    counts of every k-gram (k = 1..order) of the padded reference sentences, exactly what
    ``nltk.lm``'s ``padded_everygram_pipeline`` counts (``<s>``/``</s>`` padding, words outside
    the `lm_vocab` most frequent mapped to ``<UNK>``). `KneserNeyLM` scores with them.
``gpp_phrases.json``
    the generic-phrase database (see `build_phrase_db`): phrases with weights and provenance.
``creativity_lr.json``
    the creativity classifier (`wqrm.metrics.creativity.fit_creativity_model`).

`CorpusResources.load(dir)` reads a directory lazily (each part on first use) and caches the
instance per directory and process; `resources.get("corpus")` returns the shipped default (or the
directory in ``$WQRM_CORPUS_DIR``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.profile import file_sha256

__all__ = [
    "FORMAT",
    "BuildOptions",
    "CorpusResources",
    "CorpusSources",
    "KneserNeyLM",
    "PhraseDB",
    "build_corpus_resources",
    "clause_segments",
    "content_words",
    "count_ngrams",
    "default_corpus_dir",
    "is_content_word",
    "phrase_form",
]

log = logging.getLogger(__name__)

FORMAT = "wqrm-corpus/1"
BOS, EOS, UNK = "<s>", "</s>", "<UNK>"
#: Pseudo-occurrences (at the base edit rate) shrinking a phrase's LAMP edited share.
LAMP_PRIOR = 5


def default_corpus_dir() -> Path:
    """Where the shipped corpus resources live: next to the default profile."""
    return Path(__file__).resolve().parent / "data" / "profiles" / "default" / "corpus"


# --------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


STOP_WORDS = _stop_words()


def is_content_word(word: str) -> bool:
    """A content word: alphabetic, at least two letters, not a spaCy English stop word."""
    return len(word) > 1 and word.isalpha() and word not in STOP_WORDS


def content_words(words: Iterable[str]) -> list[str]:
    """The content words of a word sequence, in order."""
    return [w for w in words if is_content_word(w)]


def phrase_form(word: str) -> str:
    """A word as the phrase database spells it: lower-cased, typographic apostrophes made straight
    (so "didn’t" and "didn't" match alike; a curly apostrophe is a typesetting habit, not slop)."""
    return word.replace("\u2019", "'")


def clause_segments(tokens: Iterable[Any]) -> list[list[str]]:
    """Maximal runs of words between punctuation/space tokens, in `phrase_form`.

    `tokens` are spaCy tokens (of a parsed or merely tokenised doc; only lexical attributes are
    read, so both give the same segments). Generic phrases are counted and matched inside these
    runs: a phrase never spans a comma or a sentence end.
    """
    segments: list[list[str]] = []
    current: list[str] = []
    for t in tokens:
        if t.is_punct or t.is_space:
            if current:
                segments.append(current)
                current = []
        else:
            current.append(phrase_form(t.lower_))
    if current:
        segments.append(current)
    return segments


# --------------------------------------------------------------------------------------------
# Kneser-Ney n-gram model (the estimator of nltk.lm.KneserNeyInterpolated, vectorised)
# --------------------------------------------------------------------------------------------


def _encode(cols: Sequence[np.ndarray], base: int) -> np.ndarray:
    key = np.zeros(len(cols[0]) if len(cols) else 0, dtype=np.int64)
    for c in cols:
        key = key * base + np.asarray(c, dtype=np.int64)
    return key


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, query: np.ndarray, default: float = 0):
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
        keys, counts = np.unique(_encode(cols, base), return_counts=True)
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
            keys = _encode([ids[:, j] for j in range(k)], B)
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
                ctx_key = _encode(ctx_cols, B)
                uniq, tot, n1p = self._ctx[L]
                total_ctx, has = _lookup(uniq, tot, ctx_key)
                n1p_ctx, _ = _lookup(uniq, n1p, ctx_key)
                full_key = ctx_key * B + w
                if n - 1 == L:
                    c, _ = _lookup(self._keys[n], self._cnt[n], full_key)
                    denom = total_ctx
                else:
                    s_keys, s_cnt, m_keys, m_cnt = self._cont[L]
                    c, _ = _lookup(s_keys, s_cnt, full_key)
                    denom, _ = _lookup(m_keys, m_cnt, ctx_key)
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


# --------------------------------------------------------------------------------------------
# Generic-phrase database
# --------------------------------------------------------------------------------------------


class PhraseDB:
    """Generic phrases with penalty weights; leftmost-longest matching inside clause segments."""

    def __init__(self, rows: Sequence[dict[str, Any]], meta: dict[str, Any] | None = None):
        self.rows = list(rows)
        self.meta = meta or {}
        self.table: dict[tuple[str, ...], tuple[int, float]] = {
            tuple(r["tokens"]): (i, float(r["weight"])) for i, r in enumerate(self.rows)
        }
        self.max_n = max((len(k) for k in self.table), default=0)
        self.min_n = min((len(k) for k in self.table), default=0)

    def __len__(self) -> int:
        return len(self.rows)

    def match(self, segments: Iterable[Sequence[str]]) -> list[tuple[int, int, int, int]]:
        """Non-overlapping matches as (segment index, start, length, phrase index).

        Leftmost-longest: scanning each segment left to right, the longest phrase starting at the
        current word is taken and the scan resumes after it. O(words x max phrase length).
        """
        out = []
        table, max_n, min_n = self.table, self.max_n, self.min_n
        if not table:
            return out
        for si, seg in enumerate(segments):
            i, n = 0, len(seg)
            while i <= n - min_n:
                for k in range(min(max_n, n - i), min_n - 1, -1):
                    hit = table.get(tuple(seg[i : i + k]))
                    if hit is not None:
                        out.append((si, i, k, hit[0]))
                        i += k
                        break
                else:
                    i += 1
        return out

    def weighted_count(self, segments: Iterable[Sequence[str]]) -> tuple[float, int]:
        """(sum of the weights of the matches, number of matches)."""
        matches = self.match(segments)
        return float(sum(self.rows[m[3]]["weight"] for m in matches)), len(matches)

    def save(self, path: Path) -> None:
        body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in self.rows)
        path.write_text(
            '{"meta": ' + json.dumps(self.meta, ensure_ascii=False) + ',\n"phrases": [\n' + body + "\n]}\n",
            encoding="utf-8",
        )

    @classmethod
    def load(cls, path: Path) -> PhraseDB:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["phrases"], data.get("meta", {}))


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------

_INSTANCES: dict[Path, CorpusResources] = {}
_INSTANCES_LOCK = threading.Lock()


class CorpusResources:
    """The corpus-built resources of one directory, each part loaded on first use."""

    def __init__(self, directory: Path):
        self.dir = Path(directory)
        manifest = self.dir / "manifest.json"
        if not manifest.exists():
            from wqrm.resources import ResourceMissingError

            raise ResourceMissingError(
                f"no corpus resources at {self.dir} (manifest.json missing). Build them with "
                "`wqrm build-corpus --data DATA_DIR --out DIR` or set WQRM_CORPUS_DIR."
            )
        self.manifest: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
        if self.manifest.get("format") != FORMAT:
            raise ValueError(
                f"{manifest}: not a wqrm corpus directory (format {self.manifest.get('format')!r})"
            )

    @classmethod
    def load(cls, directory: str | Path) -> CorpusResources:
        """The resources in `directory`, cached per resolved path for the life of the process."""
        key = Path(directory).resolve()
        with _INSTANCES_LOCK:
            if key not in _INSTANCES:
                _INSTANCES[key] = cls(key)
            return _INSTANCES[key]

    @classmethod
    def default(cls) -> CorpusResources:
        return cls.load(default_corpus_dir())

    @staticmethod
    def forget(directory: str | Path | None = None) -> None:
        """Drop cached instances (one directory, or all)."""
        with _INSTANCES_LOCK:
            if directory is None:
                _INSTANCES.clear()
            else:
                _INSTANCES.pop(Path(directory).resolve(), None)

    # ---- vocabulary and co-occurrence -------------------------------------------------------

    @cached_property
    def vocab(self) -> list[str]:
        return json.loads((self.dir / "vocab.json").read_text(encoding="utf-8"))

    @cached_property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.vocab)}

    def ids(self, words: Sequence[str]) -> np.ndarray:
        """Vocabulary ids of `words` (-1 for a word outside the vocabulary)."""
        index = self.index
        return np.fromiter((index.get(w, -1) for w in words), dtype=np.int64, count=len(words))

    @cached_property
    def _cooc(self) -> dict[str, Any]:
        with np.load(self.dir / "cooc.npz", allow_pickle=False) as z:
            rows = np.cumsum(z["rows"].astype(np.int64))
            cols = z["cols"].astype(np.int64)
            V = len(self.vocab)
            keys = rows * V + cols
            order = np.argsort(keys, kind="stable")
            return {
                "df": z["df"].astype(np.float64),
                "freq": z["freq"].astype(np.float64),
                "n_passages": int(z["n_passages"]),
                "n_tokens": int(z["n_tokens"]),
                "window": int(z["window"]),
                "keys": keys[order],
                "near_df": z["near_df"].astype(np.float64)[order],
                "window_count": z["window_count"].astype(np.float64)[order],
            }

    @property
    def df(self) -> np.ndarray:
        """Passage document frequency of every vocabulary word."""
        return self._cooc["df"]

    @property
    def freq(self) -> np.ndarray:
        """Token count of every vocabulary word among the passages' content words."""
        return self._cooc["freq"]

    @property
    def n_passages(self) -> int:
        return self._cooc["n_passages"]

    @property
    def window(self) -> int:
        return self._cooc["window"]

    def _pair(self, field_name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        lo, hi = np.minimum(a, b), np.maximum(a, b)
        c = self._cooc
        values, _ = _lookup(c["keys"], c[field_name], lo * len(self.vocab) + hi)
        return values

    def pair_df(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """f(x, y): passages where x and y occur within `window` content words (0 if not stored)."""
        return self._pair("near_df", a, b)

    def window_count(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """c(x, y): position pairs of x and y at most `window` content words apart (0 if not stored)."""
        return self._pair("window_count", a, b)

    def pmi(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Windowed PMI(x, y) = log(c(x,y) N / (2 window c(x) c(y))) in nats (Church & Hanks 1990):
        0 when x and y meet within the window as often as independence predicts; -inf for pairs
        not stored (seen in fewer than `min_pair_count` passages)."""
        c = self._cooc
        cxy = self._pair("window_count", a, b)
        freq = c["freq"]
        a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
        with np.errstate(divide="ignore"):
            return np.log(cxy * c["n_tokens"] / (2 * c["window"] * freq[a] * freq[b]))

    def ngd(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Normalised co-occurrence distance (the Google distance over passages).

        NGD(x, y) = (max(log f(x), log f(y)) - log f(x,y)) / (log M - min(log f(x), log f(y))),
        with f(x, y) = 1/2 for a pair never seen together (or seen too rarely to be stored).
        """
        fxy = np.maximum(self.pair_df(a, b), 0.5)
        lx, ly = np.log(self.df[a]), np.log(self.df[b])
        num = np.maximum(lx, ly) - np.log(fxy)
        den = math.log(self.n_passages) - np.minimum(lx, ly)
        return num / np.maximum(den, 1e-12)

    # ---- LDA ----------------------------------------------------------------------------

    @cached_property
    def _lda(self) -> dict[str, np.ndarray]:
        with np.load(self.dir / "lda.npz", allow_pickle=False) as z:
            topic_word = z["topic_word"].astype(np.float64)
            prior = z["topic_prior"].astype(np.float64)
        joint = topic_word * prior[:, None]
        posterior = joint / joint.sum(axis=0, keepdims=True)
        return {
            "topic_word": topic_word,
            "topic_prior": prior,
            "argmax": posterior.argmax(axis=0),
            "max": posterior.max(axis=0),
        }

    @property
    def n_topics(self) -> int:
        return int(self._lda["topic_word"].shape[0])

    def topics(self, words: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(z(w) = argmax_k p(k|w), max_k p(k|w)) per word; (-1, nan) for words without a topic."""
        ids = self.ids(words)
        V = self._lda["topic_word"].shape[1]
        has = (ids >= 0) & (ids < V)
        z = np.full(len(ids), -1, dtype=np.int64)
        m = np.full(len(ids), np.nan)
        z[has] = self._lda["argmax"][ids[has]]
        m[has] = self._lda["max"][ids[has]]
        return z, m

    # ---- ESA ----------------------------------------------------------------------------

    @cached_property
    def _esa(self):
        from scipy import sparse

        with np.load(self.dir / "esa.npz", allow_pickle=False) as z:
            concepts = sparse.csr_matrix(
                (z["data"].astype(np.float64), z["indices"].astype(np.int64), z["indptr"].astype(np.int64)),
                shape=(int(z["n_concepts"]), len(self.vocab)),
            )
            idf = z["idf"].astype(np.float64)
        return concepts.T.tocsr(), idf

    @property
    def n_concepts(self) -> int:
        return int(self._esa[0].shape[1])

    def esa_vectors(self, texts: Sequence[Sequence[str]]):
        """Concept vectors (sparse, n_texts x n_concepts) of word lists: sum_w tfidf(w) C[:, w].

        tf = 1 + log(count) over the text's in-vocabulary content words; idf from the concepts.
        """
        from scipy import sparse

        term_concept, idf = self._esa
        rows, cols, vals = [], [], []
        index = self.index
        for r, words in enumerate(texts):
            counts = Counter(index[w] for w in words if w in index)
            for i, c in counts.items():
                if idf[i] > 0:
                    rows.append(r)
                    cols.append(i)
                    vals.append((1.0 + math.log(c)) * idf[i])
        tfidf = sparse.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocab)))
        return tfidf @ term_concept

    # ---- the rest -------------------------------------------------------------------------

    @cached_property
    def lm(self) -> KneserNeyLM:
        return KneserNeyLM.load(self.dir)

    @cached_property
    def phrases(self) -> PhraseDB:
        return PhraseDB.load(self.dir / "gpp_phrases.json")

    @cached_property
    def creativity_model(self) -> dict[str, Any] | None:
        path = self.dir / "creativity_lr.json"
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


@dataclass
class CorpusSources:
    """The files the builder reads. `from_data_dir` fills them from the development-data layout."""

    reference_books: list[Path] = field(default_factory=list)  # .txt prose (human reference)
    reference_rows: list[Path] = field(default_factory=list)  # .jsonl, one human passage per row
    human_vs_ai: list[Path] = field(default_factory=list)  # human_vs_ai schema .jsonl
    lamp_edits: list[Path] = field(default_factory=list)  # edit_pair .jsonl with meta.fine_grained_edits
    lamp_spans: list[Path] = field(default_factory=list)  # spans .jsonl (editor-flagged spans)
    iterater: list[Path] = field(default_factory=list)  # edit_pair .jsonl with meta.domain (news/wiki)

    @classmethod
    def from_data_dir(cls, data_dir: str | Path) -> CorpusSources:
        d = Path(data_dir)

        def existing(paths: Iterable[Path]) -> list[Path]:
            return sorted(p for p in paths if p.exists())

        return cls(
            reference_books=existing((d / "reference" / "books" / "en").glob("*.txt")),
            reference_rows=existing([d / "reference" / "lamp_human_written.jsonl"]),
            human_vs_ai=existing((d / "human_vs_ai").glob("*.jsonl")),
            lamp_edits=existing((d / "edit_pairs").glob("lamp_*.jsonl")),
            lamp_spans=existing([d / "spans" / "lamp_train_detection.jsonl"]),
            iterater=existing([d / "edit_pairs" / "iterater_doc.jsonl"]),
        )

    def all_files(self) -> list[Path]:
        return [
            *self.reference_books,
            *self.reference_rows,
            *self.human_vs_ai,
            *self.lamp_edits,
            *self.lamp_spans,
            *self.iterater,
        ]


@dataclass
class BuildOptions:
    """Sizes and thresholds of the build (all recorded in the manifest)."""

    passage_words: int = 150
    vocab_size: int = 20_000
    min_df: int = 3
    window: int = 5
    min_pair_count: int = 2
    lda_topics: int = 40
    lda_vocab: int = 8_000
    lda_passes: int = 10
    esa_concepts: int = 4_000
    esa_terms: int = 40
    lm_order: int = 3
    lm_vocab: int = 8_000
    lm_discount: float = 0.75
    holdout_percent: int = 20  # of human_vs_ai prompt groups, held apart from the phrase database
    holdout_books: float = 0.15  # share of reference books held apart from the phrase database
    gpp_orders: tuple[int, ...] = (2, 3, 4, 5)
    gpp_min_ai_count: int = 8
    gpp_min_groups: int = 10
    gpp_min_models: int = 3
    gpp_prior_scale: float = 0.1
    gpp_min_z: float = 3.0
    gpp_max_book_ratio: float = 0.25
    gpp_max_phrases: int = 3_000
    gpp_subsumed_share: float = 0.8
    gpp_name_title_share: float = 0.7
    clf_per_class: int = 400
    clf_folds: int = 5
    clf_books_share: float = 0.5


def _hash_percent(key: str) -> int:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 100


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class _Lexicon:
    """String <-> id for every lower-cased word seen while building."""

    def __init__(self) -> None:
        self.words: list[str] = []
        self.index: dict[str, int] = {}
        self._by_hash: dict[int, int] = {}

    def id_of_hash(self, h: int, strings) -> int:
        i = self._by_hash.get(h)
        if i is None:
            w = strings[h]
            i = self.index.get(w)
            if i is None:
                i = len(self.words)
                self.words.append(w)
                self.index[w] = i
            self._by_hash[h] = i
        return i


@dataclass
class _Stream:
    """Tokenised documents as flat arrays: word ids (-1 at punctuation, spaces and document ends)."""

    ids: np.ndarray
    doc: np.ndarray
    title: np.ndarray
    sent_start: np.ndarray
    n_docs: int

    def doc_slices(self) -> list[slice]:
        bounds = np.searchsorted(self.doc, np.arange(self.n_docs + 1))
        return [slice(bounds[i], bounds[i + 1]) for i in range(self.n_docs)]


def _tokenize(texts: Sequence[str], lex: _Lexicon, nlp, sentences: bool = False) -> _Stream:
    """Tokenise with the spaCy tokenizer only (lexical attributes match the full parse's)."""
    from spacy.attrs import IS_PUNCT, IS_SPACE, IS_TITLE, LOWER, SENT_START

    sentencizer = None
    if sentences:
        from spacy.pipeline import Sentencizer

        sentencizer = Sentencizer()
    ids_parts, doc_parts, title_parts, start_parts = [], [], [], []
    strings = nlp.vocab.strings
    for di, doc in enumerate(nlp.tokenizer.pipe(texts, batch_size=256)):
        n = len(doc)
        starts = np.zeros(n, dtype=bool)
        if sentencizer is not None and n:
            doc = sentencizer(doc)
            starts = doc.to_array(SENT_START).astype(np.int64) == 1
        if n:
            arr = doc.to_array([LOWER, IS_PUNCT, IS_SPACE, IS_TITLE])
            skip = (arr[:, 1] > 0) | (arr[:, 2] > 0)
            ids = np.fromiter(
                (-1 if s else lex.id_of_hash(int(h), strings) for h, s in zip(arr[:, 0], skip, strict=True)),
                dtype=np.int64,
                count=n,
            )
            if sentencizer is not None:  # a line break also ends a sentence (headings, verse)
                newline = np.array([t.is_space and "\n" in t.text for t in doc], dtype=bool)
                starts[1:] |= newline[:-1]
            title = arr[:, 3] > 0
        else:
            ids, title = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
        ids_parts += [ids, np.array([-1])]
        doc_parts.append(np.full(n + 1, di, dtype=np.int64))
        title_parts += [title, np.array([False])]
        start_parts += [starts, np.array([True])]
    if not ids_parts:
        z = np.zeros(0, dtype=np.int64)
        return _Stream(z, z, z.astype(bool), z.astype(bool), 0)
    return _Stream(
        np.concatenate(ids_parts),
        np.concatenate(doc_parts),
        np.concatenate(title_parts),
        np.concatenate(start_parts),
        len(texts),
    )


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64, wrapping)."""
    x = x.astype(np.uint64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _ngram_hashes(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every n-gram of word ids not crossing a -1, and their start positions."""
    m = len(ids) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    valid = np.ones(m, dtype=bool)
    for k in range(n):
        valid &= ids[k : k + m] >= 0
    pos = np.nonzero(valid)[0]
    h = _mix64(ids[pos].astype(np.uint64) + np.uint64(1))
    for k in range(1, n):
        h = _mix64(h ^ _mix64(ids[pos + k].astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15 * k % 2**64)))
    return h, pos


def _count_in(hashes: np.ndarray, query: np.ndarray) -> np.ndarray:
    keys, counts = np.unique(hashes, return_counts=True)
    values, _ = _lookup(keys, counts.astype(np.float64), query)
    return values.astype(np.int64)


def _log_odds(y_a: np.ndarray, y_h: np.ndarray, n_a: float, n_h: float, scale: float):
    """Weighted log-odds with an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, eq. 22).

    The prior is the pooled corpus: alpha_w = alpha0 (y_a + y_h) / (n_a + n_h), alpha0 = scale
    (n_a + n_h). delta = log((y_a+a)/(n_a+a0-y_a-a)) - log((y_h+a)/(n_h+a0-y_h-a)),
    var = 1/(y_a+a) + 1/(y_h+a), z = delta / sqrt(var).
    """
    a0 = scale * (n_a + n_h)
    alpha = a0 * (y_a + y_h) / (n_a + n_h)
    delta = np.log((y_a + alpha) / (n_a + a0 - y_a - alpha)) - np.log(
        (y_h + alpha) / (n_h + a0 - y_h - alpha)
    )
    var = 1.0 / (y_a + alpha) + 1.0 / (y_h + alpha)
    return delta, delta / np.sqrt(var)


def _ai_body_rows(path: Path, seed: int, holdout_percent: int) -> list[dict[str, Any]]:
    """Rows of a human_vs_ai file with `body` (the AI continuation without the shared human
    prefix, and the paired human text without the same prefix) and `heldout` (by prompt group)."""
    rows = _read_jsonl(path)
    prefix: dict[str, int] = {}
    for r in rows:
        if r.get("label") == "ai":
            prefix.setdefault(r["meta"].get("paired_human_id"), r["meta"].get("shared_prefix_chars", 0))
    for r in rows:
        meta = r.get("meta") or {}
        cut = meta.get("shared_prefix_chars", 0) if r.get("label") == "ai" else prefix.get(r["id"], 0)
        r["body"] = r["text"][cut:].strip()
        group = meta.get("group", meta.get("prompt_index", meta.get("story_idx", r["id"])))
        r["group"] = f"{path.name}:{group}"
        r["heldout"] = _hash_percent(f"{seed}|{r['group']}") < holdout_percent
    return [r for r in rows if r["body"]]


def build_corpus_resources(
    sources: CorpusSources,
    out_dir: str | Path,
    *,
    seed: int = 0,
    options: BuildOptions | None = None,
    command: str = "",
    classifier: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build every corpus resource into `out_dir` and return the manifest (also written there).

    Stages: reference passages → vocabulary and co-occurrence → LDA → ESA → n-gram LM → generic
    phrases (with its held-apart evaluation) → creativity classifier (needs the stages before;
    skipped with `classifier=False`). Deterministic for a given seed and library versions.
    """
    from wqrm import __version__, resources
    from wqrm.profile import passages_from_file

    opts = options or BuildOptions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda msg: log.info("%s", msg))
    t_start = time.perf_counter()
    stages: dict[str, float] = {}
    nlp = resources.get("spacy")
    lex = _Lexicon()

    def stage(name: str, t0: float) -> None:
        stages[name] = round(time.perf_counter() - t0, 2)
        say(f"{name}: {stages[name]:.1f} s")

    # ---- reference passages ---------------------------------------------------------------
    t0 = time.perf_counter()
    passages: list[str] = []
    passage_book: list[str] = []
    for f in sources.reference_books:
        got = passages_from_file(f, passage_words=opts.passage_words)
        passages += got
        passage_book += [f.name] * len(got)
    for f in sources.reference_rows:
        for r in _read_jsonl(f):
            if isinstance(r.get("text"), str) and r["text"].strip():
                passages.append(r["text"].strip())
                passage_book.append(f.name)
    if not passages:
        raise ValueError("no reference passages: give reference books (.txt) or rows (.jsonl)")
    ref = _tokenize(passages, lex, nlp, sentences=True)
    stage("tokenise reference", t0)

    # ---- vocabulary, document frequencies, windowed co-occurrence ---------------------------
    t0 = time.perf_counter()
    is_content = np.array([is_content_word(w) for w in lex.words], dtype=bool)
    slices = ref.doc_slices()
    content_seqs = []
    for sl in slices:
        ids = ref.ids[sl]
        ids = ids[ids >= 0]
        content_seqs.append(ids[is_content[ids]])
    df_all = np.zeros(len(lex.words), dtype=np.int64)
    for seq in content_seqs:
        df_all[np.unique(seq)] += 1
    cand = np.nonzero(df_all >= opts.min_df)[0]
    order = sorted(cand.tolist(), key=lambda i: (-df_all[i], lex.words[i]))[: opts.vocab_size]
    vocab = [lex.words[i] for i in order]
    V = len(vocab)
    to_vocab = np.full(len(lex.words), -1, dtype=np.int64)
    to_vocab[np.asarray(order, dtype=np.int64)] = np.arange(V)
    df = df_all[np.asarray(order, dtype=np.int64)] if V else np.zeros(0, dtype=np.int64)
    all_content = np.concatenate(content_seqs) if content_seqs else np.zeros(0, dtype=np.int64)
    freq_all = np.bincount(all_content, minlength=len(lex.words))
    freq = freq_all[np.asarray(order, dtype=np.int64)] if V else np.zeros(0, dtype=np.int64)
    passage_pairs, instance_pairs = [], []
    for seq in content_seqs:
        v = to_vocab[seq]
        keys = []
        for k in range(1, opts.window + 1):
            a, b = v[:-k], v[k:]
            ok = (a >= 0) & (b >= 0) & (a != b)
            keys.append(np.minimum(a[ok], b[ok]) * V + np.maximum(a[ok], b[ok]))
        if keys:
            instances = np.concatenate(keys)
            instance_pairs.append(instances)
            passage_pairs.append(np.unique(instances))
    empty = np.zeros(0, dtype=np.int64)
    pkeys, pcounts = np.unique(np.concatenate(passage_pairs) if passage_pairs else empty, return_counts=True)
    keep = pcounts >= opts.min_pair_count
    pkeys, pcounts = pkeys[keep], pcounts[keep]
    ikeys, icounts = np.unique(
        np.concatenate(instance_pairs) if instance_pairs else empty, return_counts=True
    )
    wcounts = icounts[np.searchsorted(ikeys, pkeys)] if pkeys.size else empty
    rows_, cols_ = pkeys // max(V, 1), pkeys % max(V, 1)
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    idtype = np.uint16 if V <= 65535 else np.uint32

    def small(x: np.ndarray) -> np.ndarray:
        return x.astype(np.uint32 if x.size and x.max() > 65535 else np.uint16)

    np.savez_compressed(
        out / "cooc.npz",
        df=df.astype(np.uint32),
        freq=freq.astype(np.uint32),
        n_passages=np.array(len(passages)),
        n_tokens=np.array(int(all_content.size)),
        window=np.array(opts.window),
        rows=np.diff(rows_, prepend=0).astype(idtype),
        cols=cols_.astype(idtype),
        near_df=small(pcounts),
        window_count=small(wcounts),
    )
    stage("vocabulary and co-occurrence", t0)

    # ---- LDA ------------------------------------------------------------------------------
    t0 = time.perf_counter()
    lda_info = _build_lda(content_seqs, to_vocab, vocab, opts, seed, out)
    stage("lda", t0)

    # ---- ESA ------------------------------------------------------------------------------
    t0 = time.perf_counter()
    esa_info = _build_esa(content_seqs, to_vocab, V, opts, seed, out)
    stage("esa", t0)

    # ---- n-gram LM ------------------------------------------------------------------------
    t0 = time.perf_counter()
    lm_info = _build_lm(ref, lex, opts, out)
    stage("n-gram lm", t0)

    # ---- generic phrases ----------------------------------------------------------------
    t0 = time.perf_counter()
    gpp_info = build_phrase_db(sources, ref, passage_book, lex, nlp, opts, seed, out, say)
    stage("generic phrases", t0)

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "command": command,
        "wqrm_version": __version__,
        "seed": seed,
        "options": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(opts).items()},
        "sources": [{"file": str(p.name), "sha256": file_sha256(p)} for p in sources.all_files()],
        "n_passages": len(passages),
        "vocab_size": V,
        "n_pairs": int(pkeys.size),
        "lda": lda_info,
        "esa": esa_info,
        "lm": lm_info,
        "gpp": gpp_info,
        "spacy_model": f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}-{nlp.meta.get('version', '')}",
    }
    _write_manifest(out, manifest, stages, t_start)

    # ---- creativity classifier (reads the resources written above) ------------------------
    if classifier:
        t0 = time.perf_counter()
        manifest["creativity"] = _build_classifier(sources, passages, passage_book, opts, seed, out, say)
        stage("creativity classifier", t0)
        _write_manifest(out, manifest, stages, t_start)
    CorpusResources.forget(out)
    return manifest


def _write_manifest(out: Path, manifest: dict[str, Any], stages: dict[str, float], t_start: float) -> None:
    manifest["stages_s"] = dict(stages)
    manifest["runtime_s"] = round(time.perf_counter() - t_start, 1)
    files = sorted(p for p in out.iterdir() if p.is_file() and p.name != "manifest.json")
    manifest["files"] = {p.name: p.stat().st_size for p in files}
    manifest["total_bytes"] = sum(manifest["files"].values())
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _build_lda(content_seqs, to_vocab, vocab, opts: BuildOptions, seed: int, out: Path) -> dict[str, Any]:
    import logging as _logging

    from gensim.models import LdaModel

    _logging.getLogger("gensim").setLevel(_logging.WARNING)
    V = min(opts.lda_vocab, len(vocab))
    corpus = []
    for seq in content_seqs:
        v = to_vocab[seq]
        v = v[(v >= 0) & (v < V)]
        ids, counts = np.unique(v, return_counts=True)
        corpus.append(list(zip(ids.tolist(), counts.tolist(), strict=True)))
    id2word = dict(enumerate(vocab[:V]))
    lda = LdaModel(
        corpus=corpus,
        id2word=id2word,
        num_topics=opts.lda_topics,
        passes=opts.lda_passes,
        iterations=100,
        chunksize=2000,
        alpha="symmetric",
        random_state=seed,
        eval_every=None,
    )
    topic_word = lda.get_topics().astype(np.float32)  # K x V, rows p(w|k)
    gamma, _ = lda.inference(corpus)
    theta = gamma / gamma.sum(axis=1, keepdims=True)
    lengths = np.array([sum(c for _, c in doc) for doc in corpus], dtype=np.float64)
    prior = (theta * lengths[:, None]).sum(axis=0)
    prior = prior / prior.sum()
    np.savez_compressed(out / "lda.npz", topic_word=topic_word, topic_prior=prior.astype(np.float32))
    top = [[vocab[i] for i in np.argsort(-topic_word[k])[:8]] for k in range(topic_word.shape[0])]
    return {"topics": int(topic_word.shape[0]), "vocab": V, "passes": opts.lda_passes, "top_words": top}


def _build_esa(content_seqs, to_vocab, V: int, opts: BuildOptions, seed: int, out: Path) -> dict[str, Any]:
    rng = random.Random(f"{seed}:esa")
    idx = list(range(len(content_seqs)))
    chosen = sorted(rng.sample(idx, min(opts.esa_concepts, len(idx))))
    docs = []
    df = np.zeros(V, dtype=np.float64)
    for i in chosen:
        v = to_vocab[content_seqs[i]]
        ids, counts = np.unique(v[v >= 0], return_counts=True)
        docs.append((ids, counts))
        df[ids] += 1
    n = len(docs)
    with np.errstate(divide="ignore"):
        idf = np.where(df > 0, np.log(n / np.maximum(df, 1)), 0.0)
    indptr, indices, data = [0], [], []
    for ids, counts in docs:
        w = (1.0 + np.log(counts)) * idf[ids]
        keep = w > 0
        ids, w = ids[keep], w[keep]
        if w.size > opts.esa_terms:
            top = np.argsort(-w, kind="stable")[: opts.esa_terms]
            top.sort()
            ids, w = ids[top], w[top]
        norm = np.linalg.norm(w)
        if norm > 0:
            w = w / norm
        indices.append(ids)
        data.append(w)
        indptr.append(indptr[-1] + ids.size)
    np.savez_compressed(
        out / "esa.npz",
        indptr=np.asarray(indptr, dtype=np.int32),
        indices=np.concatenate(indices).astype(np.uint16 if V <= 65535 else np.uint32)
        if indices
        else np.zeros(0, np.uint16),
        data=np.concatenate(data).astype(np.float16) if data else np.zeros(0, np.float16),
        idf=idf.astype(np.float32),
        n_concepts=np.array(n),
    )
    return {"concepts": n, "terms_per_concept": opts.esa_terms, "nonzeros": int(indptr[-1])}


def _sentences_of(stream: _Stream) -> list[np.ndarray]:
    """Word-id sentences of a tokenised stream (sentencizer starts; punctuation dropped)."""
    starts = np.nonzero(stream.sent_start)[0]
    bounds = np.append(starts, len(stream.ids))
    out = []
    for a, b in pairwise(bounds):
        s = stream.ids[a:b]
        s = s[s >= 0]
        if s.size:
            out.append(s)
    return out


def _build_lm(ref: _Stream, lex: _Lexicon, opts: BuildOptions, out: Path) -> dict[str, Any]:
    sentences = _sentences_of(ref)
    freq = np.bincount(np.concatenate(sentences), minlength=len(lex.words)) if sentences else np.zeros(0)
    ranked = sorted(np.nonzero(freq)[0].tolist(), key=lambda i: (-freq[i], lex.words[i]))[: opts.lm_vocab]
    vocab = [BOS, EOS, UNK] + [lex.words[i] for i in ranked]
    mapping = np.full(len(lex.words), 2, dtype=np.int64)
    mapping[np.asarray(ranked, dtype=np.int64)] = np.arange(3, 3 + len(ranked))
    counts = count_ngrams((mapping[s] for s in sentences), opts.lm_order, bos=0, eos=1)
    lm = KneserNeyLM(vocab, counts, opts.lm_discount)
    lm.save(out)
    return {
        "order": opts.lm_order,
        "discount": opts.lm_discount,
        "vocab": len(vocab),
        "sentences": len(sentences),
        "tokens": int(sum(s.size for s in sentences)),
        "ngrams": {str(k): int(v[1].size) for k, v in counts.items()},
    }


# ---- generic phrases ----------------------------------------------------------------------


def _lamp_annotations(sources: CorpusSources) -> list[tuple[str, list[tuple[int, int]]]]:
    """(AI draft, character spans an editor deleted or replaced) from the LAMP files, deduplicated."""
    seen = set()
    out = []

    def add(text: str, spans: list[tuple[int, int]]) -> None:
        key = (hashlib.sha1(text.encode()).hexdigest(), tuple(sorted(spans)))
        if text and key not in seen:
            seen.add(key)
            out.append((text, spans))

    for f in sources.lamp_edits:
        for r in _read_jsonl(f):
            edits = (r.get("meta") or {}).get("fine_grained_edits") or []
            text = r.get("original") or ""
            if not edits or not text:
                continue
            spans, pos = [], 0
            for e in edits:
                orig = e.get("originalText") or ""
                if not orig.strip() or orig == e.get("editedText"):
                    continue
                at = text.find(orig, pos)
                if at < 0:
                    at = text.find(orig)
                if at < 0:
                    continue
                spans.append((at, at + len(orig)))
                pos = at + len(orig)
            add(text, spans)
    for f in sources.lamp_spans:
        for r in _read_jsonl(f):
            spans = [(int(s["start"]), int(s["end"])) for s in r.get("spans") or []]
            add(r.get("text") or "", spans)
    return out


def _lamp_edit_stats(db_rows: list[dict[str, Any]], annotations, nlp) -> tuple[dict[int, list[int]], float]:
    """Per phrase: [occurrences in LAMP drafts, occurrences an editor deleted or replaced], and
    the base rate r0 = share of draft characters inside edited spans."""
    db = PhraseDB(db_rows)
    stats: dict[int, list[int]] = {}
    edited_chars = total_chars = 0
    texts = [t for t, _ in annotations]
    for (text, spans), doc in zip(annotations, nlp.tokenizer.pipe(texts, batch_size=64), strict=True):
        mask = np.zeros(len(text) + 1, dtype=bool)
        for a, b in spans:
            mask[a:b] = True
        edited_chars += int(mask[: len(text)].sum())
        total_chars += len(text)
        seg_tokens: list[list[Any]] = []
        cur: list[Any] = []
        for t in doc:
            if t.is_punct or t.is_space:
                if cur:
                    seg_tokens.append(cur)
                    cur = []
            else:
                cur.append(t)
        if cur:
            seg_tokens.append(cur)
        segments = [[phrase_form(t.lower_) for t in s] for s in seg_tokens]
        for si, start, k, pi in db.match(segments):
            toks = seg_tokens[si][start : start + k]
            a, b = toks[0].idx, toks[-1].idx + len(toks[-1])
            inside = mask[a:b].mean() >= 0.5
            s = stats.setdefault(pi, [0, 0])
            s[0] += 1
            s[1] += int(inside)
    return stats, (edited_chars / total_chars if total_chars else 0.0)


def build_phrase_db(
    sources: CorpusSources,
    ref: _Stream,
    passage_book: list[str],
    lex: _Lexicon,
    nlp,
    opts: BuildOptions,
    seed: int,
    out: Path,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """The generic-phrase database (`gpp_phrases.json`) and its held-apart evaluation.

    1. Corpora. AI: the AI rows of the human_vs_ai files (shared human prefixes stripped); human:
       their human rows plus the reference books. A seeded `holdout_percent` of prompt groups and
       `holdout_books` of the books are held apart for the evaluation below.
    2. Candidates: word n-grams, n in `gpp_orders`, inside clause segments (`clause_segments`:
       stop words kept, never across punctuation, apostrophes straightened by `phrase_form`;
       counted through 64-bit hashes, whose collision probability at these corpus sizes is below
       1e-4, the phrase text taken from its first occurrence), seen at least `gpp_min_ai_count` times in AI
       text, in at least `gpp_min_groups` prompt groups and from at least `gpp_min_models` models
       (so one prompt's topic or one model's tic is not "generic"), holding a content word.
    3. Over-representation: weighted log-odds with an informative Dirichlet prior (Monroe et al.
       2008; `_log_odds`), per order; keep z >= `gpp_min_z`.
    4. Filters: drop phrases holding a name (a word written title-case in at least
       `gpp_name_title_share` of its mid-clause occurrences; "I" excepted) and phrases that are
       plain fiction (their rate in the human books is at least `gpp_max_book_ratio` times their
       AI rate); drop an n-gram when a kept longer phrase accounts for `gpp_subsumed_share` of its
       AI occurrences; keep the `gpp_max_phrases` highest z.
    5. Weights: w = delta x (1 + e), delta the log-odds ratio (nats) and e the editor excess: with
       k occurrences in LAMP AI drafts of which m fall (>= half their characters) inside spans a
       professional editor deleted or replaced, and r0 the share of draft characters edited,
       e = max(0, (m + 5 r0)/(k + 5) - r0) / (1 - r0): the edited share beyond the base rate,
       shrunk towards the base rate by a prior worth `LAMP_PRIOR` = 5 occurrences.
    """
    t0 = time.perf_counter()
    ai_rows, human_rows, held_rows = [], [], []
    for f in sources.human_vs_ai:
        for r in _ai_body_rows(f, seed, opts.holdout_percent):
            if r["heldout"]:
                held_rows.append(r)
            elif r["label"] == "ai":
                ai_rows.append(r)
            elif r["label"] == "human":
                human_rows.append(r)
    books = sorted({b for b in passage_book if b.endswith(".txt")})
    n_held_books = round(opts.holdout_books * len(books))
    held_books = set(
        sorted(books, key=lambda b: hashlib.sha1(f"{seed}|book|{b}".encode()).hexdigest())[:n_held_books]
    )
    say(f"phrases: {len(ai_rows)} AI rows, {len(human_rows)} human rows, {len(held_rows)} held apart")

    ai = _tokenize([r["body"] for r in ai_rows], lex, nlp)
    hum = _tokenize([r["body"] for r in human_rows], lex, nlp)
    ref_doc_is_train_book = np.array([b in books and b not in held_books for b in passage_book], dtype=bool)
    # phrase forms: straight apostrophes (adds the straight spellings to the lexicon)
    to_form = np.array([lex.index.get(phrase_form(w), -1) for w in list(lex.words)], dtype=np.int64)
    for i in np.nonzero(to_form < 0)[0]:
        form = phrase_form(lex.words[i])
        lex.index[form] = len(lex.words)
        lex.words.append(form)
        to_form[i] = lex.index[form]
    to_form = np.append(to_form, -1)  # index -1 (separators) maps to -1

    def forms(ids: np.ndarray) -> np.ndarray:
        return to_form[ids]

    ai = _Stream(forms(ai.ids), ai.doc, ai.title, ai.sent_start, ai.n_docs)
    hum = _Stream(forms(hum.ids), hum.doc, hum.title, hum.sent_start, hum.n_docs)
    ref_forms = _Stream(forms(ref.ids), ref.doc, ref.title, ref.sent_start, ref.n_docs)
    book_ids = np.where(ref_doc_is_train_book[ref.doc], ref_forms.ids, -1)
    say(f"phrases: tokenised in {time.perf_counter() - t0:.0f} s")

    # group and model of each AI document
    group_names = {g: i for i, g in enumerate(sorted({r["group"] for r in ai_rows}))}
    model_names = {m: i for i, m in enumerate(sorted({str(r.get("model")) for r in ai_rows}))}
    doc_group = np.array([group_names[r["group"]] for r in ai_rows], dtype=np.int64)
    doc_model = np.array([model_names[str(r.get("model"))] for r in ai_rows], dtype=np.int64)

    # capitalisation: share of title-case among mid-clause occurrences (names)
    W = len(lex.words)
    mid_total = np.zeros(W, dtype=np.int64)
    mid_title = np.zeros(W, dtype=np.int64)
    for s in (ai, hum, ref_forms):
        prev_word = np.concatenate([[False], s.ids[:-1] >= 0])
        sel = (s.ids >= 0) & prev_word
        np.add.at(mid_total, s.ids[sel], 1)
        np.add.at(mid_title, s.ids[sel], s.title[sel].astype(np.int64))
    with np.errstate(invalid="ignore", divide="ignore"):
        title_share = np.where(mid_total >= 3, mid_title / np.maximum(mid_total, 1), 0.0)
    name_like = title_share >= opts.gpp_name_title_share
    if "i" in lex.index:
        name_like[lex.index["i"]] = False
    is_content = np.array([is_content_word(w) for w in lex.words], dtype=bool)

    candidates = []
    for n in opts.gpp_orders:
        h_ai, pos_ai = _ngram_hashes(ai.ids, n)
        keys, first, inverse, y_a = np.unique(
            h_ai, return_index=True, return_inverse=True, return_counts=True
        )
        docs = ai.doc[pos_ai]
        sel = y_a >= opts.gpp_min_ai_count
        if not sel.any():
            continue

        def distinct_per_key(labels: np.ndarray, inverse=inverse, keys=keys) -> np.ndarray:
            pairs = np.unique(inverse.astype(np.int64) * (int(labels.max()) + 1) + labels)
            return np.bincount(pairs // (int(labels.max()) + 1), minlength=keys.size)

        n_docs = distinct_per_key(docs)
        n_groups = distinct_per_key(doc_group[docs])
        n_models = distinct_per_key(doc_model[docs])
        h_h, _ = _ngram_hashes(hum.ids, n)
        h_b, _ = _ngram_hashes(book_ids, n)
        y_h_rows = _count_in(h_h, keys)
        y_b = _count_in(h_b, keys)
        y_h = y_h_rows + y_b
        delta, z = _log_odds(
            y_a.astype(np.float64),
            y_h.astype(np.float64),
            float(h_ai.size),
            float(h_h.size + h_b.size),
            opts.gpp_prior_scale,
        )
        rate_ai = y_a / max(h_ai.size, 1)
        rate_books = y_b / max(h_b.size, 1)
        keep = (
            sel
            & (n_groups >= opts.gpp_min_groups)
            & (n_models >= opts.gpp_min_models)
            & (z >= opts.gpp_min_z)
            & (rate_books < opts.gpp_max_book_ratio * rate_ai)
        )
        for k in np.nonzero(keep)[0]:
            p = pos_ai[first[k]]
            ids = ai.ids[p : p + n]
            if not is_content[ids].any() or name_like[ids].any():
                continue
            candidates.append(
                {
                    "tokens": [lex.words[i] for i in ids],
                    "n": n,
                    "delta": float(delta[k]),
                    "z": float(z[k]),
                    "ai_count": int(y_a[k]),
                    "ai_docs": int(n_docs[k]),
                    "ai_groups": int(n_groups[k]),
                    "ai_models": int(n_models[k]),
                    "human_rows_count": int(y_h_rows[k]),
                    "books_count": int(y_b[k]),
                }
            )
    say(f"phrases: {len(candidates)} candidates after log-odds and filters")

    # drop an n-gram mostly explained by a kept longer phrase that contains it
    by_tokens = {tuple(c["tokens"]): c for c in candidates}
    covered: Counter = Counter()
    for c in candidates:
        t = tuple(c["tokens"])
        for sub_n in range(2, len(t)):
            for i in range(len(t) - sub_n + 1):
                sub = t[i : i + sub_n]
                if sub in by_tokens:
                    covered[sub] = max(covered[sub], c["ai_count"])
    kept = [c for c in candidates if covered[tuple(c["tokens"])] < opts.gpp_subsumed_share * c["ai_count"]]
    kept.sort(key=lambda c: (-c["z"], c["tokens"]))
    kept = kept[: opts.gpp_max_phrases]

    # editor weights from LAMP
    annotations = _lamp_annotations(sources)
    rows = [{**c, "weight": c["delta"]} for c in kept]
    stats, r0 = _lamp_edit_stats(rows, annotations, nlp) if rows else ({}, 0.0)
    for i, r in enumerate(rows):
        k, m = stats.get(i, [0, 0])
        excess = max(0.0, (m + LAMP_PRIOR * r0) / (k + LAMP_PRIOR) - r0) / (1 - r0) if r0 < 1 else 0.0
        r["lamp_count"] = k
        r["lamp_edited"] = m
        r["weight"] = round(r["delta"] * (1.0 + excess), 6)
        r["delta"] = round(r["delta"], 6)
        r["z"] = round(r["z"], 4)
    rows.sort(key=lambda r: (-r["weight"], r["tokens"]))
    meta = {
        "method": "weighted log-odds, informative Dirichlet prior (Monroe et al. 2008) x LAMP editor excess",
        "ai_rows": len(ai_rows),
        "human_rows": len(human_rows),
        "train_books": sorted(set(books) - held_books),
        "heldout_books": sorted(held_books),
        "lamp_annotations": len(annotations),
        "lamp_edited_char_share": round(r0, 4),
    }
    db = PhraseDB(rows, meta)
    db.save(out / "gpp_phrases.json")
    evaluation = _evaluate_phrases(db, held_rows, ref, passage_book, held_books, lex)
    say(f"phrases: {len(db)} kept; held-apart evaluation {evaluation}")
    return {
        **meta,
        "phrases": len(db),
        "evaluation": evaluation,
        "top": [" ".join(r["tokens"]) for r in rows[:20]],
    }


def _segments_by_doc(
    stream: _Stream, lex: _Lexicon, docs: Sequence[int] | None = None
) -> list[list[list[str]]]:
    """Clause segments (word strings) of each document of `stream` (or of the `docs` given)."""
    slices = stream.doc_slices()
    out = []
    for d in range(len(slices)) if docs is None else docs:
        ids = stream.ids[slices[d]]
        segs, cur = [], []
        for i in ids.tolist():
            if i < 0:
                if cur:
                    segs.append(cur)
                    cur = []
            else:
                cur.append(phrase_form(lex.words[i]))
        if cur:
            segs.append(cur)
        out.append(segs)
    return out


def _evaluate_phrases(db: PhraseDB, held_rows, ref: _Stream, passage_book, held_books, lex) -> dict[str, Any]:
    """gpp AUC on the held-apart human_vs_ai slice, and match rates in held-apart books vs AI text."""
    from sklearn.metrics import roc_auc_score

    from wqrm import resources

    nlp = resources.get("spacy")
    stream = _tokenize([r["body"] for r in held_rows], lex, nlp)
    gpp, rate = [], []
    for segs in _segments_by_doc(stream, lex):
        n_words = sum(len(s) for s in segs)
        w, m = db.weighted_count(segs)
        gpp.append(100.0 * w / n_words if n_words else None)
        rate.append((m, n_words))
    result: dict[str, Any] = {"heldout_rows": len(held_rows)}

    def auc(select) -> dict[str, Any] | None:
        h = [
            g
            for g, r in zip(gpp, held_rows, strict=True)
            if g is not None and r["label"] == "human" and select(r)
        ]
        a = [
            g
            for g, r in zip(gpp, held_rows, strict=True)
            if g is not None and r["label"] == "ai" and select(r)
        ]
        if not h or not a:
            return None
        value = roc_auc_score([1] * len(h) + [0] * len(a), h + a)
        return {"auc_human_positive": round(float(value), 4), "n_human": len(h), "n_ai": len(a)}

    instruction = {"davinci", "gpt-3.5-turbo", "gpt-4"}
    result["auc_creative_writing"] = auc(lambda r: r.get("domain") == "creative_writing")
    result["auc_creative_writing_instruction_era"] = auc(
        lambda r: (
            r.get("domain") == "creative_writing" and (r["label"] == "human" or r.get("model") in instruction)
        )
    )
    result["auc_all_domains"] = auc(lambda r: True)
    # precision check: matches per 1,000 words, held-apart human books vs held-apart AI texts
    book_docs = [i for i, b in enumerate(passage_book) if b in held_books]
    bm = bw = 0
    for segs in _segments_by_doc(ref, lex, book_docs):
        _w, m = db.weighted_count(segs)
        bm += m
        bw += sum(len(s) for s in segs)
    am = sum(m for (m, _), r in zip(rate, held_rows, strict=True) if r["label"] == "ai")
    aw = sum(w for (_, w), r in zip(rate, held_rows, strict=True) if r["label"] == "ai")
    hm = sum(m for (m, _), r in zip(rate, held_rows, strict=True) if r["label"] == "human")
    hw = sum(w for (_, w), r in zip(rate, held_rows, strict=True) if r["label"] == "human")
    per_k = {
        "heldout_books": round(1000 * bm / bw, 3) if bw else None,
        "heldout_ai": round(1000 * am / aw, 3) if aw else None,
        "heldout_human_rows": round(1000 * hm / hw, 3) if hw else None,
    }
    result["matches_per_1000_words"] = per_k
    result["words"] = {"heldout_books": bw, "heldout_ai": aw, "heldout_human_rows": hw}
    if per_k["heldout_books"] is not None and per_k["heldout_ai"]:
        result["precision_ai_vs_books"] = round(
            per_k["heldout_ai"] / (per_k["heldout_ai"] + per_k["heldout_books"]), 4
        )
    return result


# ---- creativity classifier ---------------------------------------------------------------


def _build_classifier(sources, passages, passage_book, opts: BuildOptions, seed: int, out: Path, say):
    """Train `creativity_prob`'s logistic regression on features computed with these resources."""
    from wqrm import resources
    from wqrm.analysis import analyze_batch
    from wqrm.metrics import creativity

    rng = random.Random(f"{seed}:creativity")
    book_passages = [p for p, b in zip(passages, passage_book, strict=True) if b.endswith(".txt")]
    creative_rows: list[str] = []
    conventional_pool: list[tuple[str, str]] = []  # (source, text)
    for f in sources.human_vs_ai:
        for r in _ai_body_rows(f, seed, 0):
            if r["label"] != "human":
                continue
            if r.get("domain") == "creative_writing":
                creative_rows.append(r["body"])
            else:
                conventional_pool.append((f"human_vs_ai {r.get('domain')}", r["body"]))
    seen_docs = set()
    for f in sources.iterater:
        for r in _read_jsonl(f):
            meta = r.get("meta") or {}
            if meta.get("domain") in ("news", "wiki") and meta.get("doc_id") not in seen_docs:
                seen_docs.add(meta.get("doc_id"))
                conventional_pool.append((f"iterater {meta.get('domain')}", r["edited"]))
    n = min(opts.clf_per_class, len(conventional_pool), len(book_passages) + len(creative_rows))
    n_books = min(len(book_passages), max(n - len(creative_rows), round(opts.clf_books_share * n)))
    creative = rng.sample(book_passages, n_books) + rng.sample(
        creative_rows, min(n - n_books, len(creative_rows))
    )
    conventional = rng.sample(conventional_pool, n)
    texts = creative + [t for _, t in conventional]
    labels = [1] * len(creative) + [0] * len(conventional)
    origin = (
        ["reference book passage"] * n_books
        + ["human_vs_ai creative_writing"] * (len(creative) - n_books)
        + [src for src, _ in conventional]
    )
    if len(set(labels)) < 2 or min(len(creative), len(conventional)) < 4:
        say("creativity classifier: not enough creative/conventional texts; skipped")
        return {"skipped": "not enough creative/conventional texts"}
    previous = resources._OVERRIDES.get("corpus")
    resources.set_override("corpus", str(out))
    CorpusResources.forget(out)
    try:
        analyses = analyze_batch(texts)
        rows = [creativity.creativity_features(a) for a in analyses]
        model = creativity.fit_creativity_model(rows, labels, seed=seed, folds=opts.clf_folds, sources=origin)
    finally:
        resources.set_override("corpus", previous)
        CorpusResources.forget(out)
    model["training"] = {
        "creative": {"book_passages": n_books, "human_creative_writing": len(creative) - n_books},
        "conventional": len(conventional),
        "sources": "creative: reference book passages + human creative_writing rows of human_vs_ai; "
        "conventional: human news / wikipedia_qa / biomedical_qa rows of human_vs_ai + IteraTeR news "
        "and Wikipedia documents (edited side, one per doc_id)",
    }
    (out / "creativity_lr.json").write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    say(f"creativity classifier: nested CV accuracy {model['cv_accuracy']['nested_mean']:.3f}")
    return {k: model[k] for k in ("selected", "cv_accuracy", "training")}
