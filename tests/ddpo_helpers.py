"""A table-driven stand-in for `wqrm.Scorer` (no models): DDPO logic tests run in milliseconds."""

from __future__ import annotations

from wqrm.components import COMPONENT_NAMES
from wqrm.result import ScoreBatch, ScoreResult
from wqrm.weights import UniformWeights


class FakeScorer:
    """text → (quality q, deviation d, words n). Components: S1 = q, S8 = d (S8 only with `group=True`);
    the composite is the uniform mean of the components a text has, so score = (q + d) / 2 in a group
    and the composite without S8 is q. Unknown texts fail like unscorable text."""

    weights = UniformWeights()

    def __init__(self, table: dict[str, tuple[float, float, int]]):
        self.table = table
        self.calls: list[tuple[list[str], str | None, bool]] = []

    def composite(self, comps):
        used = [c for c, v in comps.items() if v is not None]
        if not used:
            return None, []
        return sum(comps[c] for c in used) / len(used), used

    def score_batch(self, texts, ids=None, *, prompt=None, group=False, **context):
        self.calls.append((list(texts), prompt, group))
        ids = list(ids) if ids is not None else list(range(len(texts)))
        out = []
        for i, t in zip(ids, texts, strict=True):
            if t not in self.table:
                out.append(ScoreResult.failed("empty text: nothing to score", i))
                continue
            q, d, n = self.table[t]
            comps = dict.fromkeys(COMPONENT_NAMES)
            comps["S1"] = q
            metrics = {}
            if group and len(texts) > 1:
                comps["S8"] = d
                metrics["deviation"] = d
            score, used = self.composite(comps)
            out.append(
                ScoreResult(
                    score=score, components=comps, metrics=metrics, used_components=used, n_words=n, id=i
                )
            )
        return ScoreBatch(out)
