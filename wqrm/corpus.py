"""Corpus-built resources: offline stand-ins for the web-scale resources of the source papers.

Ganguly et al. (2014) and Chiru (2013) lean on resources that are not available offline
(SentiWordNet, DISCO, free-association norms, web page counts, Wikipedia). wqrm replaces them with
statistics built reproducibly from human reference prose (default: the English reference books and
the LAMP human paragraphs of the development data), stored next to the default profile in
non-pickle formats and rebuilt by one command with a fixed seed (the builder is
`wqrm.build.corpus`; this module only reads)::

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
    the generic-phrase database (see `wqrm.build.phrases.build_phrase_db`): phrases with weights
    and provenance.
``creativity_lr.json``
    the creativity classifier (`wqrm.fit.creativity.fit_creativity_model`).

`CorpusResources.load(dir)` reads a directory lazily (each part on first use) and caches the
instance per directory and process; `resources.get("corpus")` returns the shipped default (or the
directory in ``$WQRM_CORPUS_DIR``).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.errors import ResourceMissingError
from wqrm.ngram import KneserNeyLM, lookup
from wqrm.sentence_order import MODEL_FILE as SENTENCE_ORDER_FILE
from wqrm.sentence_order import SentenceOrderModel

__all__ = ["FORMAT", "CorpusResources", "PhraseDB", "default_corpus_dir"]

log = logging.getLogger(__name__)

FORMAT = "wqrm-corpus/1"


def default_corpus_dir() -> Path:
    """Where the shipped corpus resources live: next to the default profile."""
    return Path(__file__).resolve().parent / "data" / "profiles" / "default" / "corpus"


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
        values, _ = lookup(c["keys"], c[field_name], lo * len(self.vocab) + hi)
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
    def pos_lm(self) -> KneserNeyLM:
        """The part-of-speech 4-gram model of `pos_ngram_surprisal` (``pos_lm/``; `wqrm.build.pos_lm`)."""
        path = self.dir / "pos_lm"
        if not (path / "ngram_lm.npz").exists():
            raise ResourceMissingError(
                f"the part-of-speech n-gram model is missing at {path}. Fix: `wqrm build-pos-lm "
                f"--data ../shared/data --out {path}`"
            )
        return KneserNeyLM.load(path)

    @cached_property
    def sentence_order(self) -> SentenceOrderModel:
        """The next-sentence model of `next_sentence_gain` (``sentence_order/``;
        `wqrm.build.sentence_order`)."""
        path = self.dir / "sentence_order"
        if not (path / SENTENCE_ORDER_FILE).exists():
            raise ResourceMissingError(
                f"the next-sentence model is missing at {path}. Fix: `wqrm build-sentence-order "
                f"--data ../shared/data --out {path}`"
            )
        return SentenceOrderModel.load(path)

    @cached_property
    def phrases(self) -> PhraseDB:
        return PhraseDB.load(self.dir / "gpp_phrases.json")

    @cached_property
    def creativity_model(self) -> dict[str, Any] | None:
        path = self.dir / "creativity_lr.json"
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
