"""The default S1 training set: which development files, how they are weighted, how they are split."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.fit.data import (
    Pair,
    Scored,
    assign_groups,
    is_dev,
    link_scored_pairs,
    load_pairs,
    load_scored,
    normalise,
)
from wqrm.fit.negatives import negatives
from wqrm.fit.tagger import TaggedText, load_span_file, tagged_from_pairs

__all__ = [
    "DEFAULT_PAIR_FILES",
    "DEFAULT_SCORED_FILES",
    "Dataset",
    "EditTrainingSet",
    "FeatureCache",
    "build_dataset",
    "build_edit_training_set",
    "frozen_features",
    "reference_passages",
]

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
    extra_texts: Sequence[str] = (),
) -> Dataset:
    """Load pairs and scored rows, link pre/post scored rows into pairs, and split by item group.

    `extra_texts` (e.g. span-annotated paragraphs) join the group assignment, so that a text shared
    with them lands on the same side of the split (`group_of`)."""
    pairs = load_pairs(pair_files, weights)
    scored = load_scored(scored_files)
    if link_scored and scored:
        linked = link_scored_pairs(scored)
        for p in linked:
            p.weight = (weights or {}).get(p.source, 1.0)
        pairs += linked
    extra = [Scored(t, 0.0, "extra") for t in extra_texts]
    assign_groups(pairs, [*scored, *extra])
    pairs = [p for p in pairs if p.weight > 0]
    return Dataset(
        train=[p for p in pairs if not is_dev(p.group, dev_percent, seed)],
        dev=[p for p in pairs if is_dev(p.group, dev_percent, seed)],
        scored_train=[s for s in scored if not is_dev(s.group, dev_percent, seed)],
        scored_dev=[s for s in scored if is_dev(s.group, dev_percent, seed)],
    )


class FeatureCache:
    """Frozen-encoder features keyed by sha1(text), persisted as NPZ, so experiments embed once.

    `tag` names how the features were made (e.g. ``chunk256``) and enters the key, so one file
    can hold features of several recipes and a new recipe never reads an old one's vectors."""

    def __init__(self, path: str | Path | None, featurise, tag: str = ""):
        self.path = Path(path) if path else None
        self.featurise = featurise
        self.tag = tag
        self.table: dict[str, np.ndarray] = {}
        if self.path and self.path.exists():
            with np.load(self.path, allow_pickle=False) as z:
                self.table = dict(zip(z["keys"].tolist(), z["values"], strict=True))

    def key(self, text: str) -> str:
        return hashlib.sha1(f"{self.tag}\0{text}".encode() if self.tag else text.encode("utf-8")).hexdigest()

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self.table))
        if missing:
            for t, v in zip(missing, self.featurise(missing), strict=True):
                self.table[self.key(t)] = v
            if self.path:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                if self.path.exists():  # keep what another cache on the same file wrote since
                    with np.load(self.path, allow_pickle=False) as z:
                        on_disk = dict(zip(z["keys"].tolist(), z["values"], strict=True))
                    self.table = {**on_disk, **self.table}
                ks = list(self.table)
                np.savez(self.path, keys=np.array(ks), values=np.stack([self.table[k] for k in ks]))
        return np.stack([self.table[k] for k in keys])


def frozen_features(reads: dict[str, Any], cache: str | Path | None = None):
    """The features a frozen model that reads as `reads` says (`EmbeddingHeadReward.features`)
    computes, through a `FeatureCache` at `cache` when given: ``both`` is the ``first`` and the
    ``chunks`` features side by side, each cached under its own tag, so switching reading reuses
    what was embedded for the other."""
    from wqrm.edit.model import CHUNK_TOKENS, EmbeddingHeadReward, RewardHead  # deferred: torch

    chunk = int(reads.get("chunk_tokens") or CHUNK_TOKENS)

    def one(reading: str):
        probe = EmbeddingHeadReward(RewardHead(1, 0), {"reading": reading, "chunk_tokens": chunk})
        if cache is None:
            return probe.features
        tag = {"first": "", "sentences": "sentences"}.get(reading, f"chunk{chunk}")
        return FeatureCache(cache, probe.features, tag=tag)

    reading = reads.get("reading", "first")
    if reading != "both":
        return one(reading)
    first, chunks = one("first"), one("chunks")
    return lambda texts: np.concatenate([first(texts), chunks(texts)], axis=1)


