"""DDPOTrainer and ddpo_loss against TRL itself, on a tiny randomly initialised GPT-2 (nothing downloaded)."""

import copy
from pathlib import Path

import pytest
import torch
from datasets import Dataset, load_dataset
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
from trl import DPOConfig, DPOTrainer

from wqrm.ddpo import ddpo_loss
from wqrm.integrations.trl import DDPOTrainer
from wqrm.pairs import pairs_jsonl

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "ddpo" / "candidates.jsonl"

TOY_PAIRS = [
    {
        "prompt": "Write about the sea. ",
        "chosen": "The gulls circled the harbour.",
        "rejected": "sea sea sea",
    },
    {"prompt": "Write about rain. ", "chosen": "Rain fell on the quiet town.", "rejected": "it was nice"},
    {"prompt": "Write a line. ", "chosen": "She mended the net at dawn.", "rejected": "a line a line a"},
    {"prompt": "Describe a door. ", "chosen": "The door slammed twice below.", "rejected": "door"},
]


def _tokenizer(texts: list[str]) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<pad>", "<eos>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<eos>", pad_token="<pad>", unk_token="<unk>"
    )


def _model(tok, seed: int = 0, n_positions: int = 512) -> GPT2LMHeadModel:
    torch.manual_seed(seed)
    cfg = GPT2Config(
        vocab_size=len(tok),
        n_positions=n_positions,
        n_embd=32,
        n_layer=2,
        n_head=2,
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=tok.eos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return GPT2LMHeadModel(cfg)


def _perturbed_copy(model, seed: int = 1):
    """A reference model that differs from the policy, so the log-ratios are not all zero."""
    ref = copy.deepcopy(model)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in ref.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=g))
    return ref


def _config(tmp_path, **kw) -> DPOConfig:
    base = dict(
        output_dir=str(tmp_path / "run"),
        per_device_train_batch_size=4,
        learning_rate=5e-3,
        beta=0.1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        gradient_checkpointing=False,
        max_length=512,
        seed=0,
        disable_tqdm=True,
    )
    return DPOConfig(**{**base, **kw})


def _batch(trainer, rows: int):
    ds = trainer.train_dataset.select(range(rows))
    examples = [ds[i] for i in range(rows)]
    return trainer.data_collator(examples)


@pytest.fixture(scope="module")
def tok():
    texts = [p[k] for p in TOY_PAIRS for k in ("prompt", "chosen", "rejected")]
    return _tokenizer(texts * 5)


def test_ddpo_loss_equals_trl_sigmoid_loss(tmp_path, tok):
    """Unit weights: `ddpo_loss` on the log-probabilities TRL computes equals TRL's own DPO loss."""
    model = _model(tok)
    trainer = DPOTrainer(
        model=model,
        ref_model=_perturbed_copy(model),
        args=_config(tmp_path),
        train_dataset=Dataset.from_list(TOY_PAIRS),
        processing_class=tok,
    )
    batch = _batch(trainer, 4)
    trl_loss = trainer.compute_loss(trainer.model, batch)
    # the policy's log-probabilities from the forward call TRL's loss makes (fused LM head, with grad)
    labels = batch["input_ids"].masked_fill(batch["completion_mask"] == 0, -100)
    inputs = {k: v for k, v in batch.items() if k != "completion_mask"}
    out = trainer.model(**inputs, use_cache=False, labels=labels, fused_lm_head=True)
    pc, pr = out.log_probs[:, -(labels.size(1) - 1) :].sum(dim=1).chunk(2)
    rc, rr = trainer.compute_ref_log_probs(trainer.ref_model, batch)  # TRL's own reference pass
    assert (pc - rc - (pr - rr)).abs().min() > 1e-3  # a real test: the log-ratios are not zero
    loss, chosen_rewards, rejected_rewards = ddpo_loss(pc, pr, rc, rr, torch.ones(4), trainer.beta)
    assert loss.item() == pytest.approx(trl_loss.item(), abs=1e-6)
    assert abs(loss.item() - 0.6931) > 1e-3
    assert chosen_rewards.tolist() == pytest.approx((trainer.beta * (pc - rc)).tolist(), abs=1e-6)
    assert rejected_rewards.tolist() == pytest.approx((trainer.beta * (pr - rr)).tolist(), abs=1e-6)
    # and the trainer with every weight 1 is TRL's DPO trainer
    ddpo = DDPOTrainer(
        model=model,
        ref_model=trainer.ref_model,
        args=_config(tmp_path),
        train_dataset=Dataset.from_list([{**p, "weight": 1.0} for p in TOY_PAIRS]),
        processing_class=tok,
    )
    ours = ddpo.compute_loss(ddpo.model, _batch(ddpo, 4))
    assert ours.item() == pytest.approx(trl_loss.item(), abs=1e-6)


