"""`wqrm snapshot`: the metric profile of a set of outputs, for regression checks (`wqrm.testing`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wqrm import jsonl
from wqrm.cli.common import ProfileOption, WeightsOption, err, out
from wqrm.textio import InvalidTextError, read_text

__all__ = ["snapshot"]


def _read_outputs(files: list[Path], text_field: str, encoding: str) -> list[Any]:
    """Texts or score rows from JSONL files (one row per output) and .txt files (one output each)."""
    items: list[Any] = []
    for path in files:
        if path.suffix != ".jsonl":
            items.append(read_text(path, encoding=encoding))
            continue
        for lineno, row, error in jsonl.records(path, encoding):
            if error is not None:
                raise ValueError(f"{path}: {error}")
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object")
            if "metrics" in row or ("error" in row and text_field not in row):
                items.append(row)  # a `wqrm score --output` row: already scored
            elif text_field in row:
                items.append(row[text_field])
            else:
                raise ValueError(
                    f"{path}:{lineno}: no {text_field!r} field (and not a score row with 'metrics')"
                )
    return items


def _tolerance(specs: list[str] | None) -> Any:
    """`--tolerance SPEC` (everything) and `--tolerance NAME=SPEC` (one quantity or component)."""
    result: dict[str, str] = {}
    for item in specs or []:
        name, sep, spec = item.partition("=")
        if sep:
            result[name.strip()] = spec.strip()
        else:
            result["*"] = item.strip()
    return result or None


def snapshot(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Outputs: JSONL of {id, text} rows (or `wqrm score --output` rows, not re-scored), "
            "or .txt files (one output each)."
        ),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the snapshot (JSON) here.")
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option("--compare", help="Compare the outputs with this snapshot; exit 1 when they drifted."),
    ] = None,
    tolerance: Annotated[
        list[str] | None,
        typer.Option(
            "--tolerance",
            help="With --compare: SPEC or NAME=SPEC (repeatable); SPEC is 0.05, 10% or 3sigma.",
        ),
    ] = None,
    allow: Annotated[
        str, typer.Option("--allow", help="With --compare: 'any' or 'improve' (good direction is free).")
    ] = "any",
    allow_version_change: Annotated[
        bool,
        typer.Option(
            "--allow-version-change", help="With --compare: warn instead of failing across versions."
        ),
    ] = False,
    text_field: Annotated[str, typer.Option(help="JSONL field holding the text.")] = "text",
    profile: ProfileOption = None,
    weights: WeightsOption = None,
    seed: Annotated[int, typer.Option(help="Bootstrap seed (recorded).")] = 0,
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples (recorded).")] = 1000,
    encoding: Annotated[str, typer.Option(help="Text encoding of the input files.")] = "utf-8",
) -> None:
    """Snapshot the metric profile of a set of outputs (every metric, S1..S8, the composite), or
    compare the outputs with a saved snapshot and print what drifted."""
    from wqrm.snapshot import Snapshot, build_snapshot, is_scored  # deferred: `wqrm --help` stays fast
    from wqrm.testing import SnapshotVersionError, check_versions  # deferred: `wqrm --help` stays fast
    from wqrm.testing import compare as compare_snapshots  # deferred: `wqrm --help` stays fast

    if output is None and compare is None:
        err.print("[red]error:[/red] give --output FILE (write a snapshot) and/or --compare SNAPSHOT")
        raise typer.Exit(2)
    try:
        items = _read_outputs(files, text_field, encoding)
        before = None
        if compare is not None:
            before = Snapshot.load(compare)
        scorer = None
        if not is_scored(items) or profile is not None or weights is not None:
            from wqrm.scoring import load  # deferred: loading the scorer imports the metrics and models

            scorer = load(str(profile) if profile else None, weights)
        snap = build_snapshot(items, scorer, n_resamples=resamples, seed=seed)
    except (OSError, ValueError, TypeError, InvalidTextError) as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if output is not None:
        snap.save(output)
        s = snap.quantities["score"]
        prov = snap.provenance
        err.print(
            f"snapshot of {snap.n_texts} outputs ({snap.n_errors} not scored) → {output}: "
            f"composite mean {s.mean if s.mean is None else round(s.mean, 4)} "
            f"(bootstrap se {s.mean_se if s.mean_se is None else round(s.mean_se, 4)}); "
            f"weights {prov['weights']['name']}, profile {prov['profile']['name']}"
        )
    if before is None:
        return
    try:
        report = compare_snapshots(before, snap, _tolerance(tolerance), allow, snapshot_name=str(compare))
        check_versions(report, allow_version_change)
    except (KeyError, ValueError) as exc:
        err.print(f"[red]error:[/red] {exc.args[0] if exc.args else exc}")
        raise typer.Exit(2) from None
    except SnapshotVersionError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    out.print(report.message(), markup=False, highlight=False)
    if not report.passed:
        raise typer.Exit(1)
