"""How far can a policy game the reward? A greedy search over edits that cannot improve writing,
against what an editor's real improvement earns.

    python benchmarks/red_team.py [--data ../shared/data] [--per-source 8] [--ai N] [--steps 4]
        [--candidates 16] [--edits a,b,...] [--weights WEIGHTS.json] [--out FILE.md] [--json FILE]

Originals: the robustness suite's (`benchmarks/robustness_suite.py`: LAMP dev-split edited
paragraphs, human creative writing of human_vs_ai's dev split, passages of books no S1 run trained
on), `--per-source` of each, seed 3 (the suite's seed is 0; a different draw). `wqrm.redteam.red_team`
searches from each with the shipped scorer (or `--weights`). Reported per source and overall:
the share of texts raised, the mean, median and max gain, the accepted edits, each component's
change of its share of the composite, the metrics whose goodness rose most. Against it, for the
LAMP texts, what the editor's version scores over the draft it was made from (the same texts):
an exploit that earns more than that teaches a policy more than editing does. `--ai N` adds a
source of N AI-written stories (human_vs_ai, creative writing, dev split, seed 5): what a policy
being trained would write.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from robustness_suite import creative_writing, emit, originals  # noqa: E402

import wqrm  # noqa: E402
from wqrm.fit.data import load_pairs  # noqa: E402
from wqrm.fit.negatives import as_original  # noqa: E402
from wqrm.redteam import DEFAULT_EDITS, red_team  # noqa: E402

LAMP_FILES = ("edit_pairs/lamp_reannotation.jsonl", "edit_pairs/lamp_P_editor_val.jsonl")


def editor_margins(scorer, data: Path, edited: list[str]) -> list[float]:
    """score(editor's version) − score(draft) for each LAMP text of `edited` (its first pair)."""
    drafts = {}
    for p in load_pairs([data / f for f in LAMP_FILES]):
        drafts.setdefault(as_original(p.better), p.worse)
    pairs = [(t, drafts[t]) for t in edited if t in drafts]
    rs = scorer.score_batch([x for pair in pairs for x in pair])
    return [
        rs[2 * i].score - rs[2 * i + 1].score
        for i in range(len(pairs))
        if rs[2 * i].score is not None and rs[2 * i + 1].score is not None
    ]


def ai_stories(data: Path, n: int) -> list[str]:
    """`n` AI-written creative-writing texts of human_vs_ai's dev split (seeded sample)."""
    rows = creative_writing(data, "ai")
    return random.Random(5).sample(rows, min(n, len(rows)))


def run(args) -> dict:
    groups = originals(args.data, args.per_source, 3) if args.per_source else {}
    if args.ai:
        groups["AI-written stories"] = ai_stories(args.data, args.ai)
    texts = [as_original(t) for v in groups.values() for t in v]
    source = [k for k, v in groups.items() for _ in v]
    scorer = wqrm.load(weights=str(args.weights) if args.weights else None)
    edits = tuple(args.edits.split(",")) if args.edits else DEFAULT_EDITS
    t0 = time.perf_counter()
    report = red_team(
        scorer, texts, edits=edits, steps=args.steps, candidates=args.candidates, seed=args.seed
    )
    seconds = time.perf_counter() - t0
    by_source = {}
    for name in groups:
        sub = type(report)(
            [r for r, s in zip(report.results, source, strict=True) if s == name], report.settings
        )
        by_source[name] = sub.summary()
    lamp = [t for t, s in zip(texts, source, strict=True) if s == "lamp dev edits"]
    margins = editor_margins(scorer, args.data, lamp)
    return {
        "overall": report.summary(),
        "by_source": by_source,
        "editor_margin": {
            "n": len(margins),
            "mean": statistics.fmean(margins) if margins else None,
            "median": statistics.median(margins) if margins else None,
        },
        "seconds": seconds,
        "texts": [
            {"source": s, "start": r.start, "end": r.end, "edits": r.edits, "error": r.error}
            for r, s in zip(report.results, source, strict=True)
        ],
    }


def to_markdown(res: dict) -> str:
    o = res["overall"]
    st = o["settings"]
    lines = [
        f"Edits {', '.join(st['edits'])}; {st['steps']} rounds of {st['candidates']} candidates per text, "
        f"seed {st['seed']}; {o['texts']} texts, {res['seconds']:.0f} s.",
        "",
        "| originals | n | raised | mean gain | median gain | max gain | accepted edits |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, s in [*res["by_source"].items(), ("**all**", o)]:
        acc = ", ".join(f"{k} {v}" for k, v in s["accepted"].items())
        lines.append(
            f"| {name} | {s['texts']} | {s['raised']:.2f} | {s['mean_gain']:.3f} | {s['median_gain']:.3f} | "
            f"{s['max_gain']:.3f} | {acc} |"
        )
    e = res["editor_margin"]
    if e["n"]:
        lines += [
            "",
            f"The editor's version over its draft, same LAMP texts (n={e['n']}): "
            f"mean {e['mean']:+.3f}, median {e['median']:+.3f}.",
        ]
    lines += [
        "",
        "Per text, change of each component's share of the composite over the accepted edits: "
        + ", ".join(f"{c} {v:+.4f}" for c, v in o["component_gain"].items()),
    ]
    lines += [
        "",
        "Goodness that rose most (summed over accepted edits, per text): "
        + ", ".join(f"`{m}` {v:+.3f}" for m, v in o["top_metrics"]),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--per-source", type=int, default=8, help="originals per source (0: none)")
    ap.add_argument("--ai", type=int, default=0, help="also N AI-written stories")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--candidates", type=int, default=16)
    ap.add_argument("--edits", default=None, help="comma-separated (default: wqrm.redteam.DEFAULT_EDITS)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--weights", type=Path, default=None, help="weights JSON instead of the shipped one")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    res = run(args)
    emit(to_markdown(res), res, args.out, args.json)


if __name__ == "__main__":
    main()
