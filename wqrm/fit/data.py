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

from wqrm.jsonl import records
from wqrm.textio import InvalidTextError, validate_text

__all__ = [
    "NoPreference",
    "Pair",
    "RowError",
    "Scored",
    "assign_groups",
    "check_files",
    "is_dev",
    "link_scored_pairs",
    "load_human_vs_ai_pairs",
    "load_pairs",
    "load_scored",
    "normalise",
    "pair_texts",
    "read_jsonl",
    "source_group",
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
    meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
    if row["original"].strip() == row["edited"].strip():
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


class RowError(ValueError):
    """A pair row that cannot be used; the message says why."""


class NoPreference(RowError):
    """A well-formed row that states no preference: a text is empty, or both are the same."""


def _message_text(message: Any) -> str:
    """The text of one chat message: its `content` string, or the joined text parts of a content list."""
    if not isinstance(message, dict) or "content" not in message:
        raise RowError("a message must be an object with a 'content' field")
    content = message["content"]
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": "…"}, …]
        parts = [c.get("text") for c in content if isinstance(c, dict) and c.get("type") == "text"]
        if parts and all(isinstance(t, str) for t in parts):
            return "\n\n".join(parts)
    raise RowError("a message's 'content' must be a string (or a list of text parts)")


def _completions(chosen: Any, rejected: Any, prompt: Any) -> tuple[str, str]:
    """(chosen text, rejected text) of a TRL preference row: standard (strings) or conversational
    (lists of {"role", "content"} messages). With an implicit prompt (no "prompt" field), the
    conversational prompt is the messages both lists begin with, as TRL's `extract_prompt` finds
    it; the completion is what follows, its messages joined by blank lines. Standard strings are
    scored whole (a shared leading word is not a prompt)."""
    if isinstance(chosen, str) and isinstance(rejected, str):
        return chosen, rejected
    if isinstance(chosen, list) and isinstance(rejected, list):
        if prompt is None:
            k = 0
            while k < min(len(chosen), len(rejected)) and chosen[k] == rejected[k]:
                k += 1
            chosen, rejected = chosen[k:], rejected[k:]
        if not chosen or not rejected:
            raise RowError("a conversational row needs completion messages after the prompt")
        return (
            "\n\n".join(_message_text(m) for m in chosen),
            "\n\n".join(_message_text(m) for m in rejected),
        )
    raise RowError(
        "'chosen' and 'rejected' must both be strings (TRL standard format) or both lists of "
        "messages (TRL conversational format)"
    )


def pair_texts(row: Any) -> tuple[str, str] | None:
    """(better, worse) of one pair row, None for an edit the filters drop (see the module docstring);
    `RowError` says why a row is unusable.

    Accepted rows: edit pairs `{"original", "edited"}` (the edit is better) and preference pairs
    `{"chosen", "rejected"}` in TRL's formats — standard or conversational, with an explicit
    `"prompt"` or an implicit one."""
    if not isinstance(row, dict):
        raise RowError("expected a JSON object")
    if "chosen" in row or "rejected" in row:
        if row.get("chosen") is None or row.get("rejected") is None:
            raise RowError("a preference row needs both 'chosen' and 'rejected'")
        better, worse = _completions(row["chosen"], row["rejected"], row.get("prompt"))
    elif "edited" in row or "original" in row:
        if not isinstance(row.get("original"), str) or not isinstance(row.get("edited"), str):
            raise RowError("an edit row needs 'original' and 'edited' strings")
        if not _keep_edit(row):
            return None
        better, worse = row["edited"], row["original"]
    else:
        raise RowError("neither chosen/rejected nor original/edited")
    for name, text in (("preferred", better), ("other", worse)):
        if not text.strip():
            raise NoPreference(f"the {name} text is empty")
        try:
            validate_text(text)
        except InvalidTextError as exc:
            raise RowError(f"the {name} text: {exc}") from None
    if better.strip() == worse.strip():
        raise NoPreference("both texts are the same")
    return better, worse


def _pair_rows(
    paths: Iterable[str | Path],
) -> Iterator[tuple[Path, int, Any, tuple[str, str] | None, RowError | None]]:
    """(file, line, row, (better, worse) or None, error) for every non-blank line of pair files."""
    for path in paths:
        for n, row, error in records(path):
            try:
                if error is not None:
                    raise RowError(error.removeprefix(f"line {n}: "))
                yield Path(path), n, row, pair_texts(row), None
            except RowError as exc:
                yield Path(path), n, row, None, exc


def load_pairs(
    paths: Iterable[str | Path],
    weights: dict[str, float] | None = None,
    *,
    problems: list[str] | None = None,
) -> list[Pair]:
    """Pairs from edit-pair files (`original`/`edited`) and preference files (`chosen`/`rejected`,
    TRL's standard and conversational formats; see `pair_texts`).

    Without `problems`, the first malformed row raises `ValueError` naming its file and line, and
    rows that state no preference (an empty text, two equal texts) are left out; with a list, one
    message per unusable row ("file, line n: why") is appended to it and the row is left out. Edits
    the source filters drop are left out silently (they are data choices, not errors)."""
    weights = weights or {}
    pairs = []
    for path, n, row, texts, error in _pair_rows(paths):
        if error is not None:
            if problems is not None:
                problems.append(f"{path}, line {n}: {error}")
            elif not isinstance(error, NoPreference):
                raise ValueError(f"{path}, line {n}: {error}")
            continue
        if texts is None:
            continue
        source = row.get("source")
        source = source if isinstance(source, str) and source else path.stem
        row_id = row.get("id")
        pairs.append(
            Pair(*texts, source, id="" if row_id is None else str(row_id), weight=weights.get(source, 1.0))
        )
    return pairs


def check_files(pair_files: Iterable[str | Path] = (), other_files: Iterable[str | Path] = ()) -> list[str]:
    """Every malformed row of pair files (see `pair_texts`) and of other JSONL files (each line must
    be a JSON object), as "file, line n: why" — what a fit checks before it loads any model. Rows
    that state no preference are not malformed (the fit leaves them out)."""
    problems = [
        f"{path}, line {n}: {error}"
        for path, n, _, _, error in _pair_rows(pair_files)
        if error is not None and not isinstance(error, NoPreference)
    ]
    for path in other_files:
        for n, row, error in records(path):
            if error is not None or not isinstance(row, dict):
                problems.append(f"{path}, line {n}: {error or 'expected a JSON object'}")
    return problems


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


def source_group(source: str) -> str:
    """The group a pair source belongs to when sources are held out in turn (`wqrm.fit.loso`):
    LAMP's files are one source, the silver expert-vs-AI pairs another, IteraTeR's two files one,
    every systematic negative one."""
    if source.startswith("negative"):
        return "negatives"
    if source.startswith("lamp_S_val"):
        return "silver"
    if source.startswith("lamp"):
        return "lamp"
    if source.startswith("iterater"):
        return "iterater"
    return source
