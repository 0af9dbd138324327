"""`wqrm score`: the composite, S1..S8 and every metric of files or of a JSONL batch.

Arguments, options and input files are checked before any model or metric is imported: a typo or a
missing file is reported at once, not after the models load.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from wqrm.cli.common import (
    Feedback,
    ProgressOption,
    checked_encoding,
    err,
    fail,
    out,
    progress_mode,
    read_all,
    usage_error,
)
from wqrm.cli.render import print_score_table, render_spans
from wqrm.errors import ResourceMissingError
from wqrm.jsonl import dumps, loads
from wqrm.result import ScoreResult
from wqrm.tasks import TASKS
from wqrm.textio import MAX_CHARS, InvalidTextError, read_text, validate_text

__all__ = ["score"]

PERSONA_SUFFIXES = (".txt", ".md")


def score(
    files: Annotated[list[str] | None, typer.Argument(help="Text files to score ('-' reads stdin).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file (JSON Lines).")] = False,
    input: Annotated[
        Path | None,
        typer.Option(
            "--input",
            help="JSONL rows to score in batch: {id, text} plus optional task, prompt, references, "
            "persona, group (see above).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", help="JSONL to append results to (resumable); with --engine ray also .parquet."
        ),
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="Batch mode: 'local' (this process) or 'ray' (Ray Data actors; JSONL or Parquet "
            "in and out; pip install 'wqrm[ray]').",
        ),
    ] = "local",
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=1,
            help="--engine ray: scoring actors (default 2), each loading the models once; a local "
            "Ray cluster gets this many CPUs (RAY_ADDRESS joins an existing cluster instead).",
        ),
    ] = None,
    profile: Annotated[
        Path | None, typer.Option("--profile", help="Reference profile directory (default: shipped).")
    ] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding of the input files.")] = "utf-8",
    max_chars: Annotated[
        int, typer.Option(min=1, help="Refuse texts longer than this many characters.")
    ] = MAX_CHARS,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Texts scored together (files, or rows in --input mode).")
    ] = 32,
    progress: ProgressOption = None,
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
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="Score FILEs with a running `wqrm serve` at this URL (e.g. http://127.0.0.1:8000): its "
            "models, weights and profile, loaded once, so a file scores in well under a second.",
        ),
    ] = None,
    edit_backend: Annotated[
        str | None,
        typer.Option(
            "--edit-backend",
            help="Runtime of S1's paragraph encoder: torch (exact, default), onnx-fp32 or onnx-int8 "
            "(ONNX Runtime, faster, approximate: benchmarks/results/edit_backends.md; needs "
            "wqrm[onnx]). Default: $WQRM_EDIT_BACKEND, else torch.",
        ),
    ] = None,
) -> None:
    """Score texts: the composite score, components S1..S8 and every metric.

    FILE mode prints a table per file (or, with --json, one JSON object per file); a file that
    cannot be scored is named with the reason (exit status 1) and the others are scored.

    Batch mode (--input rows.jsonl --output scores.jsonl) writes one JSON object per input row,
    resumably. A row is {"id": …, "text": "…"} and may carry its own context: "task" (continue,
    rephrase, storygen), "prompt" (a string), "references" (a string or a list of strings),
    "persona" (a persona directory) — each overrides the option of the same name — and "group"
    (a string or an integer): rows sharing a group are scored together as candidates for one
    prompt, which adds S8 (diversity). A row with a bad field gets an error record; the others
    are scored.

    --engine ray --workers N scores the batch on N Ray actors (pip install 'wqrm[ray]'): JSONL or
    Parquet in and out, by suffix; a JSONL output is the same file the local engine writes. Rows
    with a "group" need the local engine. A local Ray cluster of N CPUs is started, unless
    RAY_ADDRESS names a running one.
    """
    # 1. arguments and options (nothing heavy imported yet)
    batch = input is not None or output is not None
    if batch and (input is None or output is None or files):
        raise usage_error("batch mode needs both --input and --output, and no FILE arguments")
    if not batch and not files:
        raise usage_error("give FILE arguments ('-' for stdin) or --input/--output")
    _check_engine(engine, workers, batch, input, output)
    encoding = checked_encoding(encoding)
    if server is not None:
        scoring = {
            "--input/--output": batch, "--profile": profile, "--weights": weights, "--model": model,
            "--persona": persona, "--task": task, "--prompt-file": prompt_file,
            "--references": references, "--edit-backend": edit_backend,
        }  # fmt: skip
        given = [name for name, value in scoring.items() if value]
        if given:
            raise usage_error(
                f"--server scores with the server's own models and settings; drop {', '.join(given)}"
            )
        from wqrm.client import ServerError, ServerScorer  # standard library only

        try:
            remote = ServerScorer(server)
        except ValueError as exc:  # not an http(s) URL
            raise usage_error(f"--server: {exc}") from None
        try:
            remote.health()  # an unreachable server is reported before any file is read
            failed = _score_files(
                read_all(files, encoding, max_chars), remote.score_batch, {}, as_json, spans, batch_size,
                progress_mode(progress),
            )  # fmt: skip
        except ServerError as exc:
            raise fail(str(exc)) from None
        if failed:
            raise typer.Exit(1)
        return
    if task is not None and task not in TASKS:
        raise usage_error(f"--task must be one of {', '.join(TASKS)}, not {task!r}")
    if (prompt_file is not None or references) and task is None:
        raise usage_error("--prompt-file and --references need --task")
    if model is not None and not model.is_dir():
        raise usage_error(f"--model {model}: no such directory")
    if edit_backend is not None:
        from wqrm.edit.onnx_backend import BACKENDS, ENV_VAR, require_onnx  # deferred: numpy, registry

        if edit_backend not in BACKENDS:
            raise usage_error(f"--edit-backend must be one of {', '.join(BACKENDS)}, not {edit_backend!r}")
        if edit_backend != "torch":
            try:
                require_onnx()  # refuse now, not as an undefined S1 after the models load
            except ResourceMissingError as exc:
                raise usage_error(f"--edit-backend: {exc}") from None
        os.environ[ENV_VAR] = edit_backend  # read when the edit model loads (and by worker processes)
    prof = _profile(profile)
    try:
        from wqrm.weights import load_weights  # deferred: numpy; `wqrm --help` stays fast

        alpha = load_weights(weights)  # read once; the scorer gets the object
    except ValueError as exc:
        raise usage_error(f"--weights: {exc}") from None
    if persona is not None:
        _check_persona(persona)
    context = _score_context(task, prompt_file, references, encoding)
    if persona is not None:
        context["persona"] = str(persona.resolve())
    mode = progress_mode(progress)

    # 2. inputs
    if batch:
        _check_batch_paths(input, output)
        if engine == "ray":
            settings = {"profile": profile, "weights": weights, "edit_model": model}
            _score_ray(input, output, workers or 2, settings, encoding, batch_size, mode, context)
            return
        _score_jsonl(input, output, prof, alpha, model, encoding, batch_size, mode, context)
        return
    items = read_all(files, encoding, max_chars)

    # 3. models, only when there is something to score
    scorer = _load_scorer(prof, alpha, model, context) if any(e is None for _, _, e in items) else None
    score_batch = scorer.score_batch if scorer is not None else None
    if _score_files(items, score_batch, context, as_json, spans, batch_size, mode):
        raise typer.Exit(1)


def _score_files(
    items, score_batch, context: dict[str, Any], as_json: bool, spans: bool, batch_size: int, mode
) -> bool:
    """Score `items` ((file, text, error) from `read_all`) with `score_batch(texts, **context)`, in
    batches of `batch_size`, printing a table (or a JSON line) per file; a file that cannot be read
    or scored is named with its reason on stderr. True when any file failed."""
    failed = False
    with Feedback("scoring", len(items), mode, unit="files") as feedback:
        for start in range(0, len(items), batch_size):
            part = items[start : start + batch_size]
            good = [(f, t) for f, t, e in part if e is None]
            results = score_batch([t for _, t in good], **context) if good else []
            scored = iter(results)
            for f, text, error in part:
                r = next(scored) if error is None else ScoreResult.failed(error)
                if r.error is not None:
                    failed = True
                    message = r.error if error is not None else f"{f}: {r.error}"
                    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
                    if as_json:
                        print(dumps(ScoreResult.failed(message, lang=r.lang).to_dict(file=f)), flush=True)
                elif as_json:
                    print(dumps(r.to_dict(file=f)), flush=True)
                else:
                    print_score_table(f, r)
                    if spans:
                        out.print(render_spans(text, r.spans))
            feedback.advance(len(part))
    return failed


def _profile(profile: Path | None):
    if profile is None:
        return None
    from wqrm.profile import Profile  # light: numbers only, no model

    try:
        return Profile.load(profile)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise usage_error(f"--profile: {exc}") from None


def _check_persona(persona: Path) -> None:
    """A saved persona (persona.json) or a directory holding .txt / .md files; status 2 otherwise."""
    if not persona.is_dir():
        raise usage_error(f"--persona {persona}: no such directory")
    if (persona / "persona.json").exists():
        return
    if not any(p.is_file() and p.suffix.lower() in PERSONA_SUFFIXES for p in persona.rglob("*")):
        raise usage_error(f"--persona {persona}: no .txt or .md files (and no saved persona.json) in it")


def _score_context(task, prompt_file, references, encoding: str) -> dict[str, Any]:
    """`Scorer.score_batch` context keywords from the `score` options (errors exit with status 2)."""
    context: dict[str, Any] = {"task": task}
    try:
        if prompt_file is not None:
            context["prompt"] = validate_text(read_text(prompt_file, encoding=encoding))
        if references:
            refs: list[str] = []
            for ref in references:
                if ref.suffix == ".jsonl":
                    refs.extend(_jsonl_references(ref, encoding))
                else:
                    refs.append(validate_text(read_text(ref, encoding=encoding)))
            context["references"] = refs
    except InvalidTextError as exc:
        raise usage_error(str(exc)) from None
    return context


def _jsonl_references(path: Path, encoding: str) -> list[str]:
    """One reference per row's "text" of a JSONL file; any bad row is named (status 2)."""
    if not path.is_file():
        raise InvalidTextError(f"{path}: no such file")
    refs = []
    try:
        lines = path.read_text(encoding=encoding).splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidTextError(f"{path}: cannot read ({exc})") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = loads(line)
            text = row["text"] if isinstance(row, dict) else None
            refs.append(validate_text(text))
        except (ValueError, KeyError, InvalidTextError) as exc:
            raise InvalidTextError(f"{path}, line {n}: not a row with a usable 'text' ({exc})") from None
    if not refs:
        raise InvalidTextError(f"{path}: no references in it")
    return refs


