"""Noise check of the regression plugin's default tolerance (`wqrm.testing`, issue 13).

* **False alarms**: 200 human-written creative texts (the human rows of
  `human_vs_ai/fast_detect_gpt.jsonl`, domain creative_writing, one per prompt group, a seeded
  sample) are split into two random halves of 100, 20 times (seeds 0..19); the snapshot of one half
  is compared with the other at the default tolerance. Every split that fails is a false alarm.
* **Power**: the same splits, but in the second half the 30% of texts chosen for drift (60 of the
  200, seeded) get a generic AI-ish paragraph appended (`GENERIC_PARAGRAPH`, written for this
  check). Every split that fails detects the drift. Also the whole 200 against the whole 200 with
  the drift.

Texts are scored once and cached (`--cache`, under runs/, never committed); data is read at run
time from `$WQRM_DATA_DIR` (default ../shared/data).

    nice -n 10 python benchmarks/regression_noise.py [--out benchmarks/results/regression_noise.md]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

import wqrm
from wqrm.snapshot import build_snapshot, text_sha256
from wqrm.testing import DEFAULT_NOISE, compare

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))

GENERIC_PARAGRAPH = (
    "In the end, it is important to remember that every journey is a tapestry of moments, each one "
    "shaping who we are. This experience served as a powerful reminder of the resilience of the "
    "human spirit and the profound beauty of connection. Ultimately, it is a testament to the fact "
    "that, in a world that is constantly changing, we must embrace every challenge with an open heart."
)


def load_texts(n: int, seed: int) -> list[str]:
    """`n` human creative-writing texts, one per prompt group, a seeded sample."""
    path = DATA / "human_vs_ai" / "fast_detect_gpt.jsonl"
    seen, texts = set(), []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            group = (row.get("meta") or {}).get("group", row["id"])
            if row["label"] == "human" and row["domain"] == "creative_writing" and group not in seen:
                seen.add(group)
                texts.append(row["text"])
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.choice(len(texts), size=n, replace=False)]


def score_cached(texts: list[str], cache: Path, scorer) -> dict[str, dict]:
    """{sha256(text): score dict}, scoring only the texts the cache lacks."""
    key = lambda t: hashlib.sha256(t.encode()).hexdigest()  # noqa: E731
    rows: dict[str, dict] = {}
    if cache.exists():
        for line in cache.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            rows[r["key"]] = r
    todo = [t for t in dict.fromkeys(texts) if key(t) not in rows]
    if todo:
        cache.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.time()
        with cache.open("a", encoding="utf-8") as fh:
            for start in range(0, len(todo), 16):
                chunk = todo[start : start + 16]
                for t, r in zip(chunk, scorer.score_batch(chunk), strict=True):
                    d = r.to_dict(key=key(t))
                    d.pop("spans")
                    rows[d["key"]] = d
                    fh.write(json.dumps(d) + "\n")
                print(f"scored {start + len(chunk)}/{len(todo)} ({time.time() - t0:.0f} s)", file=sys.stderr)
    return {key(t): rows[key(t)] for t in texts}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--drift-share", type=float, default=0.3)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "regression_noise_scores.jsonl")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    scorer = wqrm.load()
    texts = load_texts(args.n, seed=0)
    drift_idx = set(
        np.random.default_rng(1).choice(args.n, size=round(args.drift_share * args.n), replace=False)
    )
    drifted = {i: texts[i].rstrip() + "\n\n" + GENERIC_PARAGRAPH for i in drift_idx}
    scores = score_cached(texts + list(drifted.values()), args.cache, scorer)
    clean = [scores[text_sha256(t)] for t in texts]
    drift = [scores[text_sha256(drifted[i])] if i in drift_idx else clean[i] for i in range(args.n)]

    def snap(rows):
        return build_snapshot(rows, scorer)

    null_fail, drift_fail, worst_z, detected = 0, 0, [], Counter()
    per_seed = []
    multiples = (3.0, 3.5, 4.0, 4.5, 5.0)
    sensitivity = {k: [0, 0] for k in multiples}  # k → [false alarms, detections]
    t0 = time.time()
    for seed in range(args.seeds):
        perm = np.random.default_rng(seed).permutation(args.n)
        a, b = perm[: args.n // 2], perm[args.n // 2 :]
        before, same, shifted = (
            snap([clean[i] for i in a]),
            snap([clean[i] for i in b]),
            snap([drift[i] for i in b]),
        )
        for k in multiples:
            sensitivity[k][0] += not compare(before, same, f"{k}sigma").passed
            sensitivity[k][1] += not compare(before, shifted, f"{k}sigma").passed
        null = compare(before, same)
        power = compare(before, shifted)
        z = max(abs(r.change) / r.noise for r in null.rows if r.change is not None and r.noise > 0)
        worst_z.append(z)
        null_fail += not null.passed
        drift_fail += not power.passed
        detected.update(r.name for r in power.failures)
        per_seed.append((seed, len(null.failures), z, len(power.failures), sum(i in drift_idx for i in b)))
        print(
            f"seed {seed}: halves {len(null.failures)} drifted (max |Δ|/σ {z:.2f}); "
            f"with drift {len(power.failures)} drifted",
            file=sys.stderr,
        )
    whole = compare(snap(clean), snap(drift))
    n_checked = len(null.rows)

    lines = [
        "# Regression plugin: noise check of the default tolerance",
        "",
        f"`python benchmarks/regression_noise.py` ({time.strftime('%Y-%m-%d')}; "
        f"{time.time() - t0:.0f} s for the comparisons after scoring). Texts: "
        f"{args.n} human creative-writing texts of `human_vs_ai/fast_detect_gpt.jsonl` (one per prompt "
        f"group, seed 0); drift: a generic paragraph appended to {len(drift_idx)} of them "
        f"({100 * args.drift_share:.0f}%, seed 1). Default tolerance: {DEFAULT_NOISE:g} × the bootstrap "
        f"noise √(se²_before + se²_after) of each mean; {n_checked} quantities checked per comparison "
        "(composite, components, metrics, error rate).",
        "",
        "| check | comparisons | failed |",
        "|---|---:|---:|",
        f"| two random halves (100 vs 100), no drift: **false alarms** | {args.seeds} | **{null_fail}** |",
        f"| half vs other half with the drift (~30% of it drifted): **detections** | {args.seeds} "
        f"| **{drift_fail}** |",
        f"| all {args.n} vs all {args.n} with the drift | 1 | {int(not whole.passed)} |",
        "",
        f"Largest |Δ mean| / noise over every quantity of the {args.seeds} no-drift splits: "
        f"max {max(worst_z):.2f}, "
        f"median {float(np.median(worst_z)):.2f} (a quantity fails above {DEFAULT_NOISE:g}).",
        "",
        "Other noise multiples (same splits):",
        "",
        "| tolerance | false alarms (of 20) | detections (of 20) |",
        "|---|---:|---:|",
        *[f"| {k:g}σ | {fa} | {det} |" for k, (fa, det) in sensitivity.items()],
        "",
        "| seed | halves: drifted quantities | halves: max abs(Δ)/σ | with drift: drifted quantities "
        "| drifted texts in the half |",
        "|---:|---:|---:|---:|---:|",
        *[f"| {s} | {nf} | {z:.2f} | {df} | {nd} |" for s, nf, z, df, nd in per_seed],
        "",
        "Quantities that flagged the drift (in how many of the 20 splits): "
        + ", ".join(f"`{name}` {k}" for name, k in detected.most_common()),
        "",
        "All 200 vs all 200 with the drift:",
        "",
        "```",
        whole.table(whole.failures),
        "```",
        "",
    ]
    text = "\n".join(lines)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
