"""The generic-phrase database behind `gpp`: phrases over-represented in AI text, built from data."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wqrm import resources
from wqrm.build.sources import (
    BuildOptions,
    CorpusSources,
    Lexicon,
    TokenStream,
    ai_body_rows,
    count_in,
    log_odds,
    ngram_hashes,
    read_jsonl,
    tokenize_texts,
)
from wqrm.corpus import PhraseDB
from wqrm.words import is_content_word, phrase_form

__all__ = ["LAMP_PRIOR", "build_phrase_db"]

log = logging.getLogger(__name__)

#: Pseudo-occurrences (at the base edit rate) shrinking a phrase's LAMP edited share.
LAMP_PRIOR = 5


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
        for r in read_jsonl(f):
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
        for r in read_jsonl(f):
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
    ref: TokenStream,
    passage_book: list[str],
    lex: Lexicon,
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
       2008; `log_odds`), per order; keep z >= `gpp_min_z` *and* a log-odds ratio of at least
       `gpp_min_delta` (1.5 nats: about 4.5 times as frequent in AI text). The z-score alone keeps
       ordinary English that AI text merely uses a little more often ("the past", "a bus"); the
       effect-size floor keeps what AI text over-uses.
    4. Filters: drop phrases holding a name (a word written title-case in at least
       `gpp_name_title_share` of its mid-clause occurrences; "I" excepted), phrases that are
       plain fiction (their rate in the human books is at least `gpp_max_book_ratio` times their
       AI rate) and phrases that are plain modern English (their rate in the human rows of
       human_vs_ai is at least `gpp_max_human_ratio` times their AI rate); drop an n-gram when a
       kept longer phrase accounts for `gpp_subsumed_share` of its AI occurrences; keep the
       `gpp_max_phrases` highest z.
    5. Weights: w = delta x (1 + e), delta the log-odds ratio (nats) and e the editor excess: with
       k occurrences in LAMP AI drafts of which m fall (>= half their characters) inside spans a
       professional editor deleted or replaced, and r0 the share of draft characters edited,
       e = max(0, (m + 5 r0)/(k + 5) - r0) / (1 - r0): the edited share beyond the base rate,
       shrunk towards the base rate by a prior worth `LAMP_PRIOR` = 5 occurrences.
    """
    t0 = time.perf_counter()
    ai_rows, human_rows, held_rows = [], [], []
    for f in sources.human_vs_ai:
        for r in ai_body_rows(f, seed, opts.holdout_percent):
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

    ai = tokenize_texts([r["body"] for r in ai_rows], lex, nlp)
    hum = tokenize_texts([r["body"] for r in human_rows], lex, nlp)
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

    ai = TokenStream(forms(ai.ids), ai.doc, ai.title, ai.sent_start, ai.n_docs)
    hum = TokenStream(forms(hum.ids), hum.doc, hum.title, hum.sent_start, hum.n_docs)
    ref_forms = TokenStream(forms(ref.ids), ref.doc, ref.title, ref.sent_start, ref.n_docs)
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
        h_ai, pos_ai = ngram_hashes(ai.ids, n)
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
        h_h, _ = ngram_hashes(hum.ids, n)
        h_b, _ = ngram_hashes(book_ids, n)
        y_h_rows = count_in(h_h, keys)
        y_b = count_in(h_b, keys)
        y_h = y_h_rows + y_b
        delta, z = log_odds(
            y_a.astype(np.float64),
            y_h.astype(np.float64),
            float(h_ai.size),
            float(h_h.size + h_b.size),
            opts.gpp_prior_scale,
        )
        rate_ai = y_a / max(h_ai.size, 1)
        rate_books = y_b / max(h_b.size, 1)
        rate_human = y_h_rows / max(h_h.size, 1)
        keep = (
            sel
            & (n_groups >= opts.gpp_min_groups)
            & (n_models >= opts.gpp_min_models)
            & (z >= opts.gpp_min_z)
            & (delta >= opts.gpp_min_delta)
            & (rate_books < opts.gpp_max_book_ratio * rate_ai)
            & (rate_human < opts.gpp_max_human_ratio * rate_ai)
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
    stream: TokenStream, lex: Lexicon, docs: Sequence[int] | None = None
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


def _evaluate_phrases(
    db: PhraseDB, held_rows, ref: TokenStream, passage_book, held_books, lex
) -> dict[str, Any]:
    """gpp AUC on the held-apart human_vs_ai slice, and match rates in held-apart books vs AI text."""
    from sklearn.metrics import roc_auc_score

    nlp = resources.get("spacy")
    stream = tokenize_texts([r["body"] for r in held_rows], lex, nlp)
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
