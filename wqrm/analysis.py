"""One parse per text: the `Analysis` every metric reads.

`analyze_batch` splits each text into paragraphs (on blank lines), parses every paragraph of every
text with one batched `nlp.pipe` call and wraps the result. Parsing per paragraph keeps sentences
inside their paragraph and bounds memory: a 5 MB text is parsed piece by piece instead of failing
on spaCy's `max_length` (a single paragraph longer than `CHUNK_CHARS` is cut at a sentence end).

Conventions (DESIGN.md): *words* are spaCy tokens that are neither punctuation nor space,
lower-cased; *sentences* are the parser's; *paragraphs* are split on blank lines.

Languages: every text's language is detected (`wqrm.lang.detect`) and its paragraphs go to that
language's pipeline: English to spaCy, Russian to `wqrm.russian.RussianPipeline` (natasha's
models built into spaCy `Doc`s, so every metric reads the same token interface). A text in any
other language raises `wqrm.lang.UnsupportedLanguageError` naming it. `Analysis.lang` records the
language; `Analysis.lexemes` are the units lexical-diversity metrics count: the words themselves
in English, their lemmas in Russian (docs/design-decisions.md, "Languages and Russian").

Sentence embeddings are computed lazily, once, and cached on the analysis; `embed_sentences`
fills the caches of many analyses with one batched encoder call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from wqrm import resources
from wqrm.lang import SUPPORTED, UnsupportedLanguageError, detect
from wqrm.textio import validate_text

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc, Span, Token

__all__ = [
    "Analysis",
    "Paragraph",
    "Sentence",
    "analyze",
    "analyze_batch",
    "embed_sentences",
    "from_doc",
]

#: Largest piece of text handed to spaCy in one call (characters).
CHUNK_CHARS = 100_000
#: The resource that parses each supported language.
PIPELINES = {"en": "spacy", "ru": "russian"}
#: Languages whose lexical-diversity unit is the lemma rather than the word form.
LEMMA_LANGUAGES = frozenset({"ru"})
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v\u00a0]*\n")
#: A sentence end: terminal punctuation, closing quotes or brackets, then whitespace.
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")


def is_word(token: Token) -> bool:
    """DESIGN.md's word: a token that is neither punctuation nor space."""
    return not (token.is_punct or token.is_space)


@dataclass(frozen=True)
class Sentence:
    """One parser sentence: its span in the parse, its words, and its offsets in the full text."""

    span: Span
    words: list[str]
    start_char: int
    end_char: int
    lemmas: list[str] | None = None  # one per word, for languages that count lemmas (Russian)

    @property
    def lexemes(self) -> list[str]:
        """The units lexical-diversity metrics count: the lemmas where kept, else the words."""
        return self.words if self.lemmas is None else self.lemmas

    @property
    def text(self) -> str:
        return self.span.text

    @property
    def tokens(self) -> Span:
        return self.span

    @property
    def word_tokens(self) -> list[Token]:
        return [t for t in self.span if is_word(t)]

    def __len__(self) -> int:
        return len(self.words)


@dataclass(frozen=True)
class Paragraph:
    """A blank-line separated block of the text, with its sentences."""

    text: str
    start_char: int
    sentences: list[Sentence]
    docs: list[Doc] = field(repr=False)

    @cached_property
    def words(self) -> list[str]:
        return [w for s in self.sentences for w in s.words]

    @property
    def end_char(self) -> int:
        return self.start_char + len(self.text)


