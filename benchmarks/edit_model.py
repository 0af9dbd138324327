"""S1 edit-model comparison on the held-out dev split (grouped by item, seed 0, 20%).

For each scorer: pairwise accuracy on all dev pairs, on LAMP dev pairs, on the length-adversarial
subset (preferred text is the longer one) of each, and Spearman's ρ of the score with the
`lamp_R_train` dev scores. Scorers: shorter-wins and TTR baselines, and every model directory given.

    python benchmarks/edit_model.py runs/frozen runs/lora … [--out benchmarks/results/edit_model.md]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

import wqrm.metrics as M
from wqrm.analysis import analyze_batch
from wqrm.edit.model import load_reward_model
from wqrm.fit.dataset import DEFAULT_PAIR_FILES, DEFAULT_SCORED_FILES, build_dataset
from wqrm.fit.evaluate import score_pairs

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("models", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--no-baselines", action="store_true", help="Only the given models.")
    args = ap.parse_args(argv)

    ds = build_dataset([DATA / f for f in DEFAULT_PAIR_FILES], [DATA / f for f in DEFAULT_SCORED_FILES])
    dev = ds.dev
    lamp = [p for p in dev if p.source.startswith("lamp")]
    scored = ds.scored_dev

    def analyses_scores(fn):
        def run(texts):
            return [fn(a) for a in analyze_batch(texts)]

        return run

    scorers = {}
    if not args.no_baselines:
        scorers["shorter wins"] = analyses_scores(lambda a: -len(a.words))
        scorers["TTR"] = analyses_scores(lambda a: M.compute_analysis(a, ["ttr"])["ttr"])
    for path in args.models:
        rm = load_reward_model(path)
        scorers[f"{rm.config.get('kind', '?')}: {path.name}"] = lambda texts, rm=rm: list(rm.score(texts))

    header = (
        "| scorer | dev acc (n) | dev len-adv acc (n) | LAMP dev acc (n) | LAMP len-adv acc (n) | "
        "ρ lamp_R dev (n) | s |"
    )
    lines = [
        f"S1 dev split: {len(dev)} pairs ({len(lamp)} LAMP), {len(scored)} scored lamp_R paragraphs; "
        "accuracy counts ties as half.",
        "",
        header,
        "|---|---|---|---|---|---|---|",
    ]
    for name, fn in scorers.items():
        t0 = time.time()
        everything = list(
            dict.fromkeys([t for p in dev for t in (p.better, p.worse)] + [s.text for s in scored])
        )
        cache = dict(zip(everything, fn(everything), strict=True))

        def cached(texts, cache=cache):
            return [cache[t] for t in texts]

        a, b = score_pairs(dev, cached), score_pairs(lamp, cached)
        rho = spearmanr([cache[s.text] for s in scored], [s.score for s in scored]).statistic
        f = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
        lines.append(
            f"| {name} | {f(a.accuracy)} ({a.n}) | "
            f"{f(a.length_adversarial_accuracy)} ({a.n_length_adversarial}) | "
            f"{f(b.accuracy)} ({b.n}) | {f(b.length_adversarial_accuracy)} ({b.n_length_adversarial}) | "
            f"{rho:.3f} ({len(scored)}) | {time.time() - t0:.0f} |"
        )
        print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
