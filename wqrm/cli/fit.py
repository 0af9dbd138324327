"""`wqrm fit-weights`: fit the composite's α on human preference pairs."""

from __future__ import annotations

import shlex
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from wqrm.cli.common import (
    Feedback,
    ProgressOption,
    check_files,
    check_jsonl,
    err,
    out,
    parse_source_weights,
    progress_mode,
)
from wqrm.components import COMPONENTS
from wqrm.weights import LearnedWeights

__all__ = ["fit_weights_command"]


def _fit_command(
    pairs, scored, weight, l2, seed, dev_percent, cross_fit, name, out_path, edit_reference=None
) -> str:
    """The `wqrm fit-weights` command line that reproduces a fit (caches left out: they only save time)."""
    parts = ["wqrm", "fit-weights"]
    parts += [x for f in pairs for x in ("--pairs", str(f))]
    parts += [x for f in scored for x in ("--scored", str(f))]
    parts += [x for w in weight or [] for x in ("--weight", w)]
    parts += ["--l2", f"{l2:g}", "--seed", str(seed), "--dev-percent", str(dev_percent)]
    parts += [] if cross_fit else ["--no-cross-fit"]
    parts += ["--edit-reference", str(edit_reference)] if edit_reference else []
    parts += ["--name", name, "--out", str(out_path)]
    return " ".join(shlex.quote(p) for p in parts)


