"""DDPO: weighted preference pairs from scored candidate groups, the weighted DPO loss, best-of-N.

Diversified DPO (Chung et al. 2025, "Modifying Large Language Model Post-Training for Diverse
Creative Writing", arXiv:2503.17126) scales each pair's DPO loss by the *deviation* δ_w of its chosen
response — how far it lies from the other responses to the same prompt — so that rare good responses
teach more than common ones:

    L = −mean_pairs( δ_w · log σ(β · ((log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l)))) )

`build_pairs` scores one prompt's candidates as a group (composite *with* S8: deviation among
siblings, prompt adherence, quality-diversity balance), picks the best as `chosen` and pairs it with
every candidate at least `margin` below it (or only the worst); `ddpo_loss` is the loss above;
`best_of` is best-of-N reranking. `wqrm.pairs` streams a candidates JSONL through `build_pairs`;
`wqrm.integrations.trl.DDPOTrainer` trains on the pairs with TRL.

Nothing here imports torch at module level (`ddpo_loss` imports it when called).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wqrm.components import COMPONENT_NAMES

__all__ = [
    "MODES",
    "BestOf",
    "GroupPairs",
    "LengthBalancer",
    "best_of",
    "build_pairs",
    "ddpo_loss",
    "deviation_weights",
    "is_conversational",
    "message_text",
    "prompt_text",
]

MODES = ("all", "best-worst")


# ---- conversational and plain completions ---------------------------------------------------------


def is_conversational(value: Any) -> bool:
    """True for a list of chat messages (`[{"role", "content"}, …]`), TRL's conversational format."""
    return isinstance(value, list) and all(isinstance(m, Mapping) and "role" in m for m in value)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: [{"type": "text", "text": …}, …]
        parts = [p.get("text") for p in content if isinstance(p, Mapping) and p.get("type", "text") == "text"]
        if all(isinstance(p, str) for p in parts):
            return "\n".join(parts)
    raise ValueError(
        f"message content must be a string or a list of text parts, not {type(content).__name__}"
    )


def message_text(value: Any, roles: Sequence[str] = ("assistant",)) -> str:
    """The text of a completion or prompt: a string as it is; for a list of messages, the contents of
    the messages with one of `roles`, joined by a blank line. Raises ValueError for anything else."""
    if isinstance(value, str):
        return value
    if not is_conversational(value) or not value:
        raise ValueError(
            f"expected a string or a non-empty list of {{role, content}} messages, got {value!r:.80}"
        )
    texts = [_content_text(m.get("content")) for m in value if m.get("role") in roles]
    if not texts:
        raise ValueError(f"no message with role {' or '.join(roles)} in {value!r:.80}")
    return "\n\n".join(texts)


def prompt_text(prompt: Any) -> str | None:
    """The prompt as one string for prompt adherence: the string itself, or the contents of the user
    messages of a conversational prompt (None when there is none)."""
    if prompt is None:
        return None
    try:
        return message_text(prompt, roles=("user",))
    except ValueError:
        return None


def _as_messages(value: Any, role: str) -> Any:
    return value if is_conversational(value) else [{"role": role, "content": value}]


# ---- the deviation weight δ_w -----------------------------------------------------------------------


def deviation_weights(deviations: Sequence[float | None]) -> list[float | None]:
    """DDPO weights of a prompt's candidates from their deviations δ_i, normalised within the group.

        u_i = (δ_i − min_j δ_j) / (max_j δ_j − min_j δ_j)        w_i = u_i / mean_j u_j

    over the candidates j with a deviation (None stays None); every w_i = 1 when all deviations are
    equal (including a group of two, whose deviations are equal by symmetry). The weights of a group
    average 1 and lie in [0, n]: the least deviating candidate gets 0, so pairs it wins teach nothing.

    This is the normalisation of the authors' released code (mj-storytelling/DiversityTuning:
    `scripts_dataset_cleaner/3_data_prep_for_diversified_training.py` min-max scales δ to [−1, 1] and
    rescales it to s = (m_w·N − Σm)/(N + Σm); `models/ddpo_trainer.py` multiplies the loss by s + 1,
    which simplifies to u_w / mean(u) above). They normalise over every pair member with repeats;
    here each distinct candidate counts once.
    """
    known = [d for d in deviations if d is not None and math.isfinite(d)]
    if not known:
        return [None for _ in deviations]
    lo, hi = min(known), max(known)
    if hi - lo <= 1e-12:
        return [None if d is None else 1.0 for d in deviations]
    u = [None if d is None else (d - lo) / (hi - lo) for d in deviations]
    mean_u = sum(x for x in u if x is not None) / len(known)
    return [None if x is None else x / mean_u for x in u]