def reference_passages(
    files: Sequence[str | Path], *, per_file: int, seed: int = 0, words: int = 150
) -> list[str]:
    """A seeded sample of `per_file` passages (paragraphs joined to ≥ `words` words) per file."""
    from wqrm.build.profile import passages_from_file  # the profile builder's passages

    return [
        t for f in files for t in passages_from_file(f, passage_words=words, max_passages=per_file, seed=seed)
    ]


@dataclass
class EditTrainingSet:
    """Everything `wqrm train-edit` trains the S1 model on, split by item group."""

    train: list[Pair]  # preference pairs + training-family negatives
    dev: list[Pair]  # preference pairs only
    dev_negatives: list[Pair]
    tag_train: list[TaggedText]
    tag_dev: list[TaggedText]
    labels: list[str]
    dev_ids: list[str]

    def summary(self) -> dict[str, Any]:
        from collections import Counter

        def families(pairs):
            return dict(Counter(p.source.split(":")[0] if ":" in p.source else p.source for p in pairs))

        return {
            "train_pairs": families(self.train),
            "dev_pairs": families(self.dev),
            "dev_negatives": len(self.dev_negatives),
            "tag_train": len(self.tag_train),
            "tag_dev": len(self.tag_dev),
            "labels": self.labels,
        }


def build_edit_training_set(
    pair_files: Sequence[str | Path],
    scored_files: Sequence[str | Path] = (),
    span_files: Sequence[str | Path] = (),
    *,
    weights: dict[str, float] | None = None,
    negatives_per_text: int = 1,
    negative_weight: float = 0.5,
    extra_originals: Sequence[str] = (),
    diff_tags: bool = True,
    dev_percent: int = 20,
    seed: int = 0,
) -> EditTrainingSet:
    """Pairs, negatives and span annotations, split by one item-group assignment over all of them.

    Negatives (`wqrm.fit.negatives`, training family) are made from the preferred text of every
    training pair and from `extra_originals` (e.g. reference book passages); dev negatives from the
    dev pairs' preferred texts. Span annotations of dev items are the tagger's dev set; the diffs of
    training edit pairs from LAMP sources add "Edited" spans to its training set (`diff_tags`)."""
    tagged = [t for f in span_files for t in load_span_file(f)]
    ds = build_dataset(
        pair_files,
        scored_files,
        weights=weights,
        dev_percent=dev_percent,
        seed=seed,
        extra_texts=[t.text for t in tagged],
    )
    groups = group_of([*ds.train, *ds.dev], [*ds.scored_train, *ds.scored_dev])
    dev_groups = {p.group for p in ds.dev}
    dev_texts = {normalise(t) for p in ds.dev for t in (p.better, p.worse)}
    tag_dev = [
        t for t in tagged if groups.get(normalise(t.text)) in dev_groups or normalise(t.text) in dev_texts
    ]
    tag_train = [t for t in tagged if t not in tag_dev and normalise(t.text) not in dev_texts]
    if diff_tags:
        lamp = [p for p in ds.train if p.source.startswith("lamp") and not p.source.endswith("_linked")]
        tag_train += [t for t in tagged_from_pairs(lamp) if t.spans and normalise(t.text) not in dev_texts]
    labels = sorted({s.label for t in [*tag_train, *tag_dev] for s in t.spans})
    originals = [p.better for p in ds.train] + [t for t in extra_originals if normalise(t) not in dev_texts]
    # The shipped S1 model was trained on negatives of the originals as given, before the weights'
    # negatives and the robustness suite cut originals back to their last finished sentence
    # (session 26); `finish=False` keeps `make edit-model` rebuilding that model.
    train_neg = negatives(
        originals, per_text=negatives_per_text, seed=seed, weight=negative_weight, finish=False
    )
    dev_neg = negatives([p.better for p in ds.dev], per_text=1, seed=seed + 1, finish=False)
    return EditTrainingSet(
        train=[*ds.train, *train_neg],
        dev=list(ds.dev),
        dev_negatives=dev_neg,
        tag_train=tag_train,
        tag_dev=tag_dev,
        labels=labels,
        dev_ids=sorted(p.id for p in ds.dev),
    )


def group_of(pairs: Sequence[Pair], scored: Sequence[Scored]) -> dict[str, str]:
    """normalised text → item group, for every text of the pairs and scored rows."""
    out: dict[str, str] = {}
    for p in pairs:
        out[normalise(p.better)] = out[normalise(p.worse)] = p.group
    for s in scored:
        out.setdefault(normalise(s.text), s.group)
    return out
