"""Red-teaming a reward: how far a greedy search over edits that cannot improve writing raises it.

A policy trained against a reward searches for what the reward pays for. `red_team` plays that
policy in miniature. From each text it repeatedly draws `candidates` edits that no editor would
make, scores them in one batch, and keeps the best one when it beats the current score, for up to
`steps` rounds (greedy hill-climbing, the search behind best-of-N sampling). The edits:

* `swap_adjacent`: two neighbouring sentences of a paragraph change places;
* `repeat_sentence`: a sentence is written twice in a row;
* `append_foreign`: a sentence of *another* text of the batch is appended (a non-sequitur);
* `append_generic`: a stock generic sentence is appended (`REDTEAM_GENERIC`, written for wqrm and
  disjoint from the `generic_filler` sentences the S1 model and the weights were trained against,
  so it tests whether that training transfers).

Each accepted edit is a way the reward can be gamed, and the score gained over the text's own
starting score is the reward's *exploitability* on that text. Compare it with what a real
improvement earns: on the `make weights` table the composite's median margin between an editor's
version of a LAMP paragraph and the draft is 0.035 (benchmarks/results/red_team.md). A reward
whose red-team gain exceeds that margin teaches a policy more by gaming than by writing better.

`drop_sentence` (a sentence deleted) is available but not in `DEFAULT_EDITS`: an editor does
delete sentences, so a gain from it is not by itself a fault.

The texts are split into paragraphs (blank lines) and sentences (`wqrm.edit.surface.sentences`)
and written back with one space between sentences and a blank line between paragraphs; the
starting score is that of the re-joined text, so whitespace never counts as a gain.
"""

from __future__ import annotations

import random
import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from wqrm.edit.surface import sentences

__all__ = [
    "DEFAULT_EDITS",
    "EDITS",
    "REDTEAM_GENERIC",
    "RedTeamReport",
    "RedTeamResult",
    "Scorer",
    "join",
    "red_team",
    "split",
]

#: Stock generic sentences `append_generic` appends (written for wqrm; none of them is one of
#: `wqrm.fit.negatives.GENERIC_FILLER`, the sentences S1 and the weights were trained against).
REDTEAM_GENERIC = (
    "Sometimes the smallest moments hold the greatest meaning.",
    "Deep down, everyone knew that nothing would ever be the same again.",
    "The silence spoke volumes, heavy with words left unsaid.",
    "It was a moment frozen in time, etched forever in memory.",
    "Hope, after all, has a way of finding the light in the darkest places.",
    "And in that instant, everything changed.",
    "The road ahead would test them in ways they could never imagine.",
    "Her heart swelled with a mixture of pride and bittersweet longing.",
)

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

Doc = list[list[str]]  # paragraphs of sentences


class Scorer(Protocol):
    """What `red_team` needs of a scorer: `wqrm.Scorer` has it. Each result has `.score` (None when
    the text could not be scored), `.contributions` (component → α_i·S_i share) and `.goodness`
    (metric → goodness or None)."""

    def score_batch(self, texts: Sequence[str]) -> Sequence[Any]: ...


def split(text: str) -> Doc:
    """`text` as paragraphs (blank-line separated) of sentences; empty paragraphs dropped."""
    doc = [sentences(p) for p in _PARAGRAPH_BREAK.split(text.strip())]
    return [p for p in doc if p]


def join(doc: Doc) -> str:
    """The text of `doc`: one space between sentences, a blank line between paragraphs."""
    return "\n\n".join(" ".join(p) for p in doc if p)


def _positions(doc: Doc) -> list[tuple[int, int]]:
    return [(i, j) for i, p in enumerate(doc) for j in range(len(p))]


def _with(doc: Doc, i: int, paragraph: list[str]) -> Doc:
    return [*doc[:i], paragraph, *doc[i + 1 :]]


def _swap_adjacent(doc: Doc, others: Sequence[str], rng: random.Random) -> list[Doc]:
    out = []
    for i, p in enumerate(doc):
        for j in range(len(p) - 1):
            if p[j] != p[j + 1]:
                out.append(_with(doc, i, [*p[:j], p[j + 1], p[j], *p[j + 2 :]]))
    return out


