"""`wqrm bench` (score systems against reference corpora) and `wqrm report` (the HTML report)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from wqrm.cli.common import ProfileOption, WeightsOption, command_line, err, fmt, out

__all__ = ["bench", "report"]


class _PlainProgress:
    """Progress for logs: one line at the start, then at most one every `every` seconds, and at the end."""

    def __init__(self, every: float = 30.0):
        self.every = every
        self.started = time.monotonic()
        self.last = -1e9

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done not in (0, total) and now - self.last < self.every:
            return
        self.last = now
        elapsed = now - self.started
        left = f", ~{(total - done) * elapsed / done:.0f} s left" if 0 < done < total else ""
        pct = f" ({100 * done / total:.0f}%)" if total else ""
        err.print(f"scored {done}/{total} new texts{pct}, {elapsed:.0f} s elapsed{left}", highlight=False)


@contextmanager
def _progress(bar: bool) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on a terminal, else plain periodic log lines."""
    if not bar:
        yield _PlainProgress()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
    ) as p:
        task = p.add_task("score", total=None)
        yield lambda done, total: p.update(task, completed=done, total=total)


def _groups(systems: list[str], baselines: list[str], references: list[str]) -> list:
    from wqrm.benchmarks.bench import Group  # deferred: `wqrm --help` stays fast
    from wqrm.benchmarks.corpora import parse_named_path  # deferred: `wqrm --help` stays fast

    groups = []
    for option, kind, values in (
        ("--system", "system", systems),
        ("--baseline", "baseline", baselines),
        ("--reference", "reference", references),
    ):
        for v in values:
            name, path = parse_named_path(v, option)
            groups.append(Group(name, kind, path))
    return groups


def bench(
    system: Annotated[
        list[str] | None,
        typer.Option("--system", help="NAME=PATH of a system's outputs (.jsonl rows, a directory, or .txt)."),
    ] = None,
    baseline: Annotated[
        list[str] | None,
        typer.Option("--baseline", help="NAME=PATH of a baseline system (e.g. the base model's outputs)."),
    ] = None,
    reference: Annotated[
        list[str] | None,
        typer.Option(
            "--reference", help="NAME=PATH of a human reference corpus (.txt, .jsonl or directory)."
        ),
    ] = None,
    prompts: Annotated[
        Path | None,
        typer.Option("--prompts", help="JSONL of {id, text} prompts the rows' prompt_id refer to."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Run directory (created; resumable).")] = Path("run"),
    profile: ProfileOption = None,
    weights: WeightsOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap, the reference halves and sampling.")] = 0,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples per interval.")] = 2000,
    confidence: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    length_tolerance: Annotated[
        float, typer.Option(help="Length-matched pairs: |n_a − n_b| ≤ tolerance · max(n_a, n_b).")
    ] = 0.10,
    max_texts: Annotated[
        int | None, typer.Option(help="Use a seeded sample of at most this many texts per group.")
    ] = None,
    passage_words: Annotated[int, typer.Option(help="Words per passage when a .txt corpus is split.")] = 150,
    batch_size: Annotated[int, typer.Option(help="Texts scored together.")] = 16,
    rescore: Annotated[
        bool, typer.Option("--rescore", help="Discard the run directory's cached scores.")
    ] = False,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress", help="Progress bar on stderr (default: if a tty; else log lines)."
        ),
    ] = None,
) -> None:
    """Benchmark systems against reference corpora: composite and S1..S8 with bootstrap CIs,
    per-metric distances to each reference, win rates, a length check; writes results.json and
    per_text.jsonl into --out (then `wqrm report RUN`)."""
    from wqrm.benchmarks.analysis import BenchConfig  # deferred: `wqrm --help` stays fast
    from wqrm.benchmarks.bench import run_bench  # deferred: `wqrm --help` stays fast
    from wqrm.benchmarks.cache import CacheMismatchError  # deferred: `wqrm --help` stays fast
    from wqrm.benchmarks.corpora import CorpusError  # deferred: `wqrm --help` stays fast
    from wqrm.scoring import load  # deferred: `wqrm --help` stays fast

    try:
        groups = _groups(system or [], baseline or [], reference or [])
        scorer = load(str(profile) if profile else None, weights)
    except (CorpusError, ValueError, FileNotFoundError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    cfg = BenchConfig(
        seed=seed, n_resamples=resamples, confidence=confidence, length_tolerance=length_tolerance
    )
    show_bar = sys.stderr.isatty() if progress is None else progress
    try:
        with _progress(show_bar) as callback:
            results = run_bench(
                groups,
                out_dir,
                prompts=prompts,
                scorer=scorer,
                config=cfg,
                passage_words=passage_words,
                max_texts=max_texts,
                chunk=batch_size,
                rescore=rescore,
                command=command_line(),
                progress=callback,
            )
    except (CorpusError, CacheMismatchError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    print_summary(results)
    for w in results["warnings"]:
        err.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    texts = results["run"]["texts"]
    err.print(
        f"{texts['total']} texts ({texts['distinct']} distinct, {texts['scored']} scored now); "
        f"results in {out_dir / 'results.json'} — `wqrm report {out_dir}` writes the HTML report",
        highlight=False,
    )


def _ci(d: dict[str, Any] | None) -> str:
    if not d or d.get("value") is None:
        return "—"
    ci = d.get("ci")
    return fmt(d["value"]) + (f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci else "")


def print_summary(results: dict[str, Any]) -> None:
    """The summary table: one row per group, composite with CI, uniform α, words, distances."""
    refs = [r["name"] for r in results["references"]]
    t = Table(show_header=True, header_style="bold")
    for col in ("group", "kind", "texts", "words", "composite [95% CI]", "uniform α"):
        t.add_column(col, justify="left" if col in ("group", "kind") else "right")
    for r in refs:
        t.add_column(f"distance to {r}", justify="right")
    summary = results["distance_summary"]
    for g in results["groups"]:
        dists = [fmt(summary[r]["groups"].get(g["name"], {}).get("median")) for r in refs]
        words = g["words"]["mean"]
        t.add_row(
            g["name"],
            g["kind"],
            str(g["n_scored"]),
            "—" if words is None else f"{words:.0f}",
            _ci(g["composite"]),
            _ci(g["composite_uniform"]),
            *dists,
        )
    for r in refs:
        floor = summary[r]["noise_floor"]["median"]
        if floor is not None:
            t.add_row(
                f"{r} halves", "noise floor", "", "", "", "", *[fmt(floor) if x == r else "" for x in refs]
            )
    # a log (not a terminal) gets one line per group instead of cells wrapped to 80 columns
    (out if out.is_terminal else Console(file=sys.stdout, width=220, soft_wrap=True)).print(t)


def report(
    run: Annotated[Path, typer.Argument(help="Run directory written by `wqrm bench` (or its results.json).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="HTML file to write (default: RUN/report.html).")
    ] = None,
) -> None:
    """Write the self-contained HTML report of a benchmark run (no rescoring, no network)."""
    from wqrm.benchmarks.results import RunFormatError, load_run  # deferred: `wqrm --help` stays fast
    from wqrm.reports.html import render_report  # deferred: `wqrm --help` stays fast

    try:
        results, rows = load_run(run)
    except RunFormatError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    target = output or (run if run.is_dir() else run.parent) / "report.html"
    html = render_report(results, rows)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    err.print(f"wrote {target} ({len(html.encode('utf-8')) / 1024:.0f} KB)", highlight=False)
