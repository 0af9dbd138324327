"""What every command module shares: the two consoles, input reading, number formatting, and the
`SOURCE=W` option parser."""

from __future__ import annotations

import shlex
import sys

import typer
from rich.console import Console

from wqrm.textio import InvalidTextError, read_text, validate_text

__all__ = ["command_line", "err", "fmt", "out", "parse_source_weights", "progress_bar", "read_all"]

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def read_all(files: list[str], encoding: str, max_chars: int) -> list[tuple[str, str | None, str | None]]:
    """(file, text, error) for every input; errors are named, never raised."""
    items = []
    for f in files:
        try:
            items.append((f, validate_text(read_text(f, encoding=encoding), max_chars=max_chars), None))
        except InvalidTextError as exc:
            items.append((f, None, str(exc)))
    return items


def fmt(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def parse_source_weights(items: list[str] | None) -> dict[str, float]:
    """{SOURCE: W} from repeated `--weight SOURCE=W` options."""
    result = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--weight {item!r}: expected SOURCE=W")
        result[key] = float(value)
    return result


def command_line() -> str:
    """The command line of this process, shell-quoted (recorded in artefacts it writes)."""
    return "wqrm " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def progress_bar(label: str, show: bool):
    """A rich progress bar on stderr (label, bar, done/total, time left); a no-op when not `show`."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not show,
    )