# ---- pairs from one prompt's candidates -------------------------------------------------------------


@dataclass
class GroupPairs:
    """The pairs of one prompt and what decided them. `pairs` are the output rows (TRL preference
    format plus weight, scores, margin and components); `error` is set when the group has none."""

    pairs: list[dict[str, Any]]
    n_candidates: int
    n_unique: int
    n_scored: int
    chosen_index: int | None = None
    best_without_s8_index: int | None = None
    scores: list[float | None] = field(default_factory=list)
    candidate_errors: dict[int, str] = field(default_factory=dict)
    error: str | None = None
    note: str | None = None


def _without_s8(scorer: Any, components: Mapping[str, float | None]) -> float | None:
    return scorer.composite({**components, "S8": None})[0]


def build_pairs(
    prompt: Any,
    candidates: Sequence[Any],
    scorer: Any,
    *,
    mode: str = "all",
    margin: float = 0.0,
    group: Any = None,
) -> GroupPairs:
    """Score one prompt's candidates as a group and turn them into weighted preference pairs.

    `prompt` is a string or a list of chat messages; each candidate a string or a list of messages
    (its assistant messages are scored). `scorer` is a `wqrm.Scorer`. The candidates are scored once
    with `scorer.score_batch(texts, prompt=…, group=True)`, so the composite includes S8. Exact
    duplicate texts are scored once (the first is kept). `chosen` = the highest composite (the first
    on ties); `rejected` = every other scored candidate whose composite is at least `margin` below
    it and strictly lower (`mode="all"`), or only the lowest (`mode="best-worst"`). `weight` =
    `deviation_weights` of the chosen candidate. If the prompt or any candidate is conversational,
    every prompt / chosen / rejected in the rows is a message list (TRL's conversational format).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if not math.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number ≥ 0, not {margin!r}")
    conversational = is_conversational(prompt) or any(is_conversational(c) for c in candidates)
    out = GroupPairs(pairs=[], n_candidates=len(candidates), n_unique=0, n_scored=0)
    texts: dict[int, str] = {}
    seen: dict[str, int] = {}
    for i, c in enumerate(candidates):
        try:
            t = message_text(c)
        except ValueError as exc:
            out.candidate_errors[i] = str(exc)
            continue
        if t in seen:
            out.candidate_errors[i] = f"duplicate of candidate {seen[t]}"
            continue
        seen[t] = i
        texts[i] = t
    out.n_unique = len(texts)
    idx = list(texts)
    if len(idx) < 2:
        out.error = f"{len(idx)} distinct candidate text(s): a pair needs at least 2"
        out.scores = [None] * len(candidates)
        return out
    batch = scorer.score_batch([texts[i] for i in idx], prompt=prompt_text(prompt), group=True)
    results = dict(zip(idx, batch, strict=True))
    out.scores = [results[i].score if i in results else None for i in range(len(candidates))]
    for i, r in results.items():
        if r.score is None:
            out.candidate_errors[i] = r.error or "no score"
    scored = [i for i in idx if results[i].score is not None]
    out.n_scored = len(scored)
    if len(scored) < 2:
        out.error = f"{len(scored)} scorable candidate(s): a pair needs at least 2"
        return out
    best = max(scored, key=lambda i: (results[i].score, -i))
    out.chosen_index = best
    no_s8 = {i: _without_s8(scorer, results[i].components) for i in scored}
    out.best_without_s8_index = max(
        (i for i in scored if no_s8[i] is not None), key=lambda i: (no_s8[i], -i), default=None
    )
    deviations = [results[i].metrics.get("deviation") for i in scored]
    weight = dict(zip(scored, deviation_weights(deviations), strict=True))[best]
    if weight is None:
        weight = 1.0
        out.note = "the chosen candidate has no deviation (no usable embedding): weight 1"
    top = results[best].score
    below = [i for i in scored if i != best and top - results[i].score >= margin and results[i].score < top]
    if mode == "best-worst" and below:
        below = [min(below, key=lambda i: (results[i].score, i))]
    if not below:
        out.error = f"no candidate scores at least {margin:g} below the best ({len(scored)} scored)"
        return out

    def completion(i: int) -> Any:
        c = candidates[i]
        return _as_messages(c, "assistant") if conversational else c

    for j in below:
        rc, rr = results[best], results[j]
        out.pairs.append(
            {
                "prompt": _as_messages(prompt, "user") if conversational else prompt,
                "chosen": completion(best),
                "rejected": completion(j),
                "weight": weight,
                "score_chosen": rc.score,
                "score_rejected": rr.score,
                "margin": rc.score - rr.score,
                "group": group,
                "chosen_index": best,
                "rejected_index": j,
                "deviation_chosen": rc.metrics.get("deviation"),
                "n_words_chosen": rc.n_words,
                "n_words_rejected": rr.n_words,
                "components_chosen": dict(rc.components),
                "components_rejected": dict(rr.components),
            }
        )
    return out


# ---- length guard ---------------------------------------------------------------------------------


@dataclass
class LengthBalancer:
    """Counts which pairs have the longer text (in words) chosen, and — with `accept` — drops pairs so
    that the share of longer-chosen pairs stays within 0.5 ± `tolerance`.

    share = (longer + equal/2) / pairs (pairs of equal length count half). `accept` always keeps a
    pair of equal length and a pair on the minority side; a pair on the majority side only when the
    share after adding it stays within the tolerance. It decides pair by pair, in order, so it works
    on a stream; after n ≥ 1/(2·tolerance) kept pairs (10 at the default) the share is within
    0.5 ± tolerance. A reward that prefers shorter texts teaches a policy to shrink its outputs.
    """

    tolerance: float = 0.05
    longer: int = 0
    shorter: int = 0
    equal: int = 0

    @property
    def n(self) -> int:
        return self.longer + self.shorter + self.equal

    @property
    def share(self) -> float | None:
        """Share of pairs whose chosen text is the longer one (equal lengths count half)."""
        return None if self.n == 0 else (self.longer + self.equal / 2) / self.n

    @staticmethod
    def direction(pair: Mapping[str, Any]) -> int:
        """+1 when the chosen text has more words than the rejected, −1 when fewer, 0 when equal."""
        a, b = pair["n_words_chosen"], pair["n_words_rejected"]
        return (a > b) - (a < b)

    def add(self, pair: Mapping[str, Any]) -> None:
        """Count a pair unconditionally."""
        d = self.direction(pair)
        if d > 0:
            self.longer += 1
        elif d < 0:
            self.shorter += 1
        else:
            self.equal += 1

    def accept(self, pair: Mapping[str, Any]) -> bool:
        """Count and keep the pair (True), or drop it (False) because it would unbalance the share."""
        d = self.direction(pair)
        n = self.n + 1
        if (
            d > 0
            and self.longer > self.shorter
            and (self.longer + 1 + self.equal / 2) / n > 0.5 + self.tolerance
        ):
            return False
        if d < 0 and self.shorter > self.longer and (self.longer + self.equal / 2) / n < 0.5 - self.tolerance:
            return False
        self.add(pair)
        return True


# ---- the loss ---------------------------------------------------------------------------------------


def ddpo_loss(
    policy_chosen_logps,
    policy_rejected_logps,
    ref_chosen_logps,
    ref_rejected_logps,
    weights,
    beta: float = 0.1,
):
    """The diversified DPO loss of a batch of pairs, in torch:

        L = −(1/B) Σ_b w_b · log σ(β · ((π_c − ref_c) − (π_r − ref_r)))

    where π_c, π_r are the policy's summed log-probabilities of the chosen / rejected completions,
    ref_c, ref_r the reference model's, and w_b the pair weights (δ_w, see `deviation_weights`).
    With all w_b = 1 this is TRL's `sigmoid` DPO loss (no label smoothing). The mean is over pairs,
    not divided by Σw (as in the authors' code). Returns `(loss, chosen_rewards, rejected_rewards)`,
    the rewards being β·(π − ref) per pair, detached (TRL's logging convention).

    Raises ValueError for a negative or non-finite weight, a shape mismatch, or β ≤ 0.
    """
    import torch  # deferred: `import wqrm.ddpo` must stay light (no torch) for the CLI and server
    import torch.nn.functional as F

    if not (isinstance(beta, (int, float)) and math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a finite number > 0, not {beta!r}")
    pc = policy_chosen_logps
    w = torch.as_tensor(weights, dtype=pc.dtype, device=pc.device)
    shapes = {tuple(t.shape) for t in (pc, policy_rejected_logps, ref_chosen_logps, ref_rejected_logps, w)}
    if len(shapes) != 1 or pc.dim() != 1:
        raise ValueError(
            f"log-probabilities and weights must be 1-D tensors of one shape, got {sorted(shapes)}"
        )
    if not bool(torch.isfinite(w).all()) or bool((w < 0).any()):
        raise ValueError("weights must be finite and ≥ 0")
    chosen_logratios = pc - ref_chosen_logps
    rejected_logratios = policy_rejected_logps - ref_rejected_logps
    losses = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios))
    loss = (w * losses).mean()
    return loss, beta * chosen_logratios.detach(), beta * rejected_logratios.detach()


# ---- best-of-N --------------------------------------------------------------------------------------


@dataclass
class BestOf:
    """The best of N candidates: its index, text and composite, its margin over the runner-up, and
    each component's share of that margin (`contributions`, summing to the margin when both texts
    have the same components); `decided_by` lists the components that favoured it, largest first."""

    index: int
    text: str
    score: float
    components: dict[str, float | None]
    runner_up: int | None
    margin: float | None
    contributions: dict[str, float]
    decided_by: list[str]
    results: list[Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.text,
            "score": self.score,
            "margin": self.margin,
            "runner_up": self.runner_up,
            "components": self.components,
            "contributions": self.contributions,
            "decided_by": self.decided_by,
            "scores": [r.score for r in self.results],
        }


def best_of(
    scorer: Any, candidates: Sequence[Any], prompt: Any = None, *, group: bool = True, **context: Any
) -> BestOf:
    """Best-of-N: score the candidates (as a group with S8 by default, exactly as `build_pairs` ranks
    them; `group=False` scores each alone) and return the best with its margin over the runner-up and
    the components that decided it: contribution_i = α_i (S_i(best) − S_i(runner-up)) / Σ α_j over the
    components both texts have. Raises ValueError when no candidate can be scored."""
    texts = [message_text(c) for c in candidates]
    results = scorer.score_batch(texts, prompt=prompt_text(prompt), group=group, **context)
    ranked = sorted(
        (i for i, r in enumerate(results) if r.score is not None), key=lambda i: (-results[i].score, i)
    )
    if not ranked:
        errors = "; ".join(f"{i}: {r.error}" for i, r in enumerate(results))
        raise ValueError(f"no candidate could be scored ({errors or 'no candidates'})")
    b = results[ranked[0]]
    contributions: dict[str, float] = {}
    runner_up = margin = None
    if len(ranked) > 1:
        runner_up = ranked[1]
        r = results[runner_up]
        margin = b.score - r.score
        alpha = scorer.weights.alpha()
        shared = [c for c in COMPONENT_NAMES if c in b.used_components and c in r.used_components]
        total = sum(alpha[c] for c in shared)
        for c in shared:
            contributions[c] = alpha[c] * (b.components[c] - r.components[c]) / total
    decided = sorted((c for c, v in contributions.items() if v > 0), key=lambda c: -contributions[c])
    return BestOf(
        index=ranked[0],
        text=texts[ranked[0]],
        score=b.score,
        components=dict(b.components),
        runner_up=runner_up,
        margin=margin,
        contributions=contributions,
        decided_by=decided,
        results=list(results),
    )