class Analysis:
    """A parsed text. Build it with `wqrm.analyze` / `wqrm.analyze_batch`, not directly.

    Besides the parse it carries the outputs of the models run over a whole batch, set once by
    their batch preparers (so each model runs once per batch, never per metric):

    * `sentence_embeddings` (lazy, `embed_sentences`): unit sentence vectors;
    * `edit_reward`: the S1 edit model's reward for the text (None until `wqrm.metrics.edit`'s
      preparer ran);
    * `edit_spans`: the edit-trace tagger's flagged spans (`wqrm.edit.tagger.Span`, character
      offsets into `text`; None until the tagger ran);
    * `edit_degeneracy`: the S1 degeneracy head's probability that the text is degraded (None
      until the preparer ran, or when the edit model has no such head).
    """

    def __init__(self, text: str, paragraphs: list[Paragraph], lang: str = "en"):
        self.text = text
        self.lang = lang
        self.paragraphs = paragraphs
        self.sentences: list[Sentence] = [s for p in paragraphs for s in p.sentences]
        self.words: list[str] = [w for s in self.sentences for w in s.words]
        self.edit_reward: float | None = None
        self.edit_spans: list[Any] | None = None
        self.edit_degeneracy: float | None = None
        self._embeddings: np.ndarray | None = None
        self._cache: dict[str, Any] = {}

    def __repr__(self) -> str:
        return (
            f"Analysis({len(self.words)} words, {len(self.sentences)} sentences, "
            f"{len(self.paragraphs)} paragraphs, lang={self.lang!r})"
        )

    @cached_property
    def lexemes(self) -> list[str]:
        """What lexical diversity counts (TTR, MTLD, entropy, MATTR): `.words` in English, their
        lower-cased lemmas in Russian, where one noun has up to twelve case and number forms."""
        if all(s.lemmas is None for s in self.sentences):
            return self.words
        return [x for s in self.sentences for x in s.lexemes]

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        """Return the value cached under `key`, building it with `build()` the first time.

        Metrics share intermediate results (tree shapes, n-gram counts) through this cache, so
        the work behind several metrics is done once per text.
        """
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    @property
    def docs(self) -> list[Doc]:
        """The spaCy docs of the text, one per paragraph piece, in order."""
        return [d for p in self.paragraphs for d in p.docs]

    @cached_property
    def doc(self) -> Doc:
        """The whole parse as one spaCy `Doc` (merged lazily from the paragraph docs)."""
        from spacy.tokens import Doc

        docs = self.docs
        if len(docs) == 1:
            return docs[0]
        return Doc.from_docs(docs, ensure_whitespace=True)

    def doc_offset(self, doc: Doc) -> int:
        """Character offset in `.text` of one of this analysis' paragraph docs (token.idx + it)."""
        offsets = self.cached(
            "doc_offsets", lambda: {id(s.span.doc): s.start_char - s.span.start_char for s in self.sentences}
        )
        return offsets.get(id(doc), 0)

    @cached_property
    def word_starts(self) -> np.ndarray:
        """Character offset in `.text` of each word of `.words`."""
        return np.array([self.doc_offset(t.doc) + t.idx for t in self.word_tokens], dtype=np.int64)

    @cached_property
    def word_tokens(self) -> list[Token]:
        """The spaCy tokens behind `.words`, in order."""
        return [t for s in self.sentences for t in s.span if is_word(t)]

    @cached_property
    def sentence_lengths(self) -> np.ndarray:
        """Words per sentence, for sentences holding at least one word."""
        return np.array([len(s.words) for s in self.sentences if s.words], dtype=np.int64)

    @property
    def sentence_embeddings(self) -> np.ndarray:
        """Unit-length sentence embeddings (n_sentences x dim), computed once and cached."""
        if self._embeddings is None:
            embed_sentences([self])
        assert self._embeddings is not None
        return self._embeddings


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the non-blank paragraphs, whitespace-trimmed."""
    spans = []
    pos = 0
    for m in [*_PARAGRAPH_BREAK.finditer(text), None]:
        end = m.start() if m else len(text)
        chunk = text[pos:end]
        stripped = chunk.strip()
        if stripped:
            lead = len(chunk) - len(chunk.lstrip())
            spans.append((pos + lead, pos + lead + len(stripped)))
        if m:
            pos = m.end()
    return spans


def _split_long(text: str, limit: int) -> list[tuple[int, int]]:
    """Cut a paragraph longer than `limit` characters at sentence ends (else at whitespace)."""
    pieces = []
    start = 0
    n = len(text)
    while n - start > limit:
        window = text[start : start + limit]
        cut = None
        for m in SENTENCE_END.finditer(window, limit // 2):
            cut = m.end()
        if cut is None:
            ws = window.rfind(" ", limit // 2)
            cut = ws + 1 if ws > 0 else limit
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, n))
    return pieces


def analyze(text: str, *, nlp=None, lang: str | None = None) -> Analysis:
    """Parse one text. Raises `wqrm.InvalidTextError` for empty, whitespace-only or binary text,
    and `wqrm.lang.UnsupportedLanguageError` (an `InvalidTextError`) for a language wqrm has no
    pipeline for."""
    return analyze_batch([text], nlp=nlp, lang=lang)[0]


def analyze_batch(
    texts: Sequence[str],
    *,
    nlp=None,
    batch_size: int = 64,
    lang: str | Sequence[str | None] | None = None,
) -> list[Analysis]:
    """Parse many texts: each language's paragraphs in one batched `pipe` call of its pipeline.

    The language of each text is detected unless `lang` gives it: one code ("en", "ru") for every
    text, or one per text (a caller that detected them already; None: detect that one). `nlp` replaces
    the English spaCy pipeline. Raises `wqrm.InvalidTextError` for the first invalid text (an
    `UnsupportedLanguageError` for one in a language wqrm does not analyse); callers that need
    per-item error records validate first (see `wqrm.scoring.Scorer.score_batch`).
    """
    for t in texts:
        validate_text(t)
    given = [lang] * len(texts) if isinstance(lang, str) or lang is None else list(lang)
    if len(given) != len(texts) or any(c is not None and c not in SUPPORTED for c in given):
        raise ValueError(f"lang must be one of {SUPPORTED} (or one per text), got {lang!r}")
    langs = []
    for t, code in zip(texts, given, strict=True):
        if code is None:
            guess = detect(t)
            if not guess.supported:
                raise UnsupportedLanguageError(guess)
            code = guess.lang
        langs.append(code)
    out: list[Analysis | None] = [None] * len(texts)
    for code in dict.fromkeys(langs):
        idx = [i for i, c in enumerate(langs) if c == code]
        pipeline = nlp if (nlp is not None and code == "en") else resources.get(PIPELINES[code])
        for i, a in zip(idx, _parse([texts[i] for i in idx], pipeline, batch_size, code), strict=True):
            out[i] = a
    return [a for a in out if a is not None]


def _parse(texts: Sequence[str], nlp, batch_size: int, lang: str) -> list[Analysis]:
    """Parse every paragraph of `texts` with `nlp.pipe` (one streaming call) and wrap them."""
    # (text index, paragraph (start, end), pieces as (start, end) relative to the paragraph)
    layout: list[tuple[int, tuple[int, int], list[tuple[int, int]]]] = []
    pieces_text: list[str] = []
    for ti, text in enumerate(texts):
        for ps, pe in paragraph_spans(text):
            ptext = text[ps:pe]
            pieces = _split_long(ptext, CHUNK_CHARS) if len(ptext) > CHUNK_CHARS else [(0, len(ptext))]
            layout.append((ti, (ps, pe), pieces))
            pieces_text.extend(ptext[a:b] for a, b in pieces)

    docs_iter = iter(nlp.pipe(_iter_pieces(pieces_text), batch_size=batch_size))
    paragraphs: list[list[Paragraph]] = [[] for _ in texts]
    lemmas = lang in LEMMA_LANGUAGES
    for ti, (ps, pe), pieces in layout:
        sentences: list[Sentence] = []
        docs = []
        for a, _b in pieces:
            doc = next(docs_iter)
            doc.tensor = np.zeros((0,), dtype="float32")  # not used downstream; frees memory
            docs.append(doc)
            sentences.extend(_sentences(doc, ps + a, lemmas))
        paragraphs[ti].append(Paragraph(texts[ti][ps:pe], ps, sentences, docs))
    return [Analysis(text, paras, lang) for text, paras in zip(texts, paragraphs, strict=True)]


def _sentences(doc: Doc, base: int, lemmas: bool = False) -> list[Sentence]:
    out = []
    for sent in doc.sents:
        tokens = [t for t in sent if is_word(t)]
        out.append(
            Sentence(
                sent,
                [t.lower_ for t in tokens],
                base + sent.start_char,
                base + sent.end_char,
                [t.lemma_.lower() for t in tokens] if lemmas else None,
            )
        )
    return out


def from_doc(doc: Doc) -> Analysis:
    """Wrap an existing parsed `Doc` (one paragraph) as an `Analysis`, e.g. a hand-built test tree.
    Its language is the doc's (`doc.lang_`: a `spacy.blank("ru")` vocabulary makes a Russian one)."""
    lang = doc.lang_ if doc.lang_ in SUPPORTED else "en"
    sentences = _sentences(doc, 0, lang in LEMMA_LANGUAGES)
    return Analysis(doc.text, [Paragraph(doc.text, 0, sentences, [doc])], lang)