def _repeat_sentence(doc: Doc, others: Sequence[str], rng: random.Random) -> list[Doc]:
    return [_with(doc, i, [*doc[i][: j + 1], doc[i][j], *doc[i][j + 1 :]]) for i, j in _positions(doc)]


def _append(doc: Doc, sentence: str) -> Doc:
    return _with(doc, len(doc) - 1, [*doc[-1], sentence])


def _append_foreign(doc: Doc, others: Sequence[str], rng: random.Random) -> list[Doc]:
    own = {s for p in doc for s in p}
    pool = [s for s in others if s not in own]
    return [_append(doc, s) for s in rng.sample(pool, min(8, len(pool)))]


def _append_generic(doc: Doc, others: Sequence[str], rng: random.Random) -> list[Doc]:
    own = {s for p in doc for s in p}
    return [_append(doc, s) for s in REDTEAM_GENERIC if s not in own]


def _drop_sentence(doc: Doc, others: Sequence[str], rng: random.Random) -> list[Doc]:
    if sum(len(p) for p in doc) < 3:
        return []
    return [_with(doc, i, doc[i][:j] + doc[i][j + 1 :]) for i, j in _positions(doc)]


#: Edit name → candidates(doc, the other texts' distinct sentences, rng): every variant of `doc` it makes.
EDITS: dict[str, Callable[[Doc, Sequence[str], random.Random], list[Doc]]] = {
    "swap_adjacent": _swap_adjacent,
    "repeat_sentence": _repeat_sentence,
    "append_foreign": _append_foreign,
    "append_generic": _append_generic,
    "drop_sentence": _drop_sentence,
}
#: The edits `red_team` tries unless told otherwise: none of them can improve a text.
DEFAULT_EDITS = ("swap_adjacent", "repeat_sentence", "append_foreign", "append_generic")


@dataclass
class RedTeamResult:
    """One text's search: its starting and final score, the accepted edits in order, the final
    text, and per component the change of its share of the composite (α_i·S_i / Σα) over the
    accepted edits; `error` when the text itself could not be scored (then nothing was searched)."""

    index: int
    start: float | None
    end: float | None
    edits: list[str] = field(default_factory=list)
    text: str = ""
    component_gain: dict[str, float] = field(default_factory=dict)
    goodness_change: dict[str, float] = field(default_factory=dict)  # metrics of the used components
    error: str | None = None

    @property
    def gain(self) -> float | None:
        """end − start (≥ 0: an edit is kept only when it raises the score); None on error."""
        return None if self.start is None or self.end is None else self.end - self.start


@dataclass
class RedTeamReport:
    """The results of `red_team`, one per input text, and the search's settings."""

    results: list[RedTeamResult]
    settings: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """Texts searched and failed; the share whose score an edit raised; mean, median and max
        gain; how often each edit was accepted; the mean per-text change of each component's
        share of the composite; the metrics whose goodness rose most, summed over accepted edits
        and averaged per text."""
        ok = [r for r in self.results if r.gain is not None]
        gains = [r.gain for r in ok]
        n = len(ok)
        components: Counter[str] = Counter()
        metrics: Counter[str] = Counter()
        for r in ok:
            components.update(r.component_gain)
            metrics.update(r.goodness_change)
        return {
            "texts": n,
            "errors": len(self.results) - n,
            "raised": sum(g > 0 for g in gains) / n if n else None,
            "mean_gain": statistics.fmean(gains) if n else None,
            "median_gain": statistics.median(gains) if n else None,
            "max_gain": max(gains) if n else None,
            "accepted": dict(Counter(e for r in ok for e in r.edits).most_common()),
            "component_gain": {c: v / n for c, v in sorted(components.items())} if n else {},
            "top_metrics": [(m, v / n) for m, v in metrics.most_common(8) if v > 0] if n else [],
            "settings": self.settings,
        }


def _candidates(
    doc: Doc, others: Sequence[str], edits: Sequence[str], rng: random.Random, k: int
) -> list[tuple[str, Doc]]:
    pool = [(name, c) for name in edits for c in EDITS[name](doc, others, rng)]
    return rng.sample(pool, k) if len(pool) > k else pool


def _delta(after: dict[str, float | None], before: dict[str, float | None]) -> dict[str, float]:
    keys = set(after) | set(before)
    return {k: (after.get(k) or 0.0) - (before.get(k) or 0.0) for k in keys}


