"""How far an edit-trace tagger on frozen features gets: token ROC AUC of LAMP's editor spans.

    python benchmarks/tagger_features.py [--data ../shared/data] [--max-rows N] [--out FILE.md]

Issue 17 asks for a tagger with token ROC AUC ≥ 0.75 on held-out LAMP annotations, "or the note
shows with numbers why not". The fine-tuned token heads reached 0.585-0.606
(`benchmarks/results/edit_model.md`); this script measures what word-level evidence a
classifier can use without fine-tuning, on the same annotations.

Rows: `spans/lamp_train_detection.jsonl` (LAMP AI drafts, the spans an editor changed); dev rows
are `is_dev(meta.original_id)` (20%, by paragraph). A word is a spaCy token that is not
whitespace; it is gold when at least half its characters lie inside a span. Feature sets:

* ``surface``: part of speech, dependency label, stop word, alphabetic, punctuation, Zipf
  frequency (wordfreq), length, number of syntactic children, position in its sentence, the
  sentence's length, the sentence's position in the paragraph and the paragraph's sentence count;
* ``+ word vectors``: the word's all-MiniLM-L6-v2 vector in context (the mean of its word pieces'
  last-layer states, each sentence encoded alone);
* ``+ sentence vector``: the mean of the sentence's word-piece states as well.

The ceiling: 41 paragraphs of the file were annotated by two different editors
(`editor_agreement`): how often their word flags agree, Cohen's κ, and the token ROC AUC of one
editor's flags as a predictor of the other's — what a perfect copy of one editor would score.

Models: logistic regression (standardised features, C = 0.1) and gradient-boosted trees
(`HistGradientBoostingClassifier`, 300 rounds at most, early stopping on 10% of training words).
The table gives token ROC AUC on dev words and precision / recall at the lowest threshold whose
dev precision reaches 0.6 (`wqrm.fit.tagger.choose_threshold`; chosen on dev, so optimistic).
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wqrm.fit.data import is_dev, read_jsonl
from wqrm.fit.tagger import choose_threshold, token_auc

ROOT = Path(__file__).resolve().parent.parent
SPAN_FILE = "spans/lamp_train_detection.jsonl"
SURFACE = (
    "stop word", "alphabetic", "Zipf frequency / 8", "length / 10", "position in sentence",
    "sentence length / 40", "sentence position", "sentences / 15", "punctuation", "children / 5",
)  # fmt: skip


@dataclass
class WordTable:
    """One row per word: its features, gold flag and paragraph index; `blocks` names the column
    ranges of each feature group."""

    X: np.ndarray
    gold: np.ndarray
    paragraph: np.ndarray
    blocks: dict[str, slice]


def gold_flags(text: str, spans: Sequence[dict], starts: Sequence[int], ends: Sequence[int]) -> np.ndarray:
    """Per word (character range [start, end)): whether at least half its characters lie inside
    a span."""
    inside = np.zeros(len(text) + 1, dtype=np.int64)
    for s in spans:
        inside[int(s["start"]) : int(s["end"])] = 1
    covered = np.concatenate([[0], np.cumsum(inside)])  # characters inside before each offset
    a, b = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
    return (b > a) & (2 * (covered[b] - covered[a]) >= b - a)


def word_flags(text: str, spans: Sequence[dict]) -> np.ndarray:
    """`gold_flags` over the whitespace-separated words of `text`."""
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    return gold_flags(text, spans, [a for a, _ in words], [b for _, b in words])


def editor_agreement(rows: Sequence[dict]) -> dict[str, float] | None:
    """Agreement between two editors on the paragraphs annotated twice (the first two rows with the
    same text): share of words flagged alike, Cohen's κ, and the token ROC AUC of each editor's
    flags as scores for the other's (a binary score: (TPR + TNR) / 2); None when no paragraph
    has two annotations."""
    by_text: dict[str, list[dict]] = {}
    for r in rows:
        by_text.setdefault(r["text"], []).append(r)
    twice = [v[:2] for v in by_text.values() if len(v) >= 2]
    if not twice:
        return None
    a = np.concatenate([word_flags(x["text"], x.get("spans") or []) for x, _ in twice])
    b = np.concatenate([word_flags(y["text"], y.get("spans") or []) for _, y in twice])
    observed = float(np.mean(a == b))
    chance = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    return {
        "paragraphs": len(twice),
        "words": int(a.size),
        "agreement": observed,
        "kappa": (observed - chance) / (1 - chance) if chance < 1 else float("nan"),
        "auc_first_for_second": token_auc(a.astype(float), b),
        "auc_second_for_first": token_auc(b.astype(float), a),
    }


def word_vectors(sentences: Sequence[Sequence[str]], tokenizer, model) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per sentence (a list of words), from one batched encoder pass over all of them: its words'
    contextual vectors (the mean of each word's pieces' last-layer states) and the sentence's mean
    vector (the mean over its word pieces)."""
    import torch

    batch = tokenizer(
        [list(w) for w in sentences],
        is_split_into_words=True,
        return_tensors="pt",
        truncation=True,
        max_length=256,
        padding=True,
    )
    with torch.no_grad():
        states = model(**batch).last_hidden_state.double().numpy()
    out = []
    for k, words in enumerate(sentences):
        ids = np.array([-1 if w is None else w for w in batch.word_ids(k)])
        pieces = ids >= 0  # neither special tokens nor padding
        vectors = np.zeros((len(words), states.shape[2]))
        np.add.at(vectors, ids[pieces], states[k][pieces])
        count = np.bincount(ids[pieces], minlength=len(words))
        out.append((vectors / np.maximum(count, 1)[:, None], states[k][pieces].mean(axis=0)))
    return out