def test_zero_weight_pair_contributes_zero_gradient(tmp_path, tok):
    model = _model(tok)
    rows = [{**p, "weight": w} for p, w in zip(TOY_PAIRS[:2], (0.0, 1.0), strict=True)]
    trainer = DDPOTrainer(
        model=model,
        ref_model=_perturbed_copy(model),
        args=_config(tmp_path),
        train_dataset=Dataset.from_list(rows),
        processing_class=tok,
    )

    def grads(examples):
        trainer.model.zero_grad()
        trainer.compute_loss(trainer.model, trainer.data_collator(examples)).backward()
        return torch.cat([p.grad.flatten() for p in trainer.model.parameters() if p.grad is not None])

    ds = trainer.train_dataset
    both = grads([ds[0], ds[1]])  # weights (0, 1), mean over 2 pairs
    alone = grads([ds[1]])  # the weighted pair alone, mean over 1
    assert alone.abs().max() > 1e-4
    torch.testing.assert_close(both, alone / 2, atol=1e-7, rtol=1e-5)
    zero = grads([ds[0]])
    assert zero.abs().max() == 0.0


def test_ddpo_trainer_refuses_other_losses(tmp_path, tok):
    model = _model(tok)
    with pytest.raises(ValueError, match="weighted sigmoid DPO loss only"):
        DDPOTrainer(
            model=model,
            ref_model=copy.deepcopy(model),
            args=_config(tmp_path, loss_type=["ipo"]),
            train_dataset=Dataset.from_list([{**p, "weight": 1.0} for p in TOY_PAIRS]),
            processing_class=tok,
        )


def test_ddpo_trainer_end_to_end_on_wqrm_pairs(tmp_path, scorer):
    """`wqrm pairs` on the shipped example → DDPOTrainer a few steps: the weighted loss falls."""
    out = tmp_path / "pairs.jsonl"
    stats = pairs_jsonl(EXAMPLES, out, scorer)
    assert stats.pairs_written >= 4 and stats.failed == 0
    pairs = load_dataset("json", data_files=str(out), split="train")
    assert {"prompt", "chosen", "rejected", "weight", "margin"} <= set(pairs.column_names)
    tok = _tokenizer([r[k] for r in pairs for k in ("prompt", "chosen", "rejected")] * 3)
    model = _model(tok)
    trainer = DDPOTrainer(
        model=model,
        ref_model=copy.deepcopy(model),
        args=_config(tmp_path, max_steps=12, logging_steps=1, per_device_train_batch_size=len(pairs)),
        train_dataset=pairs,
        processing_class=tok,
    )

    def full_loss() -> float:
        with torch.no_grad():
            batch = _batch(trainer, len(pairs))
            batch = {k: v.to(trainer.model.device) for k, v in batch.items()}
            return trainer.compute_loss(trainer.model, batch).item()

    before = full_loss()
    trainer.train()
    after = full_loss()
    weights = torch.tensor(pairs["weight"])
    # policy = reference at the start: every pair's loss is log 2 (up to the fused head's float32 rounding)
    assert before == pytest.approx(float(weights.mean()) * 0.693147, rel=1e-3)
    assert after < 0.5 * before
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    assert losses[-1] < losses[0]
    assert all("weight" in h for h in trainer.state.log_history if "loss" in h)
