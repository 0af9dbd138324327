"""The default S1 training set: which development files, how they are weighted, how they are split."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wqrm.fit.data import Pair, Scored, assign_groups, is_dev, link_scored_pairs, load_pairs, load_scored

__all__ = ["DEFAULT_PAIR_FILES", "DEFAULT_SCORED_FILES", "Dataset", "FeatureCache", "build_dataset"]

DEFAULT_PAIR_FILES = (
    "edit_pairs/lamp_reannotation.jsonl",
    "edit_pairs/lamp_llm_edited.jsonl",
    "edit_pairs/lamp_P_editor_val.jsonl",
    "pairs/lamp_S_val_silver.jsonl",
    "edit_pairs/iterater_doc.jsonl",
    "edit_pairs/iterater_sent.jsonl",
    "edit_pairs/arxivedits.jsonl",
    "edit_pairs/argrewrite.jsonl",
)
DEFAULT_SCORED_FILES = ("scored/lamp_R_train.jsonl",)


@dataclass
class Dataset:
    train: list[Pair]
    dev: list[Pair]
    scored_train: list[Scored]
    scored_dev: list[Scored]

    def summary(self) -> dict:
        from collections import Counter

        return {
            "train_pairs": dict(Counter(p.source for p in self.train)),
            "dev_pairs": dict(Counter(p.source for p in self.dev)),
            "scored_train": len(self.scored_train),
            "scored_dev": len(self.scored_dev),
        }


def build_dataset(
    pair_files: Sequence[str | Path],
    scored_files: Sequence[str | Path] = (),
    *,
    weights: dict[str, float] | None = None,
    link_scored: bool = True,
    dev_percent: int = 20,
    seed: int = 0,
) -> Dataset:
    """Load pairs and scored rows, link pre/post scored rows into pairs, and split by item group."""
    pairs = load_pairs(pair_files, weights)
    scored = load_scored(scored_files)
    if link_scored and scored:
        linked = link_scored_pairs(scored)
        for p in linked:
            p.weight = (weights or {}).get(p.source, 1.0)
        pairs += linked
    assign_groups(pairs, scored)
    pairs = [p for p in pairs if p.weight > 0]
    return Dataset(
        train=[p for p in pairs if not is_dev(p.group, dev_percent, seed)],
        dev=[p for p in pairs if is_dev(p.group, dev_percent, seed)],
        scored_train=[s for s in scored if not is_dev(s.group, dev_percent, seed)],
        scored_dev=[s for s in scored if is_dev(s.group, dev_percent, seed)],
    )


class FeatureCache:
    """Frozen-encoder features keyed by sha1(text), persisted as NPZ, so experiments embed once."""

    def __init__(self, path: str | Path | None, featurise):
        self.path = Path(path) if path else None
        self.featurise = featurise
        self.table: dict[str, np.ndarray] = {}
        if self.path and self.path.exists():
            with np.load(self.path, allow_pickle=False) as z:
                self.table = dict(zip(z["keys"].tolist(), z["values"], strict=True))

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self.table))
        if missing:
            for t, v in zip(missing, self.featurise(missing), strict=True):
                self.table[self.key(t)] = v
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                ks = list(self.table)
                np.savez(self.path, keys=np.array(ks), values=np.stack([self.table[k] for k in ks]))
        return np.stack([self.table[k] for k in keys])
