"""The edit-trace tagger's training data and evaluation.

Labels come from LAMP span annotations (`load_span_file`) and from diffs of edit pairs
(`diff_spans`: the words of an original that its edit deleted or replaced, category "Edited").
`token_labels` turns a text's spans into per-token classes for the edit model's token head
(`wqrm.edit.model.EditModel`, trained jointly with the reward by `wqrm.fit.train_edit`): 0 = not
flagged, k = 1 + the index of the span's category, -100 = special token (ignored).
`choose_threshold` picks the display threshold for *precision* on development annotations.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

from wqrm.edit.tagger import EDITED, Span
from wqrm.fit.data import Pair, read_jsonl

__all__ = [
    "TaggedText",
    "choose_threshold",
    "diff_spans",
    "load_span_file",
    "tagged_from_pairs",
    "token_auc",
    "token_labels",
    "token_prf",
]


@dataclass
class TaggedText:
    text: str
    spans: list[Span]
    source: str = ""
    group: str = ""


def load_span_file(path: str | Path) -> list[TaggedText]:
    """Rows of the spans schema as `TaggedText` (spans given as char offsets with a label)."""
    out = []
    for row in read_jsonl(path):
        spans = row.get("spans") or []
        if isinstance(spans, str):  # tolerate a repr'd list
            spans = ast.literal_eval(spans)
        out.append(
            TaggedText(
                row["text"],
                [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in spans],
                row.get("source", "spans"),
            )
        )
    return out


def _word_offsets(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def diff_spans(original: str, edited: str) -> list[Span]:
    """Character spans of `original`'s words that the edit deleted or replaced (label "Edited")."""
    offs = _word_offsets(original)
    a = [original[s:e] for s, e in offs]
    b = edited.split()
    spans = []
    for tag, i1, i2, _j1, _j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete") and i2 > i1:
            spans.append(Span(offs[i1][0], offs[i2 - 1][1], EDITED))
    return spans


def tagged_from_pairs(pairs: Sequence[Pair]) -> list[TaggedText]:
    """Edit-pair originals with their diff spans."""
    return [TaggedText(p.worse, diff_spans(p.worse, p.better), p.source, p.group) for p in pairs]


def token_prf(pred: np.ndarray, gold: np.ndarray) -> dict[str, float | None]:
    """Token-level precision, recall and F1 of boolean predictions (None where undefined)."""
    tp = float(np.sum(pred & gold))
    fp = float(np.sum(pred & ~gold))
    fn = float(np.sum(~pred & gold))
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tokens": int(pred.size), "gold_rate": float(gold.mean())}


def token_labels(offsets: np.ndarray, spans: Sequence[Span], labels: Sequence[str]) -> np.ndarray:
    """Per-token class: 0 outside every span, 1 + index of the span's label inside one (a label
    not in `labels` counts as the first one), -100 for special tokens (offsets < 0)."""
    index = {lab: i for i, lab in enumerate(labels)}
    out = np.where(offsets[:, 0] < 0, -100, 0)
    for s in spans:
        inside = (offsets[:, 0] >= 0) & (offsets[:, 0] < s.end) & (offsets[:, 1] > s.start)
        out[inside] = 1 + index.get(s.label, 0)
    return out


def token_auc(flag: np.ndarray, gold: np.ndarray) -> float | None:
    """ROC AUC of flag probabilities against gold flags (Mann–Whitney; ties count half)."""
    from scipy.stats import rankdata

    gold = np.asarray(gold, dtype=bool)
    n_pos, n_neg = int(gold.sum()), int((~gold).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = rankdata(flag)
    return float((ranks[gold].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def choose_threshold(flag: np.ndarray, gold: np.ndarray, min_precision: float = 0.6) -> tuple[float, dict]:
    """The lowest threshold (finest grid 0.05..0.95) whose token precision reaches `min_precision`
    — the most recall at that precision — else the threshold with the best precision."""
    gold = np.asarray(gold, dtype=bool)
    best = None
    for thr in np.round(np.arange(0.05, 0.96, 0.025), 3):
        prf = token_prf(flag >= thr, gold)
        if prf["precision"] is None:
            continue
        if prf["precision"] >= min_precision:
            return float(thr), prf
        if best is None or prf["precision"] > best[1]["precision"]:
            best = (float(thr), prf)
    return best if best is not None else (0.5, token_prf(flag >= 0.5, gold))
