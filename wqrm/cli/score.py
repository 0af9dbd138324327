"""`wqrm score`: the composite, S1..S8 and every metric of files or of a JSONL batch."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from wqrm.cli.common import err, out, read_all
from wqrm.cli.render import print_score_table, render_spans
from wqrm.textio import MAX_CHARS, InvalidTextError, read_text
from wqrm.weights import load_weights

__all__ = ["score"]


def score(
    files: Annotated[list[str] | None, typer.Argument(help="Text files to score ('-' reads stdin).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file (JSON Lines).")] = False,
    input: Annotated[
        Path | None, typer.Option("--input", help="JSONL of {id, text} rows to score in batch.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="JSONL to append results to (resumable).")
    ] = None,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Reference profile directory (default: shipped).")
    ] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of the input files.")] = "utf-8",
    max_chars: Annotated[
        int, typer.Option(help="Refuse texts longer than this many characters.")
    ] = MAX_CHARS,
    batch_size: Annotated[int, typer.Option(help="Rows scored together in --input mode.")] = 32,
    progress: Annotated[
        bool | None,
        typer.Option("--progress/--no-progress", help="Progress bar on stderr (default: if a tty)."),
    ] = None,
    persona: Annotated[
        Path | None,
        typer.Option(
            "--persona", help="Persona: a directory of the user's .txt/.md files (or a saved persona)."
        ),
    ] = None,
    task: Annotated[
        str | None, typer.Option("--task", help="Task context for S5: continue, rephrase or storygen.")
    ] = None,
    prompt_file: Annotated[
        Path | None,
        typer.Option("--prompt-file", help="The text being continued, or the source being rephrased."),
    ] = None,
    references: Annotated[
        list[Path] | None,
        typer.Option(
            "--references", help="Reference text file (repeatable); a .jsonl gives one reference per row."
        ),
    ] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="Edit-model directory for S1 (default: the shipped one).")
    ] = None,
    spans: Annotated[
        bool, typer.Option("--spans", help="Also print the text with the edit-trace tagger's flagged spans.")
    ] = False,
    weights: Annotated[
        str | None,
        typer.Option("--weights", help="Composite weights JSON (default: shipped), or 'uniform'."),
    ] = None,
) -> None:
    """Score texts: the composite score, components S1..S8 and every metric."""
    from wqrm import resources  # deferred: `wqrm --help` stays fast
    from wqrm.scoring import load  # deferred: `wqrm --help` stays fast

    if model is not None:
        if not model.exists():
            err.print(f"[red]error:[/red] --model {model}: no such directory")
            raise typer.Exit(2)
        resources.set_override("edit_model", str(model))

    context = _score_context(persona, task, prompt_file, references, encoding)
    try:
        alpha = load_weights(weights)  # read once; the scorer gets the object
    except ValueError as exc:
        err.print(f"[red]error:[/red] --weights: {exc}")
        raise typer.Exit(2) from None
    if input is not None or output is not None:
        if input is None or output is None or files:
            err.print("[red]error:[/red] batch mode needs both --input and --output, and no FILE arguments")
            raise typer.Exit(2)
        _score_jsonl(input, output, profile, encoding, batch_size, progress, context, alpha)
        return
    if not files:
        err.print("[red]error:[/red] give FILE arguments ('-' for stdin) or --input/--output")
        raise typer.Exit(2)
    items = read_all(files, encoding, max_chars)
    scorer = _InContext(load(str(profile) if profile else None, alpha), context)
    good = [(f, t) for f, t, e in items if e is None]
    results = dict(zip([f for f, _ in good], scorer.score_batch([t for _, t in good]), strict=True))
    failed = False
    for f, text, e in items:
        r = results.get(f)
        error = e or (r.error if r is not None else None)
        if error:
            failed = True
            err.print(f"[red]error:[/red] {error}")
            if as_json:
                from wqrm.scoring import ScoreResult  # deferred: `wqrm --help` stays fast

                record = r if r is not None and r.error else ScoreResult.failed(error)
                print(json.dumps(record.to_dict(file=f), ensure_ascii=False))
            continue
        if as_json:
            print(json.dumps(r.to_dict(file=f), ensure_ascii=False))
        else:
            print_score_table(f, r)
            if spans:
                out.print(render_spans(text, r.spans))
    if failed:
        raise typer.Exit(1)


class _InContext:
    """A scorer whose `score_batch` always scores in one context (persona, task, prompt, references)."""

    def __init__(self, scorer, context: dict[str, Any]):
        self.scorer = scorer
        self.context = context

    def score_batch(self, texts, ids=None):
        return self.scorer.score_batch(texts, ids=ids, **self.context)


def _score_context(persona, task, prompt_file, references, encoding: str) -> dict[str, Any]:
    """`Scorer.score_batch` context keywords from the `score` options (errors exit with status 2)."""
    from wqrm.metrics.task import TASKS  # deferred: `wqrm --help` stays fast

    if task is not None and task not in TASKS:
        err.print(f"[red]error:[/red] --task must be one of {', '.join(TASKS)}, not {task!r}")
        raise typer.Exit(2)
    if (prompt_file is not None or references) and task is None:
        err.print("[red]error:[/red] --prompt-file and --references need --task")
        raise typer.Exit(2)
    context: dict[str, Any] = {"task": task}
    try:
        if persona is not None:
            from wqrm.persona import resolve  # deferred: `wqrm --help` stays fast

            context["persona"] = resolve(persona)
        if prompt_file is not None:
            context["prompt"] = read_text(prompt_file, encoding=encoding)
        if references:
            refs: list[str] = []
            for ref in references:
                if ref.suffix == ".jsonl":
                    with ref.open(encoding=encoding) as fh:
                        refs.extend(json.loads(line)["text"] for line in fh if line.strip())
                else:
                    refs.append(read_text(ref, encoding=encoding))
            context["references"] = refs
    except (OSError, ValueError, KeyError, InvalidTextError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    return context


def _score_jsonl(
    input: Path, output: Path, profile, encoding: str, batch_size: int, progress, context=None, weights=None
) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from wqrm.batch import count_rows, score_jsonl  # deferred: `wqrm --help` stays fast
    from wqrm.scoring import load  # deferred: `wqrm --help` stays fast

    if not input.exists():
        err.print(f"[red]error:[/red] {input}: no such file")
        raise typer.Exit(1)
    scorer = _InContext(load(str(profile) if profile else None, weights), context or {})
    show = sys.stderr.isatty() if progress is None else progress
    total = count_rows(input)
    with Progress(
        TextColumn("scoring"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not show,
    ) as bar:
        task = bar.add_task("score", total=total)
        stats = score_jsonl(
            input,
            output,
            scorer,
            chunk_size=batch_size,
            encoding=encoding,
            on_progress=lambda n: bar.advance(task, n),
        )
    err.print(
        f"{stats.rows} rows: {stats.written} written ({stats.errors} with errors), "
        f"{stats.skipped} already in {output}"
    )