def word_table(rows: Sequence[dict], nlp, encoder) -> WordTable:
    """Features of every word of `rows` (spans-schema rows): one spaCy parse per paragraph and one
    batched encoder pass over its sentences, each sentence encoded alone (padded)."""
    from wordfreq import zipf_frequency

    pos_tags = [
        "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
        "PUNCT", "SCONJ", "SYM", "VERB", "X",
    ]  # fmt: skip
    deps = sorted(nlp.get_pipe("parser").labels)
    pos_index, dep_index = {p: k for k, p in enumerate(pos_tags)}, {d: k for k, d in enumerate(deps)}
    tokenizer, model = encoder.tokenizer, encoder[0].auto_model.eval()
    dim = model.config.hidden_size
    n_cat = len(pos_tags) + len(deps)
    blocks = {
        "surface": slice(0, n_cat + len(SURFACE)),
        "word vectors": slice(n_cat + len(SURFACE), n_cat + len(SURFACE) + dim),
        "sentence vector": slice(n_cat + len(SURFACE) + dim, n_cat + len(SURFACE) + 2 * dim),
    }
    X, gold, para = [], [], []
    for i, (row, doc) in enumerate(
        zip(rows, nlp.pipe([r["text"] for r in rows], batch_size=32), strict=True)
    ):
        sents = [[t for t in s if not t.is_space] for s in doc.sents]
        sents = [s for s in sents if s]
        every = [t for s in sents for t in s]
        gold.extend(
            gold_flags(
                row["text"], row.get("spans") or [], [t.idx for t in every], [t.idx + len(t) for t in every]
            )
        )
        para.extend([i] * len(every))
        encoded = (
            word_vectors([[t.text for t in words] for words in sents], tokenizer, model) if sents else []
        )
        for si, (words, (vectors, sentence)) in enumerate(zip(sents, encoded, strict=True)):
            for k, t in enumerate(words):
                cat = np.zeros(n_cat)
                if t.pos_ in pos_index:
                    cat[pos_index[t.pos_]] = 1.0
                if t.dep_ in dep_index:
                    cat[len(pos_tags) + dep_index[t.dep_]] = 1.0
                surface = [
                    t.is_stop, t.is_alpha, zipf_frequency(t.text.lower(), "en") / 8, len(t.text) / 10,
                    k / max(len(words) - 1, 1), len(words) / 40, si / max(len(sents) - 1, 1),
                    len(sents) / 15, t.is_punct, sum(1 for _ in t.children) / 5,
                ]  # fmt: skip
                X.append(np.concatenate([cat, np.asarray(surface, dtype=float), vectors[k], sentence]))
    return WordTable(np.asarray(X), np.asarray(gold, dtype=bool), np.asarray(para), blocks)


