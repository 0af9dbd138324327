"""`wqrm pairs`, `wqrm rerank`, `wqrm serve`: DDPO preference pairs, best-of-N, the reward server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from wqrm.cli.common import (
    Feedback,
    ProgressOption,
    check_files,
    checked_encoding,
    err,
    fail,
    fmt,
    progress_mode,
    usage_error,
)
from wqrm.jsonl import dumps

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


def _checked(profile: Path | None, weights: str | None):
    """(profile, weights) read and checked before any model loads (status 2 when unreadable)."""
    from wqrm.profile import Profile  # light: numbers only, no model
    from wqrm.weights import load_weights  # light: numbers only, no model

    try:
        prof = Profile.load(profile) if profile is not None else None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise usage_error(f"--profile: {exc}") from None
    try:
        alpha = load_weights(weights)
    except (OSError, ValueError) as exc:
        raise usage_error(f"--weights: {exc}") from None
    return prof, alpha


def _scorer(checked):
    from wqrm.scoring import Scorer  # deferred: arguments are checked before anything heavy loads

    prof, alpha = checked
    return Scorer(profile=prof, weights=alpha)


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
    progress: ProgressOption = None,
) -> None:
    """DDPO preference pairs: score each prompt's candidates as a group (composite with S8), pair the
    best with the candidates below it, weight each pair by the chosen text's deviation δ_w.

    Output rows: prompt, chosen, rejected, weight, score_chosen, score_rejected, margin, group, the
    candidates' indices, word counts and components (TRL's preference format; conversational in,
    conversational out). One row per group goes to the group log (counts, errors); a re-run skips the
    groups already logged, so an interrupted run resumes without duplicates.
    """
    from wqrm.ddpo import MODES  # light: no model
    from wqrm.jsonl import lines  # light

    if mode not in MODES:
        raise usage_error(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    if margin < 0 or not 0 < length_tolerance < 0.5:
        raise usage_error("--margin must be ≥ 0 and --length-tolerance in (0, 0.5)")
    encoding = checked_encoding(encoding)
    check_files([input], "input file")
    checked = _checked(profile, weights)
    total = sum(1 for _ in lines(input, encoding))
    from wqrm.pairs import pairs_jsonl  # deferred: arguments are checked before anything heavy loads

    scorer = _scorer(checked)
    with Feedback("pairs", total, progress_mode(progress), unit="rows") as feedback:

        def on_group(stats, group) -> None:
            feedback.update(stats.rows_read)

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
            raise fail(str(exc)) from None
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
    encoding = checked_encoding(encoding)
    check_files([input], "input file")
    checked = _checked(profile, weights)
    from wqrm.ddpo import best_of  # light: no model
    from wqrm.pairs import read_groups  # light: no model

    scorer = _scorer(checked)
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
            fh.write(dumps(row) + "\n")
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
    if not 0 < port < 65536:
        raise usage_error(f"--port must be in 1..65535, not {port}")
    if max_texts < 1 or max_chars < 1:
        raise usage_error("--max-texts and --max-chars must be ≥ 1")
    checked = _checked(profile, weights)
    import uvicorn  # deferred: the server's dependencies load only for `wqrm serve`

    from wqrm.integrations.serve import create_app  # deferred: arguments are checked first

    app = create_app(
        _scorer(checked),
        max_texts=max_texts,
        max_chars=max_chars,
        failure_reward=failure_reward,
        group=group,
    )
    err.print(f"wqrm reward server on http://{host}:{port} (POST /get_reward, POST /score, GET /health)")
    uvicorn.run(app, host=host, port=port, log_level="warning")