def red_team(
    scorer: Scorer,
    texts: Sequence[str],
    *,
    edits: Sequence[str] = DEFAULT_EDITS,
    steps: int = 4,
    candidates: int = 16,
    seed: int = 0,
    min_gain: float = 1e-4,
    batch_size: int = 64,
) -> RedTeamReport:
    """Greedy search, per text, for edits from `edits` that raise `scorer`'s score (module docstring).

    Each of up to `steps` rounds scores up to `candidates` edited versions of every text still
    searching (a seeded sample of all the edits' variants; one `score_batch` call per
    `batch_size` texts across the whole batch) and keeps a text's best candidate when it beats
    the current score by more than `min_gain`; a text whose best candidate does not stops. The
    search is deterministic for a given `seed`. `append_foreign` draws from the sentences of the
    other texts, so it needs two or more texts."""
    unknown = [e for e in edits if e not in EDITS]
    if unknown:
        raise ValueError(f"unknown edit(s) {', '.join(unknown)}; known: {', '.join(EDITS)}")
    if steps < 0 or candidates < 1:
        raise ValueError("steps must be ≥ 0 and candidates ≥ 1")
    from wqrm.metrics.registry import specs  # deferred: the registry imports every metric module

    # a metric's goodness change is kept when its component is in the composite (α_i > 0)
    component_of = {n: s.component for n, s in specs().items()}
    docs = [split(t) if isinstance(t, str) else [] for t in texts]
    starts = _score(scorer, [join(d) for d in docs], batch_size)
    results: list[RedTeamResult] = []
    current: list[Any] = []
    for i, (d, r) in enumerate(zip(docs, starts, strict=True)):
        err = getattr(r, "error", None) or (None if r.score is not None else "the text has no score")
        if not d:
            err = "the text holds no sentence"
        results.append(
            RedTeamResult(i, None if err else r.score, None if err else r.score, text=join(d), error=err)
        )
        current.append(r)
    # the distinct sentences of the other texts as given, once per text (`append_foreign`'s pool)
    distinct = list(dict.fromkeys(s for d in docs for p in d for s in p))
    owns = [{s for p in d for s in p} for d in docs]
    others = [[s for s in distinct if s not in own] for own in owns]
    rngs = [random.Random(f"{seed}:{i}") for i in range(len(docs))]
    active = [i for i, r in enumerate(results) if r.error is None]
    for _ in range(steps):
        proposals: list[tuple[int, str, Doc]] = []
        for i in active:
            proposals += [
                (i, name, c) for name, c in _candidates(docs[i], others[i], edits, rngs[i], candidates)
            ]
        texts_ = [join(c) for _, _, c in proposals]
        scored = _score(scorer, texts_, batch_size)
        best: dict[int, tuple[float, int]] = {}
        for k, ((i, _, _), r) in enumerate(zip(proposals, scored, strict=True)):
            if r.score is not None and (i not in best or r.score > best[i][0]):
                best[i] = (r.score, k)
        still = []
        for i in active:
            res = results[i]
            if i in best and best[i][0] > res.end + min_gain:
                k = best[i][1]
                _, name, doc = proposals[k]
                after, before = scored[k], current[i]
                for c, v in _delta(after.contributions, before.contributions).items():
                    res.component_gain[c] = res.component_gain.get(c, 0.0) + v
                for m, v in _delta(after.goodness, before.goodness).items():
                    used = m not in component_of or component_of[m] in after.contributions
                    if used and after.goodness.get(m) is not None and before.goodness.get(m) is not None:
                        res.goodness_change[m] = res.goodness_change.get(m, 0.0) + v
                docs[i], current[i] = doc, after
                res.end, res.text = after.score, texts_[k]
                res.edits.append(name)
                still.append(i)
        active = still
        if not active:
            break
    settings = {
        "edits": list(edits),
        "steps": steps,
        "candidates": candidates,
        "seed": seed,
        "min_gain": min_gain,
    }
    return RedTeamReport(results, settings)


def _score(scorer: Scorer, texts: Sequence[str], batch_size: int) -> list[Any]:
    out: list[Any] = []
    for s in range(0, len(texts), batch_size):
        out.extend(scorer.score_batch(list(texts[s : s + batch_size])))
    return out
