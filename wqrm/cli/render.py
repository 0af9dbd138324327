"""Terminal rendering shared by commands: the score table and the text with flagged spans."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from wqrm.cli.common import fmt, out
from wqrm.components import COMPONENT_NAMES

__all__ = ["display_spans", "print_score_table", "render_spans"]


def print_score_table(name: str, result) -> None:
    """The composite, S1..S8 with each metric's raw value and goodness, and why anything is missing."""
    from wqrm.metrics.registry import specs  # deferred: `wqrm --help` stays fast

    out.print(
        f"[bold]{escape(name)}[/bold]  score [bold cyan]{fmt(result.score)}[/bold cyan]  "
        f"(lang {result.lang}; weights: {result.weights}; "
        f"components used: {', '.join(result.used_components) or 'none'})"
    )
    if result.substance is not None and result.substance.degenerate:
        out.print(f"  [red]{result.reasons.get('score', 'degenerate text')}[/red]")
    t = Table(show_header=True, header_style="bold")
    t.add_column("component")
    t.add_column("value", justify="right")
    t.add_column("part of score", justify="right")
    t.add_column("metrics (raw value → goodness)")
    all_specs = specs()
    for c, label in COMPONENT_NAMES.items():
        members = [n for n in result.metrics if all_specs[n].component == c]
        cells = []
        for n in members:
            g = result.goodness.get(n)
            cell = f"{n} {fmt(result.metrics[n])}" + ("" if g is None else f" → {g:.2f}")
            cells.append(cell + (" (guard: × component)" if all_specs[n].guard else ""))
        value = fmt(result.components[c])
        part = result.contributions.get(c)
        note = "; ".join(cells)
        if result.components[c] is None and c in result.component_reasons:  # missing: say why
            note = escape(result.component_reasons[c])
        t.add_row(f"{c} {label}", value, "" if part is None else f"{part:.3f}", note)
    descriptive = [n for n in result.metrics if all_specs[n].component is None]
    if descriptive:
        t.add_row("descriptive", "", "", "; ".join(f"{n} {fmt(result.metrics[n])}" for n in descriptive))
    out.print(t)
    by_reason: dict[str, list[str]] = {}
    for n, r in result.reasons.items():
        if n in result.metrics and result.metrics[n] is None:
            by_reason.setdefault(r, []).append(n)
    for r, names in by_reason.items():
        out.print(f"  [dim]{', '.join(names)}: {escape(r)}[/dim]")


def _word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole words."""
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def display_spans(text: str, spans: list[dict]) -> list[dict]:
    """Spans for people: widened to whole words, and neighbours separated only by spaces or
    punctuation merged (label of the longest piece, mean probability)."""
    merged: list[dict] = []
    for s in sorted(spans, key=lambda s: s["start"]):
        start, end = _word_bounds(text, s["start"], s["end"])
        piece = {**s, "start": start, "end": end, "_len": end - start}
        if merged and (start <= merged[-1]["end"] or not text[merged[-1]["end"] : start].strip(" ,;:.!?\"'")):
            m = merged[-1]
            longest = m if m["_len"] >= piece["_len"] else piece
            merged[-1] = {
                "start": m["start"],
                "end": max(m["end"], end),
                "label": longest["label"],
                "probability": (m["probability"] + s["probability"]) / 2,
                "_len": max(m["_len"], piece["_len"]),
            }
        else:
            merged.append(piece)
    return [{k: v for k, v in m.items() if k != "_len"} for m in merged]


def render_spans(text: str, spans: list[dict]):
    """A rich `Text` of `text` with each flagged span highlighted and numbered, plus a legend."""
    from rich.text import Text

    out = Text()
    pos = 0
    legend = []
    for i, s in enumerate(display_spans(text, spans), 1):
        out.append(text[pos : s["start"]])
        out.append(text[s["start"] : s["end"]], style="bold black on yellow")
        out.append(f"[{i}]", style="dim")
        legend.append(f"[{i}] {s['label']} (p={s['probability']:.2f})")
        pos = s["end"]
    out.append(text[pos:])
    out.append(
        "\n\nFlagged: spans an editor would likely change (the edit model's tagger, with its probability) "
        "and the generic phrases and templates S3 counts (p=1.00: matches)",
        style="dim",
    )
    out.append("\n" + ("\n".join(legend) if legend else "(no span flagged)"), style="dim")
    return out
