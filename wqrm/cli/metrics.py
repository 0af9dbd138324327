"""`wqrm metrics` (rigid metrics alone) and `wqrm catalogue` (every metric's metadata)."""

from __future__ import annotations

import csv
import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from wqrm import __version__
from wqrm.cli.common import err, fmt, out, read_all
from wqrm.lang import UnsupportedLanguageError, check_supported
from wqrm.textio import MAX_CHARS

__all__ = ["catalogue", "metrics"]


def _in_supported_language(
    items: list[tuple[str, str | None, str | None]],
) -> tuple[list[tuple[str, str | None, str | None]], dict[str, str]]:
    """`read_all`'s items with a text in a language wqrm does not analyse turned into an error
    naming the language, and the language of every other text."""
    out_items, langs = [], {}
    for f, text, error in items:
        if text is not None:
            try:
                langs[f] = check_supported(text)
            except UnsupportedLanguageError as exc:
                text, error = None, str(exc)
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
        int, typer.Option(help="Refuse texts longer than this many characters.")
    ] = MAX_CHARS,
) -> None:
    """Rigid metrics only (no composite). Undefined values print as empty / null with a reason."""
    import wqrm.metrics as M  # deferred: `wqrm --help` stays fast

    if as_json and as_csv:
        err.print("[red]error:[/red] choose one of --json and --csv")
        raise typer.Exit(2)
    wanted = [n.strip() for n in names.split(",")] if names else None
    try:
        resolved = M.resolve_names(wanted, models)
    except KeyError as exc:
        err.print(f"[red]error:[/red] {exc.args[0]}")
        raise typer.Exit(2) from None
    items, langs = _in_supported_language(read_all(files, encoding, max_chars))
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
            f = r.pop("file")
            print(
                json.dumps(
                    {
                        "file": f,
                        "lang": langs.get(f),
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
                t.add_row(n, fmt(r[n], 4), r["_reasons"].get(n, ""))
            out.print(t)
    if failed:
        raise typer.Exit(1)


def catalogue(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """List every registered metric with its component, direction, range and reference."""
    import wqrm.metrics as M  # deferred: `wqrm --help` stays fast

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
