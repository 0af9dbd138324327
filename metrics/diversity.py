"""Diversity among candidates for the same prompt (component S8).

These metrics read a `MetricContext`:

* ``ctx.siblings``: the `Analysis` of every candidate written for the same prompt. The candidate
  being scored may be included (it is skipped by identity); at least one *other* candidate is
  needed.
* ``ctx.prompt``: the prompt text (for `prompt_adherence`).
* ``ctx.quality``: this candidate's quality in [0, 1] — the composite score without S8
  (for `qd_balance`); the scorer computes it before S8.

Text embeddings are `wqrm.metrics.style.text_embedding` (the normalised mean of the text's
paragraph embeddings of all-MiniLM-L6-v2 sentence embeddings), so call
`wqrm.analysis.embed_sentences` on all candidates first to batch the encoder.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from wqrm.analysis import Analysis, encode_unit
from wqrm.metrics.registry import MetricContext, MetricUndefined, metric
from wqrm.metrics.style import text_embedding

__all__ = ["deviation", "prompt_adherence", "qd_balance"]


def _embedding(a: Analysis) -> np.ndarray:
    if not a.sentences:
        raise MetricUndefined("the text has no sentences to embed")
    e = text_embedding(a)
    if not np.all(np.isfinite(e)) or np.linalg.norm(e) == 0:
        raise MetricUndefined("the text has no usable embedding")
    return e


def _others(a: Analysis, ctx: MetricContext | None) -> list[Analysis]:
    if ctx is None or not ctx.siblings:
        raise MetricUndefined("no sibling candidates for this prompt (a single candidate has no deviation)")
    others = [s for s in ctx.siblings if s is not a]
    if not others:
        raise MetricUndefined("no other candidate for this prompt (a single candidate has no deviation)")
    return others


@metric(
    "deviation",
    component="S8",
    direction="higher",
    reference="Chung et al. 2025 (DDPO deviation δ)",
    valid_range=(0.0, 2.0),
    band=(0.0, 0.5),  # goodness ramp 0 → 1 over δ ∈ [0, 0.5] (MiniLM: distinct stories ≈ 0.3-0.6)
    resources=("spacy", "sentence_encoder"),
)
def deviation(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Deviation from the other candidates: δ = (1/|S|) Σ_{s ∈ S} (1 − cos(e(text), e(s))).

    S = the other candidates for the same prompt (``ctx.siblings``, this text skipped), e = the
    normalised mean paragraph embedding (all-MiniLM-L6-v2). Range [0, 2]; 0 for a candidate
    identical to every other. Undefined for a single candidate.
    """
    others = _others(a, ctx)
    e = _embedding(a)
    sims = [float(e @ _embedding(s)) for s in others]
    return float(np.mean([1.0 - s for s in sims]))


@lru_cache(maxsize=256)
def _prompt_embedding(prompt: str) -> tuple[float, ...]:
    return tuple(float(x) for x in encode_unit([prompt])[0])


@metric(
    "prompt_adherence",
    component="S8",
    direction="higher",
    reference="Chung et al. 2025 (quality-diversity trade-off: staying on the prompt)",
    valid_range=(-1.0, 1.0),
    band=(0.1, 0.6),  # goodness ramp 0 → 1 over cosine 0.1 → 0.6 (off-prompt → clearly on-prompt)
    resources=("spacy", "sentence_encoder"),
)
def prompt_adherence(a: Analysis, ctx: MetricContext | None = None) -> float:
    """cos(e(prompt), e(text)): how close the candidate stays to its prompt.

    e(prompt) = the all-MiniLM-L6-v2 embedding of the whole prompt string (unit length; cached
    per prompt); e(text) as in `deviation`. Range [−1, 1]. Undefined without ``ctx.prompt``.
    """
    if ctx is None or not ctx.prompt or not ctx.prompt.strip():
        raise MetricUndefined("no prompt given")
    p = np.asarray(_prompt_embedding(ctx.prompt.strip()))
    return float(np.clip(p @ _embedding(a), -1.0, 1.0))


@metric(
    "qd_balance",
    component="S8",
    direction="higher",
    reference="Chung et al. 2025 (quality-diversity balance)",
    valid_range=(0.0, 1.0),
    band=(0.0, 1.0),  # already a goodness: identity ramp
    resources=("spacy", "sentence_encoder"),
)
def qd_balance(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Harmonic mean of the candidate's quality q and its deviation d: 2 q d / (q + d).

    q = ``ctx.quality`` (the composite score without S8, in [0, 1]); d = `deviation`
    clipped to [0, 1]. 0 when both are 0. Range [0, 1]. Undefined without a quality or without
    other candidates.
    """
    q = None if ctx is None else ctx.quality
    if q is None:
        raise MetricUndefined("no quality for this candidate (ctx.quality: its composite without S8)")
    q = float(q)
    if not 0.0 <= q <= 1.0:
        raise MetricUndefined(f"quality {q} outside [0, 1]")
    d = min(max(deviation(a, ctx), 0.0), 1.0)
    return 0.0 if q + d == 0 else 2.0 * q * d / (q + d)
