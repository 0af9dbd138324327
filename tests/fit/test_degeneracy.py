"""The S1 degeneracy head (wqrm.fit.degeneracy) on toy features where the quality head is gamed."""

import numpy as np
import pytest

from wqrm.edit.model import load_reward_model
from wqrm.fit.data import Pair
from wqrm.fit.degeneracy import PENALTY_GRID, add_degeneracy_head, is_negative
from wqrm.fit.train_edit import TrainConfig, train_frozen

GOOD = [f"good text number {i}" for i in range(12)]
BAD = [f"bad text number {i}" for i in range(12)]


def _features():
    rng = np.random.default_rng(0)
    vecs = {t: rng.normal(scale=0.3, size=6).astype(np.float32) for t in GOOD + BAD}
    for t in GOOD:
        vecs[t][0] += 2.0  # quality direction
    for t in GOOD:  # each good text's degraded variant: higher on the quality direction, marked on dim 1
        v = vecs[t].copy()
        v[0] += 1.5
        v[1] += 3.0
        vecs["salad of " + t] = v
    return vecs


def _pairs(idx, source):
    return [Pair(GOOD[i], BAD[j], source, id=f"{source}{i}-{j}") for i in idx for j in idx]


def _negatives(idx):
    return [Pair(GOOD[i], "salad of " + GOOD[i], "negative:shuffle_words", weight=0.5) for i in idx]


@pytest.fixture(scope="module")
def fitted():
    vecs = _features()

    def features(texts):
        return np.stack([vecs[t] for t in texts])

    train_idx, dev_idx = range(0, 8), range(8, 12)
    human, dev = _pairs(train_idx, "lamp_toy"), _pairs(dev_idx, "lamp_toy")
    cfg = TrainConfig(kind="frozen", epochs=40, lr=1e-2, batch_size=8, hidden=16, patience=40)
    model, _ = train_frozen(human, dev, [], cfg, features=features)
    before = model.score_features(features(GOOD[8:])) - model.score_features(
        features(["salad of " + t for t in GOOD[8:]])
    )
    fit = add_degeneracy_head(
        model, [*human, *_negatives(train_idx)], dev, _negatives(dev_idx), features, hidden=8, lr=1e-2
    )
    return model, fit, features, before


def test_is_negative():
    assert is_negative(Pair("a", "b", "negative:few_words"))
    assert not is_negative(Pair("a", "b", "lamp_reannotation"))


def test_quality_head_alone_is_gamed(fitted):
    _, _, _, before = fitted
    assert (before < 0).all()  # the toy set is built so that every degraded variant wins on q


def test_penalty_fixes_the_negatives_and_keeps_lamp(fitted):
    model, fit, features, _ = fitted
    assert fit.dev_auc == pytest.approx(1.0)
    assert [t["multiple"] for t in fit.penalty_table] == list(PENALTY_GRID)
    chosen = next(t for t in fit.penalty_table if t["penalty"] == fit.penalty)
    assert fit.penalty > 0
    assert chosen["dev_negatives_accuracy"] == 1.0
    assert chosen["lamp_dev_accuracy"] >= fit.penalty_table[0]["lamp_dev_accuracy"] - 0.01
    # the reward is q − c·σ(g), exactly
    x = features([*GOOD, "salad of " + GOOD[9]])
    q, d = model.quality_features(x), model.degeneracy_features(x)
    assert np.allclose(model.score_features(x), q - fit.penalty * d)
    assert ((d >= 0) & (d <= 1)).all()


def test_two_head_model_roundtrips(fitted, tmp_path):
    model, _, features, _ = fitted
    model.save(tmp_path / "m")
    again = load_reward_model(tmp_path / "m")
    x = features(GOOD + ["salad of " + t for t in GOOD])
    assert np.array_equal(again.score_features(x), model.score_features(x))
    assert again.penalty == model.penalty


def test_needs_negatives(fitted):
    model, _, features, _ = fitted
    with pytest.raises(ValueError, match="negatives"):
        add_degeneracy_head(model, _pairs(range(4), "lamp_toy"), [], [], features)
