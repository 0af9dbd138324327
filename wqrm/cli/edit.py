"""Fit-time commands of S1: `wqrm train-edit` (the edit-quality reward model) and `wqrm train-tagger`
(the edit-trace span tagger)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from wqrm.cli.common import (
    ProgressOption,
    check_files,
    check_jsonl,
    command_line,
    err,
    out,
    parse_source_weights,
)

__all__ = ["train_edit", "train_tagger"]


def train_edit(
    pairs: Annotated[list[Path], typer.Option("--pairs", help="Edit-pair / pair JSONL files (repeatable).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the trained model.")],
    scored: Annotated[
        list[Path] | None, typer.Option("--scored", help="Scored JSONL files (repeatable).")
    ] = None,
    base: Annotated[
        str, typer.Option(help="Encoder: a local path, 'minilm', or a hub name cached locally.")
    ] = "minilm",
    frozen: Annotated[bool, typer.Option("--frozen", help="Frozen encoder + MLP head (default).")] = False,
    lora: Annotated[bool, typer.Option("--lora", help="LoRA adapters + head (peft).")] = False,
    full: Annotated[bool, typer.Option("--full", help="Full fine-tune.")] = False,
    epochs: Annotated[int, typer.Option(min=1, help="Maximum epochs (early stopping on dev accuracy).")] = 3,
    lr: Annotated[
        float | None, typer.Option(help="Learning rate (default: 1e-3 frozen, 2e-4 LoRA, 3e-5 full).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Pairs per step.")] = 8,
    max_length: Annotated[
        int, typer.Option(min=8, help="Tokens per paragraph (longer ones are truncated).")
    ] = 256,
    mse_weight: Annotated[
        float, typer.Option(help="Weight of the MSE term on scored paragraphs (0: off).")
    ] = 0.0,
    weight: Annotated[
        list[str] | None, typer.Option(help="SOURCE=W pair weight, repeatable (0 drops a source).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for splits, initialisation and order.")] = 0,
    dev_percent: Annotated[
        int, typer.Option(min=1, max=99, help="Share of item groups held out for dev (percent).")
    ] = 20,
    patience: Annotated[int, typer.Option(help="Epochs without dev improvement before stopping.")] = 2,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Continue from OUT/checkpoint.")
    ] = True,
    features_cache: Annotated[
        Path | None, typer.Option(help="NPZ cache of frozen-encoder features (frozen only).")
    ] = None,
    progress: ProgressOption = None,
) -> None:
    """Train the edit-quality reward model (S1) pairwise: −log σ(r(better) − r(worse))."""
    if sum([frozen, lora, full]) > 1:
        err.print("[red]error:[/red] choose one of --frozen, --lora, --full")
        raise typer.Exit(2)
    check_files([*pairs, *(scored or [])])
    check_jsonl(pairs, scored or [])
    source_weights = parse_source_weights(weight)
    from wqrm.edit.model import EmbeddingHeadReward, RewardHead  # deferred: arguments are checked first
    from wqrm.fit.dataset import FeatureCache, build_dataset  # deferred: arguments are checked first
    from wqrm.fit.train_edit import (  # deferred: arguments are checked first
        TrainConfig,
        train_frozen,
        train_transformer,
    )

    kind = "lora" if lora else "full" if full else "frozen"
    default_lr = {"frozen": 1e-3, "lora": 2e-4, "full": 3e-5}[kind]
    cfg = TrainConfig(
        kind=kind,
        base=base,
        epochs=epochs,
        lr=lr or default_lr,
        batch_size=batch_size,
        max_length=max_length,
        mse_weight=mse_weight,
        seed=seed,
        patience=patience,
    )
    ds = build_dataset(pairs, scored or [], weights=source_weights, dev_percent=dev_percent, seed=seed)
    err.print(f"data: {json.dumps(ds.summary())}", markup=False, highlight=False)

    def log_epoch(e: dict) -> None:  # one plain line per epoch (the feedback of a training run)
        if progress is not False:
            err.print(f"epoch {e['epoch']}: {json.dumps(e)}", markup=False, highlight=False)

    if kind == "frozen":
        probe = EmbeddingHeadReward(RewardHead(1, 0), {})
        feats = FeatureCache(features_cache, probe.features) if features_cache else None
        model, history = train_frozen(
            ds.train, ds.dev, ds.scored_train, cfg, features=feats, on_epoch=log_epoch
        )
        model.save(out_dir)
    else:
        model, history = train_transformer(
            ds.train, ds.dev, ds.scored_train, cfg, out_dir, resume=resume, on_epoch=log_epoch
        )
    record = {
        "command": command_line(),
        "config": cfg.__dict__,
        "data": {
            "pair_files": [p.name for p in pairs],
            "scored_files": [p.name for p in scored or []],
            **ds.summary(),
        },
        "history": history,
        "dev_ids": sorted(p.id for p in ds.dev),
    }
    (Path(out_dir) / "training.json").write_text(json.dumps(record, indent=1) + "\n")
    err.print(f"saved {kind} model to {out_dir}")


def train_tagger(
    spans: Annotated[list[Path], typer.Option("--spans", help="Span JSONL files (repeatable).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the trained tagger.")],
    pairs: Annotated[
        list[Path] | None, typer.Option("--pairs", help="Edit-pair files whose diffs add 'Edited' spans.")
    ] = None,
    base: Annotated[str, typer.Option(help="Encoder: a local path or 'minilm'.")] = "minilm",
    epochs: Annotated[int, typer.Option(min=1, help="Epochs over cached features.")] = 8,
    max_length: Annotated[int, typer.Option(min=8, help="Tokens per window.")] = 256,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    dev_percent: Annotated[
        int, typer.Option(min=1, max=99, help="Share of texts held out for dev (percent).")
    ] = 20,
) -> None:
    """Train the edit-trace span tagger on span annotations (+ diffs of edit pairs)."""
    check_files([*spans, *(pairs or [])])
    check_jsonl(pairs or [], spans)
    from wqrm.edit.tagger import EditTagger  # deferred: arguments are checked first
    from wqrm.fit.data import is_dev, load_pairs, normalise  # deferred: arguments are checked first
    from wqrm.fit.tagger import (  # deferred: arguments are checked first
        dev_scores,
        featurise,
        fit_tagger,
        load_span_file,
        tagged_from_pairs,
        token_prf,
    )

    items = [t for f in spans for t in load_span_file(f)]
    for it in items:
        it.group = normalise(it.text)
    dev = [t for t in items if is_dev(t.group, dev_percent, seed)]  # dev: human span annotations only
    dev_texts = {t.group for t in dev}
    extra = [t for t in tagged_from_pairs(load_pairs(pairs)) if t.spans] if pairs else []
    # an edit-pair original that is also a dev annotation never enters training
    train = [t for t in items if t.group not in dev_texts] + [
        t for t in extra if normalise(t.text) not in dev_texts
    ]
    categories = sorted({s.label for t in items for s in t.spans})
    tagger = EditTagger.new(categories, base=base, max_length=max_length, seed=seed)
    err.print(
        f"tagger data: {len(train)} train texts ({len(extra)} from diffs), {len(dev)} dev texts, "
        f"{len(categories)} categories"
    )
    train_feats = featurise(tagger, train)
    dev_feats = featurise(tagger, dev)
    history = fit_tagger(tagger, train_feats, dev_feats, epochs=epochs, seed=seed)
    p, g = dev_scores(tagger, dev_feats)
    report = {
        "tagger": token_prf(p >= tagger.threshold, g),
        "flag_nothing": token_prf(np.zeros_like(g), g),
        "flag_everything": token_prf(np.ones_like(g), g),
        "threshold": tagger.threshold,
    }
    tagger.config.update(trained={"command": command_line(), "history": history, "dev": report, "seed": seed})
    tagger.save(out_dir)
    out.print_json(json.dumps(report))
