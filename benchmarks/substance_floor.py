"""How the degeneracy floor's rules behave on real text and on degraded text.

    python benchmarks/substance_floor.py [--data ../shared/data] [--n 400]

Real text (must pass): reference book passages, LAMP paragraphs (drafts and edits), human and AI
texts of human_vs_ai. Degraded text (each transformation of `wqrm.fit.negatives`, both families):
which share the floor catches. Prints the distributions of the five measured values, the rates
and the texts wqrm refuses to analyse (another language);
the thresholds in `wqrm.substance.SubstanceRules` are set from these figures.
"""

from __future__ import annotations

import argparse
import glob
import json
import random
from collections import defaultdict
from pathlib import Path

import numpy as np

from wqrm.analysis import analyze_batch
from wqrm.build.profile import passages_from_file
from wqrm.fit.negatives import TRANSFORMATIONS, negatives
from wqrm.substance import check_substance
from wqrm.textio import InvalidTextError

ROOT = Path(__file__).resolve().parent.parent


def real_texts(data: Path, n: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    books = sorted(glob.glob(str(data / "reference/books/en/*.txt")))
    out: dict[str, list[str]] = {
        "book passages": [p for f in books for p in passages_from_file(f, max_passages=20)]
    }
    lamp = []
    for f in (
        "edit_pairs/lamp_reannotation.jsonl",
        "pairs/lamp_S_val_silver.jsonl",
        "scored/lamp_R_train.jsonl",
    ):
        for line in (data / f).open(encoding="utf-8"):
            r = json.loads(line)
            lamp += [
                r[k]
                for k in ("original", "edited", "chosen", "rejected", "text")
                if isinstance(r.get(k), str)
            ]
    out["LAMP paragraphs"] = lamp
    for label in ("human", "ai"):
        rows = []
        for f in (
            "human_vs_ai/fast_detect_gpt.jsonl",
            "human_vs_ai/slop_score.jsonl",
            "human_vs_ai/ttcw_stories.jsonl",
        ):
            for line in (data / f).open(encoding="utf-8"):
                r = json.loads(line)
                if r["label"] == label:
                    rows.append(
                        r["text"][
                            (r.get("meta") or {}).get("shared_prefix_chars", 0) if label == "ai" else 0 :
                        ]
                    )
        out[f"human_vs_ai {label}"] = rows
    return {k: rng.sample(v, min(n, len(v))) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--n", type=int, default=400, help="texts per real-text group")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    groups = real_texts(args.data, args.n, args.seed)
    originals = groups["LAMP paragraphs"][:200]
    degraded = defaultdict(list)
    for p in negatives(originals, per_text=len(TRANSFORMATIONS), names=list(TRANSFORMATIONS), seed=args.seed):
        degraded[p.source.split(":")[1]].append(p.worse)
    print(
        "| texts | n | fail rate | words p1 | distinct p1 | repeated p99 | English p1 | "
        "unknown p99 / max | refused | failed rules |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, texts in [*groups.items(), *sorted(degraded.items())]:
        texts = [t for t in texts if t.strip()]
        parsed, refused = [], 0
        for start in range(0, len(texts), 64):
            part = texts[start : start + 64]
            try:
                parsed += analyze_batch(part)
            except InvalidTextError:  # one text in a language wqrm refuses: parse the rest one by one
                for t in part:
                    try:
                        parsed += analyze_batch([t])
                    except InvalidTextError:
                        refused += 1
        subs = [check_substance(a) for a in parsed]
        fails = defaultdict(int)
        for s in subs:
            for r in s.failed:
                fails[r] += 1
        arr = {
            k: np.array([getattr(s, k) for s in subs])
            for k in ("words", "distinct", "repeated_sentences", "english")
        }
        rate = np.mean([s.degenerate for s in subs])
        unknown = np.array([s.unknown_words for s in subs if s.unknown_words is not None])
        tail = f"{np.percentile(unknown, 99):.3f} / {unknown.max():.3f}" if unknown.size else "—"
        print(
            f"| {name} | {len(subs)} | {rate:.3f} | {np.percentile(arr['words'], 1):.0f} | "
            f"{np.percentile(arr['distinct'], 1):.2f} | {np.percentile(arr['repeated_sentences'], 99):.2f} | "
            f"{np.percentile(arr['english'], 1):.2f} | {tail} | {refused} | {dict(fails)} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
