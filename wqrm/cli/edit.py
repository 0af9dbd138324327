"""Fit-time command of S1: `wqrm train-edit` (the edit-quality reward model and, with `--spans`,
the edit-trace tagger sharing its encoder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wqrm.cli.common import (
    ProgressOption,
    check_files,
    check_jsonl,
    command_line,
    err,
    parse_source_weights,
    usage_error,
)

__all__ = ["train_edit"]


def train_edit(
    pairs: Annotated[list[Path], typer.Option("--pairs", help="Edit-pair / pair JSONL files (repeatable).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the trained model.")],
    scored: Annotated[
        list[Path] | None,
        typer.Option("--scored", help="Scored JSONL files whose pre/post rows are linked into pairs."),
    ] = None,
    spans: Annotated[
        list[Path] | None,
        typer.Option("--spans", help="Span-annotated JSONL files: train the tagger head too (lora/full)."),
    ] = None,
    originals: Annotated[
        list[Path] | None,
        typer.Option("--originals", help="Reference prose (.txt) whose passages also get negatives."),
    ] = None,
    originals_per_file: Annotated[int, typer.Option(help="Passages sampled per --originals file.")] = 10,
    negatives: Annotated[
        int, typer.Option(help="Training-family negatives per original text (0: none).")
    ] = 1,
    negative_weight: Annotated[float, typer.Option(help="Pair weight of a negative.")] = 0.5,
    base: Annotated[
        str, typer.Option(help="Encoder: a local path, 'minilm', or a hub name cached locally.")
    ] = "minilm",
    frozen: Annotated[bool, typer.Option("--frozen", help="Frozen encoder + MLP head (baseline).")] = False,
    lora: Annotated[
        bool, typer.Option("--lora", help="LoRA adapters + reward and token heads (default).")
    ] = False,
    full: Annotated[bool, typer.Option("--full", help="Full fine-tune + reward and token heads.")] = False,
    lora_layers: Annotated[
        str | None, typer.Option(help="Encoder layers with adapters, e.g. '3,4,5' (default: all).")
    ] = None,
    lora_r: Annotated[int, typer.Option(min=1, help="LoRA rank.")] = 8,
    retrain_heads: Annotated[
        Path | None,
        typer.Option(
            "--retrain-heads",
            help="A trained lora/full model directory: keep its encoder, refit its reward and token heads.",
        ),
    ] = None,
    init_reward_head: Annotated[
        Path | None,
        typer.Option(help="A frozen-encoder model directory whose head starts the reward head (warm start)."),
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Maximum epochs (early stopping on dev).")] = 6,
    lr: Annotated[
        float | None, typer.Option(help="Learning rate (default: 1e-3 frozen, 5e-4 LoRA, 3e-5 full).")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Examples (pairs or tagged windows) per step.")] = 8,
    max_length: Annotated[int, typer.Option(min=8, help="Tokens per window.")] = 384,
    tag_weight: Annotated[float, typer.Option(help="Weight of the token loss next to the pair loss.")] = 0.5,
    min_precision: Annotated[
        float, typer.Option(help="Token precision the tagger's display threshold reaches on dev.")
    ] = 0.6,
    mse_weight: Annotated[
        float, typer.Option(help="Frozen kind: weight of the MSE term on scored paragraphs (0: off).")
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
        bool, typer.Option("--resume/--no-resume", help="Continue from OUT/checkpoints.")
    ] = True,
    features_cache: Annotated[
        Path | None, typer.Option(help="NPZ cache of frozen-encoder features (frozen only).")
    ] = None,
    reading: Annotated[
        str,
        typer.Option(
            help="Frozen only: how a paragraph longer than the encoder's window is read: 'first' "
            "(its first 256 tokens; models before session 28), 'chunks' (the mean of its "
            "sentence-bounded chunks of at most --chunk-tokens) or 'both' side by side; or "
            "'sentences': the mean of the text's sentences, each encoded alone (independent of "
            "their order).",
        ),
    ] = "both",
    chunk_tokens: Annotated[
        int, typer.Option(min=16, help="Frozen only: a chunk's tokens, [CLS] and [SEP] included.")
    ] = 256,
    sentence_blend: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Frozen only: also fit a quality head on the 'sentences' reading (same pairs, "
            "seed and schedule) and blend it into q with this weight on it (standardised; "
            "`wqrm.fit.blend`). 0: no second head.",
        ),
    ] = 0.0,
    progress: ProgressOption = None,
) -> None:
    """Train the S1 edit model pairwise (−w · log σ(r(better) − r(worse))) on preference pairs and
    systematic negatives; with --spans its token head learns the edit-trace spans too."""
    if sum([frozen, lora, full]) > 1:
        raise usage_error("choose one of --frozen, --lora, --full")
    from wqrm.edit.pieces import READINGS  # deferred: `wqrm --help` stays fast

    if reading not in READINGS:
        raise usage_error(f"--reading {reading!r}: choose one of {', '.join(READINGS)}")
    kind = "frozen" if frozen else "full" if full else "lora"
    if sentence_blend and (kind != "frozen" or reading == "sentences"):
        raise usage_error("--sentence-blend needs --frozen and a paragraph reading (not 'sentences')")
    if kind == "frozen" and spans:
        raise usage_error("--spans needs a fine-tuned encoder (--lora or --full)")
    if negatives < 0:
        raise usage_error(f"--negatives must be 0 or more, not {negatives}")
    if lora_layers is not None and not all(x.strip().isdigit() for x in lora_layers.split(",")):
        raise usage_error(f"--lora-layers must be comma-separated layer numbers, not {lora_layers!r}")
    check_files([*pairs, *(scored or []), *(spans or []), *(originals or [])])
    if retrain_heads is not None and not retrain_heads.is_dir():
        raise usage_error(f"--retrain-heads {retrain_heads}: no such directory")
    if init_reward_head is not None and not init_reward_head.is_dir():
        raise usage_error(f"--init-reward-head {init_reward_head}: no such directory")
    check_jsonl(pairs, scored or [])
    source_weights = parse_source_weights(weight)
    from wqrm.fit.dataset import (  # deferred: arguments are checked first
        build_edit_training_set,
        frozen_features,
        reference_passages,
    )
    from wqrm.fit.train_edit import TrainConfig  # deferred: arguments are checked first

    default_lr = {"frozen": 1e-3, "lora": 5e-4, "full": 3e-5}[kind]
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
        lora_r=lora_r,
        lora_layers=[int(x) for x in lora_layers.split(",")] if lora_layers else None,
        tag_weight=tag_weight,
        min_precision=min_precision,
        init_reward_head=str(init_reward_head) if init_reward_head else None,
    )
    extra = reference_passages(originals or [], per_file=originals_per_file, seed=seed)
    ts = build_edit_training_set(
        pairs,
        scored or [],
        spans or [],
        weights=source_weights,
        negatives_per_text=negatives,
        negative_weight=negative_weight,
        extra_originals=extra,
        dev_percent=dev_percent,
        seed=seed,
    )
    err.print(f"data: {json.dumps(ts.summary())}", markup=False, highlight=False)

    def log_epoch(e: dict) -> None:  # one plain line per evaluation (the feedback of a training run)
        if progress is not False:
            err.print(f"eval: {json.dumps(e)}", markup=False, highlight=False)

    if retrain_heads is not None:
        from wqrm.edit.model import TransformerEditModel, load_reward_model  # deferred: fast --help
        from wqrm.fit.heads import retrain_heads as refit_heads  # deferred: `wqrm --help` stays fast

        rm = load_reward_model(retrain_heads)
        if not isinstance(rm, TransformerEditModel):
            raise usage_error(f"--retrain-heads {retrain_heads}: not a lora/full edit model")
        model, history = refit_heads(
            rm,
            ts.train,
            ts.dev,
            cfg,
            dev_negatives=ts.dev_negatives,
            tag_train=ts.tag_train,
            tag_dev=ts.tag_dev,
            on_epoch=log_epoch,
        )
        model.config["retrained_heads_from"] = str(retrain_heads)
        model.save(out_dir)
    elif kind == "frozen":
        from wqrm.fit.dataset import build_dataset  # deferred: `wqrm --help` stays fast
        from wqrm.fit.train_edit import train_frozen  # deferred: `wqrm --help` stays fast

        scored_train = (
            build_dataset(pairs, scored or [], dev_percent=dev_percent, seed=seed).scored_train
            if mse_weight
            else []
        )
        from wqrm.fit.degeneracy import add_degeneracy_head, is_negative  # deferred: fast --help

        reads = {"reading": reading, "chunk_tokens": chunk_tokens}
        feats = frozen_features(reads, features_cache)
        human = [p for p in ts.train if not is_negative(p)]
        model, history = train_frozen(
            human, ts.dev, scored_train, cfg, features=feats, on_epoch=log_epoch, reads=reads
        )
        if len(human) < len(ts.train):  # negatives: the degeneracy head and its penalty
            fit = add_degeneracy_head(
                model, ts.train, ts.dev, ts.dev_negatives, feats, seed=seed, on_epoch=log_epoch
            )
            history.append({"degeneracy_penalty_table": fit.penalty_table, "degeneracy_dev_auc": fit.dev_auc})
            err.print(
                f"degeneracy head: dev AUC {fit.dev_auc:.3f}, onset {fit.onset}, penalty {fit.penalty:.3f}"
            )
        if sentence_blend:
            from wqrm.fit.blend import add_sentence_head  # deferred: `wqrm --help` stays fast

            sreads = {"reading": "sentences", "chunk_tokens": chunk_tokens}
            sfeats = frozen_features(sreads, features_cache)
            smodel, shistory = train_frozen(
                human, ts.dev, scored_train, cfg, features=sfeats, on_epoch=log_epoch, reads=sreads
            )
            blend = add_sentence_head(model, smodel, human, ts.dev, feats, sfeats, sentence_blend)
            history.append({"sentence_head_history": shistory, "sentence_blend": blend})
            err.print(
                f"sentence head blended at w {sentence_blend}: LAMP dev "
                f"{blend['lamp_dev_accuracy_before']:.3f} -> {blend['lamp_dev_accuracy_after']:.3f}"
            )
        model.save(out_dir)
    else:
        from wqrm.fit.train_edit import train_edit_model  # deferred: `wqrm --help` stays fast

        model, history = train_edit_model(
            ts.train,
            ts.dev,
            cfg,
            out_dir,
            tag_train=ts.tag_train,
            tag_dev=ts.tag_dev,
            dev_negatives=ts.dev_negatives,
            labels=ts.labels,
            resume=resume,
            on_epoch=log_epoch,
        )
    record = {
        "command": command_line(),
        "config": cfg.__dict__,
        "data": {
            "pair_files": [p.name for p in pairs],
            "scored_files": [p.name for p in scored or []],
            "span_files": [p.name for p in spans or []],
            "originals": [p.name for p in originals or []],
            **ts.summary(),
        },
        "history": history,
        "dev_ids": ts.dev_ids,
    }
    (Path(out_dir) / "training.json").write_text(json.dumps(record, indent=1) + "\n")
    err.print(f"saved {kind} model to {out_dir}")
