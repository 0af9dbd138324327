"""The score cache of a benchmark run: every distinct text scored once, resumable.

`RUN/scores.jsonl` holds one row per distinct text, keyed by sha1 of the text: `{"key",
"n_words", "score", "components", "metrics", "goodness", "reasons", "spans", "error"}`. Rows are
appended and flushed chunk by chunk, so a killed run resumes where it stopped (a partly written
last line is dropped on reopening). `RUN/scores.meta.json` records what scored them (wqrm version,
weights and their α, profile name and hash, metric names); reopening a run directory with another
scorer is refused rather than mixing scores from two models.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from wqrm import __version__

__all__ = ["CacheMismatchError", "ScoreCache", "scorer_fingerprint", "text_key"]

SCORES_FILE = "scores.jsonl"
META_FILE = "scores.meta.json"


class CacheMismatchError(RuntimeError):
    """The run directory's cached scores come from a different scorer."""


def text_key(text: str) -> str:
    """sha1 of the UTF-8 text: the cache key."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def scorer_fingerprint(scorer: Any) -> dict[str, Any]:
    """What makes two scorers give the same scores: wqrm version, weights (name and α), profile
    (name and a hash of its content) and the metric names."""
    profile_json = json.dumps(scorer.profile.to_json(), sort_keys=True, ensure_ascii=False)
    return {
        "wqrm": __version__,
        "weights": scorer.weights.name,
        "alpha": {c: round(a, 12) for c, a in scorer.weights.alpha().items()},
        "profile": scorer.profile.name,
        "profile_sha1": hashlib.sha1(profile_json.encode("utf-8")).hexdigest(),
        "metrics": sorted(scorer.metric_names),
    }


def _result_row(key: str, r: Any) -> dict[str, Any]:
    return {
        "key": key,
        "n_words": r.n_words,
        "score": r.score,
        "components": r.components,
        "metrics": r.metrics,
        "goodness": r.goodness,
        "reasons": {**r.component_reasons, **r.reasons},
        "spans": r.spans,
        "error": r.error,
    }


class ScoreCache:
    """Scores per distinct text in `run_dir/scores.jsonl` (module docstring)."""

    def __init__(self, run_dir: str | Path, fingerprint: dict[str, Any]):
        self.dir = Path(run_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.path = self.dir / SCORES_FILE
        meta_path = self.dir / META_FILE
        if meta_path.exists():
            old = json.loads(meta_path.read_text(encoding="utf-8"))
            if old != fingerprint:
                changed = sorted(k for k in set(old) | set(fingerprint) if old.get(k) != fingerprint.get(k))
                raise CacheMismatchError(
                    f"{self.dir} holds scores from a different scorer ({', '.join(changed)} differ); "
                    "use another --out directory, or --rescore to discard them"
                )
        else:
            meta_path.write_text(json.dumps(fingerprint, indent=1) + "\n", encoding="utf-8")
        self.rows: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):  # killed mid-write: drop the partial last line
            self.path.write_bytes(complete)
        for line in complete.decode("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                self.rows[row["key"]] = row

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, text: str) -> dict[str, Any] | None:
        return self.rows.get(text_key(text))

    def missing(self, texts: Iterable[str]) -> list[str]:
        """Distinct texts not yet scored, in first-seen order."""
        return [t for t in dict.fromkeys(texts) if text_key(t) not in self.rows]

    def add(self, rows: Sequence[dict[str, Any]]) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            for row in rows:
                self.rows[row["key"]] = row
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            fh.flush()

    def score(
        self,
        texts: Sequence[str],
        scorer: Any,
        *,
        chunk: int = 16,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Score every distinct text not yet cached with `scorer.score_batch`, `chunk` texts at a
        time, appending each chunk as it finishes; `progress(done, total)` after each chunk.
        Returns the number of texts scored now (the others were cached)."""
        todo = self.missing(texts)
        if progress:
            progress(0, len(todo))
        for start in range(0, len(todo), chunk):
            part = todo[start : start + chunk]
            results = scorer.score_batch(part)
            self.add([_result_row(text_key(t), r) for t, r in zip(part, results, strict=True)])
            if progress:
                progress(start + len(part), len(todo))
        return len(todo)
