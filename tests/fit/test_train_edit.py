"""The S1 edit model end to end on a tiny random DeBERTa-v2 (the DeBERTa-v3 code path; nothing
downloaded): joint reward + tagger training through `transformers.Trainer`, save/load, resume,
windows, batch-size independence; and the frozen-head baseline."""

import numpy as np
import pytest
import torch

from wqrm.edit.model import (
    EmbeddingHeadReward,
    RewardHead,
    TransformerEditModel,
    load_reward_model,
    resolve_base,
)
from wqrm.edit.tagger import Span
from wqrm.fit.data import Pair
from wqrm.fit.tagger import TaggedText
from wqrm.fit.train_edit import TrainConfig, train_edit_model, train_frozen
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


def toy_tags() -> list[TaggedText]:
    """ "tapestry" and "very" are what the editor flags."""
    out = []
    for t in GOOD + BAD:
        spans = [Span(m, m + len(w), "Cliche") for w in ("tapestry", "very") for m in _find_all(t, w)]
        out.append(TaggedText(t, spans))
    return out


def _find_all(text: str, word: str) -> list[int]:
    out, i = [], text.find(word)
    while i >= 0:
        out.append(i)
        i = text.find(word, i + 1)
    return out


def _cfg(tiny_deberta_dir, kind="lora", **kw) -> TrainConfig:
    base = dict(
        kind=kind,
        base=str(tiny_deberta_dir),
        epochs=6,
        lr=2e-2 if kind == "lora" else 5e-3,
        batch_size=6,
        warmup_ratio=0.0,
        seed=0,
        max_length=16,
        patience=10,
        select_on="all",
        tag_weight=1.0,
        min_precision=0.5,
    )
    return TrainConfig(**{**base, **kw})


def test_unavailable_hub_model_names_the_fix():
    with pytest.raises(ResourceMissingError, match="--base"):
        resolve_base("microsoft/deberta-v3-small-not-cached-here")


def _bt_loss(rm) -> float:
    r_good, r_bad = rm.score(GOOD), rm.score(BAD)
    return float(np.mean(np.log1p(np.exp(-(r_good[:, None] - r_bad[None, :])))))


@pytest.mark.parametrize("kind", ["full", "lora"])
def test_joint_training_learns_and_roundtrips(tiny_deberta_dir, tmp_path, kind):
    cfg = _cfg(tiny_deberta_dir, kind)
    before = _bt_loss(
        TransformerEditModel.new(str(tiny_deberta_dir), kind=kind, labels=["Cliche"], max_length=16)
    )
    tags = toy_tags()
    model, history = train_edit_model(
        toy_pairs(),
        toy_pairs(),
        cfg,
        tmp_path / "out",
        tag_train=tags,
        tag_dev=tags,
        labels=["Cliche"],
        resume=False,
    )
    evals = [h for h in history if "lamp_accuracy" in h]
    assert len(evals) == 6 and any("train_loss" in h for h in history)  # curves recorded
    assert _bt_loss(model) < before - 0.05
    assert max(h["lamp_accuracy"] for h in evals) > 0.7
    assert max(h["tag_auc"] for h in evals) > 0.7  # the token head learned "tapestry"/"very"
    reloaded = load_reward_model(tmp_path / "out")
    texts = GOOD + BAD
    a, b = model.run(texts), reloaded.run(texts)
    assert [o.reward for o in a] == [o.reward for o in b] and [o.spans for o in a] == [o.spans for o in b]
    assert reloaded.has_tagger and reloaded.threshold == model.threshold
    flagged = [texts[i][s.start : s.end] for i, o in enumerate(a) for s in o.spans]
    assert flagged and all(" " not in f.strip() or len(f.split()) > 1 for f in flagged)  # whole words


def test_lora_saves_only_adapters_and_heads(tiny_deberta_dir, tmp_path):
    rm = TransformerEditModel.new(str(tiny_deberta_dir), kind="lora", labels=["Cliche"], max_length=16)
    keys = rm.trainable_state()
    assert keys and all("lora_" in k or not k.startswith("encoder.") for k in keys)
    assert any("lora_" in k for k in keys) and "reward_head.net.0.weight" in keys


def test_resume_continues_from_checkpoint(tiny_deberta_dir, tmp_path):
    cfg = _cfg(tiny_deberta_dir, "full", epochs=2, tag_weight=0.0)
    pairs = toy_pairs()
    straight, _ = train_edit_model(pairs, pairs, cfg, tmp_path / "straight", resume=False)
    # interrupted after 3 of 10 steps: the epoch-1 checkpoint is kept, then the run resumes from it
    train_edit_model(pairs, pairs, cfg, tmp_path / "resumed", resume=False, stop_after_steps=5)
    assert list((tmp_path / "resumed" / "checkpoints").glob("checkpoint-*"))
    resumed, _ = train_edit_model(pairs, pairs, cfg, tmp_path / "resumed", resume=True)
    texts = GOOD + BAD
    assert np.allclose(resumed.score(texts), straight.score(texts), atol=1e-5)


def test_long_text_reward_is_the_mean_of_its_windows(tiny_deberta_dir):
    rm = TransformerEditModel.new(str(tiny_deberta_dir), kind="lora", labels=[], max_length=16)
    text = " ".join(GOOD + BAD)
    windows = rm.windows([text])
    assert len(windows) > 2
    rewards, _ = rm.forward_windows(windows)
    assert rm.score([text])[0] == pytest.approx(float(np.mean(rewards)), abs=1e-9)
    covered = np.concatenate([w.offsets for w in windows])
    assert covered[covered[:, 0] >= 0, 0].tolist() == sorted(set(covered[covered[:, 0] >= 0, 0].tolist()))


def test_scores_independent_of_batch_size(tiny_deberta_dir):
    rm = TransformerEditModel.new(str(tiny_deberta_dir), kind="lora", labels=["Cliche"], max_length=16)
    rm.has_tagger = True
    texts = GOOD + BAD + ["a much longer text " * 5 + "with a second paragraph\n\nand this one"]
    s1, s8, s32 = (rm.score(texts, batch_size=b) for b in (1, 8, 32))
    assert np.allclose(s1, s8, atol=1e-6) and np.allclose(s1, s32, atol=1e-6)


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


def test_retrain_heads_on_a_fixed_encoder(tiny_deberta_dir):
    from wqrm.fit.heads import retrain_heads

    rm = TransformerEditModel.new(str(tiny_deberta_dir), kind="lora", labels=["Cliche"], max_length=16)
    before = {k: v.clone() for k, v in rm.model.encoder.state_dict().items()}
    cfg = TrainConfig(kind="lora", epochs=40, lr=1e-2, batch_size=5, hidden=16, patience=40, select_on="all")
    pairs = toy_pairs()
    model, history = retrain_heads(rm, pairs, pairs, cfg, tag_train=toy_tags(), tag_dev=toy_tags())
    accuracies = [h["lamp_accuracy"] for h in history if "lamp_accuracy" in h]
    assert max(accuracies) == 1.0  # the heads alone separate the toy preferences
    after = model.model.encoder.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the encoder is untouched
    assert model.has_tagger and history[-1]["tag_auc"] is not None
    s = model.score(GOOD + BAD)
    assert s[: len(GOOD)].min() > s[len(GOOD) :].max()
