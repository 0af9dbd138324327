"""`wqrm fit-weights`: fit the composite's α on human preferences, settings chosen leave-one-source-out."""

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
    usage_error,
)
from wqrm.components import COMPONENTS

__all__ = ["fit_weights_command"]


def _f3(x) -> str:
    return "—" if x is None else f"{x:.3f}"


def _fit_command(options: dict, out_path: Path) -> str:
    """The `wqrm fit-weights` command line that reproduces a fit, from its parsed options (the
    metric cache is left out: it only saves time)."""
    parts = ["wqrm", "fit-weights"]
    for flag, value in options.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if v is True:  # a flag
                parts.append(flag)
            elif v is not None:
                parts += [flag, v if isinstance(v, str) else f"{v:g}" if isinstance(v, float) else str(v)]
    parts += ["--out", str(out_path)]
    return " ".join(shlex.quote(p) for p in parts)


def fit_weights_command(
    pairs: Annotated[list[Path], typer.Option("--pairs", help="Edit-pair / pair JSONL files (repeatable).")],
    out_path: Annotated[Path, typer.Option("--out", help="Weights JSON to write.")],
    scored: Annotated[
        list[Path] | None,
        typer.Option("--scored", help="Scored JSONL whose pre/post rows are linked into pairs (repeatable)."),
    ] = None,
    human_vs_ai: Annotated[
        Path | None,
        typer.Option(help="human_vs_ai JSONL: human ≻ AI pairs on the same prompt (creative writing)."),
    ] = None,
    human_vs_ai_pairs: Annotated[int, typer.Option(help="At most this many human ≻ AI pairs.")] = 600,
    negatives: Annotated[
        int, typer.Option(help="Systematic negatives per preferred text S1 was not trained on (0: none).")
    ] = 1,
    cache: Annotated[
        Path | None, typer.Option(help="JSONL cache of metric values per text (resumable; reused by refits).")
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Processes computing the metric values not yet in the cache.")
    ] = 1,
    weight: Annotated[
        list[str] | None, typer.Option(help="SOURCE=W pair weight at loading, repeatable (0 drops a source).")
    ] = None,
    select: Annotated[
        str,
        typer.Option(
            help="loso: choose λ, group weights and components leave-one-source-out; fixed: --l2, "
            "--group-weight, --without-component."
        ),
    ] = "loso",
    l2: Annotated[
        float, typer.Option(min=0.0, help="L2 pull of θ toward 0 (uniform α) for --select fixed.")
    ] = 1e-2,
    group_weight: Annotated[
        list[str] | None,
        typer.Option(
            help="GROUP=W weight of a source group (lamp, silver, iterater, arxivedits, argrewrite, "
            "human_vs_ai, negatives) for --select fixed, repeatable (default 1)."
        ),
    ] = None,
    without_component: Annotated[
        list[str] | None,
        typer.Option(help="A component left out of the fit for --select fixed (repeatable)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Split and negatives seed (the edit model's: 0).")] = 0,
    dev_percent: Annotated[
        int, typer.Option(min=1, max=99, help="Share of item groups held out for dev (percent).")
    ] = 20,
    edit_model: Annotated[
        Path | None,
        typer.Option(help="The S1 model directory whose training pairs are excluded (default: shipped)."),
    ] = None,
    name: Annotated[str, typer.Option(help="Name results report in 'weights'.")] = "learned-v2",
    edit_reference: Annotated[
        Path | None,
        typer.Option(
            help="Profile directory whose edit_reward quantiles are rewritten over the edit model's "
            "training texts before fitting (the shipped profile: wqrm/data/profiles/default)."
        ),
    ] = None,
    gate: Annotated[
        bool,
        typer.Option(
            "--gate/--no-gate",
            help="Let --select loso also compare metric gates (wqrm.fit.gate: a metric whose goodness "
            "disagrees with the pairs left out of its component, decided inside every held-out fold).",
        ),
    ] = True,
    progress: ProgressOption = None,
) -> None:
    """Fit α = softmax(θ) and τ by Bradley–Terry on S_i differences of preference pairs; with
    --select loso (default) the fit settings are chosen by leave-one-source-out cross-validation for
    the worst held-out source's margin over its shorter-wins baseline. With --gate (default) the
    settings include leaving out of its component a metric whose goodness orders the pairs against
    the people who made them (`wqrm.fit.gate`), chosen or not by the same criterion."""
    from rich.table import Table

    check_files([*pairs, *(scored or []), *([human_vs_ai] if human_vs_ai else [])])
    check_jsonl(pairs, scored or [])
    if select not in ("loso", "fixed"):
        raise usage_error(f"--select must be loso or fixed, not {select!r}")
    if negatives < 0:
        raise usage_error(f"--negatives must be 0 or more, not {negatives}")
    if edit_model is not None and not (edit_model / "training.json").is_file():
        raise usage_error(f"--edit-model {edit_model}: no training.json in it")
    source_weights = parse_source_weights(weight)
    group_weights = parse_source_weights(group_weight)
    unknown = sorted(set(without_component or []) - set(COMPONENTS))
    if unknown:
        raise usage_error(f"--without-component: unknown component(s) {', '.join(unknown)}")
    from wqrm.fit.loso import HELD_OUT_GROUPS  # deferred: as above

    bad_groups = sorted(set(group_weights) - {*HELD_OUT_GROUPS, "negatives"})
    if bad_groups:
        raise usage_error(f"--group-weight: unknown group(s) {', '.join(bad_groups)}")
    if select == "loso" and (group_weights or without_component):
        raise usage_error("--group-weight and --without-component apply to --select fixed")
    if edit_reference is not None and not (edit_reference / "profile.json").is_file():
        raise usage_error(f"--edit-reference {edit_reference}: no profile.json in it")
    from wqrm.build.sources import file_sha256  # deferred: arguments are checked first
    from wqrm.fit.gate import (  # deferred: arguments are checked first
        MODES,
        FoldGate,
        credit_table,
        metric_gate,
    )
    from wqrm.fit.loso import (  # deferred: arguments are checked first
        HELD_OUT_GROUPS,
        FitSetting,
        crossfit_report,
        default_grid,
        loso_report,
        select_setting,
        source_group,
    )
    from wqrm.fit.pairs import evaluate_table, prepare_pair_table  # deferred: arguments are checked first
    from wqrm.fit.weights import fit_weights  # deferred: arguments are checked first

    with Feedback("metrics", None, progress_mode(progress), unit="texts") as feedback:
        table, record = prepare_pair_table(
            pairs,
            scored or [],
            source_weights,
            seed,
            dev_percent,
            cache,
            human_vs_ai=human_vs_ai,
            human_vs_ai_pairs=human_vs_ai_pairs,
            negatives_per_text=negatives,
            edit_model=edit_model,
            edit_reference=edit_reference,
            say=lambda message: err.print(message, markup=False, highlight=False),
            on_metrics=feedback.update,
            workers=workers,
        )
    credit = credit_table(table)
    gates = {m: FoldGate(table, m, credit) for m in MODES}
    gate_report = {
        m: {
            n: {k: r[k] for k in ("agreement", "ci95", "verdict")}
            for n, r in metric_gate(credit, table.fit_ok, m).items()
        }
        for m in MODES
    }
    if select == "loso":
        grid = default_grid(("off", *MODES) if gate else ("off",))
        err.print(f"leave-one-source-out over {len(grid)} settings × {len(HELD_OUT_GROUPS)} held-out sources")
        setting, ranking = select_setting(table, grid, gates=gates)
    else:
        kept = tuple(c for c in COMPONENTS if c not in set(without_component or []))
        setting, ranking = FitSetting(l2, group_weights, kept), []
    loso = loso_report(table, setting, gates=gates)
    crossfit = crossfit_report(table, setting, gates=gates)
    excluded: dict[str, str] = {}
    if setting.gate != "off":
        table, excluded = gates[setting.gate].table_for(table.fit_ok)
    err.print(f"metric gate: {setting.gate}; left out of their component: {', '.join(excluded) or 'none'}")
    usable = table.subset(table.fit_ok)
    groups = [source_group(s) for s in usable.source]
    w = usable.weight * [setting.weight_of(g) for g in groups]
    fit = fit_weights(usable.A, usable.B, w, l2=setting.l2, components=setting.components)
    uniform = dict.fromkeys(COMPONENTS, 1 / len(COMPONENTS))
    s1 = {c: float(c == "S1") for c in COMPONENTS}
    dev = table.subset(table.dev & table.fit_ok)
    by_source = {
        src: {
            k: evaluate_table(dev.subset(dev.source == src), a)
            for k, a in (("fitted", fit.alpha), ("uniform", uniform), ("s1_alone", s1))
        }
        for src in sorted(set(dev.source))
    }
    from wqrm.weights import LearnedWeights  # deferred: numpy; `wqrm --help` stays fast

    weights = LearnedWeights(
        fit.alpha,
        fit.tau,
        name,
        {
            "format": 2,
            "fitted_on": date.today().isoformat(),
            "command": _fit_command(
                {
                    "--pairs": [str(f) for f in pairs],
                    "--scored": [str(f) for f in scored or []],
                    "--human-vs-ai": str(human_vs_ai) if human_vs_ai else None,
                    "--human-vs-ai-pairs": human_vs_ai_pairs,
                    "--negatives": negatives,
                    "--weight": list(weight or []),
                    "--select": select,
                    "--l2": l2,
                    "--seed": seed,
                    "--dev-percent": dev_percent,
                    "--edit-model": str(edit_model) if edit_model else None,
                    "--edit-reference": str(edit_reference) if edit_reference else None,
                    "--name": name,
                    "--no-gate": True if not gate else None,
                },
                out_path,
            ),
            "pair_files": [{"file": f"{f.parent.name}/{f.name}", "sha256": file_sha256(f)} for f in pairs],
            "scored_files": [
                {"file": f"{f.parent.name}/{f.name}", "sha256": file_sha256(f)} for f in scored or []
            ],
            "human_vs_ai": None
            if human_vs_ai is None
            else {"file": human_vs_ai.name, "sha256": file_sha256(human_vs_ai)},
            "setting": setting.as_dict(),
            "selection": select,
            "source_weights": source_weights,
            "split": {"by": "item group", "seed": seed, "dev_percent": dev_percent},
            "counts": {
                "fit_pairs": dict(Counter(groups)),
                "excluded_s1_training_pairs": int((~table.fit_ok).sum()),
            },
            "fit": {k: v for k, v in fit.as_dict().items() if k not in ("alpha", "tau")},
            **record,
            "leave_one_source_out": {
                g: {k: v for k, v in r.items() if k != "alpha"} for g, r in loso.items()
            },
            "crossfit": crossfit,
            "dev_by_source": by_source,
            "settings_ranked": sorted(ranking, key=lambda r: (-r["worst_margin"], -r["mean_accuracy"]))[:10],
            "setting_summary": next((r for r in ranking if r["setting"] == setting.as_dict()), None),
            "excluded_metrics": excluded,
            "metric_gate": gate_report,
            "dev_ids": sorted({p.id for p, d in zip(table.pairs, table.dev, strict=True) if d}),
        },
    )
    weights.save(out_path)

    t = Table(
        title="leave-one-source-out (α fitted without the source) and 2-fold cross-fit", header_style="bold"
    )
    for col in ("source", "n", "LOSO acc", "shorter wins", "LOSO length-adv", "cross-fit acc"):
        t.add_column(col, justify="left" if col == "source" else "right")
    for g, r in loso.items():
        cf = crossfit.get(g, {})
        t.add_row(
            g,
            str(r["n"]),
            _f3(r["accuracy"]),
            _f3(r["shorter_wins"]),
            _f3(r["length_adversarial_accuracy"]),
            _f3(cf.get("accuracy")),
        )
    out.print(t)
    out.print(f"setting: {setting.as_dict()}")
    out.print("α: " + ", ".join(f"{c} {a:.3f}" for c, a in fit.alpha.items()) + f"; τ {fit.tau:.2f}")
    for k, reason in excluded.items():
        out.print(f"[yellow]left out of {table.metric_components.get(k)}:[/yellow] {k}: {reason}")
    out.print(f"saved {out_path}")
