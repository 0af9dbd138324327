"""`wqrm build-corpus`: build every corpus resource (`wqrm.corpus` reads them) into a directory.

Stages: reference passages → vocabulary and co-occurrence → LDA → ESA → n-gram LM → generic
phrases (`wqrm.build.phrases`) → creativity classifier (`wqrm.fit.creativity`). Deterministic
for a given seed and library versions; the manifest records command, seed, options, source files
with their sha256, stage runtimes and sizes.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import asdict
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from wqrm import __version__, resources
from wqrm.analysis import analyze_batch
from wqrm.build.phrases import build_phrase_db
from wqrm.build.profile import passages_from_file
from wqrm.build.sources import (
    BuildOptions,
    CorpusSources,
    Lexicon,
    TokenStream,
    ai_body_rows,
    file_sha256,
    read_jsonl,
    tokenize_texts,
)
from wqrm.corpus import FORMAT, CorpusResources
from wqrm.fit.creativity import fit_creativity_model
from wqrm.metrics.creativity import creativity_features
from wqrm.ngram import BOS, EOS, UNK, KneserNeyLM, count_ngrams
from wqrm.words import is_content_word

__all__ = ["build_corpus_resources"]

log = logging.getLogger(__name__)


def build_corpus_resources(
    sources: CorpusSources,
    out_dir: str | Path,
    *,
    seed: int = 0,
    options: BuildOptions | None = None,
    command: str = "",
    classifier: bool = True,
    only_phrases: bool = False,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build every corpus resource into `out_dir` and return the manifest (also written there).

    Stages: reference passages → vocabulary and co-occurrence → LDA → ESA → n-gram LM → generic
    phrases (with its held-apart evaluation) → creativity classifier (needs the stages before;
    skipped with `classifier=False`). Deterministic for a given seed and library versions.
    `only_phrases` rebuilds the generic-phrase database alone into an existing directory (the
    other files and their manifest entries are kept; they do not depend on it).
    """
    opts = options or BuildOptions()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda msg: log.info("%s", msg))
    t_start = time.perf_counter()
    stages: dict[str, float] = {}
    nlp = resources.get("spacy")
    lex = Lexicon()

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
        for r in read_jsonl(f):
            if isinstance(r.get("text"), str) and r["text"].strip():
                passages.append(r["text"].strip())
                passage_book.append(f.name)
    if not passages:
        raise ValueError("no reference passages: give reference books (.txt) or rows (.jsonl)")
    ref = tokenize_texts(passages, lex, nlp, sentences=True)
    stage("tokenise reference", t0)
    if only_phrases:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        t0 = time.perf_counter()
        manifest["gpp"] = build_phrase_db(sources, ref, passage_book, lex, nlp, opts, seed, out, say)
        stage("generic phrases", t0)
        manifest["options"] = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(opts).items()}
        manifest["phrases_command"] = command
        _write_manifest(out, manifest, {**manifest.get("stages_s", {}), **stages}, t_start)
        CorpusResources.forget(out)
        return manifest

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


def _sentences_of(stream: TokenStream) -> list[np.ndarray]:
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


def _build_lm(ref: TokenStream, lex: Lexicon, opts: BuildOptions, out: Path) -> dict[str, Any]:
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


# ---- creativity classifier ---------------------------------------------------------------


def _build_classifier(sources, passages, passage_book, opts: BuildOptions, seed: int, out: Path, say):
    """Train `creativity_prob`'s logistic regression on features computed with these resources."""
    rng = random.Random(f"{seed}:creativity")
    book_passages = [p for p, b in zip(passages, passage_book, strict=True) if b.endswith(".txt")]
    creative_rows: list[str] = []
    conventional_pool: list[tuple[str, str]] = []  # (source, text)
    for f in sources.human_vs_ai:
        for r in ai_body_rows(f, seed, 0):
            if r["label"] != "human":
                continue
            if r.get("domain") == "creative_writing":
                creative_rows.append(r["body"])
            else:
                conventional_pool.append((f"human_vs_ai {r.get('domain')}", r["body"]))
    seen_docs = set()
    for f in sources.iterater:
        for r in read_jsonl(f):
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
        rows = [creativity_features(a) for a in analyses]
        model = fit_creativity_model(rows, labels, seed=seed, folds=opts.clf_folds, sources=origin)
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
