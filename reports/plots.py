"""The report's figures: matplotlib's SVG backend, returned as inline `<svg>` markup.

Text in the figures is SVG text (`svg.fonttype: none`), which matplotlib XML-escapes, so group and
metric names cannot inject markup; labels are also stripped of control characters, their `$`
escaped (no mathtext parsing of user names) and shortened. Each figure gets its own hash salt, so
the clip-path and marker ids of several inline figures never collide, and no date is written, so
the same run gives the same report.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib
import matplotlib.patches
import matplotlib.ticker
import numpy as np
from markupsafe import Markup, escape
from matplotlib.figure import Figure

__all__ = ["PALETTE", "components_chart", "length_scatter", "metric_panels", "svg"]

PALETTE = (
    "#1b6ca8",
    "#d1495b",
    "#2a9d8f",
    "#e09f3e",
    "#6a4c93",
    "#5c6b73",
    "#8ab17d",
    "#b5651d",
    "#3d5a80",
    "#9c6644",
)
WIDTH = 9.0  # inches; the page scales the SVG to its column
BAND_COLORS = ("#9ecae1", "#d9d9d9", "#c7e9c0", "#fdd0a2")
RC = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial"],
    "font.size": 8.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 9,
    "axes.titleweight": "bold",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def label(text: Any, width: int = 32) -> str:
    """A user-supplied name made safe for a matplotlib label: one line, no mathtext, ≤ `width`."""
    s = _CONTROL.sub(" ", str(text)).strip() or "?"
    if len(s) > width:
        s = s[: width - 1] + "…"
    return s.replace("$", r"\$")


def svg(fig: Figure, name: str, description: str) -> Markup:
    """The figure as inline SVG markup (XML prolog dropped; `role="img"` and an escaped label)."""
    with matplotlib.rc_context({**RC, "svg.hashsalt": f"wqrm-{name}"}):
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, count=1, flags=re.S)
    attrs = f'<svg class="plot" data-plot="{escape(name)}" role="img" aria-label="{escape(description)}" '
    return Markup(attrs + text[len("<svg ") :])


def _figure(width: float, height: float) -> Figure:
    """A figure without a layout engine: margins are set by hand (`_margins`), because constrained
    layout and tight bounding boxes measure every text several times (seconds per report)."""
    with matplotlib.rc_context(RC):
        return Figure(figsize=(width, height))


def _margins(
    fig: Figure, left_chars: int, *, top: float = 0.3, bottom: float = 0.45, hspace: float = 0.0
) -> None:
    """Margins in inches: the left one fits `left_chars` characters of tick labels."""
    w, h = fig.get_size_inches()
    left = 0.25 + 0.065 * left_chars
    fig.subplots_adjust(
        left=left / w, right=1 - 0.15 / w, top=1 - top / h, bottom=bottom / h, hspace=hspace, wspace=0.12
    )


def components_chart(groups: Sequence[Mapping[str, Any]], components: Sequence[str]) -> Figure:
    """Horizontal bars: the composite and each component per group, with 95% CI whiskers."""
    rows = ["composite", *components]
    with matplotlib.rc_context(RC):
        n_legend = -(-len(groups) // 4)
        fig = _figure(WIDTH, 0.7 + 0.2 * n_legend + 0.11 * len(rows) * max(len(groups), 1) + 0.2 * len(rows))
        ax = fig.add_subplot()
        n = len(groups)
        height = 0.8 / max(n, 1)
        for k, g in enumerate(groups):
            values, lows, highs = [], [], []
            for r in rows:
                d = g["composite"] if r == "composite" else g["components"].get(r) or {}
                v = d.get("value")
                ci = d.get("ci") or [v, v]
                values.append(np.nan if v is None else v)
                lows.append(0 if v is None or ci[0] is None else max(0.0, v - ci[0]))
                highs.append(0 if v is None or ci[1] is None else max(0.0, ci[1] - v))
            y = np.arange(len(rows)) + (k - (n - 1) / 2) * height
            ax.barh(
                y,
                values,
                height=height * 0.9,
                color=PALETTE[k % len(PALETTE)],
                label=label(g["name"]),
                xerr=[lows, highs],
                error_kw={"elinewidth": 0.8, "capsize": 1.5, "ecolor": "#333"},
            )
        ax.set_yticks(np.arange(len(rows)), rows)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("mean over texts (bars: 95% CI)")
        ax.grid(axis="x", color="#ddd", linewidth=0.6)
        ax.set_axisbelow(True)
        legend_rows = -(-n // 4)
        fig.legend(loc="upper center", ncols=min(n, 4), fontsize=7.5, frameon=False)
        _margins(fig, max(len(r) for r in rows), top=0.12 + 0.2 * legend_rows)
    return fig


def metric_panels(
    metrics: Sequence[str],
    values: Mapping[str, Mapping[str, np.ndarray]],
    bands: Mapping[str, Sequence[tuple[str, float, float, float]]],
    group_names: Sequence[str],
    references: Sequence[str],
    columns: int = 3,
) -> Figure:
    """Small multiples, one panel per metric: a box per group (IQR box, median line, 5–95%
    whiskers) over each reference's inter-quartile band (shaded) and median (dashed)."""
    n = len(metrics)
    n_rows = -(-n // columns)
    panel_h = 0.45 + 0.17 * len(group_names)
    with matplotlib.rc_context(RC):
        fig = _figure(WIDTH, n_rows * panel_h + 0.5)
        axes = fig.subplots(n_rows, columns, squeeze=False)
        for i, m in enumerate(metrics):
            ax = axes[i // columns][i % columns]
            for ref, q25, med, q75 in bands.get(m, []):
                c = BAND_COLORS[references.index(ref) % len(BAND_COLORS)]
                ax.axvspan(q25, q75, color=c, alpha=0.55, linewidth=0)
                ax.axvline(med, color="#555", linestyle="--", linewidth=0.7)
            data, pos, colors = [], [], []
            for k, g in enumerate(group_names):
                v = values.get(m, {}).get(g)
                if v is not None and v.size:
                    data.append(v)
                    pos.append(k)
                    colors.append(PALETTE[k % len(PALETTE)])
            if data:
                bp = ax.boxplot(
                    data,
                    positions=pos,
                    orientation="horizontal",
                    widths=0.6,
                    whis=(5, 95),
                    showfliers=False,
                    patch_artist=True,
                    medianprops={"color": "#111", "linewidth": 1},
                )
                for patch, c in zip(bp["boxes"], colors, strict=True):
                    patch.set(facecolor=c, alpha=0.75, linewidth=0.6)
            lo, hi = ax.get_xlim()
            if hi - lo < 1e-9 * max(1.0, abs(lo), abs(hi)):  # one value everywhere: a unit-wide axis
                ax.set_xlim((lo + hi) / 2 - 0.5, (lo + hi) / 2 + 0.5)
            ax.set_ylim(len(group_names) - 0.5, -0.5)
            ax.set_yticks(
                range(len(group_names)), [label(g, 18) for g in group_names] if i % columns == 0 else []
            )
            ax.set_title(label(m, 30), loc="left")
            ax.tick_params(axis="x", labelsize=7)
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(4))
            ax.ticklabel_format(axis="x", useOffset=False)
        for j in range(n, n_rows * columns):
            axes[j // columns][j % columns].set_visible(False)
        shown = {ref for m in metrics for ref, *_ in bands.get(m, [])}
        handles = [
            matplotlib.patches.Patch(
                color=BAND_COLORS[k % len(BAND_COLORS)], alpha=0.55, label=f"IQR band of {label(r, 24)}"
            )
            for k, r in enumerate(references)
            if r in shown
        ]
        if handles:  # one row above the panels, clear of the first row's titles
            fig.legend(
                handles=handles,
                loc="upper right",
                ncols=len(handles),
                fontsize=7.5,
                frameon=False,
                borderaxespad=0.1,
            )
        gap = 0.42  # inches between panels: x tick labels and the next title
        _margins(
            fig,
            max((len(label(g, 18)) for g in group_names), default=4),
            top=0.5,  # the legend row, then the first row's titles
            bottom=0.3,
            hspace=gap / (panel_h - gap),
        )
    return fig


def length_scatter(points: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> Figure:
    """Composite against length (words, log scale), one colour per group."""
    with matplotlib.rc_context(RC):
        fig = _figure(WIDTH, 3.4)
        ax = fig.add_subplot()
        for k, (g, (words, score)) in enumerate(points.items()):
            ax.scatter(
                words, score, s=9, alpha=0.65, color=PALETTE[k % len(PALETTE)], label=label(g), linewidths=0
            )
        ax.set_xscale("log")
        plain = matplotlib.ticker.FuncFormatter(lambda v, _pos: f"{v:g}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("words (log scale)")
        ax.set_ylabel("composite")
        ax.grid(color="#e5e5e5", linewidth=0.6)
        ax.legend(fontsize=7.5, frameon=False, loc="best")
        _margins(fig, 7, top=0.15, bottom=0.5)
    return fig
