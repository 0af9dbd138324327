"""Per-metric AUC for telling human from AI text (development data: human_vs_ai/fast_detect_gpt.jsonl).

AUC = P(metric(human) > metric(AI)) (ties count half), computed with scikit-learn's roc_auc_score
with human = positive class. 0.5 means the metric does not separate them; below 0.5 means AI texts
score higher. AI rows start with their human source's first ~30 tokens (meta.shared_prefix_chars):
that prefix is stripped from the AI text *and* from its paired human text, so only the written
continuations are compared. Rows whose value is undefined (None) are left out of that metric's AUC
and counted.

    python benchmarks/metric_auc.py [--domain creative_writing] [--n 300] [--metrics a,b,...]
                                    [--models] [--out benchmarks/results/auc.md]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

import wqrm.metrics as M

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))
INSTRUCTION_ERA = {"davinci", "gpt-3.5-turbo", "gpt-4"}


def load_rows(domain: str, n: int, seed: int) -> tuple[list[dict], list[dict]]:
    rows = [
        json.loads(line) for line in (DATA / "human_vs_ai" / "fast_detect_gpt.jsonl").open(encoding="utf-8")
    ]
    rows = [r for r in rows if r["domain"] == domain]
    prefix = {}
    for r in rows:
        if r["label"] == "ai":
            prefix.setdefault(r["meta"].get("paired_human_id"), r["meta"].get("shared_prefix_chars", 0))
    for r in rows:
        cut = r["meta"].get("shared_prefix_chars", 0) if r["label"] == "ai" else prefix.get(r["id"], 0)
        r["body"] = r["text"][cut:].strip()
    rng = random.Random(seed)
    human = [r for r in rows if r["label"] == "human" and r["body"]]
    ai = [r for r in rows if r["label"] == "ai" and r["body"]]
    return rng.sample(human, min(n, len(human))), rng.sample(ai, min(n, len(ai)))


def auc_table(names: list[str], human: list[dict], ai: list[dict]) -> list[dict]:
    from sklearn.metrics import roc_auc_score

    values_h = M.compute_batch([r["body"] for r in human], names)
    values_a = M.compute_batch([r["body"] for r in ai], names)
    out = []
    for name in names:
        row = {"metric": name, "component": M.get_spec(name).component or "-"}
        for label, subset in (("all AI", None), ("instruction-era AI", INSTRUCTION_ERA)):
            h = [v[name] for v in values_h if v[name] is not None]
            a = [
                v[name]
                for v, r in zip(values_a, ai, strict=True)
                if v[name] is not None and (subset is None or r["model"] in subset)
            ]
            row[label] = roc_auc_score([1] * len(h) + [0] * len(a), h + a) if h and a else None
            row[f"n {label}"] = f"{len(h)}/{len(a)}"
        out.append(row)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--domain", default="creative_writing")
    ap.add_argument("--n", type=int, default=300, help="texts per class (seeded sample)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--metrics", default=None, help="comma-separated names (default: all rigid metrics)")
    ap.add_argument("--models", action="store_true", help="include model metrics in the default set")
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown table here")
    args = ap.parse_args(argv)

    names = M.resolve_names(args.metrics.split(",") if args.metrics else None, args.models)
    human, ai = load_rows(args.domain, args.n, args.seed)
    table = auc_table(names, human, ai)
    n_inst = sum(r["model"] in INSTRUCTION_ERA for r in ai)
    lines = [
        f"AUC human vs AI, fast_detect_gpt `{args.domain}`: {len(human)} human, {len(ai)} AI texts "
        f"({n_inst} instruction-era), seed {args.seed}, shared prefixes stripped.",
        "",
        "| metric | component | AUC (all AI) | AUC (instruction-era AI) | n human/AI |",
        "|---|---|---:|---:|---|",
    ]
    for r in table:
        fmt = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
        lines.append(
            f"| {r['metric']} | {r['component']} | {fmt(r['all AI'])} | "
            f"{fmt(r['instruction-era AI'])} | {r['n all AI']} |"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
