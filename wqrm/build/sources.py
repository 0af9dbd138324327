"""What the corpus builders read and how they tokenise it: source files, build options, a
lexicon of lower-cased words, hashed n-grams and the weighted log-odds contrast."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.ngram import lookup

__all__ = [
    "BuildOptions",
    "CorpusSources",
    "Lexicon",
    "TokenStream",
    "ai_body_rows",
    "count_in",
    "file_sha256",
    "hash_percent",
    "log_odds",
    "ngram_hashes",
    "read_jsonl",
    "tokenize_texts",
]


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
    gpp_min_delta: float = 1.5  # minimum log-odds ratio (nats) AI vs human: at least ~4.5x as frequent
    gpp_max_human_ratio: float = 0.25  # rate in modern human rows below this share of the AI rate
    gpp_max_phrases: int = 3_000
    gpp_subsumed_share: float = 0.8
    gpp_name_title_share: float = 0.7
    clf_per_class: int = 400
    clf_folds: int = 5
    clf_books_share: float = 0.5


def hash_percent(key: str) -> int:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest(), 16) % 100


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class Lexicon:
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
class TokenStream:
    """Tokenised documents as flat arrays: word ids (-1 at punctuation, spaces and document ends)."""

    ids: np.ndarray
    doc: np.ndarray
    title: np.ndarray
    sent_start: np.ndarray
    n_docs: int

    def doc_slices(self) -> list[slice]:
        bounds = np.searchsorted(self.doc, np.arange(self.n_docs + 1))
        return [slice(bounds[i], bounds[i + 1]) for i in range(self.n_docs)]


def tokenize_texts(texts: Sequence[str], lex: Lexicon, nlp, sentences: bool = False) -> TokenStream:
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
        return TokenStream(z, z, z.astype(bool), z.astype(bool), 0)
    return TokenStream(
        np.concatenate(ids_parts),
        np.concatenate(doc_parts),
        np.concatenate(title_parts),
        np.concatenate(start_parts),
        len(texts),
    )


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64, wrapping)."""
    x = x.astype(np.uint64)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def ngram_hashes(ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """64-bit hashes of every n-gram of word ids not crossing a -1, and their start positions."""
    m = len(ids) - n + 1
    if m <= 0:
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    valid = np.ones(m, dtype=bool)
    for k in range(n):
        valid &= ids[k : k + m] >= 0
    pos = np.nonzero(valid)[0]
    h = mix64(ids[pos].astype(np.uint64) + np.uint64(1))
    for k in range(1, n):
        h = mix64(h ^ mix64(ids[pos + k].astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15 * k % 2**64)))
    return h, pos


def count_in(hashes: np.ndarray, query: np.ndarray) -> np.ndarray:
    keys, counts = np.unique(hashes, return_counts=True)
    values, _ = lookup(keys, counts.astype(np.float64), query)
    return values.astype(np.int64)


def log_odds(y_a: np.ndarray, y_h: np.ndarray, n_a: float, n_h: float, scale: float):
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


def ai_body_rows(path: Path, seed: int, holdout_percent: int) -> list[dict[str, Any]]:
    """Rows of a human_vs_ai file with `body` (the AI continuation without the shared human
    prefix, and the paired human text without the same prefix) and `heldout` (by prompt group)."""
    rows = read_jsonl(path)
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
        r["heldout"] = hash_percent(f"{seed}|{r['group']}") < holdout_percent
    return [r for r in rows if r["body"]]
