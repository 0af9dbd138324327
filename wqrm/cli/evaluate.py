"""`wqrm eval-pairs`: pairwise accuracy of a scorer on preference pairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from wqrm.cli.common import err, out
from wqrm.weights import default_weights_path, load_weights

__all__ = ["eval_pairs"]


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
    from wqrm.fit.data import load_pairs  # deferred: `wqrm --help` stays fast
    from wqrm.fit.evaluate import score_pairs  # deferred: `wqrm --help` stays fast
    from wqrm.metrics.edit import shipped_dir  # deferred: `wqrm --help` stays fast

    pairs = load_pairs(files)
    if split != "all":
        # the split recorded by the fit: an edit model's training.json (--model), else the shipped
        # weights (all sources), else the shipped edit model (its own sources only)
        candidates = [Path(model) / "training.json"] if model else []
        candidates += [Path(weights)] if weights and weights != "uniform" else []
        candidates += [default_weights_path(), shipped_dir() / "training.json"]
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
    import wqrm.metrics as M  # deferred: `wqrm --help` stays fast
    from wqrm.baselines import longer_wins, metric_baseline, shorter_wins  # deferred: fast --help

    if name == "edit":
        from wqrm.edit.model import load_reward_model  # deferred: `wqrm --help` stays fast
        from wqrm.metrics.edit import shipped_dir  # deferred: `wqrm --help` stays fast

        rm = load_reward_model(model or shipped_dir())
        return lambda texts: list(rm.score(texts))
    if name in ("composite", "uniform"):
        from wqrm import resources  # deferred: `wqrm --help` stays fast
        from wqrm.scoring import Scorer  # deferred: `wqrm --help` stays fast

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
    from wqrm.analysis import analyze_batch  # deferred: `wqrm --help` stays fast

    return analyze_batch(texts)
