"""Training data for the edit-quality model (S1): preference pairs from human edits and scores.

Every source becomes `Pair(better, worse, source, group, weight)`:

* edit pairs (`original` → `edited`): the human revision is better. IteraTeR drops
  `meaning-changed` and `others` edits (content changes are not quality improvements), arXivEdits
  drops pairs whose only intentions are Content/Format;
* preference pairs (`chosen`, `rejected`);
* scored paragraphs (`lamp_R_train`): the pre-edit and post-edit versions of one item are separate,
  unlinked rows; they are linked by word-shingle similarity and become a pair when their scores
  differ (the higher score is better). The rows also serve as a pointwise regression target.

`group` is the item a pair belongs to: texts are normalised (NFKC, case-folded, punctuation and
whitespace collapsed) and every text that occurs in two rows joins their groups (union-find), so a
paragraph shared by several LAMP files never lands on both sides of a train/dev split.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

__all__ = [
    "Pair",
    "Scored",
    "assign_groups",
    "is_dev",
    "link_scored_pairs",
    "load_human_vs_ai_pairs",
    "load_pairs",
    "load_scored",
    "normalise",
    "read_jsonl",
]

ITERATER_DROP = frozenset({"meaning-changed", "others"})
ARXIV_DROP = frozenset({"Content", "Format"})


@dataclass
class Pair:
    """A preference: `better` is preferred to `worse`."""

    better: str
    worse: str
    source: str
    id: str = ""
    weight: float = 1.0
    group: str = ""

    @property
    def length_adversarial(self) -> bool:
        """The preferred text is the longer one (a "shorter wins" heuristic gets it wrong)."""
        return len(self.better.split()) > len(self.worse.split())


@dataclass
class Scored:
    """A text with a human quality score (higher is better)."""

    text: str
    score: float
    source: str
    id: str = ""
    group: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


def read_jsonl(path: str | Path) -> Iterator[dict[str, Any]]:
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


_PUNCT_WS = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """NFKC, case-folded, punctuation and whitespace collapsed to single spaces."""
    return _PUNCT_WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def _keep_edit(row: dict[str, Any]) -> bool:
    source = row.get("source", "")
    meta = row.get("meta") or {}
    if row.get("original", "").strip() == row.get("edited", "").strip():
        return False
    if source.startswith("iterater"):
        if "intent" in meta:
            return meta["intent"] not in ITERATER_DROP
        counts = meta.get("intent_counts") or {}
        kept = {k: v for k, v in counts.items() if k not in ITERATER_DROP}
        return bool(kept) and not meta.get("only_meaning_changed", False)
    if source == "arxivedits":
        intentions = set(meta.get("intentions") or [])
        return bool(intentions - ARXIV_DROP)
    return True


def load_pairs(paths: Iterable[str | Path], weights: dict[str, float] | None = None) -> list[Pair]:
    """Pairs from edit_pair files (`original`/`edited`) and pair files (`chosen`/`rejected`)."""
    weights = weights or {}
    pairs = []
    for path in paths:
        for row in read_jsonl(path):
            source = row.get("source") or Path(path).stem
            if "chosen" in row:
                better, worse = row["chosen"], row["rejected"]
            elif "edited" in row:
                if not _keep_edit(row):
                    continue
                better, worse = row["edited"], row["original"]
            else:
                raise ValueError(
                    f"{path}: row {row.get('id')} has neither chosen/rejected nor original/edited"
                )
            if not better.strip() or not worse.strip() or better.strip() == worse.strip():
                continue
            pairs.append(
                Pair(better, worse, source, id=str(row.get("id", "")), weight=weights.get(source, 1.0))
            )
    return pairs


def load_scored(paths: Iterable[str | Path]) -> list[Scored]:
    """Scored texts; non-numeric scores are skipped."""
    out = []
    for path in paths:
        for row in read_jsonl(path):
            try:
                score = float(row["score"])
            except (KeyError, TypeError, ValueError):
                continue
            if row.get("text", "").strip():
                out.append(
                    Scored(
                        row["text"],
                        score,
                        row.get("source") or Path(path).stem,
                        str(row.get("id", "")),
                        meta=row.get("meta") or {},
                    )
                )
    return out


def _shingles(text: str, k: int = 4) -> set[tuple[str, ...]]:
    words = normalise(text).split()
    return {tuple(words[i : i + k]) for i in range(max(1, len(words) - k + 1))}


def link_scored_pairs(items: Sequence[Scored], min_ratio: float = 0.5, min_shared: int = 3) -> list[Pair]:
    """Link pre/post versions among scored rows and turn each linked couple into a pair.

    Candidates share at least `min_shared` word 4-grams; a couple is linked when difflib's word
    sequence ratio is ≥ `min_ratio`. Each row is linked to its most similar candidate; couples
    with equal scores give no pair.
    """
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    shingles = [_shingles(it.text) for it in items]
    for i, sh in enumerate(shingles):
        for s in sh:
            index[s].append(i)
    words = [normalise(it.text).split() for it in items]
    seen: set[tuple[int, int]] = set()
    pairs = []
    for i, sh in enumerate(shingles):
        counts: dict[int, int] = defaultdict(int)
        for s in sh:
            for j in index[s]:
                if j != i:
                    counts[j] += 1
        best, best_ratio = None, min_ratio
        for j, c in counts.items():
            if c < min_shared:
                continue
            ratio = SequenceMatcher(None, words[i], words[j], autojunk=False).ratio()
            if ratio >= best_ratio:
                best, best_ratio = j, ratio
        if best is None:
            continue
        key = (min(i, best), max(i, best))
        if key in seen:
            continue
        seen.add(key)
        a, b = items[key[0]], items[key[1]]
        if a.score == b.score:
            continue
        hi, lo = (a, b) if a.score > b.score else (b, a)
        pairs.append(Pair(hi.text, lo.text, f"{hi.source}_linked", id=f"{lo.id}>{hi.id}"))
    return pairs


def assign_groups(pairs: Sequence[Pair], scored: Sequence[Scored] = ()) -> None:
    """Set `.group` on pairs and scored items: connected components of shared normalised texts."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    def key(text: str) -> str:
        return hashlib.sha1(normalise(text).encode()).hexdigest()

    for p in pairs:
        union(key(p.better), key(p.worse))
    for s in scored:
        find(key(s.text))
    for p in pairs:
        p.group = find(key(p.better))
    for s in scored:
        s.group = find(key(s.text))


