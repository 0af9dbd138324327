"""The table and the shipped JSON of `benchmarks/metric_validity.py` (rendering only: every figure
is computed there)."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from wqrm.metrics.registry import VALIDITY_TABLE

__all__ = ["VERDICTS", "evidence_json", "findings", "fit_notes", "render"]

VERDICTS = (
    "supported",
    "partial",
    "conflicting",
    "inverted",
    "uninformative",
    "length",
    "sparse",
    "untested",
)


def fit_notes(corpus_manifest: dict) -> dict[str, str]:
    """What part of this evidence a metric's own model or resource was fitted on (from the
    builders: wqrm/build/phrases.py, wqrm/build/corpus.py, wqrm/fit/train_edit.py; the corpus
    build's manifest gives the creativity classifier's training rows)."""
    creative = (corpus_manifest.get("creativity") or {}).get("training", {}).get("creative", {})
    return {
        "gpp": "its phrases were learned from the AI rows of human_vs_ai prompts outside the phrase "
        "build's hold-out, so its AUC is measured on that hold-out's creative_writing prompts; the "
        "phrases are also weighted by how often LAMP editors changed them (every "
        "edit_pairs/lamp_*.jsonl file), so its LAMP accuracy is not held out",
        "creativity_prob": f"its classifier took {creative.get('human_creative_writing', 'some')} human "
        "creative_writing texts of fast_detect_gpt.jsonl as its creative class (against conventional "
        "human text, not AI text): its AUC may be optimistic",
        "edit_reward": "the S1 edit model trained on LAMP: pairs it trained on are left out",
        "edit_flag_rate": "the S1 edit model trained on LAMP: pairs it trained on are left out",
    }


def _f(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _ci(ci) -> str:
    return "" if ci is None else f" [{ci[0]:.2f}, {ci[1]:.2f}]"


def findings(rows: dict[str, dict], notes: dict[str, str] | None = None) -> list[str]:
    """The worst (and best) of the table in a few lines, from its figures; metrics in `notes`
    (fitted on part of the data) are marked ¹ as in the table."""
    notes = notes or {}

    def signals(n: str, r: dict) -> str:
        return f"AUC {_f(r['auc_human_ai'], 2)}, LAMP {_f(r['lamp_accuracy'], 2)}"

    def names(verdict_: str, fmt: Callable[[str, dict], str]) -> str:
        picked = [(n, r) for n, r in rows.items() if r["verdict"] == verdict_]
        return ", ".join(f"`{n}`{' ¹' if n in notes else ''} ({fmt(n, r)})" for n, r in picked) or "none"

    counts = Counter(r["verdict"] for r in rows.values())
    lines = [
        f"* {len(rows)} metrics: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v]) + ".",
        "* Inverted (prefer the AI text or the unedited draft): " + names("inverted", signals) + ".",
        "* Conflicting (separate human from AI text but disagree with editors, or the reverse): "
        + names("conflicting", signals)
        + ".",
        "* Length (|ρ words| ≥ 0.7: they largely measure length, and so may their AUC and LAMP accuracy): "
        + names("length", lambda n, r: f"ρ {_f(r['rho_words'], 2)}; {signals(n, r)}")
        + ".",
        "* Sparse: "
        + names("sparse", lambda n, r: f"defined {r['defined_share']:.0%}, mode {_f(r['mode_share'], 2)}")
        + ".",
    ]
    best = sorted(
        ((n, r) for n, r in rows.items() if r["verdict"] == "supported"),
        key=lambda nr: -(nr[1]["auc_human_ai"] + nr[1]["lamp_accuracy"]),
    )
    if best:
        picked = ", ".join(f"`{n}`{' ¹' if n in notes else ''} ({signals(n, r)})" for n, r in best[:4])
        lines.append("* Strongest supported: " + picked + ".")
    return lines


def render(
    rows: dict[str, dict], header: Sequence[str], undefined: dict[str, str], notes: dict[str, str]
) -> str:
    """The markdown table under `header`; `notes` (fit_notes) marks metrics fitted on part of the
    data, `undefined` gives an untested metric's reason."""
    lines = [
        *header,
        "",
        "| metric | comp. | direction | AUC human>AI [95% CI] | instr. | raw AUC | LAMP acc [95% CI] (n) "
        "| ρ words | defined | mode | verdict |",
        "|---|---|---|---|---:|---:|---|---:|---:|---:|---|",
    ]
    for name, r in rows.items():
        mark = " ¹" if name in notes else ""
        cells = [
            f"{name}{mark}",
            r["component"] or "—",
            r["direction"],
            f"{_f(r['auc_human_ai'])}{_ci(r['auc_ci95'])}",
            _f(r["auc_instruction_era"], 2),
            _f(r["raw_auc_human_ai"], 2),
            f"{_f(r['lamp_accuracy'])}{_ci(r['lamp_ci95'])} ({r['n_lamp']})",
            _f(r["rho_words"], 2),
            f"{r['defined_share']:.0%}",
            _f(r["mode_share"], 2),
            r["verdict"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "¹ Fitted on part of this data:", ""]
    lines += [f"* `{n}`: {note}." for n, note in notes.items() if n in rows]
    untested = [
        f"`{n}` ({undefined.get(n, 'no value on any text')})"
        for n, r in rows.items()
        if r["verdict"] == "untested"
    ]
    if untested:
        lines += [
            "",
            "Untested (never defined here; the reason given on the recomputed texts): "
            + ", ".join(untested)
            + ".",
        ]
    return "\n".join(lines) + "\n"


def _round(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 4) if math.isfinite(x) else None
    if isinstance(x, (list, tuple)):
        return [_round(v) for v in x]
    return x


def evidence_json(rows: dict[str, dict], settings: dict) -> str:
    """The shipped evidence: settings, then one compact line per metric (no component/direction:
    the catalogue has them)."""
    head = {"format": 1, "generated_by": "benchmarks/metric_validity.py", "table": VALIDITY_TABLE, **settings}
    body = ",\n".join(
        f" {json.dumps(n)}: "
        + json.dumps(
            {k: _round(v) for k, v in r.items() if k not in ("component", "direction")}, ensure_ascii=False
        )
        for n, r in rows.items()
    )
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "metrics": {\n' + body + "\n}}\n"
