"""`wqrm pairs`, `wqrm rerank`, `wqrm serve`: DDPO preference pairs, best-of-N, the reward server."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from wqrm.cli.common import err, fmt, progress_bar

__all__ = ["pairs", "rerank", "serve"]

_INPUT_HELP = (
    "Candidates JSONL: rows {prompt, candidates: [...], id?} (one group per row), or flat rows "
    "{prompt, completion} grouped by prompt (rows of one prompt must be consecutive). Prompts and "
    "candidates are strings or lists of {role, content} chat messages."
)


ProfileOption = Annotated[Path | None, typer.Option(help="Reference profile directory (default: shipped).")]
WeightsOption = Annotated[
    str | None, typer.Option(help="Composite weights JSON (default: shipped), or 'uniform'.")
]
EncodingOption = Annotated[str, typer.Option(help="Text encoding of the input.")]


def _scorer(profile: Path | None, weights: str | None):
    from wqrm.scoring import load
    from wqrm.weights import load_weights

    try:
        alpha = load_weights(weights)
    except ValueError as exc:
        err.print(f"[red]error:[/red] --weights: {exc}")
        raise typer.Exit(2) from None
    return load(str(profile) if profile else None, alpha)


def _share(balancer) -> str:
    s = balancer.share
    return (
        "—"
        if s is None
        else f"{s:.3f} ({balancer.longer} longer, {balancer.shorter} shorter, {balancer.equal} equal)"
    )


def pairs(
    input: Annotated[Path, typer.Option("--input", help=_INPUT_HELP)],
    output: Annotated[Path, typer.Option("--output", help="Pairs JSONL to append to (resumable).")],
    mode: Annotated[
        str,
        typer.Option("--mode", help="'all': the best vs every candidate below it; 'best-worst': one pair."),
    ] = "all",
    margin: Annotated[
        float,
        typer.Option("--margin", help="Pair only candidates at least this far below the best (composite)."),
    ] = 0.0,
    balance_length: Annotated[
        bool,
        typer.Option(
            "--balance-length",
            help="Drop pairs to keep the share with the longer text chosen within 0.5 ± --length-tolerance.",
        ),
    ] = False,
    length_tolerance: Annotated[float, typer.Option(help="Tolerance of --balance-length.")] = 0.05,
    log: Annotated[
        Path | None, typer.Option("--log", help="Group log JSONL (default: OUTPUT's stem + .groups.jsonl).")
    ] = None,
    profile: ProfileOption = None,
    weights: WeightsOption = None,
    encoding: EncodingOption = "utf-8",
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress",
            help="Progress bar on stderr (default: if a tty; else a line every 30 s).",
        ),
    ] = None,
) -> None:
    """DDPO preference pairs: score each prompt's candidates as a group (composite with S8), pair the
    best with the candidates below it, weight each pair by the chosen text's deviation δ_w.

    Output rows: prompt, chosen, rejected, weight, score_chosen, score_rejected, margin, group, the
    candidates' indices, word counts and components (TRL's preference format; conversational in,
    conversational out). One row per group goes to the group log (counts, errors); a re-run skips the
    groups already logged, so an interrupted run resumes without duplicates.
    """
    from wqrm.batch import count_rows
    from wqrm.ddpo import MODES
    from wqrm.pairs import pairs_jsonl

    if mode not in MODES:
        err.print(f"[red]error:[/red] --mode must be one of {', '.join(MODES)}, not {mode!r}")
        raise typer.Exit(2)
    if margin < 0 or not 0 < length_tolerance < 0.5:
        err.print("[red]error:[/red] --margin must be ≥ 0 and --length-tolerance in (0, 0.5)")
        raise typer.Exit(2)
    if not input.exists():
        err.print(f"[red]error:[/red] {input}: no such file")
        raise typer.Exit(1)
    scorer = _scorer(profile, weights)
    show = sys.stderr.isatty() if progress is None else progress
    total = count_rows(input)
    last = [time.monotonic()]

    def plain(stats, group) -> None:  # periodic lines when stderr is not a terminal
        now = time.monotonic()
        if now - last[0] >= 30:
            last[0] = now
            rate = stats.texts_per_second
            err.print(
                f"pairs: {stats.rows_read}/{total} rows, {stats.groups} groups "
                f"({stats.skipped} already done), "
                f"{stats.pairs_written} pairs, {fmt(rate, 2)} texts/s"
            )

    with progress_bar("pairs", show) as bar:
        task = bar.add_task("pairs", total=total)
        done = [0]

        def on_group(stats, group) -> None:
            bar.advance(task, stats.rows_read - done[0])
            done[0] = stats.rows_read
            if not show:
                plain(stats, group)

        try:
            stats = pairs_jsonl(
                input,
                output,
                scorer,
                mode=mode,
                margin=margin,
                balance_length=balance_length,
                tolerance=length_tolerance,
                log_path=log,
                encoding=encoding,
                on_group=on_group,
            )
        except (OSError, ValueError) as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1) from None
    rate = stats.texts_per_second
    err.print(
        f"{stats.groups} groups ({stats.failed} without pairs), {stats.skipped} already in the log; "
        f"{stats.texts} texts scored in {stats.seconds:.1f} s ({fmt(rate, 2)} texts/s); "
        f"{stats.pairs_written} pairs written"
        + (f", {stats.dropped_length} dropped to balance length" if balance_length else "")
    )
    if stats.orphans_removed:
        err.print(f"{stats.orphans_removed} uncommitted pair(s) of an interrupted run dropped and redone")
    err.print(f"longer text chosen, pairs built by this run: {_share(stats.built_balance)}")
    err.print(f"longer text chosen, all pairs in {output}: {_share(stats.balance)}")
    share = stats.balance.share
    if share is not None and abs(share - 0.5) > length_tolerance and not balance_length:
        err.print(
            "[yellow]warning:[/yellow] the pairs prefer "
            + ("longer" if share > 0.5 else "shorter")
            + " texts; a policy trained on them learns to change its length. --balance-length evens it out."
        )


def rerank(
    input: Annotated[Path, typer.Option("--input", help=_INPUT_HELP)],
    output: Annotated[Path | None, typer.Option("--output", help="JSONL to write (default: stdout).")] = None,
    group: Annotated[
        bool, typer.Option("--group/--no-group", help="Score each prompt's candidates as a group (with S8).")
    ] = True,
    profile: ProfileOption = None,
    weights: WeightsOption = None,
    encoding: EncodingOption = "utf-8",
) -> None:
    """Best-of-N: the best candidate of each prompt, its score, its margin over the runner-up and the
    components that decided it (one JSON row per group; a group that fails gets an "error")."""
    from wqrm.ddpo import best_of
    from wqrm.pairs import read_groups

    if not input.exists():
        err.print(f"[red]error:[/red] {input}: no such file")
        raise typer.Exit(1)
    scorer = _scorer(profile, weights)
    fh = output.open("w", encoding="utf-8") if output is not None else sys.stdout
    failed = 0
    try:
        for g in read_groups(input, encoding):
            row: dict[str, Any] = {"group": g.key, "prompt": g.prompt}
            try:
                if g.error:
                    raise ValueError(g.error)
                b = best_of(scorer, g.candidates, prompt=g.prompt, group=group)
                row.update(b.to_dict(), best=g.candidates[b.index], error=None)
            except Exception as exc:  # one bad group never ends the run
                failed += 1
                row["error"] = str(exc)
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()
    finally:
        if output is not None:
            fh.close()
    if failed:
        err.print(f"[yellow]{failed} group(s) with an error[/yellow]")


def serve(
    host: Annotated[
        str, typer.Option(help="Interface to bind (0.0.0.0 exposes the server to the network).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    max_texts: Annotated[int, typer.Option(help="Most texts per request (413 above).")] = 256,
    max_chars: Annotated[int, typer.Option(help="Most characters per text (413 above).")] = 100_000,
    failure_reward: Annotated[float, typer.Option(help="Reward of a text that cannot be scored.")] = 0.0,
    group: Annotated[
        bool,
        typer.Option("--group/--no-group", help="Score one prompt's responses in a request as a group (S8)."),
    ] = False,
    profile: ProfileOption = None,
    weights: WeightsOption = None,
) -> None:
    """HTTP reward server: POST /get_reward {"query": [...], "prompts": [...]} → {"rewards": [...]}
    (OpenRLHF's remote reward model), POST /score {"texts": [...]} → full results, GET /health."""
    import uvicorn

    from wqrm.integrations.serve import create_app

    app = create_app(
        _scorer(profile, weights),
        max_texts=max_texts,
        max_chars=max_chars,
        failure_reward=failure_reward,
        group=group,
    )
    err.print(f"wqrm reward server on http://{host}:{port} (POST /get_reward, POST /score, GET /health)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
