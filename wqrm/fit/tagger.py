"""Training the edit-trace tagger (`wqrm.edit.tagger.EditTagger`): labels, features, the head.

Labels come from LAMP span annotations (`load_span_file`) and from diffs of edit pairs
(`diff_spans`: the words of an original that its edit deleted or replaced, category "Edited").
The encoder is frozen: hidden states are computed once (`featurise`) and the linear head is trained
on them (`fit_tagger`), keeping the epoch and threshold with the best dev F1.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np
import torch

from wqrm.edit.tagger import EDITED, EditTagger, Span
from wqrm.fit.data import Pair, read_jsonl

__all__ = [
    "TaggedText",
    "best_threshold",
    "dev_scores",
    "diff_spans",
    "featurise",
    "fit_tagger",
    "load_span_file",
    "tagged_from_pairs",
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


def featurise(
    tagger: EditTagger, items: Sequence[TaggedText]
) -> list[tuple[torch.Tensor, np.ndarray, np.ndarray]]:
    """Hidden states and token labels for every window of every item (encoder run once)."""
    feats = []
    for it in items:
        for inputs, offsets in tagger.windows(it.text):
            flag, cat = tagger.token_labels(offsets, it.spans, tagger.categories)
            feats.append((tagger.hidden(inputs), flag, cat))
    return feats


def fit_tagger(
    tagger: EditTagger,
    train_feats,
    dev_feats,
    *,
    epochs: int = 8,
    lr: float = 1e-3,
    seed: int = 0,
    pos_weight: float | None = None,
) -> list[dict]:
    """Train the head on cached features; keep the epoch with the best dev F1 and its threshold."""
    torch.manual_seed(seed)
    X = torch.cat([h for h, _, _ in train_feats])
    F = torch.from_numpy(np.concatenate([f for _, f, _ in train_feats]))
    C = torch.from_numpy(np.concatenate([c for _, _, c in train_feats]))
    keep = F >= 0
    X, F, C = X[keep], F[keep].float(), C[keep]
    if pos_weight is None:
        pos_weight = float((F == 0).sum() / max(1, (F == 1).sum()))
    tagger.head.train()
    opt = torch.optim.AdamW(tagger.head.parameters(), lr=lr, weight_decay=0.01)
    bce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
    gen = torch.Generator().manual_seed(seed)
    best, best_state, history = -1.0, None, []
    for epoch in range(epochs):
        perm = torch.randperm(len(X), generator=gen)
        for start in range(0, len(perm), 512):
            idx = perm[start : start + 512]
            logits = tagger.head(X[idx])
            loss = bce(logits[:, 0], F[idx])
            has_cat = C[idx] >= 0
            if tagger.categories and has_cat.any():
                loss = loss + torch.nn.functional.cross_entropy(logits[has_cat, 1:], C[idx][has_cat])
            opt.zero_grad()
            loss.backward()
            opt.step()
        tagger.head.eval()
        thr, prf = best_threshold(tagger, dev_feats)
        history.append({"epoch": epoch + 1, "dev_f1": prf["f1"], "threshold": thr})
        if prf["f1"] > best:
            best, tagger.threshold = prf["f1"], thr
            best_state = {k: v.clone() for k, v in tagger.head.state_dict().items()}
        tagger.head.train()
    tagger.head.load_state_dict(best_state)
    tagger.head.eval()
    return history


def dev_scores(tagger: EditTagger, feats) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        probs = [torch.sigmoid(tagger.head(h)[:, 0]).numpy() for h, _, _ in feats]
    p = np.concatenate(probs)
    g = np.concatenate([f for _, f, _ in feats])
    keep = g >= 0
    return p[keep], g[keep].astype(bool)


def best_threshold(tagger: EditTagger, feats) -> tuple[float, dict]:
    p, g = dev_scores(tagger, feats)
    best = (0.5, token_prf(p >= 0.5, g))
    for thr in np.linspace(0.05, 0.95, 19):
        prf = token_prf(p >= thr, g)
        if prf["f1"] > best[1]["f1"]:
            best = (float(thr), prf)
    return best
