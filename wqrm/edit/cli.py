"""`wqrm train-edit`, `wqrm train-tagger` and `wqrm eval-pairs` (registered on the main app)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from wqrm.cli import app, err, out

__all__ = ["eval_pairs", "train_edit", "train_tagger"]


def _weights(items: list[str] | None) -> dict[str, float]:
    """{SOURCE: W} from repeated `--weight SOURCE=W` options."""
    result = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--weight {item!r}: expected SOURCE=W")
        result[key] = float(value)
    return result


def _command() -> str:
    return "wqrm " + " ".join(shlex.quote(a) for a in sys.argv[1:])


@app.command("train-edit")
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
    epochs: Annotated[int, typer.Option(help="Maximum epochs (early stopping on dev accuracy).")] = 3,
    lr: Annotated[
        float | None, typer.Option(help="Learning rate (default: 1e-3 frozen, 2e-4 LoRA, 3e-5 full).")
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Pairs per step.")] = 8,
    max_length: Annotated[int, typer.Option(help="Tokens per paragraph (longer ones are truncated).")] = 256,
    mse_weight: Annotated[
        float, typer.Option(help="Weight of the MSE term on scored paragraphs (0: off).")
    ] = 0.0,
    weight: Annotated[
        list[str] | None, typer.Option(help="SOURCE=W pair weight, repeatable (0 drops a source).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for splits, initialisation and order.")] = 0,
    dev_percent: Annotated[int, typer.Option(help="Share of item groups held out for dev.")] = 20,
    patience: Annotated[int, typer.Option(help="Epochs without dev improvement before stopping.")] = 2,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Continue from OUT/checkpoint.")
    ] = True,
    features_cache: Annotated[
        Path | None, typer.Option(help="NPZ cache of frozen-encoder features (frozen only).")
    ] = None,
) -> None:
    """Train the edit-quality reward model (S1) pairwise: −log σ(r(better) − r(worse))."""
    from wqrm.edit.dataset import FeatureCache, build_dataset
    from wqrm.edit.model import EmbeddingHeadReward, RewardHead
    from wqrm.edit.train import TrainConfig, train_frozen, train_transformer

    if sum([frozen, lora, full]) > 1:
        err.print("[red]error:[/red] choose one of --frozen, --lora, --full")
        raise typer.Exit(2)
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
    ds = build_dataset(pairs, scored or [], weights=_weights(weight), dev_percent=dev_percent, seed=seed)
    err.print(f"data: {json.dumps(ds.summary())}")
    log_epoch = lambda e: err.print(f"epoch {e['epoch']}: {json.dumps(e)}")  # noqa: E731
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
        "command": _command(),
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


@app.command("train-tagger")
def train_tagger(
    spans: Annotated[list[Path], typer.Option("--spans", help="Span JSONL files (repeatable).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory for the trained tagger.")],
    pairs: Annotated[
        list[Path] | None, typer.Option("--pairs", help="Edit-pair files whose diffs add 'Edited' spans.")
    ] = None,
    base: Annotated[str, typer.Option(help="Encoder: a local path or 'minilm'.")] = "minilm",
    epochs: Annotated[int, typer.Option(help="Epochs over cached features.")] = 8,
    max_length: Annotated[int, typer.Option(help="Tokens per window.")] = 256,
    seed: Annotated[int, typer.Option(help="Seed.")] = 0,
    dev_percent: Annotated[int, typer.Option(help="Share of texts held out for dev.")] = 20,
) -> None:
    """Train the edit-trace span tagger on span annotations (+ diffs of edit pairs)."""
    from wqrm.edit.data import is_dev, load_pairs, normalise
    from wqrm.edit.tagger import EditTagger, load_span_file, tagged_from_pairs, token_prf

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
    train_feats = tagger.featurise(train)
    dev_feats = tagger.featurise(dev)
    history = tagger.fit(train_feats, dev_feats, epochs=epochs, seed=seed)
    p, g = tagger.dev_scores(dev_feats)
    report = {
        "tagger": token_prf(p >= tagger.threshold, g),
        "flag_nothing": token_prf(np.zeros_like(g), g),
        "flag_everything": token_prf(np.ones_like(g), g),
        "threshold": tagger.threshold,
    }
    tagger.config.update(trained={"command": _command(), "history": history, "dev": report, "seed": seed})
    tagger.save(out_dir)
    out.print_json(json.dumps(report))


@app.command("eval-pairs")
def eval_pairs(
    files: Annotated[
        list[Path], typer.Argument(help="JSONL with chosen/rejected or original/edited fields.")
    ],
    scorer: Annotated[
        str,
        typer.Option(help="edit | composite | uniform | metric:NAME | baseline:length | baseline:shorter"),
    ] = "edit",
    model: Annotated[Path | None, typer.Option(help="Edit-model directory (default: shipped).")] = None,
    split: Annotated[
        str,
        typer.Option(help="all | dev | train: keep the dev (or train) pairs of the recorded split"),
    ] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    weights: Annotated[
        str | None, typer.Option("--weights", help="Weights JSON for --scorer composite (default: shipped).")
    ] = None,
) -> None:
    """Pairwise accuracy (ties count half), n, bootstrap 95% CI and length-adversarial accuracy."""
    from wqrm.edit.data import load_pairs
    from wqrm.edit.evaluate import score_pairs
    from wqrm.metrics.edit import shipped_dir

    pairs = load_pairs(files)
    if split != "all":
        # the split recorded by the fit: an edit model's training.json (--model), else the shipped
        # weights (all sources), else the shipped edit model (its own sources only)
        from wqrm.weights import default_weights_path

        candidates = [Path(model) / "training.json"] if model else []
        candidates += [Path(weights)] if weights and weights != "uniform" else []
        candidates += [default_weights_path(), shipped_dir("reward") / "training.json"]
        record = next((c for c in candidates if c.exists() and "dev_ids" in json.loads(c.read_text())), None)
        if record is None:
            err.print(f"[red]error:[/red] --split {split} needs a training record with dev_ids")
            raise typer.Exit(2)
        dev_ids = set(json.loads(record.read_text())["dev_ids"])
        pairs = [p for p in pairs if (p.id in dev_ids) == (split == "dev")]
    try:
        score_fn = _score_fn(scorer, model, weights)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    rep = score_pairs(pairs, score_fn)
    result = {"files": [f.name for f in files], "scorer": scorer, "split": split, **rep.as_dict()}
    if as_json:
        print(json.dumps(result))
        return
    acc = "—" if rep.accuracy is None else f"{rep.accuracy:.3f}"
    ci = "" if rep.ci95 is None else f" (95% CI {rep.ci95[0]:.3f}–{rep.ci95[1]:.3f})"
    adv = "—" if rep.length_adversarial_accuracy is None else f"{rep.length_adversarial_accuracy:.3f}"
    out.print(
        f"{scorer}: accuracy {acc}{ci} on n={rep.n}; length-adversarial {adv} "
        f"(n={rep.n_length_adversarial}); undefined {rep.n_undefined}"
    )


def _score_fn(name: str, model: Path | None, weights: str | None = None):
    import wqrm.metrics as M
    from wqrm.baselines import longer_wins, metric_baseline, shorter_wins

    if name == "edit":
        from wqrm.edit.model import load_reward_model
        from wqrm.metrics.edit import shipped_dir

        rm = load_reward_model(model or shipped_dir("reward"))
        return lambda texts: list(rm.score(texts))
    if name in ("composite", "uniform"):
        from wqrm import resources
        from wqrm.scoring import Scorer
        from wqrm.weights import load_weights

        if model:
            resources.set_override("edit_model", str(model))
        sc = Scorer(weights=load_weights("uniform" if name == "uniform" else weights))
        return lambda texts: [r.score for r in sc.score_batch(texts)]
    if name.startswith("metric:"):
        metric_name = name.split(":", 1)[1]
        M.get_spec(metric_name)
        fn = metric_baseline(metric_name)
        return lambda texts: [fn(a) for a in _analyses(texts)]
    if name in ("baseline:length", "baseline:shorter"):
        return lambda texts: [shorter_wins(a) for a in _analyses(texts)]
    if name == "baseline:longer":
        return lambda texts: [longer_wins(a) for a in _analyses(texts)]
    raise typer.BadParameter(f"unknown scorer {name!r}")


def _analyses(texts):
    from wqrm.analysis import analyze_batch

    return analyze_batch(texts)


def _word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole words."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def display_spans(text: str, spans: list[dict]) -> list[dict]:
    """Spans for people: widened to whole words, and neighbours separated only by spaces or
    punctuation merged (label of the longest piece, mean probability)."""
    merged: list[dict] = []
    for s in sorted(spans, key=lambda s: s["start"]):
        start, end = _word_bounds(text, s["start"], s["end"])
        piece = {**s, "start": start, "end": end, "_len": end - start}
        if merged and (start <= merged[-1]["end"] or not text[merged[-1]["end"] : start].strip(" ,;:.!?\"'")):
            m = merged[-1]
            longest = m if m["_len"] >= piece["_len"] else piece
            merged[-1] = {
                "start": m["start"],
                "end": max(m["end"], end),
                "label": longest["label"],
                "probability": (m["probability"] + s["probability"]) / 2,
                "_len": max(m["_len"], piece["_len"]),
            }
        else:
            merged.append(piece)
    return [{k: v for k, v in m.items() if k != "_len"} for m in merged]


def render_spans(text: str, spans: list[dict]):
    """A rich `Text` of `text` with each flagged span highlighted and numbered, plus a legend."""
    from rich.text import Text

    out = Text()
    pos = 0
    legend = []
    for i, s in enumerate(display_spans(text, spans), 1):
        out.append(text[pos : s["start"]])
        out.append(text[s["start"] : s["end"]], style="bold black on yellow")
        out.append(f"[{i}]", style="dim")
        legend.append(f"[{i}] {s['label']} (p={s['probability']:.2f})")
        pos = s["end"]
    out.append(text[pos:])
    out.append(
        "\n\nFlagged by the edit-trace tagger (hints: token AUC 0.61 on held-out LAMP annotations)",
        style="dim",
    )
    out.append("\n" + ("\n".join(legend) if legend else "(no span flagged)"), style="dim")
    return out
