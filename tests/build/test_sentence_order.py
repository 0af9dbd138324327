"""`wqrm build-sentence-order` end to end on twelve tiny books written here, the training examples,
and the numpy model against the torch network it is read from."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.build.test_pos_lm import _books
from wqrm.build.pos_lm import POS_LM_BOOKS
from wqrm.build.sentence_order import DEV_BOOKS, order_examples
from wqrm.cli import app
from wqrm.sentence_order import SentenceOrderModel, pair_features

runner = CliRunner()


def test_pair_features_layout():
    a = np.array([[1.0, 2.0]])
    b = np.array([[3.0, -1.0]])
    assert pair_features(a, b).tolist() == [[1.0, 2.0, 3.0, -1.0, 3.0, -2.0, 2.0, -3.0]]


def test_order_examples_labels_and_counts():
    rng = random.Random(0)
    three = np.eye(3, 4)  # sentences e0, e1, e2 of one passage
    two = np.eye(4)[[3, 0]]  # and e3, e0 of another
    first, second, label = order_examples([three, two], rng)
    # passage of 3: 2 adjacent pairs x (pair, reversed, far, pool); passage of 2: 1 x (pair, reversed, pool)
    assert len(label) == 2 * 4 + 3 and label.sum() == 3
    assert first[0].tolist() == three[0].tolist() and second[0].tolist() == three[1].tolist()
    assert label[0] == 1 and label[1] == 0
    assert first[1].tolist() == three[1].tolist() and second[1].tolist() == three[0].tolist()
    # the far sentence of (e0, ·) in a passage of three can only be e2
    assert label[2] == 0 and second[2].tolist() == three[2].tolist()


def test_numpy_model_matches_the_torch_network():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = SentenceOrderModel.network(8, 5).eval()
    model = SentenceOrderModel.from_network(net)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 8)), rng.normal(size=(6, 8))
    with torch.no_grad():
        expected = net(torch.from_numpy(pair_features(a, b))).squeeze(1).numpy()
    assert model.pair_logits(a, b) == pytest.approx(expected.astype(np.float64), abs=1e-5)
    assert model.dim == 8


def test_next_probabilities_golden_with_hand_made_weights():
    # h = gelu(cos(a, b)) from the a⊙b block; logit = 2h − 1
    d = 2
    w1 = np.zeros((1, 4 * d))
    w1[0, 2 * d : 3 * d] = 1.0
    model = SentenceOrderModel(w1, np.zeros(1), np.array([[2.0]]), np.array([-1.0]))
    e = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])

    def gelu(x):
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))

    logits = [2 * gelu(0.6) - 1, 2 * gelu(0.8) - 1]
    assert model.next_probabilities(e) == pytest.approx(1 / (1 + np.exp(-np.array(logits))), abs=1e-6)
    assert model.next_probabilities(e[:1]).size == 0


def test_inconsistent_weights_are_refused():
    with pytest.raises(ValueError, match="inconsistent"):
        SentenceOrderModel(np.zeros((3, 7)), np.zeros(3), np.zeros((1, 3)), np.zeros(1))


def test_build_sentence_order_writes_a_model_and_its_curve(tmp_path, encoder):
    data, out = _books(tmp_path), tmp_path / "sentence_order"
    args = ["build-sentence-order", "--data", str(data), "--out", str(out), "--profile-passages", "0",
            "--hidden", "8"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "wqrm-sentence-order/1" and manifest["hidden"] == 8
    assert manifest["command"].startswith("wqrm build-sentence-order")
    assert len(manifest["sources"]) == len(POS_LM_BOOKS) and manifest["dev_books"] == list(DEV_BOOKS)
    assert manifest["passages"]["train"] > 0 and manifest["passages"]["dev"] > 0
    curve = manifest["curve"]
    assert [c["epoch"] for c in curve] == list(range(1, len(curve) + 1))
    assert 1 <= manifest["best_epoch"] <= len(curve)
    assert manifest["dev_loss"] == min(c["dev_loss"] for c in curve)
    assert 0.0 <= manifest["dev_auc"] <= 1.0
    model = SentenceOrderModel.load(out)
    assert model.dim == 384 and model.w1.shape == (8, 4 * 384)
