"""What every command module shares: the two consoles, input reading, progress feedback, number
formatting, and the `SOURCE=W` option parser.

Everything here is light (no model, no metric import): commands check their arguments and read
their inputs with these helpers *before* they import anything heavy, so a typo costs no model load.
"""

from __future__ import annotations

import math
import shlex
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, TextIO

import typer
from rich.console import Console
from rich.markup import escape

from wqrm.textio import InvalidTextError, check_encoding, read_text, validate_text

__all__ = [
    "PROGRESS_INTERVAL",
    "Feedback",
    "ProgressOption",
    "check_files",
    "check_jsonl",
    "command_line",
    "err",
    "fail",
    "fmt",
    "out",
    "parse_source_weights",
    "progress_mode",
    "read_all",
    "usage_error",
]

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

#: The `--progress/--no-progress` option every long-running command takes.
#: `--profile DIR` of the commands that score against a reference profile.
ProfileOption = Annotated[
    Path | None, typer.Option("--profile", help="Reference profile directory (default: shipped).")
]
#: `--weights FILE|uniform` of the commands that compute the composite.
WeightsOption = Annotated[
    str | None, typer.Option("--weights", help="Composite weights JSON (default: shipped), or 'uniform'.")
]
ProgressOption = Annotated[
    bool | None,
    typer.Option(
        "--progress/--no-progress",
        help="Progress on stderr: a bar on a terminal, a plain line every few seconds otherwise "
        "(default: on; --no-progress: silent).",
    ),
]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `error: message` on stderr and return the `typer.Exit` to raise (status `code`)."""
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def usage_error(message: str) -> typer.Exit:
    """A bad argument or option: `fail` with status 2, before anything is loaded."""
    return fail(message, 2)


def check_files(paths: list[Path], what: str = "file") -> None:
    """Exit with status 2 naming every path that is missing or not a readable file."""
    problems = []
    for p in paths:
        if not p.exists():
            problems.append(f"{p}: no such {what}")
        elif p.is_dir():
            problems.append(f"{p}: is a directory, not a {what}")
    if problems:
        raise usage_error("; ".join(problems))


def check_jsonl(pair_files: list[Path], other_files: list[Path] = ()) -> None:
    """Exit with status 2 naming the malformed rows of training files (first few, then a count)."""
    from wqrm.fit.data import check_files as malformed_rows  # deferred: only fit commands need it

    problems = malformed_rows(pair_files, other_files)
    if problems:
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise usage_error("malformed rows:\n  " + "\n  ".join(problems[:10]) + more)


def checked_encoding(encoding: str) -> str:
    """`--encoding` checked once, up front (status 2 for an unknown codec)."""
    try:
        return check_encoding(encoding)
    except InvalidTextError as exc:
        raise usage_error(f"--encoding: {exc}") from None


def read_all(files: list[str], encoding: str, max_chars: int) -> list[tuple[str, str | None, str | None]]:
    """(file, text, error) for every input; every error names its file, none is raised."""
    items = []
    for f in files:
        try:
            text = read_text(f, encoding=encoding)
        except InvalidTextError as exc:  # read_text's messages start with the file name
            items.append((f, None, str(exc)))
            continue
        try:
            items.append((f, validate_text(text, max_chars=max_chars), None))
        except InvalidTextError as exc:
            items.append((f, None, f"{f}: {exc}"))
    return items


def fmt(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def parse_source_weights(items: list[str] | None) -> dict[str, float]:
    """{SOURCE: W} from repeated `--weight SOURCE=W` options (W a finite number ≥ 0)."""
    result = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        try:
            w = float(value)
        except ValueError:
            w = math.nan
        if not sep or not key or not math.isfinite(w) or w < 0:
            raise typer.BadParameter(
                f"{item!r}: expected SOURCE=W with W a number ≥ 0", param_hint="--weight"
            )
        result[key] = w
    return result


def command_line() -> str:
    """The command line of this process, shell-quoted (recorded in artefacts it writes)."""
    return "wqrm " + " ".join(shlex.quote(a) for a in sys.argv[1:])


# ---- progress --------------------------------------------------------------------------------

#: Seconds between two plain progress lines (when stderr is not a terminal).
PROGRESS_INTERVAL = 10.0

Mode = Literal["bar", "lines", "off"]


def progress_mode(flag: bool | None, stream: TextIO | None = None) -> Mode:
    """`--progress/--no-progress` → "off" when switched off, else "bar" on a terminal and "lines"
    (plain periodic lines, no carriage returns) when stderr is a file or a pipe."""
    if flag is False:
        return "off"
    stream = stream or sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    return "bar" if tty else "lines"


class Feedback:
    """Feedback on a long run, as a context manager: `advance(n)` after each finished piece.

    * "bar": a rich progress bar (count, elapsed, time left) on stderr;
    * "lines": a line `label: done/total unit (pct%), elapsed, ~left` at most every `interval`
      seconds, and a last line at the end when any was printed (or when `always_end`): a short run
      stays silent, a long one shows it is alive in a log file;
    * "off": nothing.

    `total=None` counts without a total."""

    def __init__(
        self,
        label: str,
        total: int | None,
        mode: Mode,
        unit: str = "texts",
        *,
        interval: float | None = None,
        always_end: bool = False,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.label, self.total, self.mode, self.unit = label, total, mode, unit
        self.interval = PROGRESS_INTERVAL if interval is None else interval
        self.always_end = always_end
        self.stream = stream
        self.clock = clock
        self.done = 0
        self._bar = None
        self._task = None
        self._printed = False

    def __enter__(self) -> Feedback:
        self._start = self._last = self.clock()
        if self.mode == "bar":
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn(self.label),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=err if self.stream is None else Console(file=self.stream),
            )
            self._bar.__enter__()
            self._task = self._bar.add_task(self.label, total=self.total)
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif self.mode == "lines" and (self._printed or self.always_end) and exc[0] is None:
            self._line(final=True)

    def update(self, done: int, total: int | None = None) -> None:
        """Set the count (and the total, when it becomes known)."""
        if total is not None:
            self.total = total
        self.advance(done - self.done)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done, total=self.total)
        elif self.mode == "lines":
            now = self.clock()
            if now - self._last >= self.interval:
                self._last = now
                self._line()

    def _line(self, final: bool = False) -> None:
        elapsed = self.clock() - self._start
        count = f"{self.done}/{self.total}" if self.total else f"{self.done}"
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        left = ""
        if not final and self.total and 0 < self.done < self.total:
            left = f", ~{elapsed / self.done * (self.total - self.done):.0f} s left"
        verb = " done" if final else ""
        print(
            f"{self.label}{verb}: {count} {self.unit}{pct}, {elapsed:.0f} s{left}",
            file=self.stream or sys.stderr,
            flush=True,
        )
        self._printed = True
