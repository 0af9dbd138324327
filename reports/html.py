"""The benchmark report: one self-contained HTML file from a run's results.json and per_text.jsonl.

    html = render_report(results, rows)        # wqrm report RUN -o report.html

Self-contained: inline CSS, figures as inline SVG (`wqrm.reports.plots`), no script at all, no
external font, image or link; a Content-Security-Policy meta tag (`default-src 'none'`) makes the
browser refuse anything that would load or run. Every piece of text — texts, names, ids, prompts,
reasons — reaches the page through Jinja2 with autoescape on; the only markup inserted unescaped is
matplotlib's SVG (whose text matplotlib escapes). Sections: summary table with CIs, component
chart, per-metric distances and distributions against each reference, the length check, the
win-rate matrix with baselines and drivers, best and worst texts with the edit-trace spans, and
how it was computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from wqrm.components import COMPONENT_NAMES, COMPONENTS
from wqrm.reports import plots

__all__ = ["render_report", "span_segments"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _num(v: Any, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _ci(d: Mapping[str, Any] | None, digits: int = 3) -> str:
    if not d or d.get("value") is None:
        return "—"
    ci = d.get("ci")
    return _num(d["value"], digits) + (f" [{_num(ci[0], digits)}, {_num(ci[1], digits)}]" if ci else "")


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * v:.0f}%"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its file name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=_num, ci=_ci, pct=_pct)
    return env


def span_segments(text: str, spans: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The text cut into plain and flagged segments (`label`, `probability` on flagged ones);
    spans outside the text or overlapping an earlier one are clipped, never trusted blindly."""
    segs: list[dict[str, Any]] = []
    pos = 0
    for sp in sorted(spans or [], key=lambda s: (int(s.get("start", 0)), int(s.get("end", 0)))):
        start, end = max(int(sp.get("start", 0)), pos), min(int(sp.get("end", 0)), len(text))
        if end <= start:
            continue
        if start > pos:
            segs.append({"text": text[pos:start], "label": None})
        segs.append(
            {"text": text[start:end], "label": str(sp.get("label", "flagged")), "p": sp.get("probability")}
        )
        pos = end
    if pos < len(text):
        segs.append({"text": text[pos:], "label": None})
    return segs


