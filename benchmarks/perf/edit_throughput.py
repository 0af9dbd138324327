"""Inference throughput of the shipped S1 edit model, and int8 dynamic quantisation.

Texts: --n paragraphs of about 200 words (lamp_R_train rows, cut at 200 words). Threads: 2
(torch.set_num_threads). Prints texts/s for the reward model in float32 and with
`torch.ao.quantization.quantize_dynamic` (int8 Linear layers), the largest absolute reward
difference between the two, their dev pairwise accuracy (LAMP dev split), and texts/s of
`run` (reward and edit-trace spans from one forward pass; the frozen kind has no span head).

    python benchmarks/perf/edit_throughput.py [--n 200] [--model DIR]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))


def paragraphs(n: int) -> list[str]:
    """The first `n` lamp_R_train texts of at least 150 words, cut at 200 words."""
    texts = []
    for line in (DATA / "scored" / "lamp_R_train.jsonl").open(encoding="utf-8"):
        words = json.loads(line)["text"].split()
        if len(words) >= 150:
            texts.append(" ".join(words[:200]))
        if len(texts) >= n:
            break
    return texts


def lamp_dev_pairs() -> list:
    """The LAMP pairs of the S1 dataset's dev split (what the shipped model's dev accuracy uses)."""
    from wqrm.fit.dataset import DEFAULT_PAIR_FILES, DEFAULT_SCORED_FILES, build_dataset

    ds = build_dataset([DATA / f for f in DEFAULT_PAIR_FILES], [DATA / f for f in DEFAULT_SCORED_FILES])
    return [p for p in ds.dev if p.source.startswith("lamp")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--model", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)

    from wqrm import resources
    from wqrm.fit.evaluate import score_pairs

    texts = paragraphs(args.n)
    if args.model:
        resources.set_override("edit_model", str(args.model))
    import wqrm.metrics.edit  # noqa: F401  (registers the resources)

    rm = resources.get("edit_model")
    rm.score(texts[:4])
    t0 = time.perf_counter()
    fp32 = rm.score(texts)
    t_fp32 = time.perf_counter() - t0

    lamp_dev = lamp_dev_pairs()
    acc_fp32 = score_pairs(lamp_dev, lambda t: list(rm.score(t))).accuracy

    quant = copy.copy(rm)
    if rm.kind == "frozen":
        # quantise every Linear of a copy of the whole SentenceTransformer module, in place
        quant._encoder = torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(rm.encoder), {torch.nn.Linear}, dtype=torch.qint8, inplace=True
        )
    else:
        quant.model = torch.ao.quantization.quantize_dynamic(rm.model, {torch.nn.Linear}, dtype=torch.qint8)
    quant.score(texts[:4])
    t0 = time.perf_counter()
    int8 = quant.score(texts)
    t_int8 = time.perf_counter() - t0
    acc_int8 = score_pairs(lamp_dev, lambda t: list(quant.score(t))).accuracy

    rm.run(texts[:4])
    t0 = time.perf_counter()
    rm.run(texts)
    t_run = time.perf_counter() - t0

    print(f"edit model ({rm.kind}), {len(texts)} paragraphs of ~200 words, 2 threads")
    print(
        f"float32   {len(texts) / t_fp32:7.1f} texts/s   LAMP dev accuracy {acc_fp32:.3f} (n={len(lamp_dev)})"
    )
    print(
        f"int8 dyn  {len(texts) / t_int8:7.1f} texts/s   LAMP dev accuracy {acc_int8:.3f}   "
        f"max |Δreward| {np.max(np.abs(fp32 - int8)):.4f}   speed-up {t_fp32 / t_int8:.2f}x"
    )
    print(f"run       {len(texts) / t_run:7.1f} texts/s (reward + spans)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
