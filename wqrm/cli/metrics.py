"""`wqrm metrics` (rigid metrics alone) and `wqrm catalogue` (every metric's metadata)."""

from __future__ import annotations

import csv
import sys
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from wqrm import __version__
from wqrm.cli.common import (
    Feedback,
    ProgressOption,
    checked_encoding,
    err,
    fmt,
    out,
    progress_mode,
    read_all,
    usage_error,
)
from wqrm.jsonl import dumps
from wqrm.lang import UnsupportedLanguageError, check_supported
from wqrm.textio import MAX_CHARS

__all__ = ["catalogue", "metrics"]


def _in_supported_language(
    items: list[tuple[str, str | None, str | None]],
) -> tuple[list[tuple[str, str | None, str | None]], dict[str, str]]:
    """`read_all`'s items with a text in a language wqrm does not analyse turned into an error
    naming the file and the language, and the language of every other text."""
    out_items, langs = [], {}
    for f, text, error in items:
        if text is not None:
            try:
                langs[f] = check_supported(text)
            except UnsupportedLanguageError as exc:
                text, error = None, f"{f}: {exc}"
                langs[f] = exc.lang
        out_items.append((f, text, error))
    return out_items, langs


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
        int, typer.Option(min=1, help="Refuse texts longer than this many characters.")
    ] = MAX_CHARS,
    batch_size: Annotated[int, typer.Option(min=1, help="Files computed together.")] = 32,
    progress: ProgressOption = None,
) -> None:
    """Rigid metrics only (no composite). Undefined values print as empty / null with a reason.

    A file that cannot be read as text is named with the reason (exit status 1); the others are
    computed."""
    if as_json and as_csv:
        raise usage_error("choose one of --json and --csv")
    encoding = checked_encoding(encoding)
    wanted = [n.strip() for n in names.split(",") if n.strip()] if names is not None else None
    if wanted is not None and not wanted:
        raise usage_error("--names: no metric name given")
    read = read_all(files, encoding, max_chars)
    items, langs = _in_supported_language(read)
    resolved: list[str] = []
    if any(e is None for _, _, e in read):  # a text in another language still gets its null metrics
        import wqrm.metrics as M  # deferred: the files are read before the metrics are imported

        try:
            resolved = M.resolve_names(wanted, models)
        except KeyError as exc:
            raise usage_error(exc.args[0]) from None
    elif wanted is not None:
        resolved = wanted
    failed = False
    writer = csv.writer(sys.stdout) if as_csv else None
    if writer is not None:
        writer.writerow(["file", *resolved, "error"])
    with Feedback("metrics", len(items), progress_mode(progress), unit="files") as feedback:
        for start in range(0, len(items), batch_size):
            part = items[start : start + batch_size]
            good = [t for _, t, e in part if e is None]
            values = iter(M.compute_batch(good, resolved) if good else [])
            for f, _t, e in part:
                if e is not None:
                    failed = True
                    err.print(f"[red]error:[/red] {escape(e)}", highlight=False)
                    mv, reasons = dict.fromkeys(resolved), {}
                else:
                    mv = next(values)
                    reasons = mv.reasons
                if writer is not None:
                    writer.writerow([f, *("" if mv[n] is None else repr(mv[n]) for n in resolved), e or ""])
                elif as_json:
                    record = {"file": f, "lang": langs.get(f), "metrics": {n: mv[n] for n in resolved}}
                    record["reasons"] = reasons
                    print(dumps({**record, "error": e, "version": __version__}), flush=True)
                elif e is None:
                    t = Table(title=escape(f), show_header=True, header_style="bold")
                    t.add_column("metric")
                    t.add_column("value", justify="right")
                    t.add_column("note")
                    for n in resolved:
                        t.add_row(n, fmt(mv[n], 4), escape(reasons.get(n, "")))
                    out.print(t)
            feedback.advance(len(part))
    if failed:
        raise typer.Exit(1)


def catalogue(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List every registered metric with its component, direction, range, reference and the
    verdict of its evidence (benchmarks/results/metric_validity.md; --json adds the figures)."""
    from wqrm.metrics.registry import catalogue_records  # deferred: `wqrm --help` stays fast

    rows = catalogue_records()
    if as_json:
        print(dumps(rows, indent=1))
        return
    t = Table(show_header=True, header_style="bold")
    for col in ("name", "component", "direction", "valid_range", "verdict", "reference"):
        t.add_column(col)
    for row in rows:
        verdict = row["verdict"] if isinstance(row["verdict"], str) else "—"
        # a guard multiplies its component; a decaying metric's goodness is exp(−v / reference q99);
        # a tail guard costs nothing up to the reference q99
        direction = ", ".join([row["direction"]] + [k for k in ("guard", "decay", "tail") if row[k]])
        cells = (row["component"], direction, row["valid_range"], verdict, row["reference"])
        t.add_row(row["name"], *(str(c) for c in cells))
    out.print(t)
    out.print("Verdicts and their evidence: benchmarks/results/metric_validity.md (wqrm catalogue --json)")
