"""What reading long paragraphs whole costs the S1 edit model (`EmbeddingHeadReward.reading`).

Texts: --n LAMP paragraphs as they are (lamp_reannotation and lamp_P_editor_val edits and drafts;
about half are longer than MiniLM's 256 tokens). For each reading (``first``: a paragraph's first
256 tokens; ``chunks``: the mean of its sentence-bounded chunks; ``both``: the two side by side;
``both+sentences``: those and, for the second quality head, each sentence encoded alone — what
ships since session 33) prints the pieces the encoder runs, texts/s of the feature pass (float64 encoder, the
shipped path) and the time relative to ``first``. Threads: 2.

    python benchmarks/perf/edit_reading.py [--n 120] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(2)

    from wqrm.edit.model import CHUNK_TOKENS, EmbeddingHeadReward, RewardHead, text_pieces
    from wqrm.edit.pieces import sentence_pieces
    from wqrm.fit.data import load_pairs

    pairs = load_pairs(
        [DATA / "edit_pairs/lamp_reannotation.jsonl", DATA / "edit_pairs/lamp_P_editor_val.jsonl"]
    )
    texts = list(dict.fromkeys(t for p in pairs for t in (p.better, p.worse)))[: args.n]
    encoder = EmbeddingHeadReward(RewardHead(1, 0), {}).encoder  # the float64 copy the model runs
    long = sum(
        len(encoder.tokenizer(t, add_special_tokens=False, verbose=False)["input_ids"]) > CHUNK_TOKENS - 2
        for t in texts
    )
    print(f"{len(texts)} texts, {long} with a paragraph longer than {CHUNK_TOKENS - 2} tokens")
    base = None
    for reading in ("first", "chunks", "both", "both+sentences"):
        blend = reading == "both+sentences"
        config = {"reading": "both" if blend else reading}
        model = EmbeddingHeadReward(
            RewardHead(1, 0), config, encoder=encoder, sentence_head=RewardHead(384, 0) if blend else None
        )
        pieces = set(text_pieces(texts)[0]) if reading != "chunks" else set()
        if reading != "first":
            pieces |= set(text_pieces(texts, encoder.tokenizer, CHUNK_TOKENS)[0])
        if blend:
            pieces |= set(sentence_pieces(texts)[0])
        model.features(texts[:4])  # warm-up
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            model.features(texts)
            best = min(best, time.perf_counter() - t0)
        base = base or best
        rate = len(texts) / best
        print(f"{reading:14s} pieces {len(pieces):5d}  {rate:7.1f} texts/s  ×{best / base:.2f} of first")


if __name__ == "__main__":
    main()