def _check_batch_paths(input: Path, output: Path) -> None:
    if not input.exists():
        raise fail(f"--input {input}: no such file")
    if input.is_dir():
        raise usage_error(f"--input {input}: is a directory, not a JSONL file")
    if output.is_dir():
        raise usage_error(f"--output {output}: is a directory; give a file to append to")
    if not output.parent.exists():
        raise usage_error(f"--output {output}: no directory {output.parent}")
    if output.exists() and output.resolve() == input.resolve():
        raise usage_error("--output must not be the --input file")


ENGINES = ("local", "ray")


def _check_engine(engine: str, workers: int | None, batch: bool, input: Path | None, output: Path | None):
    """--engine and --workers, and the Parquet inputs and outputs only the Ray engine reads and writes."""
    if engine not in ENGINES:
        raise usage_error(f"--engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    if engine == "local":
        if workers is not None:
            raise usage_error("--workers needs --engine ray (the local engine is one process)")
        for name, path in (("--input", input), ("--output", output)):
            if path is not None and path.suffix.lower() == ".parquet":
                raise usage_error(f"{name} {path}: only --engine ray reads and writes Parquet")
        return
    if not batch:
        raise usage_error("--engine ray scores a batch: give --input and --output")
    if importlib.util.find_spec("ray") is None:
        raise usage_error("--engine ray needs Ray: pip install 'wqrm[ray]'")


def _load_scorer(prof, alpha, model: Path | None, context: dict[str, Any]):
    """The scorer (models load here); a persona that cannot be built exits with status 2."""
    from wqrm import resources  # deferred: arguments are checked before anything heavy loads
    from wqrm.scoring import Scorer  # deferred: arguments are checked before anything heavy loads

    if model is not None:
        resources.set_override("edit_model", str(model))
    scorer = Scorer(profile=prof, weights=alpha)
    if context.get("persona") is not None:
        try:
            scorer.context(persona=context["persona"])  # built once here, cached by the scorer
        except (OSError, ValueError, InvalidTextError) as exc:
            raise usage_error(f"--persona: {exc}") from None
    return scorer


def _score_jsonl(
    input: Path, output: Path, prof, alpha, model, encoding: str, batch_size: int, mode, context
) -> None:
    from wqrm.batch import score_jsonl  # deferred: arguments are checked before anything heavy loads

    scorer = _load_scorer(prof, alpha, model, context)
    feedback = Feedback("scoring", None, mode, unit="rows")
    with feedback:
        stats = score_jsonl(
            input,
            output,
            scorer,
            chunk_size=batch_size,
            encoding=encoding,
            context=context,
            on_start=lambda total: feedback.update(0, total),
            on_progress=feedback.advance,
            on_error=_row_error,
        )
    _summary(stats, output)


def _row_error(row, message: str) -> None:
    name = json.dumps(row.id, ensure_ascii=False)
    where = "" if row.id == f"line:{row.line}" else f" (line {row.line})"
    err.print(f"[red]error:[/red] row {escape(name)}{where}: {escape(message)}", highlight=False)


def _summary(stats, output: Path) -> None:
    duplicates = f", {stats.duplicates} repeated ids skipped" if stats.duplicates else ""
    err.print(
        f"{stats.rows} rows: {stats.written} written ({stats.errors} with errors), "
        f"{stats.skipped} already in {escape(str(output))}{duplicates}",
        highlight=False,
    )


def _score_ray(input: Path, output: Path, workers: int, settings, encoding, batch_size: int, mode, context):
    """--engine ray: `wqrm.integrations.ray.score_file` (paths are checked and the input read once
    before Ray starts; each actor loads the models)."""
    from wqrm.integrations import ray as ray_engine  # deferred: pyarrow, and Ray itself when it starts

    try:
        ray_engine.check_paths(input, output)
    except ValueError as exc:
        raise usage_error(str(exc)) from None
    feedback = Feedback("scoring", None, mode, unit="rows")
    try:
        with feedback:
            stats = ray_engine.score_file(
                input,
                output,
                workers=workers,
                batch_size=batch_size,
                encoding=encoding,
                context=context,
                profile=None if settings["profile"] is None else str(settings["profile"]),
                weights=settings["weights"],
                edit_model=None if settings["edit_model"] is None else str(settings["edit_model"]),
                on_start=lambda total: feedback.update(0, total),
                on_progress=feedback.advance,
                on_error=_row_error,
            )
    except ray_engine.RayEngineError as exc:  # rows with a group; more workers than the cluster's CPUs
        raise usage_error(str(exc)) from None
    _summary(stats, output)
