"""What the frozen S1 encoder reads of a text: its paragraphs, and a long paragraph in chunks;
or, for a model with the ``sentences`` reading, its sentences one by one.

all-MiniLM-L6-v2 reads at most `CHUNK_TOKENS` tokens; `text_pieces` cuts a longer paragraph into
sentence-bounded chunks of about equal size (`chunk_cuts`) so that no part of it goes unread.
`sentence_pieces` splits each paragraph into its sentences (a sentence over `CHUNK_TOKENS` tokens
is cut by the encoder, as a paragraph of a ``first`` model is).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

import numpy as np

from wqrm.analysis import SENTENCE_END, encode_unit, paragraph_spans
from wqrm.edit.surface import sentences

__all__ = [
    "CHUNK_TOKENS",
    "READINGS",
    "chunk_cuts",
    "encode_pieces",
    "paragraphs_of",
    "sentence_pieces",
    "text_pieces",
]


def paragraphs_of(text: str) -> list[str]:
    """Blank-line paragraphs of `text` (the whole stripped text when there is no break)."""
    paras = [text[a:b] for a, b in paragraph_spans(text)]
    return paras or [text.strip()]


#: Tokens, [CLS] and [SEP] included, of the longest piece the frozen encoder reads whole: the
#: `max_seq_length` of all-MiniLM-L6-v2. A longer paragraph is read in sentence-bounded chunks
#: (`chunk_cuts`) by a model whose `reading` asks for them; otherwise the encoder cuts it here.
CHUNK_TOKENS = 256
#: How a frozen model reads a text: each paragraph's first `CHUNK_TOKENS` tokens, the mean of its
#: chunks, both side by side, or the mean of its sentences, each embedded alone (`sentences`: the
#: same for any order of the sentences; `EmbeddingHeadReward.features`).
READINGS = ("first", "chunks", "both", "sentences")


def chunk_cuts(paragraph: str, starts: Sequence[int], limit: int) -> list[int]:
    """Token indices at which to cut `paragraph` into consecutive chunks of at most `limit` tokens.

    `starts` are the character offsets where its tokens begin (tokenised without special tokens).
    Chunks come out about equal in size: each cut is the sentence end (`SENTENCE_END`) nearest the
    even split among those that keep the chunk within `limit`, else the nearest start of a word,
    else `limit` tokens on (one word longer than `limit` tokens). [] when the paragraph fits."""
    n = len(starts)
    ends = sorted({bisect.bisect_left(starts, m.end()) for m in SENTENCE_END.finditer(paragraph)})
    words = [i for i, c in enumerate(starts) if i > 0 and c > 0 and paragraph[c - 1].isspace()]
    cuts, pos = [], 0
    while n - pos > limit:
        target = pos + (n - pos) / -(-(n - pos) // limit)
        for candidates in (ends, words, [pos + limit]):
            inside = [c for c in candidates if pos < c <= pos + limit]
            if inside:
                pos = min(inside, key=lambda c: (abs(c - target), c))
                break
        cuts.append(pos)
    return cuts


def text_pieces(
    texts: Sequence[str], tokenizer=None, chunk_tokens: int | None = None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """What the frozen encoder reads: (pieces, the text each belongs to, each piece's weight).

    Pieces are the texts' blank-line paragraphs; with `chunk_tokens` (and the encoder's
    `tokenizer`), a paragraph of more than `chunk_tokens` − 2 tokens is cut into sentence-bounded
    chunks (`chunk_cuts`), so that no part of it goes unread. A paragraph's chunks share its
    weight: every paragraph counts once in its text's mean, however long."""
    paragraphs, owner = [], []
    for i, t in enumerate(texts):
        for p in paragraphs_of(t):
            paragraphs.append(p)
            owner.append(i)
    if not chunk_tokens or tokenizer is None or not paragraphs:
        return paragraphs, np.asarray(owner, dtype=np.int64), np.ones(len(paragraphs))
    limit = chunk_tokens - 2
    enc = tokenizer(paragraphs, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    pieces, piece_owner, weight = [], [], []
    for p, o, offsets in zip(paragraphs, owner, enc["offset_mapping"], strict=True):
        starts = [a for a, _ in offsets]
        bounds = [0, *(starts[c] for c in chunk_cuts(p, starts, limit)), len(p)]
        chunks = [p[a:b].strip() for a, b in itertools.pairwise(bounds)]
        chunks = [c for c in chunks if c] or [p]
        pieces += chunks
        piece_owner += [o] * len(chunks)
        weight += [1.0 / len(chunks)] * len(chunks)
    return pieces, np.asarray(piece_owner, dtype=np.int64), np.asarray(weight)


def sentence_pieces(texts: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The ``sentences`` reading: (pieces, the text each belongs to, each piece's weight), the
    pieces the sentences of each paragraph (split at ., !, ?, … as `wqrm.edit.surface.sentences`
    does; a paragraph without an end mark is one piece), a paragraph's sentences sharing its
    weight as chunks do in `text_pieces`. The mean embedding does not depend on the order of a
    paragraph's sentences: S1 then judges wording, and sentence order is left to S4's order
    metrics, instead of moving by noise when two sentences trade places (the red team's swaps)."""
    pieces, owner, weight = [], [], []
    for i, t in enumerate(texts):
        for p in paragraphs_of(t):
            sents = sentences(p) or [p]
            pieces += sents
            owner += [i] * len(sents)
            weight += [1.0 / len(sents)] * len(sents)
    return pieces, np.asarray(owner, dtype=np.int64), np.asarray(weight, dtype=np.float64)


def encode_pieces(pieces: Sequence[str], encoder, batch_size: int = 8) -> np.ndarray:
    """Unit-length embeddings of `pieces`, each distinct piece encoded once (one batched call)."""
    distinct = list(dict.fromkeys(pieces))
    emb = encode_unit(distinct, encoder=encoder, batch_size=batch_size)
    row = {p: i for i, p in enumerate(distinct)}
    return emb[[row[p] for p in pieces]] if distinct else emb