def fit_weights_command(
    pairs: Annotated[list[Path], typer.Option("--pairs", help="Edit-pair / pair JSONL files (repeatable).")],
    out_path: Annotated[Path, typer.Option("--out", help="Weights JSON to write.")],
    scored: Annotated[
        list[Path] | None,
        typer.Option("--scored", help="Scored JSONL whose pre/post rows are linked into pairs (repeatable)."),
    ] = None,
    cache: Annotated[
        Path | None, typer.Option(help="JSONL cache of metric values per text (resumable; reused by refits).")
    ] = None,
    weight: Annotated[
        list[str] | None, typer.Option(help="SOURCE=W pair weight, repeatable (0 drops a source).")
    ] = None,
    l2: Annotated[
        float, typer.Option(min=0.0, help="L2 pull of θ toward 0 (uniform α); the shipped fit's CV choice.")
    ] = 1e-4,
    seed: Annotated[int, typer.Option(help="Split seed (the edit model's: 0).")] = 0,
    dev_percent: Annotated[
        int, typer.Option(min=1, max=99, help="Share of item groups held out for dev (percent).")
    ] = 20,
    cross_fit: Annotated[
        bool,
        typer.Option(
            "--cross-fit/--no-cross-fit",
            help="Out-of-fold edit_reward for the texts the edit model was trained on (recommended).",
        ),
    ] = True,
    features_cache: Annotated[
        Path | None, typer.Option(help="NPZ cache of frozen-encoder features for the cross-fit.")
    ] = None,
    name: Annotated[str, typer.Option(help="Name results report in 'weights'.")] = "learned-v1",
    edit_reference: Annotated[
        Path | None,
        typer.Option(
            help="Profile directory whose edit_reward quantiles are rewritten over the edit model's "
            "training texts before fitting (the shipped profile: wqrm/data/profiles/default)."
        ),
    ] = None,
    progress: ProgressOption = None,
) -> None:
    """Fit α = softmax(θ) and τ by Bradley–Terry on S_i differences of preference pairs, split by item."""
    from rich.table import Table

    check_files([*pairs, *(scored or [])])
    check_jsonl(pairs, scored or [])
    source_weights = parse_source_weights(weight)
    if edit_reference is not None and not (edit_reference / "profile.json").is_file():
        err.print(f"[red]error:[/red] --edit-reference {edit_reference}: no profile.json in it")
        raise typer.Exit(2)
    from wqrm.build.sources import file_sha256  # deferred: arguments are checked first
    from wqrm.fit.pairs import evaluate_table, prepare_pair_table  # deferred: arguments are checked first
    from wqrm.fit.weights import direction_check, fit_weights  # deferred: arguments are checked first

    with Feedback("metrics", None, progress_mode(progress), unit="texts") as feedback:
        table, record = prepare_pair_table(
            pairs,
            scored or [],
            source_weights,
            seed,
            dev_percent,
            cache,
            cross_fit,
            features_cache,
            edit_reference,
            say=lambda message: err.print(message, markup=False, highlight=False),
            on_metrics=feedback.update,
        )
    train, dev = table.subset(~table.dev), table.subset(table.dev)
    fit = fit_weights(train.A, train.B, train.weight, l2=l2)
    uniform = dict.fromkeys(COMPONENTS, 1 / len(COMPONENTS))
    s1 = {c: float(c == "S1") for c in COMPONENTS}

    by_source = {}
    for src in sorted(set(dev.source)):
        sub = dev.subset(dev.source == src)
        by_source[src] = {
            "fitted": evaluate_table(sub, fit.alpha),
            "uniform": evaluate_table(sub, uniform),
            "s1_alone": evaluate_table(sub, s1),
        }
    dev_report = {
        "fitted": evaluate_table(dev, fit.alpha),
        "uniform": evaluate_table(dev, uniform),
        "s1_alone": evaluate_table(dev, s1),
        "by_source": by_source,
    }
    checks = direction_check(train.better_metrics, train.worse_metrics)
    disagree = {k: v for k, v in checks.items() if v["verdict"] == "disagrees"}

    weights = LearnedWeights(
        fit.alpha,
        fit.tau,
        name,
        {
            "format": 1,
            "fitted_on": date.today().isoformat(),
            "command": _fit_command(
                pairs, scored or [], weight, l2, seed, dev_percent, cross_fit, name, out_path, edit_reference
            ),
            "pair_files": [{"file": f"{f.parent.name}/{f.name}", "sha256": file_sha256(f)} for f in pairs],
            "scored_files": [
                {"file": f"{f.parent.name}/{f.name}", "sha256": file_sha256(f)} for f in scored or []
            ],
            "l2": l2,
            "source_weights": source_weights,
            "split": {"by": "item group", "seed": seed, "dev_percent": dev_percent},
            "counts": {
                "train": dict(Counter(train.source.tolist())),
                "dev": dict(Counter(dev.source.tolist())),
            },
            "fit": {k: v for k, v in fit.as_dict().items() if k not in ("alpha", "tau")},
            **record,
            "dev": dev_report,
            "direction_disagreements": disagree,
            "dev_ids": sorted({p.id for p in dev.pairs}),
        },
    )
    weights.save(out_path)

    t = Table(title=f"dev pairs (split by item, {dev_percent}%)", header_style="bold")
    for col in ("source", "n", "fitted", "uniform", "S1 alone", "fitted length-adv"):
        t.add_column(col, justify="right" if col != "source" else "left")

    def f3(x):
        return "—" if x is None else f"{x:.3f}"

    for src, rep in [*by_source.items(), ("all", dev_report)]:
        t.add_row(
            src,
            str(rep["fitted"]["n"]),
            f3(rep["fitted"]["accuracy"]),
            f3(rep["uniform"]["accuracy"]),
            f3(rep["s1_alone"]["accuracy"]),
            f3(rep["fitted"]["length_adversarial_accuracy"]),
        )
    out.print(t)
    out.print("α: " + ", ".join(f"{c} {a:.3f}" for c, a in fit.alpha.items()) + f"; τ {fit.tau:.2f}")
    for k, v in disagree.items():
        out.print(
            f"[yellow]direction check:[/yellow] {k} ({v['component']}, declared {v['declared']}) prefers "
            f"the human-preferred text in {v['agreement']:.3f} of {v['n']} training pairs"
        )
    out.print(f"saved {out_path}")