def _flip(d: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A win rate of A over B seen from B: 1 − value, interval mirrored."""
    if not d or d.get("value") is None:
        return d and dict(d)
    ci = d.get("ci")
    return {**d, "value": 1 - d["value"], "ci": None if not ci else [1 - ci[1], 1 - ci[0]]}


def _heat(value: float | None) -> str:
    """Background colour of a win-rate cell: red below ½, white at ½, green above."""
    if value is None:
        return ""
    t = max(-1.0, min(1.0, (value - 0.5) * 2))
    hue = 140 if t >= 0 else 5
    return f"background-color: hsl({hue}, 55%, {97 - 30 * abs(t):.0f}%)"


def _win_matrix(groups: Sequence[str], comparisons: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for c in comparisons:
        if c["kind"] != "groups":
            continue
        cells[(c["a"], c["b"])] = {"win": c["win_rate"], "pairing": c["pairing"], "flag": c["length"]["flag"]}
        cells[(c["b"], c["a"])] = {
            "win": _flip(c["win_rate"]),
            "pairing": c["pairing"],
            "flag": c["length"]["flag"],
        }
    rows = []
    for a in groups:
        row = []
        for b in groups:
            cell = cells.get((a, b))
            win = (cell or {}).get("win") or {}
            row.append({"b": b, "cell": cell, "style": _heat(win.get("value")) if cell else ""})
        rows.append({"a": a, "cells": row})
    return rows


def _group_values(
    rows: Sequence[Mapping[str, Any]], metrics: Sequence[str]
) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, list[float]]] = {m: {} for m in metrics}
    for r in rows:
        if r.get("error") is not None:
            continue
        for m in metrics:
            v = (r.get("metrics") or {}).get(m)
            if v is not None:
                out[m].setdefault(r["group"], []).append(float(v))
    return {m: {g: np.array(v) for g, v in d.items()} for m, d in out.items()}


def _metric_sections(results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per component (then descriptive metrics): its metrics' distance rows and one figure."""
    group_names = [g["name"] for g in results["groups"]]
    ref_names = [r["name"] for r in results["references"]]
    by_comp: dict[str | None, list[str]] = {}
    for m, entry in results["metrics"].items():
        by_comp.setdefault(entry.get("component"), []).append(m)
    values = _group_values(rows, list(results["metrics"]))
    sections = []
    for comp in [*COMPONENTS, None]:
        metrics = by_comp.get(comp)
        if not metrics:
            continue
        bands = {
            m: [
                (ref, e["q25"], e["median"], e["q75"])
                for ref in ref_names
                if "q25" in (e := results["metrics"][m]["references"].get(ref, {}))
            ]
            for m in metrics
        }
        title = f"{comp} {COMPONENT_NAMES[comp]}" if comp else "descriptive (not scored)"
        fig = plots.metric_panels(metrics, values, bands, group_names, ref_names)
        sections.append(
            {
                "title": title,
                "metrics": [{"name": m, **results["metrics"][m]} for m in metrics],
                "svg": plots.svg(
                    fig, f"metrics-{comp or 'descriptive'}", f"Distributions of the {title} metrics"
                ),
            }
        )
    return sections


def _examples(results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    by_key = {(r["group"], r["key"], str(r["id"])): r for r in rows}
    prompts = results.get("prompts") or {}
    out = []
    for g, ex in results["examples"].items():

        def card(e: Mapping[str, Any], g: str = g) -> dict[str, Any]:
            r = by_key.get((g, e["key"], str(e["id"]))) or {}
            text = r.get("text") or ""
            return {
                **e,
                "segments": span_segments(text, r.get("spans") or []),
                "prompt": prompts.get(str(r.get("prompt_id"))) if r.get("prompt_id") is not None else None,
                "prompt_id": r.get("prompt_id"),
                "n_spans": len(r.get("spans") or []),
            }

        out.append(
            {"group": g, "best": [card(e) for e in ex["best"]], "worst": [card(e) for e in ex["worst"]]}
        )
    return out


def render_report(results: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> str:
    """The whole report as one HTML string (module docstring)."""
    groups = results["groups"]
    group_names = [g["name"] for g in groups]
    available = [
        c for c in COMPONENTS if any(g["components"].get(c, {}).get("value") is not None for g in groups)
    ]
    ok_rows = [r for r in rows if r.get("error") is None and r.get("score") is not None]
    points = {
        g: (
            np.array([r["n_words"] for r in ok_rows if r["group"] == g], dtype=float),
            np.array([r["score"] for r in ok_rows if r["group"] == g], dtype=float),
        )
        for g in group_names
    }
    comparisons = results["comparisons"]
    context = {
        "results": results,
        "run": results["run"],
        "groups": groups,
        "references": results["references"],
        "summary": results.get("distance_summary", {}),
        "components": available,
        "component_names": COMPONENT_NAMES,
        "components_svg": plots.svg(
            plots.components_chart(groups, available),
            "components",
            "Composite and components per group with 95% CIs",
        ),
        "metric_sections": _metric_sections(results, rows),
        "length_svg": plots.svg(plots.length_scatter(points), "length", "Composite against length in words"),
        "comparisons": [c for c in comparisons if c["kind"] == "groups"],
        "noise_floors": [c for c in comparisons if c["kind"] == "noise_floor"],
        "matrix": _win_matrix(group_names, comparisons),
        "group_names": group_names,
        "examples": _examples(results, rows),
        "warnings": results.get("warnings") or [],
        "n_errors": sum(1 for r in rows if r.get("error") is not None),
    }
    return _environment().get_template("report.html.j2").render(**context)