def _iter_pieces(pieces: list[str]) -> Iterable[str]:
    # A generator keeps nlp.pipe streaming: only one batch of docs is being built at a time.
    yield from pieces


def encode_unit(texts: Sequence[str], *, encoder=None, batch_size: int = 64) -> np.ndarray:
    """Unit-length float64 embeddings of `texts` from the sentence encoder, one batched call.

    The encoder's float32 vectors are normalised in float64, so cosines of identical texts are 1 to
    machine precision (float32 normalisation leaves norms off by ~1e-7)."""
    encoder = encoder or resources.get("sentence_encoder")
    emb = encoder.encode(
        list(texts),
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=False,
        show_progress_bar=False,
    ).astype(np.float64)
    norms = np.linalg.norm(emb, axis=1, keepdims=True)
    return np.divide(emb, norms, out=emb, where=norms > 0)  # in place: a zero row (norm 0) stays zero


def embed_sentences(
    analyses: Sequence[Analysis], *, encoder=None, batch_size: int = 64, force: bool = False
) -> None:
    """Compute and cache unit-length sentence embeddings for every analysis, in one encoder call."""
    todo = [a for a in analyses if force or a._embeddings is None]
    if not todo:
        return
    sentences = [s.text for a in todo for s in a.sentences]
    emb = encode_unit(sentences, encoder=encoder, batch_size=batch_size) if sentences else np.zeros((0, 0))
    offset = 0
    for a in todo:
        n = len(a.sentences)
        a._embeddings = emb[offset : offset + n]
        offset += n
