"""The S1 degeneracy head (wqrm.fit.degeneracy) on toy features where the quality head is gamed."""

import numpy as np
import pytest

from wqrm.edit.model import load_reward_model
from wqrm.edit.surface import SURFACE_FEATURES, surface_features
from wqrm.fit.data import Pair
from wqrm.fit.degeneracy import ONSET_GRID, PENALTY_GRID, add_degeneracy_head, is_negative
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
    before = (
        model.score_features(features(GOOD[8:]))
        - model.score_features(  # q alone: no head yet
            features(["salad of " + t for t in GOOD[8:]])
        )
    )
    fit = add_degeneracy_head(
        model, [*human, *_negatives(train_idx)], dev, _negatives(dev_idx), features, hidden=8, lr=1e-2
    )
    return model, fit, features, before


def _fit(features, **kw):
    train_idx, dev_idx = range(0, 8), range(8, 12)
    human, dev = _pairs(train_idx, "lamp_toy"), _pairs(dev_idx, "lamp_toy")
    cfg = TrainConfig(kind="frozen", epochs=40, lr=1e-2, batch_size=8, hidden=16, patience=40)
    model, _ = train_frozen(human, dev, [], cfg, features=features)
    negs = [*human, *_negatives(train_idx)]
    return model, add_degeneracy_head(
        model, negs, dev, _negatives(dev_idx), features, hidden=8, lr=1e-2, **kw
    )


def test_is_negative():
    assert is_negative(Pair("a", "b", "negative:few_words"))
    assert not is_negative(Pair("a", "b", "lamp_reannotation"))


def test_quality_head_alone_is_gamed(fitted):
    _, _, _, before = fitted
    assert (before < 0).all()  # the toy set is built so that every degraded variant wins on q


def test_penalty_fixes_the_negatives_and_keeps_lamp(fitted):
    model, fit, features, _ = fitted
    assert fit.dev_auc == pytest.approx(1.0)
    assert [(t["onset"], t["multiple"]) for t in fit.penalty_table] == [
        (o, k) for o in ONSET_GRID for k in PENALTY_GRID
    ]
    chosen = next(t for t in fit.penalty_table if (t["penalty"], t["onset"]) == (fit.penalty, fit.onset))
    assert fit.penalty > 0
    assert chosen["dev_negatives_accuracy"] == 1.0
    assert chosen["lamp_dev_accuracy"] >= fit.penalty_table[0]["lamp_dev_accuracy"] - 0.01
    # the reward is q − c·max(0, (σ(g) − o) / (1 − o)), exactly; g reads the surface counts too
    texts = [*GOOD, "salad of " + GOOD[9]]
    x = model.with_surface(texts, features(texts))
    assert x.shape == (13, 6 + len(SURFACE_FEATURES))
    assert np.array_equal(x[:, 6:], surface_features(texts))
    q, d = model.quality_features(x), model.degeneracy_features(x)
    o = model.config["degeneracy"]["onset"]
    assert o == fit.onset and o in ONSET_GRID
    assert np.allclose(model.score_features(x), q - fit.penalty * np.maximum(d - o, 0) / (1 - o))
    assert ((d >= 0) & (d <= 1)).all()
    assert model.score_features(x)[-1] < model.score_features(x)[9]


def test_without_surface_and_onset_the_reward_is_q_minus_c_sigma(fitted):
    """The recipe of the models before session 29 (their configs carry neither key)."""
    _, _, features, _ = fitted
    model, fit = _fit(features, surface=False, onsets=(0.0,))
    x = features([*GOOD, "salad of " + GOOD[9]])
    assert model.with_surface(GOOD, x) is x
    assert model.config["degeneracy"]["surface"] == []
    q, d = model.quality_features(x), model.degeneracy_features(x)
    assert np.allclose(model.score_features(x), q - fit.penalty * d)


def test_surface_counts_find_what_the_embedding_cannot():
    """Variants that embed exactly as their originals (so neither head's embedding input can tell
    them apart) but are their first four words alone: only the surface counts separate them."""
    vecs = _features()
    long = {t: t + " walked along the river and came home late after the rain." for t in GOOD}
    emb = {**{long[t]: vecs[t] for t in GOOD}, **{" ".join(long[t].split()[:4]): vecs[t] for t in GOOD}}
    emb.update({t: vecs[t] for t in BAD})
    human = [Pair(long[GOOD[i]], BAD[j], "lamp_toy") for i in range(8) for j in range(8)]
    dev = [Pair(long[GOOD[i]], BAD[j], "lamp_toy") for i in range(8, 12) for j in range(8, 12)]

    def negs(idx):
        return [Pair(long[GOOD[i]], " ".join(long[GOOD[i]].split()[:4]), "negative:few_words") for i in idx]

    def feats(texts):
        return np.stack([emb[t] for t in texts])

    cfg = TrainConfig(kind="frozen", epochs=40, lr=1e-2, batch_size=8, hidden=16, patience=40)
    for surface, accuracy in ((False, 0.5), (True, 1.0)):  # without: every pair a tie (half each)
        model, _ = train_frozen(human, dev, [], cfg, features=feats)
        fit = add_degeneracy_head(
            model,
            [*human, *negs(range(8))],
            dev,
            negs(range(8, 12)),
            feats,
            hidden=8,
            lr=1e-2,
            surface=surface,
        )
        chosen = next(t for t in fit.penalty_table if (t["penalty"], t["onset"]) == (fit.penalty, fit.onset))
        assert chosen["dev_negatives_accuracy"] == accuracy


def test_two_head_model_roundtrips(fitted, tmp_path):
    model, _, features, _ = fitted
    model.save(tmp_path / "m")
    again = load_reward_model(tmp_path / "m")
    texts = GOOD + ["salad of " + t for t in GOOD]
    x = model.with_surface(texts, features(texts))
    assert again.config["degeneracy"]["surface"] == list(SURFACE_FEATURES)
    assert np.array_equal(again.score_features(x), model.score_features(x))
    assert again.penalty == model.penalty


def test_needs_negatives(fitted):
    model, _, features, _ = fitted
    with pytest.raises(ValueError, match="negatives"):
        add_degeneracy_head(model, _pairs(range(4), "lamp_toy"), [], [], features)


def test_onsets_must_be_probabilities_below_one(fitted):
    model, _, features, _ = fitted
    with pytest.raises(ValueError, match="onsets"):
        add_degeneracy_head(model, [], [], [], features, onsets=(0.5, 1.0))
