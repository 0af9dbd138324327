"""wqrm inside other libraries' frameworks, and as a reward inside trainers.

* `wqrm.integrations.evaluate_metric`: wqrm as a local Hugging Face `evaluate` metric module.
* `wqrm.integrations.trl`: `reward_function` (TRL's GRPO reward signature) and `DDPOTrainer`
  (TRL's `DPOTrainer` with a per-pair weight).
* `wqrm.integrations.serve`: an HTTP reward server (`wqrm serve`; OpenRLHF's `/get_reward` shape).

The trainer and the server score through `score_completions` below, so a completion gets the same
reward in-process and over HTTP.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from wqrm.ddpo import message_text, prompt_text
from wqrm.result import ScoreResult

__all__ = ["rewards", "score_completions"]


def score_completions(
    scorer: Any,
    completions: Sequence[Any],
    prompts: Sequence[Any] | None = None,
    *,
    group: bool = False,
) -> list[ScoreResult]:
    """Score each completion in the context of its prompt, in input order; never raises.

    Completions (strings, or lists of chat messages whose assistant messages are scored) that share a
    prompt are scored in one `scorer.score_batch` call with that prompt (for S8's prompt adherence);
    with `group=True` they are also scored as one candidate group (S8 deviation among them, so a
    completion's reward then depends on its siblings). A completion that cannot be scored gets a
    result with `.error` set and `.score` None.
    """
    n = len(completions)
    if prompts is not None and len(prompts) != n:
        raise ValueError(f"{len(prompts)} prompts for {n} completions")
    results: list[ScoreResult | None] = [None] * n
    buckets: dict[str, list[int]] = {}
    texts: dict[int, str] = {}
    for i, c in enumerate(completions):
        try:
            texts[i] = message_text(c)
        except ValueError as exc:
            results[i] = ScoreResult.failed(str(exc), i)
            continue
        p = None if prompts is None else prompts[i]
        buckets.setdefault(json.dumps(p, sort_keys=True, ensure_ascii=False), []).append(i)
    for idx in buckets.values():
        p = None if prompts is None else prompts[idx[0]]
        try:
            batch = scorer.score_batch([texts[i] for i in idx], idx, prompt=prompt_text(p), group=group)
        except Exception as exc:  # a scorer failure costs this prompt's completions, not the call
            batch = [ScoreResult.failed(f"scoring failed: {type(exc).__name__}: {exc}", i) for i in idx]
        for i, r in zip(idx, batch, strict=True):
            results[i] = r
    return results  # type: ignore[return-value]


def rewards(results: Sequence[ScoreResult], failure_reward: float = 0.0) -> list[float]:
    """One number per result: its composite score, or `failure_reward` when it has none (trainers need
    numbers; the composite's range is [0, 1], so the default 0.0 is the lowest reward)."""
    return [float(r.score) if r.score is not None else float(failure_reward) for r in results]
