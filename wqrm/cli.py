"""The `wqrm` command line.

wqrm score FILE… [--json]                       score, components S1..S8, every metric
wqrm score FILE… --persona DIR --task T --prompt-file P --references R   in context (S2, S5)
wqrm score --input texts.jsonl --output out.jsonl   streaming, resumable batch scoring
wqrm metrics FILE… [--json | --csv] [--models]  rigid metrics only
wqrm build-profile CORPUS… --out DIR            reference profile (metric quantiles)
wqrm fit-weights --pairs F… --out weights.json   fit the composite's α on preference pairs
wqrm catalogue [--json]                         every metric with its metadata
"""

from __future__ import annotations

import csv
import json
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from wqrm import __version__
from wqrm.textio import MAX_CHARS, InvalidTextError, read_text, validate_text

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="wqrm: writing-quality reward model and evaluation toolkit.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        print(f"wqrm {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """wqrm: writing-quality reward model and evaluation toolkit."""


def _read_all(files: list[str], encoding: str, max_chars: int) -> list[tuple[str, str | None, str | None]]:
    """(file, text, error) for every input; errors are named, never raised."""
    items = []
    for f in files:
        try:
            items.append((f, validate_text(read_text(f, encoding=encoding), max_chars=max_chars), None))
        except InvalidTextError as exc:
            items.append((f, None, str(exc)))
    return items


def _fmt(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _print_table(name: str, result) -> None:
    from wqrm.metrics.registry import specs
    from wqrm.scoring import COMPONENT_NAMES

    out.print(
        f"[bold]{name}[/bold]  score [bold cyan]{_fmt(result.score)}[/bold cyan]  "
        f"(weights: {result.weights}; components used: {', '.join(result.used_components) or 'none'})"
    )
    t = Table(show_header=True, header_style="bold")
    t.add_column("component")
    t.add_column("value", justify="right")
    t.add_column("metrics (raw value → goodness)")
    all_specs = specs()
    for c, label in COMPONENT_NAMES.items():
        members = [n for n in result.metrics if all_specs[n].component == c]
        cells = []
        for n in members:
            g = result.goodness.get(n)
            cells.append(f"{n} {_fmt(result.metrics[n])}" + ("" if g is None else f" → {g:.2f}"))
        value = _fmt(result.components[c])
        note = "; ".join(cells) if cells else result.component_reasons.get(c, "")
        t.add_row(f"{c} {label}", value, note)
    descriptive = [n for n in result.metrics if all_specs[n].component is None]
    if descriptive:
        t.add_row("descriptive", "", "; ".join(f"{n} {_fmt(result.metrics[n])}" for n in descriptive))
    out.print(t)
    by_reason: dict[str, list[str]] = {}
    for n, r in result.reasons.items():
        if n in result.metrics and result.metrics[n] is None:
            by_reason.setdefault(r, []).append(n)
    for r, names in by_reason.items():
        out.print(f"  [dim]{', '.join(names)}: {r}[/dim]")


@app.command()
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
    from wqrm import resources
    from wqrm.scoring import load

    if model is not None:
        if not model.exists():
            err.print(f"[red]error:[/red] --model {model}: no such directory")
            raise typer.Exit(2)
        resources.set_override("edit_model", str(model))

    context = _score_context(persona, task, prompt_file, references, encoding)
    from wqrm.weights import load_weights

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
    items = _read_all(files, encoding, max_chars)
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
                from wqrm.scoring import ScoreResult

                print(json.dumps(ScoreResult.failed(error).to_dict(file=f), ensure_ascii=False))
            continue
        if as_json:
            print(json.dumps(r.to_dict(file=f), ensure_ascii=False))
        else:
            _print_table(f, r)
            if spans:
                from wqrm.edit.cli import render_spans

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
    from wqrm.metrics.task import TASKS

    if task is not None and task not in TASKS:
        err.print(f"[red]error:[/red] --task must be one of {', '.join(TASKS)}, not {task!r}")
        raise typer.Exit(2)
    if (prompt_file is not None or references) and task is None:
        err.print("[red]error:[/red] --prompt-file and --references need --task")
        raise typer.Exit(2)
    context: dict[str, Any] = {"task": task}
    try:
        if persona is not None:
            from wqrm.persona import resolve

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

    from wqrm.batch import count_rows, score_jsonl
    from wqrm.scoring import load

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


@app.command()
def metrics(
    files: Annotated[list[str], typer.Argument(help="Text files ('-' reads stdin).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV, one row per file.")] = False,
    models: Annotated[
        bool, typer.Option("--models", help="Also compute metrics that need a model (sentence encoder).")
    ] = False,
    names: Annotated[str | None, typer.Option(help="Comma-separated metric names.")] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of the input files.")] = "utf-8",
    max_chars: Annotated[
        int, typer.Option(help="Refuse texts longer than this many characters.")
    ] = MAX_CHARS,
) -> None:
    """Rigid metrics only (no composite). Undefined values print as empty / null with a reason."""
    import wqrm.metrics as M

    if as_json and as_csv:
        err.print("[red]error:[/red] choose one of --json and --csv")
        raise typer.Exit(2)
    wanted = [n.strip() for n in names.split(",")] if names else None
    try:
        resolved = M.resolve_names(wanted, models)
    except KeyError as exc:
        err.print(f"[red]error:[/red] {exc.args[0]}")
        raise typer.Exit(2) from None
    items = _read_all(files, encoding, max_chars)
    good = [(f, t) for f, t, e in items if e is None]
    values = dict(zip([f for f, _ in good], M.compute_batch([t for _, t in good], resolved), strict=True))
    failed = False
    rows: list[dict[str, Any]] = []
    for f, _t, e in items:
        if e:
            failed = True
            err.print(f"[red]error:[/red] {e}")
            rows.append({"file": f, "error": e, **dict.fromkeys(resolved)})
            continue
        mv = values[f]
        rows.append({"file": f, "error": None, **mv, "_reasons": mv.reasons})
    if as_csv:
        w = csv.writer(sys.stdout)
        w.writerow(["file", *resolved, "error"])
        for r in rows:
            w.writerow([r["file"], *("" if r[n] is None else repr(r[n]) for n in resolved), r["error"] or ""])
    elif as_json:
        for r in rows:
            reasons = r.pop("_reasons", {})
            print(
                json.dumps(
                    {
                        "file": r.pop("file"),
                        "metrics": {n: r[n] for n in resolved},
                        "reasons": reasons,
                        "error": r["error"],
                        "version": __version__,
                    }
                )
            )
    else:
        for r in rows:
            if r["error"]:
                continue
            t = Table(title=r["file"], show_header=True, header_style="bold")
            t.add_column("metric")
            t.add_column("value", justify="right")
            t.add_column("note")
            for n in resolved:
                t.add_row(n, _fmt(r[n], 4), r["_reasons"].get(n, ""))
            out.print(t)
    if failed:
        raise typer.Exit(1)


@app.command("build-profile")
def build_profile_cmd(
    corpora: Annotated[list[Path], typer.Argument(help="Corpus files: .txt (prose) or .jsonl (text field).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write profile.json to.")],
    passage_words: Annotated[
        int, typer.Option(help="Join .txt paragraphs into passages of ≥ N words.")
    ] = 150,
    max_passages_per_file: Annotated[
        int, typer.Option(help="Seeded sample of passages per file (0: all).")
    ] = 120,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    where: Annotated[
        list[str] | None,
        typer.Option(help="Keep .jsonl rows where KEY=VALUE (repeatable), e.g. label=human."),
    ] = None,
    name: Annotated[str, typer.Option(help="Profile name recorded in its metadata.")] = "custom",
) -> None:
    """Build a reference profile: per-metric quantiles over passages of human reference prose."""
    from rich.progress import Progress

    from wqrm.profile import build_profile

    missing = [str(c) for c in corpora if not c.exists()]
    if missing:
        err.print(f"[red]error:[/red] no such corpus file: {', '.join(missing)}")
        raise typer.Exit(1)
    conditions = dict(w.split("=", 1) for w in (where or []))
    command = "wqrm build-profile " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    with Progress(console=err, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task("profiling", total=None)
        prof = build_profile(
            corpora,
            passage_words=passage_words,
            max_passages_per_file=max_passages_per_file or None,
            seed=seed,
            jsonl_where=conditions or None,
            command=command,
            name=name,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    path = prof.save(out_dir)
    err.print(f"wrote {path}: {len(prof.metrics)} metrics over {prof.meta['n_passages']} passages")


@app.command()
def catalogue(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List every registered metric with its component, direction, range and reference."""
    import wqrm.metrics as M

    df = M.catalogue()
    if as_json:
        print(df.reset_index().to_json(orient="records", indent=1))
        return
    t = Table(show_header=True, header_style="bold")
    for col in ("name", "component", "direction", "valid_range", "reference"):
        t.add_column(col)
    for name, row in df.iterrows():
        t.add_row(name, str(row["component"]), row["direction"], str(row["valid_range"]), row["reference"])
    out.print(t)


# Commands defined in other modules register themselves on `app` when imported.
from wqrm import cli_corpus as _corpus_cli  # noqa: E402, F401  (wqrm build-corpus)
from wqrm import cli_weights as _weights_cli  # noqa: E402, F401  (fit-weights)
from wqrm.edit import cli as _edit_cli  # noqa: E402, F401  (train-edit, train-tagger, eval-pairs)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
