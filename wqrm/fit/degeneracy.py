"""The S1 degeneracy head: a classifier of systematically degraded text, and the penalty it costs.

S1's reward is q(x) − c·max(0, (σ(g(x, s)) − o) / (1 − o)) (`wqrm.edit.frozen.EmbeddingHeadReward`):
q, the quality head, is fitted by Bradley–Terry on human preference pairs only, so the subtle
signal of an editor's improvement is not traded for the gross one of word salad; g is fitted here,
on the same frozen features x and five surface counts s of the text (`wqrm.edit.surface`: words,
sentences, distinct words, repeated sentences, words per sentence — what a mean-pooled embedding
hardly sees), by class-balanced binary cross-entropy — the training-family negatives
(`wqrm.fit.negatives`, label 1) against the texts they were derived from and the texts of the
human pairs (label 0) — with early stopping on the dev split's negatives and texts.

Only a probability past the onset o costs reward, so the head's small doubts about clean text do
not move its reward (with o = 0 they cost LAMP pairs before they win negatives:
benchmarks/results/edit_model.md, session 29).

The onset and the penalty c are chosen on dev, never on the held-apart family: among o in
`ONSET_GRID` and c = k·sd(q) for k in `PENALTY_GRID`, the pair with the best dev-negatives
accuracy whose LAMP dev accuracy (all dev pairs' when none is from LAMP) is at most
`max_lamp_loss` below q's alone (ties: the smaller c, then the smaller o).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from wqrm.edit.frozen import degeneracy_cost
from wqrm.edit.model import EmbeddingHeadReward, RewardHead
from wqrm.edit.surface import SURFACE_FEATURES, surface_features
from wqrm.fit.data import Pair
from wqrm.fit.tagger import token_auc  # Mann–Whitney ROC AUC (ties half)
from wqrm.fit.train_edit import dev_accuracy

__all__ = [
    "ONSET_GRID",
    "PENALTY_GRID",
    "DegeneracyFit",
    "add_degeneracy_head",
    "deciding_dev",
    "is_negative",
]

#: Multiples of the quality head's spread (sd of q over the fitted texts) tried as the penalty.
PENALTY_GRID = (0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
#: Onsets o tried: the probability of degradation from which the head's verdict costs reward.
ONSET_GRID = (0.0, 0.5, 0.8, 0.95)


def is_negative(p: Pair) -> bool:
    """A systematic negative (original ≻ degraded variant), not a human preference."""
    return p.source.startswith("negative")


def deciding_dev(dev: Sequence[Pair]) -> list[Pair]:
    """The dev pairs S1's choices are made on: the LAMP ones; all of `dev` when none is from LAMP
    (a user training on their own pairs)."""
    return [p for p in dev if p.source.startswith("lamp")] or list(dev)


@dataclass
class DegeneracyFit:
    history: list[dict]
    penalty_table: list[dict]
    penalty: float
    multiple: float
    dev_auc: float | None
    onset: float = 0.0


def add_degeneracy_head(
    model: EmbeddingHeadReward,
    train: Sequence[Pair],
    dev: Sequence[Pair],
    dev_negatives: Sequence[Pair],
    features: Callable[[list[str]], np.ndarray],
    *,
    hidden: int = 256,
    dropout: float = 0.1,
    lr: float = 1e-3,
    epochs: int = 60,
    patience: int = 5,
    max_lamp_loss: float = 0.01,
    surface: bool = True,
    onsets: Sequence[float] = ONSET_GRID,
    seed: int = 0,
    on_epoch: Callable[[dict], None] | None = None,
) -> DegeneracyFit:
    """Fit g on the negatives of `train` (and its human pairs' texts as clean examples), choose the
    penalty on `dev` (LAMP pairs) and `dev_negatives`, and attach both to `model` (in place).
    `features` gives the embeddings x; with `surface` g also reads the texts' surface counts.
    `onsets` (each in [0, 1)) are the o tried (module docstring)."""
    if not onsets or not all(0.0 <= o < 1.0 for o in onsets):
        raise ValueError(f"onsets must be in [0, 1), not {list(onsets)}")
    negs = [p for p in train if is_negative(p)]
    human = [p for p in train if not is_negative(p)]
    lamp_dev = deciding_dev(dev)
    if not negs or not dev_negatives:
        raise ValueError("the degeneracy head needs training negatives and dev negatives")
    texts = list(dict.fromkeys(t for p in [*negs, *human, *dev, *dev_negatives] for t in (p.better, p.worse)))
    row = {t: i for i, t in enumerate(texts)}
    x = np.asarray(features(texts), dtype=np.float64)
    if surface:
        x = np.concatenate([x, surface_features(texts)], axis=1)
    X = torch.from_numpy(x.astype(np.float32))
    y = torch.zeros(len(texts))
    degraded = {row[p.worse] for p in [*negs, *dev_negatives]}
    y[sorted(degraded)] = 1.0
    train_ids = sorted({row[t] for p in [*negs, *human] for t in (p.better, p.worse)})
    dev_ids = sorted({row[t] for p in [*dev, *dev_negatives] for t in (p.better, p.worse)})
    tr, dv = torch.tensor(train_ids), torch.tensor(dev_ids)
    n_pos = float(y[tr].sum())
    pos_weight = torch.tensor((len(tr) - n_pos) / max(n_pos, 1.0))

    torch.manual_seed(seed)
    g = RewardHead(X.shape[1], hidden, dropout)
    opt = torch.optim.AdamW(g.parameters(), lr=lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(seed)
    history: list[dict] = []
    best, best_state, stale = float("inf"), None, 0
    for epoch in range(epochs):
        g.train()
        perm = tr[torch.randperm(len(tr), generator=gen)]
        losses = []
        for start in range(0, len(perm), 64):
            i = perm[start : start + 64]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(g(X[i]), y[i], pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        g.eval()
        with torch.no_grad():
            dev_loss = float(
                torch.nn.functional.binary_cross_entropy_with_logits(g(X[dv]), y[dv], pos_weight=pos_weight)
            )
        entry = {
            "epoch": epoch + 1,
            "degeneracy_train_loss": float(np.mean(losses)),
            "degeneracy_dev_loss": dev_loss,
        }
        history.append(entry)
        if on_epoch:
            on_epoch(entry)
        if dev_loss < best:
            best, best_state, stale = dev_loss, {k: v.clone() for k, v in g.state_dict().items()}, 0
        else:
            stale += 1
            if stale >= patience:
                break
    assert best_state is not None
    g.load_state_dict(best_state)
    g.eval()

    feats = X.numpy()
    q = model.quality_features(feats)
    with torch.no_grad():
        d = torch.sigmoid(g(X).double()).numpy()
    dev_auc = token_auc(d[dev_ids], y[dv].numpy() == 1)
    spread = float(np.std(q[train_ids]))
    table = []
    for onset in onsets:
        cost = degeneracy_cost(d, onset)
        for k in PENALTY_GRID:
            r = q - k * spread * cost
            scores = {t: float(r[i]) for t, i in row.items()}
            table.append(
                {
                    "onset": onset,
                    "multiple": k,
                    "penalty": k * spread,
                    "lamp_dev_accuracy": dev_accuracy(scores, lamp_dev),
                    "dev_negatives_accuracy": dev_accuracy(scores, dev_negatives),
                }
            )
    floor = table[0]["lamp_dev_accuracy"] - max_lamp_loss  # k = 0: q alone, whatever the onset
    ok = [t for t in table if t["lamp_dev_accuracy"] >= floor]
    chosen = max(ok, key=lambda t: (t["dev_negatives_accuracy"], -t["multiple"], -t["onset"]))
    model.degeneracy_head = g
    model.config["degeneracy"] = {
        "hidden": hidden,
        "dropout": dropout,
        "penalty": chosen["penalty"],
        "penalty_multiple_of_quality_sd": chosen["multiple"],
        "quality_sd": spread,
        "onset": chosen["onset"],
        "surface": list(SURFACE_FEATURES) if surface else [],
        "dev_auc": dev_auc,
        "trained_on": {"negatives": len(negs), "clean_texts": len(train_ids) - int(n_pos)},
    }
    return DegeneracyFit(history, table, chosen["penalty"], chosen["multiple"], dev_auc, chosen["onset"])
