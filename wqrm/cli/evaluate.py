"""`wqrm eval-pairs`: pairwise accuracy of a scorer on preference pairs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from wqrm.cli.common import (
    Feedback,
    ProgressOption,
    check_files,
    err,
    fail,
    out,
    progress_mode,
    usage_error,
)
from wqrm.jsonl import dumps
from wqrm.lang import UnsupportedLanguageError, check_supported

__all__ = ["SCORERS", "eval_pairs"]

#: What `--scorer` accepts (metric:NAME takes any name `wqrm catalogue` lists).
SCORERS = ("edit", "composite", "uniform", "metric:NAME", "baseline:shorter", "baseline:longer")
SPLITS = ("all", "dev", "train")
#: Unusable rows named one by one on stderr before the rest are counted.
SHOW_PROBLEMS = 20


def eval_pairs(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="JSONL pair files: edit pairs {original, edited} or preference pairs {chosen, rejected} "
            "in TRL's standard or conversational format (explicit or implicit prompt)."
        ),
    ],
    scorer: Annotated[
        str,
        typer.Option(
            help="edit (raw S1 reward) | composite | uniform (composite, α_i = 1/8) | metric:NAME | "
            "baseline:shorter (shorter text wins) | baseline:longer (longer text wins)"
        ),
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
    batch_size: Annotated[int, typer.Option(min=1, help="Texts scored together.")] = 32,
    progress: ProgressOption = None,
) -> None:
    """Pairwise accuracy (ties count half), n, bootstrap 95% CI and length-adversarial accuracy.

    Every distinct text is scored once; the preferred text should score higher. Rows that cannot be
    used (invalid JSON, missing fields, an empty text, two equal texts) are named on stderr and
    counted; no usable pair is an error (exit status 1)."""
    # 1. arguments and files (nothing heavy loaded yet)
    check_files(files)
    if split not in SPLITS:
        raise usage_error(f"--split must be one of {', '.join(SPLITS)}, not {split!r}")
    _check_scorer(scorer)
    if model is not None and not model.is_dir():
        raise usage_error(f"--model {model}: no such directory")
    try:
        from wqrm.weights import load_weights  # deferred: numpy; `wqrm --help` stays fast

        alpha = load_weights(weights) if scorer == "composite" else None
    except ValueError as exc:
        raise usage_error(f"--weights: {exc}") from None
    dev_ids = _split_ids(split, model, weights) if split != "all" else None

    # 2. pairs
    from wqrm.fit.data import load_pairs  # deferred: arguments are checked first
    from wqrm.fit.evaluate import distinct_texts, score_pairs  # deferred: arguments are checked first

    problems: list[str] = []
    pairs = load_pairs(files, problems=problems)
    for message in problems[:SHOW_PROBLEMS]:
        err.print(f"[yellow]skipped:[/yellow] {escape(message)}", highlight=False)
    if len(problems) > SHOW_PROBLEMS:
        err.print(
            f"[yellow]skipped:[/yellow] … and {len(problems) - SHOW_PROBLEMS} more rows", highlight=False
        )
    n_loaded = len(pairs)
    if dev_ids is not None:
        pairs = [p for p in pairs if (p.id in dev_ids) == (split == "dev")]
    if not pairs:
        why = f"{len(problems)} unusable rows" if problems else "no pair rows"
        if dev_ids is not None and n_loaded:
            why = f"none of the {n_loaded} pairs has an id in the {split} split of the training record"
        raise fail(f"no pairs to evaluate ({why})")

    # 3. the scorer (models load here), then score with feedback
    score_fn = _score_fn(scorer, model, alpha)
    texts = len(distinct_texts(pairs))
    with Feedback("eval-pairs", texts, progress_mode(progress), unit="texts") as feedback:
        rep = score_pairs(pairs, score_fn, chunk_size=batch_size, on_progress=feedback.advance)
    if rep.n == 0:
        raise fail(f"{scorer} gave no pair a defined score on both sides ({rep.n_undefined} undefined)")
    result = {
        "files": [f.name for f in files],
        "scorer": scorer,
        "split": split,
        **rep.as_dict(),
        "rows_skipped": len(problems),
    }
    if as_json:
        print(dumps(result))
        return
    acc = "—" if rep.accuracy is None else f"{rep.accuracy:.3f}"
    ci = "" if rep.ci95 is None else f" (95% CI {rep.ci95[0]:.3f}–{rep.ci95[1]:.3f})"
    adv = "—" if rep.length_adversarial_accuracy is None else f"{rep.length_adversarial_accuracy:.3f}"
    out.print(
        f"{scorer}: accuracy {acc}{ci} on n={rep.n}; length-adversarial {adv} "
        f"(n={rep.n_length_adversarial}); undefined {rep.n_undefined}; rows skipped {len(problems)}",
        highlight=False,
        markup=False,
    )


def _check_scorer(name: str) -> None:
    """A known scorer name, or status 2 listing the valid ones (metric names are checked later)."""
    if name in SCORERS or (name.startswith("metric:") and name != "metric:NAME"):
        return
    hint = " (the shorter-wins baseline is now baseline:shorter)" if name == "baseline:length" else ""
    raise usage_error(f"unknown scorer {name!r}{hint}; valid: {', '.join(SCORERS)}")


def _split_ids(split: str, model: Path | None, weights: str | None) -> set[str]:
    """The dev ids recorded by a fit: an edit model's training.json (--model), else the weights
    (all sources), else the shipped edit model (its own sources only). Status 2 when none has them."""
    from importlib.resources import files

    shipped_model = Path(str(files("wqrm") / "data" / "edit" / "model"))  # metrics.edit.shipped_dir
    candidates = [Path(model) / "training.json"] if model else []
    candidates += [Path(weights)] if weights and weights != "uniform" else []
    from wqrm.weights import default_weights_path  # deferred: numpy; `wqrm --help` stays fast

    candidates += [default_weights_path(), shipped_model / "training.json"]
    for c in candidates:
        try:
            record = json.loads(c.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("dev_ids"), list):
            return {str(i) for i in record["dev_ids"]}
    raise usage_error(f"--split {split} needs a training record with dev_ids (--model DIR or --weights FILE)")


def _score_fn(name: str, model: Path | None, alpha):
    """A batch function texts → scores for `name` (already checked by `_check_scorer`)."""
    if name == "edit":
        from wqrm.edit.model import load_reward_model  # deferred: the model loads after the checks
        from wqrm.metrics.edit import shipped_dir  # deferred: `wqrm --help` stays fast

        rm = load_reward_model(model or shipped_dir())
        return lambda texts: [float(x) for x in rm.score(texts)]
    if name in ("composite", "uniform"):
        from wqrm import resources  # deferred: the models load after the checks
        from wqrm.scoring import Scorer  # deferred: the models load after the checks
        from wqrm.weights import load_weights  # deferred: numpy; `wqrm --help` stays fast

        if model:
            resources.set_override("edit_model", str(model))
        sc = Scorer(weights=load_weights("uniform") if name == "uniform" else alpha)
        return lambda texts: [r.score for r in sc.score_batch(texts)]
    from wqrm.analysis import analyze_batch  # deferred: the parser loads after the checks
    from wqrm.baselines import longer_wins, metric_baseline, shorter_wins  # deferred: fast --help

    if name.startswith("metric:"):
        try:
            fn = metric_baseline(name.split(":", 1)[1])
        except KeyError as exc:
            raise usage_error(f"--scorer {name}: {exc.args[0]}") from None
        return lambda texts: [None if a is None else fn(a) for a in _analyses(texts, analyze_batch)]
    baseline = shorter_wins if name == "baseline:shorter" else longer_wins
    return lambda texts: [None if a is None else baseline(a) for a in _analyses(texts, analyze_batch)]


def _analyses(texts: list[str], analyze_batch) -> list:
    """Parsed texts, None for one in a language wqrm does not analyse (its pairs count as undefined,
    as the composite's error records do) instead of one refused text stopping the batch."""
    ok = []
    for t in texts:
        try:
            check_supported(t)
            ok.append(True)
        except UnsupportedLanguageError:
            ok.append(False)
    parsed = iter(analyze_batch([t for t, k in zip(texts, ok, strict=True) if k]))
    return [next(parsed) if k else None for k in ok]
