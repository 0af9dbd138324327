"""The S1 edit model's encoder backends side by side: torch float64 (the exact default) and the
opt-in ONNX Runtime backends (`wqrm.edit.onnx_backend`: fp32, dynamic int8).

Per backend, in one run on the same texts (lamp_R_train paragraphs of about 200 words, 2 threads):
  * texts/s of the edit model pass (`EmbeddingHeadReward.score`, the encoder pass plus heads) over
    --n paragraphs (best of --rounds);
  * max |Δ edit_reward| against torch on those paragraphs;
  * max |Δ composite score| against torch over --n-score texts (full `Scorer.score_batch`);
  * LAMP dev pairwise accuracy of S1 (the dev split `edit_throughput.py` uses) and its difference
    to torch: the issue's rule keeps torch the default unless a faster backend is within 0.005;
  * batch invariance: the largest change of a text's edit_reward when the --n-invariance texts are
    scored one at a time, 7 at a time and all at once (≤ 1e-6 counts as invariant).

    python benchmarks/perf/edit_backends.py [--n 200] [--n-score 100] \
        [--out benchmarks/results/edit_backends.md]

The ONNX graphs are exported into $WQRM_CACHE_DIR (default ~/.cache/wqrm) at first use; the
export and quantisation time is printed separately and not counted in texts/s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edit_throughput import lamp_dev_pairs, paragraphs
from throughput import machine

BACKENDS = ("torch", "onnx-fp32", "onnx-int8")


def load_backend(backend: str):
    """The shipped edit model with its encoder on `backend`, installed as the `edit_model` resource."""
    from wqrm import resources
    from wqrm.edit.onnx_backend import ENV_VAR

    os.environ[ENV_VAR] = backend
    resources.set_override("edit_model", None)  # forget the loaded one: the next get reads ENV_VAR
    return resources.get("edit_model")


def invariance(model, texts: list[str]) -> float:
    """Largest |Δ reward| of a text scored alone, 7 at a time, or with all of `texts`."""
    alone = np.array([model.score([t])[0] for t in texts])
    sevens = np.concatenate([model.score(texts[i : i + 7]) for i in range(0, len(texts), 7)])
    together = model.score(texts)
    return float(max(np.max(np.abs(alone - together)), np.max(np.abs(sevens - together))))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200, help="paragraphs timed and compared")
    ap.add_argument("--n-score", type=int, default=100, help="texts scored in full for Δ composite")
    ap.add_argument("--n-invariance", type=int, default=21)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--no-dev", action="store_true", help="skip the LAMP dev accuracy")
    ap.add_argument("--out", type=Path, default=None, help="also write the table as Markdown here")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)

    import wqrm
    from wqrm.fit.evaluate import score_pairs

    texts = paragraphs(args.n)
    lamp_dev = [] if args.no_dev else lamp_dev_pairs()
    scorer = wqrm.load()
    rows = []
    ref_reward = ref_score = ref_acc = None
    for backend in BACKENDS:
        t0 = time.perf_counter()
        model = load_backend(backend)
        model.score(texts[:4])  # warm-up (and, for ONNX at first use, export)
        t_load = time.perf_counter() - t0
        best = float("inf")
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            reward = model.score(texts)
            best = min(best, time.perf_counter() - t0)
        scores = np.array([r.score for r in scorer.score_batch(texts[: args.n_score])], dtype=np.float64)
        acc = score_pairs(lamp_dev, lambda t, m=model: list(m.score(t))).accuracy if lamp_dev else None
        inv = invariance(model, texts[: args.n_invariance])
        if backend == "torch":
            ref_reward, ref_score, ref_acc = reward, scores, acc
        rows.append(
            {
                "backend": backend,
                "texts_s": len(texts) / best,
                "speedup": None,
                "d_reward": float(np.max(np.abs(reward - ref_reward))),
                "d_score": float(np.nanmax(np.abs(scores - ref_score))),
                "acc": acc,
                "d_acc": None if acc is None else acc - ref_acc,
                "invariance": inv,
                "load_s": t_load,
            }
        )
    for r in rows:
        r["speedup"] = r["texts_s"] / rows[0]["texts_s"]

    lines = [
        f"Machine: {machine()}",
        "",
        f"S1 edit model pass on {len(texts)} lamp_R_train paragraphs of ~200 words (best of {args.rounds}); "
        f"Δ composite over {min(args.n_score, len(texts))} texts (full score); "
        f"LAMP dev pairs: {len(lamp_dev)}; "
        f"batch invariance over {args.n_invariance} texts (alone / 7 / all).",
        "",
        "| backend | texts/s | speed-up | max abs Δ edit_reward | max abs Δ composite | LAMP dev acc. "
        "| Δ dev acc. | batch invariance (max abs Δ) | load + first use (s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        acc = "–" if r["acc"] is None else f"{r['acc']:.4f}"
        d_acc = "–" if r["d_acc"] is None else f"{r['d_acc']:+.4f}"
        lines.append(
            f"| {r['backend']} | {r['texts_s']:.1f} | {r['speedup']:.2f}x | {r['d_reward']:.2e} | "
            f"{r['d_score']:.2e} | {acc} | {d_acc} | {r['invariance']:.1e} | {r['load_s']:.1f} |"
        )
    eligible = [
        r["backend"]
        for r in rows[1:]
        if r["d_acc"] is not None
        and abs(r["d_acc"]) <= 0.005
        and r["speedup"] > 1
        and r["invariance"] <= 1e-6
    ]
    lines += [
        "",
        "Rule (issue 14): the default stays torch unless a faster backend is within 0.005 dev accuracy; "
        "wqrm also promises batch invariance (≤ 1e-6). Eligible to become the default: "
        + (", ".join(eligible) if eligible else "none"),
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(
            "# S1 edit-model backends\n\n`python benchmarks/perf/edit_backends.py`\n\n" + text + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
