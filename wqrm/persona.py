"""Personas: what the S2 metrics compare a text with — the user's own writing.

A `Persona` is built from the user's documents (PersonaPlugs, Liu et al. 2024): each document is
split into paragraphs (blank lines), exact duplicate paragraphs are kept once (so repeating a
document changes nothing), and every distinct paragraph is parsed and embedded once. It holds

* the paragraph embeddings: the normalised mean of each paragraph's all-MiniLM-L6-v2 sentence
  embeddings (the same construction `wqrm.metrics.style.text_embedding` uses for a scored text);
* the persona vector: the mean of the normalised paragraph embeddings; with a temperature τ the
  vector is instead attention-weighted toward the scored text, Σ_i softmax(cos(p_i, t)/τ)_i p_i;
* the user's distinct word n-grams, n = 2..5, within paragraphs (for `nsm`);
* the moving-average TTR at windows 1..50, pooled over the windows inside each paragraph (for
  `ttr_consistency`);
* the sentence-length histogram (DESIGN.md's `sld_kl` bins) and the formality F-score.

    >>> from wqrm import persona
    >>> p = persona.build(["my_essay.txt", "Another piece of my writing, given as text."])
    >>> p.save("me/")                      # persona.json + persona.npz, no pickle
    >>> p = persona.Persona.load("me/")
    >>> p = persona.Persona.from_dir("docs/")   # every .txt / .md file under docs/
    >>> scorer.score(text, persona=p)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.analysis import analyze_batch, embed_sentences, paragraph_spans
from wqrm.metrics import style
from wqrm.textio import read_text

__all__ = ["PERSONA_FILES", "Persona", "build", "resolve"]

PERSONA_JSON = "persona.json"
PERSONA_NPZ = "persona.npz"
PERSONA_FILES = (PERSONA_JSON, PERSONA_NPZ)
FORMAT = "wqrm-persona/1"
#: File types `Persona.from_dir` reads.
SUFFIXES = (".txt", ".md")

_MD_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_MD_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t].*$", re.MULTILINE)
_SPACES = re.compile(r"\s+")


@dataclass
class Persona:
    """The user's writing, summarised for the S2 metrics (see the module docstring)."""

    paragraph_embeddings: np.ndarray  # (n_paragraphs, dim), unit rows
    ngrams: dict[int, set[str]]  # order -> distinct space-joined word n-grams
    mattr: np.ndarray  # (50,) MATTR at window W = index + 1; NaN where the corpus is shorter
    sentence_length_counts: np.ndarray  # (13,) sentence-length histogram
    formality: float
    n_words: int
    tau: float | None = None  # attention temperature; None: plain mean
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def vector(self) -> np.ndarray:
        """The persona vector: mean of the normalised paragraph embeddings."""
        return self.paragraph_embeddings.mean(axis=0)

    @property
    def n_paragraphs(self) -> int:
        return int(self.paragraph_embeddings.shape[0])

    def vector_for(self, query: np.ndarray, tau: float | None = None) -> np.ndarray:
        """The persona vector for a text with unit embedding `query`.

        Without a temperature (argument or the persona's `tau`): the plain mean. With τ: the
        attention-weighted mean Σ_i w_i p_i, w = softmax(cos(p_i, query) / τ) (PersonaPlugs).
        """
        tau = self.tau if tau is None else tau
        if tau is None:
            return self.vector
        if tau <= 0:
            raise ValueError(f"tau must be > 0, got {tau}")
        logits = self.paragraph_embeddings @ np.asarray(query, dtype=np.float64) / tau
        w = np.exp(logits - logits.max())
        w /= w.sum()
        return w @ self.paragraph_embeddings

    # ---- io ---------------------------------------------------------------------------------

    def save(self, out_dir: str | Path) -> Path:
        """Write `persona.json` (n-grams, scalars, provenance) and `persona.npz` (arrays)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        doc = {
            "format": FORMAT,
            "meta": self.meta,
            "tau": self.tau,
            "formality": self.formality,
            "n_words": self.n_words,
            "ngrams": {str(n): sorted(grams) for n, grams in sorted(self.ngrams.items())},
        }
        (out / PERSONA_JSON).write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
        np.savez(
            out / PERSONA_NPZ,
            paragraph_embeddings=self.paragraph_embeddings.astype(np.float32),
            mattr=self.mattr.astype(np.float64),
            sentence_length_counts=self.sentence_length_counts.astype(np.int64),
        )
        return out

    @classmethod
    def load(cls, path: str | Path) -> Persona:
        """Read a persona saved with `save` (a directory holding persona.json and persona.npz)."""
        d = Path(path)
        try:
            doc = json.loads((d / PERSONA_JSON).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise FileNotFoundError(f"no persona at {d} (expected {PERSONA_JSON} and {PERSONA_NPZ})") from exc
        if doc.get("format") != FORMAT:
            raise ValueError(f"{d / PERSONA_JSON}: not a wqrm persona (format {doc.get('format')!r})")
        with np.load(d / PERSONA_NPZ, allow_pickle=False) as arrays:
            emb = arrays["paragraph_embeddings"].astype(np.float64)
            mattr_curve = arrays["mattr"].astype(np.float64)
            lengths = arrays["sentence_length_counts"].astype(np.int64)
        return cls(
            paragraph_embeddings=emb,
            ngrams={int(n): set(grams) for n, grams in doc["ngrams"].items()},
            mattr=mattr_curve,
            sentence_length_counts=lengths,
            formality=float(doc["formality"]),
            n_words=int(doc["n_words"]),
            tau=doc.get("tau"),
            meta=doc.get("meta", {}),
        )

    @classmethod
    def from_dir(cls, directory: str | Path, *, tau: float | None = None) -> Persona:
        """Build a persona from every .txt and .md file under `directory` (sorted, recursive)."""
        d = Path(directory)
        if not d.is_dir():
            raise NotADirectoryError(f"persona directory {d} does not exist")
        files = sorted(p for p in d.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise ValueError(f"no .txt or .md files in {d} to build a persona from")
        return build(files, tau=tau)


def _read_document(path: Path) -> str:
    text = read_text(str(path))
    if path.suffix.lower() == ".md":
        # prose only: drop fenced code blocks and heading lines
        text = _MD_HEADING.sub("", _MD_FENCE.sub("", text))
    return text


def _is_path(item: str | os.PathLike) -> bool:
    if isinstance(item, os.PathLike):
        return True
    if "\n" in item or len(item) > 1024:
        return False
    try:
        return Path(item).is_file()
    except (OSError, ValueError):  # not a possible file name (too long, NUL byte): a text
        return False


def _distinct_paragraphs(texts: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for text in texts:
        for a, b in paragraph_spans(text):
            para = text[a:b]
            key = _SPACES.sub(" ", para).strip()
            if key and key not in seen:
                seen.add(key)
                out.append(para)
    return out


def build(paths_or_texts: Sequence[str | os.PathLike], *, tau: float | None = None) -> Persona:
    """Build a persona from the user's documents.

    Items that are `Path`s, or strings naming an existing file, are read as files (.md files lose
    code blocks and headings); other strings are the documents' text. Paragraphs are split on
    blank lines and exact duplicates (up to whitespace) are kept once. All distinct paragraphs are
    parsed in one batch and embedded in one encoder call.
    """
    if isinstance(paths_or_texts, (str, os.PathLike)):
        paths_or_texts = [paths_or_texts]
    sources, texts = [], []
    for item in paths_or_texts:
        if _is_path(item):
            texts.append(_read_document(Path(item)))
            sources.append(Path(item).name)
        else:
            texts.append(str(item))
            sources.append("<text>")
    paragraphs = _distinct_paragraphs(texts)
    if not paragraphs:
        raise ValueError("the persona documents hold no text")
    analyses = [a for a in analyze_batch(paragraphs) if a.words]
    if not analyses:
        raise ValueError("the persona documents hold no words")
    embed_sentences(analyses)
    embeddings = np.vstack([style.text_embedding(a) for a in analyses])
    n_words = np.array([len(a.words) for a in analyses], dtype=np.float64)
    formality = float(np.average([style.formality(a) for a in analyses], weights=n_words))
    lengths = np.concatenate([a.sentence_lengths for a in analyses])
    return Persona(
        paragraph_embeddings=embeddings,
        ngrams=style.ngram_sets([a.words for a in analyses]),
        mattr=style.pooled_mattr_curve([a.lexemes for a in analyses]),
        sentence_length_counts=style.sentence_length_counts(lengths),
        formality=formality,
        n_words=int(n_words.sum()),
        tau=tau,
        meta={"sources": sources, "n_documents": len(texts), "n_paragraphs": len(analyses)},
    )


def resolve(persona: Persona | str | os.PathLike | None) -> Persona | None:
    """A `Persona` from a persona, a saved persona directory, or a directory of .txt/.md files."""
    if persona is None or isinstance(persona, Persona):
        return persona
    d = Path(persona)
    if (d / PERSONA_JSON).exists():
        return Persona.load(d)
    return Persona.from_dir(d)
