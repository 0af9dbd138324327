"""The DeBERTa-v2/v3 code path end to end, on a tiny random model (nothing downloaded)."""

import numpy as np
import pytest
import torch

from wqrm.edit.model import (
    EmbeddingHeadReward,
    RewardHead,
    TransformerReward,
    load_reward_model,
    resolve_base,
)
from wqrm.fit.data import Pair
from wqrm.fit.train_edit import TrainConfig, train_frozen, train_transformer
from wqrm.resources import ResourceMissingError

GOOD = [
    "the old man mended the net",
    "she wrote a short letter",
    "the rain fell on the quiet town",
    "he counted the boats twice",
    "gulls circled the harbour",
]
BAD = [
    "a very very very bland sentence",
    "it is important to note",
    "a generic and boring tapestry",
    "very very bland and generic",
    "the journey is a tapestry",
]


def toy_pairs() -> list[Pair]:
    return [Pair(g, b, "toy", id=f"{i}-{j}") for i, g in enumerate(GOOD) for j, b in enumerate(BAD)]


def test_unavailable_hub_model_names_the_fix():
    with pytest.raises(ResourceMissingError, match="--base"):
        resolve_base("microsoft/deberta-v3-small-not-cached-here")


@pytest.mark.parametrize("kind", ["full", "lora"])
def test_training_lowers_loss_and_roundtrips(tiny_deberta_dir, tmp_path, kind):
    cfg = TrainConfig(
        kind=kind,
        base=str(tiny_deberta_dir),
        epochs=8,
        lr=5e-3 if kind == "full" else 2e-2,
        batch_size=5,
        warmup_ratio=0.0,
        seed=0,
        max_length=32,
        patience=10,
        select_on="all",
        save_every=1000,
    )
    pairs = toy_pairs()

    def loss_of(rm):
        r_good, r_bad = rm.score(GOOD), rm.score(BAD)
        return float(np.mean(np.log1p(np.exp(-(r_good[:, None] - r_bad[None, :])))))

    before = loss_of(
        TransformerReward.from_base(str(tiny_deberta_dir), lora=kind == "lora", max_length=32, seed=0)
    )
    model, history = train_transformer(pairs, pairs, [], cfg, tmp_path / "out", resume=False)
    assert len(history) == 8
    after = loss_of(model)
    assert after < before - 0.05
    assert history[-1]["dev_accuracy"] > 0.7
    reloaded = load_reward_model(tmp_path / "out")
    texts = GOOD + BAD
    assert np.array_equal(reloaded.score(texts), model.score(texts))


def test_resume_continues_from_checkpoint(tiny_deberta_dir, tmp_path):
    cfg = TrainConfig(
        kind="full",
        base=str(tiny_deberta_dir),
        epochs=2,
        lr=3e-3,
        batch_size=5,
        warmup_ratio=0.2,
        seed=0,
        max_length=32,
        patience=10,
        select_on="all",
        save_every=1000,
    )
    pairs = toy_pairs()
    straight, _ = train_transformer(pairs, pairs, [], cfg, tmp_path / "straight", resume=False)
    # interrupt after 3 of 10 steps, then resume from the checkpoint
    train_transformer(pairs, pairs, [], cfg, tmp_path / "resumed", resume=False, stop_after_steps=3)
    assert (tmp_path / "resumed" / "checkpoint" / "trainer_state.json").exists()
    resumed, history = train_transformer(pairs, pairs, [], cfg, tmp_path / "resumed", resume=True)
    assert [h["epoch"] for h in history] == [1, 2]
    texts = GOOD + BAD
    assert np.allclose(resumed.score(texts), straight.score(texts), atol=1e-5)


def test_scores_independent_of_batch_size(tiny_deberta_dir):
    rm = TransformerReward.from_base(str(tiny_deberta_dir), max_length=32, seed=0)
    texts = GOOD + BAD + ["a much longer text " * 5 + "with a second paragraph\n\nand this one"]
    s1, s8, s32 = (rm.score(texts, batch_size=b) for b in (1, 8, 32))
    assert np.allclose(s1, s8, atol=1e-5) and np.allclose(s1, s32, atol=1e-5)


def test_long_text_is_mean_of_paragraphs(tiny_deberta_dir):
    rm = TransformerReward.from_base(str(tiny_deberta_dir), max_length=32, seed=0)
    a, b = GOOD[0], BAD[0]
    both = rm.score([f"{a}\n\n{b}"])[0]
    assert both == pytest.approx(float(np.mean(rm.score([a, b]))), abs=1e-6)


def test_frozen_head_learns_toy_preferences(tmp_path):
    rng = np.random.default_rng(0)
    vecs = {t: rng.normal(size=8).astype(np.float32) for t in GOOD + BAD}
    for t in GOOD:
        vecs[t][0] += 3.0  # a direction that separates good from bad

    def features(texts):
        return np.stack([vecs[t] for t in texts])

    cfg = TrainConfig(
        kind="frozen", epochs=30, lr=1e-2, batch_size=5, hidden=16, patience=30, select_on="all"
    )
    model, history = train_frozen(toy_pairs(), toy_pairs(), [], cfg, features=features)
    assert max(h["dev_accuracy"] for h in history) == 1.0
    assert np.all(model.score_features(features(GOOD)).min() > model.score_features(features(BAD)).max())
    model.save(tmp_path / "frozen")
    again = load_reward_model(tmp_path / "frozen")
    assert np.array_equal(again.score_features(features(GOOD)), model.score_features(features(GOOD)))


def test_reward_head_shapes():
    head = RewardHead(4, 0)
    assert head(torch.zeros(3, 4)).shape == (3,)
    assert isinstance(EmbeddingHeadReward(head, {}).config, dict)
