"""Refit the reward and token heads of a trained `lora`/`full` edit model on its fixed encoder
(`wqrm train-edit --retrain-heads DIR`): the encoder's window features are computed once, so the
heads can be fitted with explicit early stopping against held-out pairs of each kind."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np
import torch

from wqrm.edit.model import TransformerEditModel
from wqrm.fit.data import Pair
from wqrm.fit.tagger import TaggedText, choose_threshold, token_auc, token_labels
from wqrm.fit.train_edit import TrainConfig, dev_accuracy, dev_loss, select_dev, set_seed

__all__ = ["retrain_heads"]


def _text_windows(rm: TransformerEditModel, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Pooled window features of `texts` and the text each window belongs to."""
    windows = rm.windows(list(texts))
    pooled, _ = rm.encode_windows(windows)
    return pooled, np.array([w.text for w in windows], dtype=np.int64)


def _mean_by_owner(values: torch.Tensor, owner: torch.Tensor, n: int) -> torch.Tensor:
    sums = torch.zeros(n, dtype=values.dtype).index_add(0, owner, values)
    counts = torch.zeros(n, dtype=values.dtype).index_add(0, owner, torch.ones_like(values))
    return sums / counts.clamp(min=1.0)


def retrain_heads(
    rm: TransformerEditModel,
    train: Sequence[Pair],
    dev: Sequence[Pair],
    cfg: TrainConfig,
    *,
    dev_negatives: Sequence[Pair] = (),
    tag_train: Sequence[TaggedText] = (),
    tag_dev: Sequence[TaggedText] = (),
    negatives_in_selection: float = 0.5,
    on_epoch: Callable[[dict], None] | None = None,
) -> tuple[TransformerEditModel, list[dict]]:
    """Retrain the reward head (and the token head) of `rm` on its fixed encoder: the encoder's
    window features are computed once, then the heads are fitted for up to `cfg.epochs` epochs with
    early stopping (`cfg.patience`). The reward head keeps the epoch with the best
    LAMP dev accuracy + `negatives_in_selection` × dev-negatives accuracy; the token head the epoch
    with the best dev token AUC, its display threshold then chosen for `cfg.min_precision`.

    Fine-tuning the encoder on human pairs and negatives together teaches it what degraded text
    looks like, but the joint head trades the subtle human-edit signal for the gross negatives'.
    With the encoder fixed, a head is cheap to fit many times, so both signals are weighed
    explicitly against held-out pairs of each kind."""
    set_seed(cfg.seed)
    sel = select_dev(dev, cfg.select_on)
    texts = list(dict.fromkeys(t for p in [*train, *sel, *dev_negatives] for t in (p.better, p.worse)))
    pooled, owner = _text_windows(rm, texts)
    row = {t: i for i, t in enumerate(texts)}
    X = torch.from_numpy(pooled)
    own = torch.from_numpy(owner)

    def pair_index(pairs):
        return torch.tensor([row[p.better] for p in pairs]), torch.tensor([row[p.worse] for p in pairs])

    tb, tw = pair_index(train)
    wt = torch.tensor([p.weight for p in train], dtype=torch.float32)
    head = copy.deepcopy(rm.model.reward_head)  # start where the joint training ended
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    history: list[dict] = []
    best, best_state, stale = None, None, 0
    for epoch in range(cfg.epochs):
        head.train()
        perm = torch.randperm(len(train), generator=gen)
        losses = []
        for start in range(0, len(perm), cfg.batch_size):
            idx = perm[start : start + cfg.batch_size]
            r = _mean_by_owner(head(X).float(), own, len(texts))  # all windows: cheap at these sizes
            margin = r[tb[idx]] - r[tw[idx]]
            loss = (torch.nn.functional.softplus(-margin) * wt[idx]).sum() / wt[idx].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        head.eval()
        with torch.no_grad():
            r = _mean_by_owner(head(X).float(), own, len(texts)).double().numpy()
        scores = {t: float(r[i]) for t, i in row.items()}
        entry = {
            "epoch": epoch + 1,
            "train_loss": float(np.mean(losses)),
            "lamp_accuracy": dev_accuracy(scores, sel),
            "lamp_loss": dev_loss(scores, sel),
            "negatives_accuracy": dev_accuracy(scores, dev_negatives) if dev_negatives else float("nan"),
        }
        neg = entry["negatives_accuracy"] if dev_negatives else 0.0
        entry["selection"] = entry["lamp_accuracy"] + negatives_in_selection * neg
        history.append(entry)
        if on_epoch:
            on_epoch(entry)
        if best is None or entry["selection"] > best:
            best, best_state, stale = (
                entry["selection"],
                {k: v.clone() for k, v in head.state_dict().items()},
                0,
            )
        else:
            stale += 1
            if stale >= cfg.patience:
                break
    assert best_state is not None
    rm.model.reward_head.load_state_dict(best_state)
    if tag_train and cfg.tag_weight > 0:
        history += _retrain_token_head(rm, tag_train, tag_dev, cfg, on_epoch)
    rm.model.eval()
    return rm, history


def _retrain_token_head(rm, tag_train, tag_dev, cfg, on_epoch) -> list[dict]:
    """Token head on the fixed encoder's last hidden states (flag BCE with the class balance as
    `pos_weight` + category cross-entropy on flagged tokens); best epoch by dev token AUC."""

    def states(items):
        windows = rm.windows([t.text for t in items])
        _, hidden = rm.encode_windows(windows, hidden=True)
        labels = [token_labels(w.offsets, items[w.text].spans, rm.labels) for w in windows]
        H = torch.from_numpy(np.concatenate(hidden))
        L = torch.from_numpy(np.concatenate(labels))
        keep = L != -100
        return H[keep], L[keep]

    H, L = states(tag_train)
    Hd, Ld = states(tag_dev)
    head = rm.model.token_head
    pos_weight = torch.tensor(float((L == 0).sum()) / max(1, int((L > 0).sum())))
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    history, best, best_state, stale = [], -1.0, None, 0
    for epoch in range(cfg.epochs):
        head.train()
        perm = torch.randperm(len(H), generator=gen)
        for start in range(0, len(perm), 1024):
            idx = perm[start : start + 1024]
            logits = head(H[idx])
            flagged = (L[idx] > 0).float()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits[:, 0], flagged, pos_weight=pos_weight
            )
            has_cat = L[idx] > 0
            if has_cat.any() and logits.shape[1] > 1:
                loss = loss + torch.nn.functional.cross_entropy(logits[has_cat, 1:], L[idx][has_cat] - 1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        head.eval()
        with torch.no_grad():
            flag = torch.sigmoid(head(Hd)[:, 0]).double().numpy()
        auc = token_auc(flag, (Ld > 0).numpy())
        entry = {"epoch": epoch + 1, "tag_auc": auc}
        history.append(entry)
        if on_epoch:
            on_epoch(entry)
        if auc is not None and auc > best:
            best, best_state, stale = auc, {k: v.clone() for k, v in head.state_dict().items()}, 0
            threshold, prf = choose_threshold(flag, (Ld > 0).numpy(), cfg.min_precision)
        else:
            stale += 1
            if stale >= cfg.patience:
                break
    if best_state is not None:
        head.load_state_dict(best_state)
        rm.threshold = threshold
        rm.has_tagger = True
        history.append(
            {"tag_auc": best, "tag_threshold": threshold, **{f"tag_{k}": v for k, v in prf.items()}}
        )
    return history