def is_dev(group: str, dev_percent: int = 20, seed: int = 0) -> bool:
    """Deterministic split by group: sha1(seed|group) mod 100 < dev_percent."""
    h = int(hashlib.sha1(f"{seed}|{group}".encode()).hexdigest(), 16)
    return h % 100 < dev_percent


INSTRUCTION_ERA = frozenset({"davinci", "gpt-3.5-turbo", "gpt-4"})


def load_human_vs_ai_pairs(
    path: str | Path,
    *,
    domain: str = "creative_writing",
    max_pairs: int = 600,
    seed: int = 0,
    weight: float = 1.0,
) -> list[Pair]:
    """Human ≻ AI pairs on the same prompt from a human_vs_ai file (rows linked by
    `meta.paired_human_id`), both texts without the prompt prefix they share
    (`meta.shared_prefix_chars`). Every instruction-era AI row (davinci, GPT-3.5, GPT-4) is kept,
    then a seeded sample of the others up to `max_pairs`; `group` is the prompt, so one prompt
    never lands on both sides of a split."""
    import random

    rows = list(read_jsonl(path))
    human = {r["id"]: r for r in rows if r.get("label") == "human" and r.get("domain") == domain}
    ai = [r for r in rows if r.get("label") == "ai" and (r.get("meta") or {}).get("paired_human_id") in human]
    ai.sort(key=lambda r: (r.get("model") not in INSTRUCTION_ERA, r["id"]))
    era = [r for r in ai if r.get("model") in INSTRUCTION_ERA]
    rest = [r for r in ai if r.get("model") not in INSTRUCTION_ERA]
    random.Random(f"{seed}|human_vs_ai").shuffle(rest)
    pairs = []
    for r in (era + rest)[:max_pairs]:
        cut = int((r.get("meta") or {}).get("shared_prefix_chars", 0))
        h = human[r["meta"]["paired_human_id"]]
        better, worse = h["text"][cut:].strip(), r["text"][cut:].strip()
        if better and worse and better != worse:
            group = (h.get("meta") or {}).get("group", h["id"])
            pairs.append(Pair(better, worse, "human_vs_ai", id=r["id"], weight=weight, group=f"hva:{group}"))
    return pairs
