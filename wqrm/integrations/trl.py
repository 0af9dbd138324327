"""wqrm with TRL: a reward function for online trainers and a DPO trainer with per-pair weights.

    from trl import GRPOConfig, GRPOTrainer
    from wqrm.integrations.trl import reward_function
    trainer = GRPOTrainer(model=…, reward_funcs=reward_function, args=GRPOConfig(…), train_dataset=…)

    from wqrm.integrations.trl import DDPOTrainer
    pairs = datasets.load_dataset("json", data_files="pairs.jsonl", split="train")   # `wqrm pairs`
    DDPOTrainer(model=…, ref_model=…, args=DPOConfig(…), train_dataset=pairs, processing_class=tok).train()

TRL has no per-example weight in its DPO loss; `DDPOTrainer` is the piece that adds one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from trl import DPOTrainer

from wqrm.ddpo import ddpo_loss
from wqrm.integrations import rewards, score_completions

__all__ = ["DDPOTrainer", "make_reward_function", "reward_function"]


def make_reward_function(
    scorer: Any = None,
    *,
    group: bool = False,
    failure_reward: float = 0.0,
    name: str = "wqrm",
) -> Callable[..., list[float]]:
    """A reward function with TRL's signature `f(prompts, completions, **kwargs) -> list[float]`.

    Each completion's reward is its wqrm composite, scored in the context of its prompt (plain
    strings or chat messages; see `wqrm.integrations.score_completions`), batched: one scorer call
    per distinct prompt. `scorer` defaults to `wqrm.load()`, loaded once on the first call. With
    `group=True` a prompt's completions are scored as a candidate group (S8 diversity among them).
    A completion that cannot be scored (e.g. empty) gets `failure_reward`. Extra keyword arguments
    (TRL passes dataset columns, `completion_ids`, `trainer_state`) are ignored. TRL logs the reward
    under the function's `__name__` (`name`).
    """
    state: dict[str, Any] = {"scorer": scorer}

    def reward(prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any) -> list[float]:
        if state["scorer"] is None:
            import wqrm

            state["scorer"] = wqrm.load()
        results = score_completions(state["scorer"], completions, prompts, group=group)
        return rewards(results, failure_reward)

    reward.__name__ = reward.__qualname__ = name
    return reward


#: The default reward function: the shipped scorer (loaded on first use), each completion alone.
reward_function = make_reward_function()


class _WeightCollator:
    """Wraps TRL's preference collator and adds the pairs' `weight` tensor (1 where a row has none)."""

    def __init__(self, inner: Callable[[list[dict[str, Any]]], dict[str, Any]]):
        self.inner = inner

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        out = self.inner(examples)
        out["weight"] = torch.tensor([float(e.get("weight", 1.0)) for e in examples], dtype=torch.float32)
        return out


class DDPOTrainer(DPOTrainer):
    """TRL's `DPOTrainer` with the diversified DPO loss: each pair's sigmoid DPO loss is multiplied by
    its `weight` column (`wqrm.ddpo.ddpo_loss`; `wqrm pairs` writes δ_w there). Everything else —
    tokenisation, reference model, precomputed reference log-probs, PEFT, the training loop — is
    TRL's. The `weight` column is kept through the collator; a row without it counts 1.

    Supports TRL's default loss only (`loss_type="sigmoid"`, reverse KL, no `ld_alpha`, no WPO
    `use_weighting`, text-only data) and raises ValueError for other settings rather than silently
    ignoring them.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        unsupported = []
        if list(self.loss_types) != ["sigmoid"]:
            unsupported.append(f"loss_type={self.loss_types}")
        if self.f_divergence_type != "reverse_kl":
            unsupported.append(f"f_divergence_type={self.f_divergence_type!r}")
        if self.ld_alpha is not None:
            unsupported.append(f"ld_alpha={self.ld_alpha}")
        if self.use_weighting:
            unsupported.append("use_weighting=True")
        if self._is_vision_dataset:
            unsupported.append("image data")
        if unsupported:
            raise ValueError(
                f"DDPOTrainer implements the weighted sigmoid DPO loss only; got {', '.join(unsupported)}"
            )
        self.data_collator = _WeightCollator(self.data_collator)

    def _set_signature_columns_if_needed(self):
        super()._set_signature_columns_if_needed()
        if "weight" not in self._signature_columns:
            self._signature_columns = [*self._signature_columns, "weight"]

    def _compute_loss(self, model, inputs, return_outputs):
        mode = "train" if self.model.training else "eval"
        inputs = dict(inputs)
        weight = inputs.pop("weight", None)
        completion_mask = inputs["completion_mask"]
        model_kwargs = {
            k: v
            for k, v in inputs.items()
            if k not in ("completion_mask", "ref_chosen_logps", "ref_rejected_logps")
        }
        if self.aux_loss_enabled:
            model_kwargs["output_router_logits"] = True
        labels = inputs["input_ids"].masked_fill(completion_mask == 0, -100)
        outputs = model(**model_kwargs, use_cache=False, labels=labels, fused_lm_head=True)
        seq_len = completion_mask.size(1) - 1
        chosen_logps, rejected_logps = outputs.log_probs[:, -seq_len:].sum(dim=1).chunk(2, dim=0)
        if self.precompute_ref_logps:
            ref_chosen_logps, ref_rejected_logps = inputs["ref_chosen_logps"], inputs["ref_rejected_logps"]
        else:
            ref = self.ref_model if self.ref_model is not None else self.model
            ref_chosen_logps, ref_rejected_logps = self.compute_ref_log_probs(ref, inputs)
        if weight is None:
            weight = torch.ones_like(chosen_logps)
        loss, chosen_rewards, rejected_rewards = ddpo_loss(
            chosen_logps, rejected_logps, ref_chosen_logps, ref_rejected_logps, weight, self.beta
        )
        if self.aux_loss_enabled:
            loss = loss + self.router_aux_loss_coef * outputs.aux_loss

        gather = self.accelerator.gather_for_metrics
        metrics = self._metrics[mode]
        metrics["rewards/chosen"].append(gather(chosen_rewards).mean().item())
        metrics["rewards/rejected"].append(gather(rejected_rewards).mean().item())
        metrics["rewards/accuracies"].append(
            gather((chosen_rewards > rejected_rewards).float()).mean().item()
        )
        metrics["rewards/margins"].append(gather(chosen_rewards - rejected_rewards).mean().item())
        metrics["logps/chosen"].append(gather(chosen_logps.detach()).mean().item())
        metrics["logps/rejected"].append(gather(rejected_logps.detach()).mean().item())
        metrics["weight"].append(gather(weight.to(chosen_logps.device)).mean().item())
        if return_outputs:
            with torch.no_grad():  # the fused LM head builds no logits (as in TRL)
                outputs = model(**model_kwargs)
            return loss, outputs
        return loss
