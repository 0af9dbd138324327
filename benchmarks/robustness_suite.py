"""Can the reward be gamed? Original texts against their degraded variants, both families.

    python benchmarks/robustness_suite.py [--data ../shared/data] [--per-source 20] [--out FILE.md]
        [--weights WEIGHTS.json] [--shift METRIC ...] [--components]

`--components` adds, per transformation and component, the share of pairs where the component's
contribution α_i S_i / Σ α (`ScoreResult.contributions`) is higher for the original, the mean
difference original − variant, and how many of the pairs the composite lost it was the most negative
term of: which component gives a variant its win.

`--weights` scores with another weights file than the shipped one (an earlier fit, for a
before/after on the same transformations; metrics it lists in `excluded_metrics` stay out of their
component, so an earlier fit plus the metrics added since reads as that fit did). `--shift` adds,
per transformation, each named metric's mean change variant − original and the share of pairs where
it rises (pairs where either value is undefined are left out).

Originals: development texts no S1 training run has seen — LAMP dev-split edited paragraphs,
human texts of human_vs_ai (creative writing, dev split by prompt) and passages of reference books
that were not used as S1 training originals, each cut back to its last finished sentence
(`wqrm.fit.negatives.finished`: human_vs_ai's human texts stop at the length of the AI text they
were paired with, often mid-word). Every applicable transformation of
`wqrm.fit.negatives` (the ``train`` family S1 and the weights were fitted with, and the ``heldout``
family they never saw) makes one variant per original. A pair is won when the original scores
strictly higher (ties count half). Reported for the composite and for S1's raw reward
(`edit_reward`), per transformation and per family; the acceptance is ≥ 0.95 for both families.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import wqrm
from wqrm.build.profile import passages_from_file
from wqrm.fit.data import is_dev, load_pairs, read_jsonl
from wqrm.fit.negatives import FAMILIES, TRANSFORMATIONS, negatives

ROOT = Path(__file__).resolve().parent.parent
#: Books whose passages S1 training used as negatives' originals (`wqrm train-edit --originals`).
S1_BOOKS = {
    "austen_emma.txt", "carroll_alice.txt", "cbronte_jane_eyre.txt", "conrad_heart_of_darkness.txt",
    "dickens_great_expectations.txt", "doyle_hound_baskervilles.txt", "eliot_middlemarch.txt",
    "hawthorne_scarlet_letter.txt", "melville_moby_dick.txt", "stevenson_treasure_island.txt",
    "twain_tom_sawyer.txt", "wilde_dorian_gray.txt",
}  # fmt: skip


def creative_writing(data: Path, label: str) -> list[str]:
    """The creative-writing texts of human_vs_ai's dev split (by prompt group) with `label`
    ("human" or "ai")."""
    return [
        r["text"]
        for r in read_jsonl(data / "human_vs_ai/fast_detect_gpt.jsonl")
        if r["label"] == label
        and r["domain"] == "creative_writing"
        and is_dev(r["meta"].get("group", r["id"]))
    ]


def originals(data: Path, per_source: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    lamp = [
        p.better
        for p in load_pairs(
            [data / "edit_pairs/lamp_reannotation.jsonl", data / "edit_pairs/lamp_P_editor_val.jsonl"]
        )
    ]
    dev_lamp = []
    weights = json.loads((ROOT / "wqrm/data/weights/default.json").read_text())
    dev_ids = set(weights.get("dev_ids", []))
    for p in load_pairs(
        [data / "edit_pairs/lamp_reannotation.jsonl", data / "edit_pairs/lamp_P_editor_val.jsonl"]
    ):
        if p.id in dev_ids:
            dev_lamp.append(p.better)
    lamp = list(dict.fromkeys(dev_lamp or lamp))
    human = creative_writing(data, "human")
    books = sorted(p for p in (data / "reference/books/en").glob("*.txt") if p.name not in S1_BOOKS)
    passages = [t for b in books for t in passages_from_file(b, max_passages=4, seed=seed)]
    pick = {"lamp dev edits": lamp, "human creative writing": human, "unseen book passages": passages}
    return {k: rng.sample(v, min(per_source, len(v))) for k, v in pick.items()}


def metric_shift(pairs: Sequence, results: dict, metric: str) -> dict[str, dict[str, float]]:
    """Per transformation (the part of a pair's source after ``negative:``): the mean change of
    `metric` variant − original, the share of pairs where it rises, and the pair count; pairs where
    either value is undefined (None) are left out."""
    diffs: dict[str, list[float]] = defaultdict(list)
    for p in pairs:
        va, vb = results[p.better].metrics.get(metric), results[p.worse].metrics.get(metric)
        if va is not None and vb is not None:
            diffs[p.source.split(":", 1)[1]].append(vb - va)
    return {
        n: {"mean": float(np.mean(d)), "share_higher": float(np.mean(np.array(d) > 0)), "n": len(d)}
        for n, d in sorted(diffs.items())
    }


def component_attribution(pairs: Sequence, results: dict) -> dict[str, dict[str, dict[str, float]]]:
    """Per transformation and component: the share of pairs whose original has the higher
    contribution (ties half), the mean difference original − variant, and `decisive`, the number of
    pairs the composite lost (original not higher) in which this component's difference was the
    most negative. A component absent from a text's contributions counts as 0 there."""
    diffs: dict[str, list[dict[str, float]]] = defaultdict(list)
    lost: dict[str, list[bool]] = defaultdict(list)
    for p in pairs:
        a, b = results[p.better], results[p.worse]
        if a.score is None or b.score is None:
            continue
        names = sorted(set(a.contributions) | set(b.contributions))
        name = p.source.split(":", 1)[1]
        diffs[name].append({c: a.contributions.get(c, 0.0) - b.contributions.get(c, 0.0) for c in names})
        lost[name].append(not a.score > b.score)
    out = {}
    for name, rows in sorted(diffs.items()):
        comps = sorted({c for r in rows for c in r})
        decisive = dict.fromkeys(comps, 0)
        for r, was_lost in zip(rows, lost[name], strict=True):
            if was_lost and r:
                decisive[min(r, key=r.get)] += 1
        out[name] = {
            c: {
                "share_original": float(
                    np.mean([(r.get(c, 0.0) > 0) + 0.5 * (r.get(c, 0.0) == 0) for r in rows])
                ),
                "mean": float(np.mean([r.get(c, 0.0) for r in rows])),
                "decisive": decisive[c],
                "lost": int(sum(lost[name])),
                "n": len(rows),
            }
            for c in comps
        }
    return out


def run(
    data: Path,
    per_source: int,
    seed: int,
    weights: Path | None = None,
    shift: Sequence[str] = (),
    components: bool = False,
) -> dict:
    groups = originals(data, per_source, seed)
    texts = [t for v in groups.values() for t in v]
    pairs = negatives(texts, names=list(TRANSFORMATIONS), per_text=len(TRANSFORMATIONS), seed=seed)
    scorer = wqrm.load(weights=str(weights) if weights else None)
    # originals are cut back to their last finished sentence (`wqrm.fit.negatives.finished`)
    distinct = list(dict.fromkeys(t for p in pairs for t in (p.better, p.worse)))
    results = {}
    for start in range(0, len(distinct), 32):
        chunk = distinct[start : start + 32]
        results.update(zip(chunk, scorer.score_batch(chunk), strict=True))
    table: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for p in pairs:
        name = p.source.split(":", 1)[1]
        a, b = results[p.better], results[p.worse]
        for key, va, vb in (
            ("composite", a.score, b.score),
            ("S1 edit_reward", a.metrics.get("edit_reward"), b.metrics.get("edit_reward")),
        ):
            # an undefined score for either text counts as a loss for the original
            table[key][name].append(0.0 if va is None or vb is None else float(va > vb) + 0.5 * (va == vb))
    out = {"originals": {k: len(v) for k, v in groups.items()}, "n_pairs": len(pairs), "by": {}, "shift": {}}
    for metric in shift:
        out["shift"][metric] = metric_shift(pairs, results, metric)
    if components:
        out["components"] = component_attribution(pairs, results)
    for key, by_name in table.items():
        fam = {f: [c for n in FAMILIES[f] for c in by_name.get(n, [])] for f in FAMILIES}
        out["by"][key] = {
            "families": {f: {"accuracy": float(np.mean(v)), "n": len(v)} for f, v in fam.items() if v},
            "transformations": {
                n: {"accuracy": float(np.mean(v)), "n": len(v)} for n, v in sorted(by_name.items())
            },
        }
    return out


def to_markdown(res: dict) -> str:
    lines = [
        f"Originals: {res['originals']}; {res['n_pairs']} (original, variant) pairs. "
        "A pair is won when the original scores higher (ties half).",
        "",
        "| transformation | family | n | composite | S1 edit_reward |",
        "|---|---|---:|---:|---:|",
    ]
    comp, s1 = res["by"]["composite"], res["by"]["S1 edit_reward"]
    for name in comp["transformations"]:
        c, s = comp["transformations"][name], s1["transformations"][name]
        family = TRANSFORMATIONS[name].family
        lines.append(f"| {name} | {family} | {c['n']} | {c['accuracy']:.3f} | {s['accuracy']:.3f} |")
    for f in FAMILIES:
        if f in comp["families"]:
            c, s = comp["families"][f], s1["families"][f]
            lines.append(
                f"| **{f} family** | | {c['n']} | **{c['accuracy']:.3f}** | **{s['accuracy']:.3f}** |"
            )
    for metric, by_name in res.get("shift", {}).items():
        lines += ["", f"`{metric}`, variant − original:", ""]
        lines += ["| transformation | n | mean change | share higher |", "|---|---:|---:|---:|"]
        for name, r in by_name.items():
            lines.append(f"| {name} | {r['n']} | {r['mean']:+.4f} | {r['share_higher']:.2f} |")
    if res.get("components"):
        lines += [
            "",
            "Components, original − variant contribution (share higher for the original, mean; "
            "lost pairs where it was the most negative term):",
            "",
        ]
        lines += [
            "| transformation | lost / n | component | share | mean | decisive |",
            "|---|---:|---|---:|---:|---:|",
        ]
        for name, by_comp in res["components"].items():
            for c, r in by_comp.items():
                lines.append(
                    f"| {name} | {r['lost']} / {r['n']} | {c} | {r['share_original']:.2f} | {r['mean']:+.4f} "
                    f"| {r['decisive']} |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--per-source", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--weights", type=Path, default=None, help="weights JSON instead of the shipped one")
    ap.add_argument("--shift", nargs="*", default=[], help="metrics to report changes of")
    ap.add_argument("--components", action="store_true", help="which component decides each transformation")
    args = ap.parse_args()
    res = run(args.data, args.per_source, args.seed, args.weights, args.shift, args.components)
    emit(to_markdown(res), res, args.out, args.json)


def emit(md: str, res: dict, out: Path | None, json_path: Path | None) -> None:
    """Print the markdown table; write it to `out` and the raw results to `json_path` if given."""
    print(md)
    if out:
        out.write_text(md, encoding="utf-8")
    if json_path:
        json_path.write_text(json.dumps(res, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