def feature_columns(table: WordTable, groups: Sequence[str]) -> np.ndarray:
    return np.concatenate([np.arange(table.X.shape[1])[table.blocks[g]] for g in groups])


def fit_predict(
    kind: str, X_train: np.ndarray, y_train: np.ndarray, X_dev: np.ndarray, seed: int = 0
) -> np.ndarray:
    """Dev-word probabilities of a ``logistic`` or ``boosting`` classifier fitted on the training words."""
    if kind == "logistic":
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        scaler = StandardScaler().fit(X_train)
        clf = LogisticRegression(C=0.1, max_iter=500).fit(scaler.transform(X_train), y_train)
        return clf.predict_proba(scaler.transform(X_dev))[:, 1]
    if kind == "boosting":
        from sklearn.ensemble import HistGradientBoostingClassifier

        clf = HistGradientBoostingClassifier(
            max_iter=300, early_stopping=True, validation_fraction=0.1, random_state=seed
        ).fit(X_train, y_train)
        return clf.predict_proba(X_dev)[:, 1]
    raise ValueError(f"unknown classifier {kind!r}")


SETTINGS = (
    ("surface", ("surface",), "logistic"),
    ("surface", ("surface",), "boosting"),
    ("surface + word vectors", ("surface", "word vectors"), "logistic"),
    ("surface + word vectors", ("surface", "word vectors"), "boosting"),
    ("surface + word + sentence vectors", ("surface", "word vectors", "sentence vector"), "logistic"),
)


def evaluate(table: WordTable, dev_paragraphs: set[int], settings=SETTINGS) -> list[dict]:
    """Token ROC AUC and precision / recall at the 0.6-precision threshold for each setting."""
    dev = np.isin(table.paragraph, sorted(dev_paragraphs))
    out = []
    for name, groups, kind in settings:
        cols = feature_columns(table, groups)
        start = time.perf_counter()
        p = fit_predict(kind, table.X[~dev][:, cols], table.gold[~dev], table.X[dev][:, cols])
        threshold, prf = choose_threshold(p, table.gold[dev])
        out.append(
            {
                "features": name,
                "classifier": kind,
                "auc": token_auc(p, table.gold[dev]),
                "threshold": threshold,
                "precision": prf["precision"],
                "recall": prf["recall"],
                "seconds": time.perf_counter() - start,
            }
        )
    return out


def to_markdown(
    results: Sequence[dict], n_rows: int, n_dev: int, table: WordTable, agreement: dict | None = None
) -> str:
    lines = [
        f"{n_rows} annotated paragraphs ({n_dev} dev), {len(table.gold)} words, "
        f"{table.gold.mean():.3f} of them inside an editor's span.",
        "",
        "| features | classifier | dev token ROC AUC | threshold | precision | recall |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        prec = "—" if r["precision"] is None else f"{r['precision']:.3f}"
        rec = "—" if r["recall"] is None else f"{r['recall']:.3f}"
        head = f"| {r['features']} | {r['classifier']} | {r['auc']:.3f} | {r['threshold']:.3f}"
        lines.append(f"{head} | {prec} | {rec} |")
    if agreement:
        lines += [
            "",
            f"Two editors on the same paragraph ({agreement['paragraphs']} paragraphs, "
            f"{agreement['words']} words): they flag a word alike in {agreement['agreement']:.3f} of words "
            f"(Cohen's κ {agreement['kappa']:.3f}); one editor's flags score the other's at token ROC AUC "
            f"{agreement['auc_first_for_second']:.3f} / {agreement['auc_second_for_first']:.3f}.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--max-rows", type=int, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    from wqrm import resources  # deferred: the models load only when the script runs

    rows = list(read_jsonl(args.data / SPAN_FILE))[: args.max_rows]
    dev = {i for i, r in enumerate(rows) if is_dev(str((r.get("meta") or {}).get("original_id") or r["id"]))}
    table = word_table(rows, resources.get("spacy"), resources.get("sentence_encoder"))
    md = to_markdown(evaluate(table, dev), len(rows), len(dev), table, editor_agreement(rows))
    print(md)
    if args.out:
        args.out.write_text(md, encoding="utf-8")


if __name__ == "__main__":
    main()
