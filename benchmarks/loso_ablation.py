"""What a metric does to the composite's transfer: leave-one-source-out with and without it.

    python benchmarks/loso_ablation.py [--without METRIC ...] [--cache runs/metric_cache.jsonl]

Builds the pair table `make weights` builds (same files, seed, split and metric cache: run
`make weights` first), then, for the full metric set and for the set without each `--without`
metric (left out of its component as the metric gate would), reports for two settings — the one
the selection rule of `wqrm.fit.loso.select_setting` picks on that table, and the session-24
setting (λ 1, IteraTeR/arXivEdits/ArgRewrite 0.3, human ≻ AI 0.5, S2 and S6 out) — the worst
held-out margin over shorter-wins, the mean held-out accuracy, LAMP held out (and its
length-adversarial pairs), IteraTeR held out, and the 2-fold cross-fit accuracy on the
systematic negatives.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from wqrm.fit.dataset import DEFAULT_PAIR_FILES, DEFAULT_SCORED_FILES
from wqrm.fit.loso import FitSetting, crossfit_report, default_grid, loso_report, select_setting
from wqrm.fit.pairs import prepare_pair_table

ROOT = Path(__file__).resolve().parent.parent
SESSION_24 = FitSetting(
    1.0,
    {"iterater": 0.3, "arxivedits": 0.3, "argrewrite": 0.3, "human_vs_ai": 0.5, "negatives": 1.0},
    ("S1", "S3", "S4", "S5", "S7", "S8"),
)


def summary(table, setting: FitSetting) -> str:
    rep = loso_report(table, setting)
    margins = [r["accuracy"] - r["shorter_wins"] for r in rep.values()]
    mean = sum(r["accuracy"] for r in rep.values()) / len(rep)
    neg = crossfit_report(table, setting)["negatives"]["accuracy"]
    lamp = rep["lamp"]
    return (
        f"worst margin {min(margins):+.4f} | mean {mean:.4f} | LAMP {lamp['accuracy']:.3f} "
        f"(len-adv {lamp['length_adversarial_accuracy']:.3f}) | IteraTeR {rep['iterater']['accuracy']:.3f} "
        f"| negatives {neg:.3f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "metric_cache.jsonl")
    ap.add_argument("--without", nargs="*", default=[], help="metrics to leave out, one at a time")
    args = ap.parse_args()
    d = args.data
    table, _ = prepare_pair_table(
        [d / f for f in DEFAULT_PAIR_FILES],  # the Makefile's PAIR_FILES
        [d / f for f in DEFAULT_SCORED_FILES],
        {},
        0,
        20,
        args.cache,
        human_vs_ai=d / "human_vs_ai/fast_detect_gpt.jsonl",
        edit_reference=ROOT / "wqrm/data/profiles/default",
        say=lambda message: None,
    )
    variants = {"all metrics": table}
    for name in args.without:
        variants[f"without {name}"] = table.with_excluded({name: "ablation"})
    grid = default_grid(("off",))
    for label, t in variants.items():
        chosen, _ = select_setting(t, grid)
        print(f"## {label}")
        described = f"{chosen.l2}, {dict(chosen.group_weights)}, {'/'.join(chosen.components)}"
        print(f"- selected ({described}): {summary(t, chosen)}")
        print(f"- session-24 setting: {summary(t, SESSION_24)}")


if __name__ == "__main__":
    main()
