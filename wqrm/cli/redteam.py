"""`wqrm red-team`: how far a greedy search over edits that cannot improve writing raises the score."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from wqrm.batch import read_rows
from wqrm.cli.common import (
    ProfileOption,
    WeightsOption,
    check_files,
    checked_encoding,
    err,
    fail,
    fmt,
    out,
    read_all,
    usage_error,
)
from wqrm.jsonl import dumps
from wqrm.textio import MAX_CHARS

__all__ = ["red_team"]


def red_team(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Text files, one text each (two or more texts in all for append_foreign)."),
    ] = None,
    input_file: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="JSONL rows {id, text}, as for `wqrm score --input` (context fields are ignored); "
            "with or instead of FILEs.",
        ),
    ] = None,
    steps: Annotated[int, typer.Option(min=0, help="Rounds of search per text.")] = 4,
    candidates: Annotated[int, typer.Option(min=1, help="Edited versions scored per text and round.")] = 16,
    edits: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated edits (default: swap_adjacent,repeat_sentence,append_foreign,"
            "append_generic; also drop_sentence)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the candidates' sampling.")] = 0,
    profile: ProfileOption = None,
    weights: WeightsOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON output: the summary and every text's search.")
    ] = False,
    show_text: Annotated[
        bool, typer.Option("--show-text", help="Print each text as the search left it.")
    ] = False,
    encoding: Annotated[str, typer.Option(help="Text encoding of the input files.")] = "utf-8",
) -> None:
    """Red-team the reward: from each text, keep the edit (sentences swapped, one repeated, one
    borrowed from another of the texts, a stock generic sentence appended) that raises the score
    most, round after round; report what each text gained and which edits and components paid.
    A gain is a way a policy trained on this reward could game it (wqrm.redteam)."""
    from wqrm import redteam  # deferred: numpy; `wqrm --help` stays fast (it loads no model)

    files = files or []
    if not files and input_file is None:
        raise usage_error("give text files, or --input rows.jsonl")
    check_files(files + ([input_file] if input_file is not None else []))
    names = (
        redteam.DEFAULT_EDITS if edits is None else tuple(e.strip() for e in edits.split(",") if e.strip())
    )
    unknown = [e for e in names if e not in redteam.EDITS]
    if unknown or not names:
        raise usage_error(
            f"--edits: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(redteam.EDITS)}"
        )
    encoding = checked_encoding(encoding)
    items = read_all([str(f) for f in files], encoding, max_chars=MAX_CHARS)
    for _, _, problem in items:
        if problem:
            err.print(f"[yellow]skipped:[/yellow] {escape(problem)}", highlight=False)
    usable: list[tuple[dict, str]] = [({"file": f}, t) for f, t, problem in items if problem is None]
    if input_file is not None:
        for row in read_rows(input_file, encoding):
            if row.error is not None:
                problem = f"{input_file}:{row.line}: {row.error}"
                err.print(f"[yellow]skipped:[/yellow] {escape(problem)}", highlight=False)
            else:
                usable.append(({"id": row.id}, row.text))
    if not usable:
        raise fail("no readable text")

    from wqrm.scoring import load  # deferred: loads the profile and weights

    try:
        scorer = load(str(profile) if profile else None, weights)
    except (ValueError, FileNotFoundError) as exc:
        raise usage_error(str(exc)) from None
    report = redteam.red_team(
        scorer, [t for _, t in usable], edits=names, steps=steps, candidates=candidates, seed=seed
    )
    summary = report.summary()
    if as_json:
        rows = [
            {
                **label,
                "start": r.start,
                "end": r.end,
                "gain": r.gain,
                "edits": r.edits,
                "component_gain": r.component_gain,
                "text": r.text,
                "error": r.error,
            }
            for (label, _), r in zip(usable, report.results, strict=True)
        ]
        out.print(dumps({"summary": summary, "texts": rows}), highlight=False, markup=False)
        return
    for (label, _), r in zip(usable, report.results, strict=True):
        name = escape(str(label.get("file", label.get("id"))))
        if r.error:
            out.print(f"{name}: [red]error:[/red] {escape(r.error)}", highlight=False)
            continue
        path = " + ".join(r.edits) or "no edit raised it"
        out.print(f"{name}: {fmt(r.start)} → {fmt(r.end)} (+{r.gain:.3f}) {escape(path)}", highlight=False)
        if show_text:
            out.print(escape(r.text) + "\n", highlight=False)
    if summary["texts"]:
        comps = ", ".join(f"{c} {v:+.3f}" for c, v in summary["component_gain"].items() if abs(v) >= 5e-4)
        top = ", ".join(f"{m} {v:+.2f}" for m, v in summary["top_metrics"][:5])
        out.print(
            f"raised {summary['raised']:.0%} of {summary['texts']} texts; "
            f"gain mean {summary['mean_gain']:.3f}, median {summary['median_gain']:.3f}, "
            f"max {summary['max_gain']:.3f}\n"
            f"accepted edits: {json.dumps(summary['accepted'])}\n"
            f"per text, change of each component's share of the score: {comps or 'none'}\n"
            f"goodness that rose most (per text): {top or 'none'}",
            highlight=False,
        )
