import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ddpo_helpers import FakeScorer
from wqrm.ddpo import (
    LengthBalancer,
    best_of,
    build_pairs,
    ddpo_loss,
    deviation_weights,
    message_text,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "ddpo" / "candidates.jsonl"


# ---- δ_w ------------------------------------------------------------------------------------------


def test_deviation_weights_hand_worked():
    # u = (0, 0.5, 1), mean 0.5 → w = (0, 1, 2)
    assert deviation_weights([0.2, 0.4, 0.6]) == pytest.approx([0.0, 1.0, 2.0])
    assert deviation_weights([0.3, 0.3, 0.3]) == [1.0, 1.0, 1.0]
    assert deviation_weights([0.5, None, 0.1]) == pytest.approx([2.0, None, 0.0])
    assert deviation_weights([None, None]) == [None, None]


@given(st.lists(st.floats(0, 2, allow_nan=False), min_size=2, max_size=30))
def test_deviation_weights_equal_the_authors_transform(devs):
    """The released DDPO code: m = min-max to [−1, 1]; s = (m_w·N − Σm)/(N + Σm); loss × (s + 1)."""
    w = deviation_weights(devs)
    lo, hi = min(devs), max(devs)
    if hi - lo <= 1e-12:
        assert w == [1.0] * len(devs)
        return
    n = len(devs)
    m = [2 * (d - lo) / (hi - lo) - 1 for d in devs]
    for wi, mi in zip(w, m, strict=True):
        s = (mi * n - sum(m)) / (n + sum(m))
        assert wi == pytest.approx(s + 1, abs=1e-9)
    assert sum(w) / n == pytest.approx(1.0) and min(w) == pytest.approx(0.0) and max(w) <= n + 1e-9


# ---- the loss -------------------------------------------------------------------------------------


def test_ddpo_loss_hand_worked_two_pairs():
    beta = 0.5
    pc, pr = torch.tensor([-1.0, -3.0]), torch.tensor([-2.0, -1.0])
    rc, rr = torch.tensor([-1.5, -2.0]), torch.tensor([-1.5, -2.0])
    # pair 1: ((−1 + 1.5) − (−2 + 1.5)) = 1   → −log σ(0.5) = log(1 + e^−0.5)
    # pair 2: ((−3 + 2) − (−1 + 2)) = −2      → −log σ(−1)  = log(1 + e)
    expected = (2.0 * math.log1p(math.exp(-0.5)) + 0.5 * math.log1p(math.e)) / 2
    loss, chosen_rewards, rejected_rewards = ddpo_loss(pc, pr, rc, rr, [2.0, 0.5], beta)
    assert loss.item() == pytest.approx(expected, abs=1e-6)
    assert loss.item() == pytest.approx(0.802392, abs=1e-6)
    assert chosen_rewards.tolist() == pytest.approx([0.25, -0.5])
    assert rejected_rewards.tolist() == pytest.approx([-0.25, 0.5])


def test_ddpo_loss_zero_weight_pair_gets_zero_gradient():
    pc = torch.tensor([-1.0, -3.0], requires_grad=True)
    pr = torch.tensor([-2.0, -1.0], requires_grad=True)
    loss, _, _ = ddpo_loss(pc, pr, torch.zeros(2), torch.zeros(2), torch.tensor([0.0, 1.0]), 0.1)
    loss.backward()
    assert pc.grad[0].item() == 0.0 and pr.grad[0].item() == 0.0
    assert pc.grad[1].item() < 0 < pr.grad[1].item()  # the weighted pair still pulls chosen up


@pytest.mark.parametrize(
    ("weights", "beta", "message"),
    [
        ([1.0, -1.0], 0.1, "≥ 0"),
        ([1.0, float("nan")], 0.1, "finite"),
        ([1.0], 0.1, "shape"),
        ([1.0, 1.0], 0.0, "beta"),
    ],
)
def test_ddpo_loss_rejects_bad_input(weights, beta, message):
    x = torch.zeros(2)
    with pytest.raises(ValueError, match=message):
        ddpo_loss(x, x, x, x, weights, beta)


def test_import_stays_light():
    code = "import sys, wqrm.ddpo, wqrm.pairs; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---- length guard ---------------------------------------------------------------------------------


def _pair(direction: int) -> dict:
    return {"n_words_chosen": 10 + direction, "n_words_rejected": 10}


@settings(max_examples=200)
@given(st.lists(st.sampled_from([-1, 0, 1]), max_size=300))
def test_length_balancer_keeps_share_within_tolerance(directions):
    b = LengthBalancer(0.05)
    kept = []
    for d in directions:
        imbalance = b.longer - b.shorter
        if b.accept(_pair(d)):
            kept.append(d)
        else:  # only a pair on the side that already has more pairs is ever dropped
            assert d != 0 and d * imbalance > 0
    assert len(kept) == b.n and b.longer == kept.count(1) and b.shorter == kept.count(-1)
    if b.n >= 10:
        assert abs(b.share - 0.5) <= 0.05 + 1e-12


def test_length_balancer_counts():
    b = LengthBalancer()
    for d in (1, 1, 1, 0, -1):
        b.add(_pair(d))
    assert (b.longer, b.shorter, b.equal, b.n) == (3, 1, 1, 5) and b.share == pytest.approx(3.5 / 5)


# ---- pairs from a group (table scorer) ------------------------------------------------------------

TABLE = {
    # text: (quality q = composite without S8, deviation d, words)
    "a": (0.9, 0.1, 50),  # score 0.50
    "b": (0.5, 0.7, 60),  # score 0.60  ← best with S8; not the best without
    "c": (0.3, 0.5, 70),  # score 0.40
    "d": (0.1, 0.3, 80),  # score 0.20
}


def test_build_pairs_all_and_best_worst():
    scorer = FakeScorer(TABLE)
    g = build_pairs("Write.", ["a", "b", "c", "d"], scorer, group="g1")
    assert scorer.calls == [(["a", "b", "c", "d"], "Write.", True)]
    assert g.chosen_index == 1 and g.best_without_s8_index == 0
    assert [(p["chosen"], p["rejected"]) for p in g.pairs] == [("b", "a"), ("b", "c"), ("b", "d")]
    p = g.pairs[0]
    assert p["score_chosen"] == pytest.approx(0.6) and p["score_rejected"] == pytest.approx(0.5)
    assert p["margin"] == pytest.approx(0.1) and p["group"] == "g1"
    # δ = (0.1, 0.7, 0.5, 0.3): u = (0, 1, 2/3, 1/3), mean 0.5 → w_b = 2
    assert all(q["weight"] == pytest.approx(2.0) for q in g.pairs)
    assert (p["n_words_chosen"], p["n_words_rejected"], p["deviation_chosen"]) == (60, 50, 0.7)
    assert p["components_chosen"]["S1"] == 0.5 and p["components_rejected"]["S8"] == 0.1

    worst = build_pairs("Write.", ["a", "b", "c", "d"], FakeScorer(TABLE), mode="best-worst")
    assert [(q["chosen"], q["rejected"]) for q in worst.pairs] == [("b", "d")]

    margin = build_pairs("Write.", ["a", "b", "c", "d"], FakeScorer(TABLE), margin=0.15)
    assert [q["rejected"] for q in margin.pairs] == ["c", "d"]


def test_build_pairs_errors_duplicates_and_ties():
    g = build_pairs("P", ["a", "", "a", ["not a message"], "b"], FakeScorer(TABLE))
    assert g.n_candidates == 5 and g.n_unique == 3 and g.n_scored == 2
    assert set(g.candidate_errors) == {1, 2, 3} and "duplicate of candidate 0" in g.candidate_errors[2]
    assert "empty" in g.candidate_errors[1]
    assert [(p["chosen_index"], p["rejected_index"]) for p in g.pairs] == [(4, 0)]
    assert g.pairs[0]["weight"] == pytest.approx(2.0)  # δ (0.1, 0.7) over the scored candidates a, b

    one = build_pairs("P", ["a", ""], FakeScorer(TABLE))
    assert one.pairs == [] and "1 scorable candidate" in one.error
    scorer = FakeScorer(TABLE)
    alone = build_pairs("P", ["a", "a", 7], scorer)
    assert alone.pairs == [] and "1 distinct candidate" in alone.error and scorer.calls == []
    tie = build_pairs("P", ["x", "y"], FakeScorer({"x": (0.5, 0.2, 5), "y": (0.5, 0.2, 9)}))
    assert tie.pairs == [] and "below the best" in tie.error and tie.chosen_index == 0
    with pytest.raises(ValueError, match="mode"):
        build_pairs("P", ["a"], FakeScorer(TABLE), mode="worst")


def test_build_pairs_conversational_in_conversational_out():
    prompt = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Write."}]
    cands = [[{"role": "assistant", "content": "a"}], "b"]  # a plain candidate in a chat group is wrapped
    scorer = FakeScorer(TABLE)
    g = build_pairs(prompt, cands, scorer)
    assert scorer.calls[0][1] == "Write."  # user messages are the prompt text
    (p,) = g.pairs
    assert p["prompt"] == prompt
    assert p["chosen"] == [{"role": "assistant", "content": "b"}] and p["rejected"] == cands[0]


def test_message_text():
    msgs = [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": [{"type": "text", "text": "A"}]},
    ]
    assert message_text(msgs) == "A" and message_text("plain") == "plain"
    for bad in ([], [{"role": "user", "content": "Q"}], 3, [{"content": "x"}]):
        with pytest.raises(ValueError):
            message_text(bad)


def test_best_of_with_table_scorer():
    b = best_of(FakeScorer(TABLE), ["a", "b", "c"], prompt="P")
    assert (b.index, b.runner_up) == (1, 0) and b.margin == pytest.approx(0.1)
    # uniform α over S1 and S8: contributions (0.5 − 0.9)/2 and (0.7 − 0.1)/2
    assert b.contributions == pytest.approx({"S1": -0.2, "S8": 0.3})
    assert sum(b.contributions.values()) == pytest.approx(b.margin) and b.decided_by == ["S8"]
    alone = best_of(FakeScorer(TABLE), ["a", "b", "c"], group=False)
    assert alone.index == 0  # without S8 the highest quality wins
    with pytest.raises(ValueError, match="no candidate could be scored"):
        best_of(FakeScorer(TABLE), ["", "zzz"])


# ---- the real scorer ------------------------------------------------------------------------------


def test_build_pairs_matches_group_scoring(scorer):
    g = json.loads(EXAMPLES.read_text(encoding="utf-8").splitlines()[0])
    gp = build_pairs(g["prompt"], g["candidates"], scorer, group=g["id"])
    results = scorer.score_batch(g["candidates"], prompt=g["prompt"], group=True)
    scores = [r.score for r in results]
    assert gp.scores == pytest.approx(scores, abs=1e-12)
    assert gp.chosen_index == max(range(len(scores)), key=lambda i: scores[i])
    no_s8 = [scorer.composite({**r.components, "S8": None})[0] for r in results]
    assert gp.best_without_s8_index == max(range(len(no_s8)), key=lambda i: no_s8[i])
    w = deviation_weights([r.metrics["deviation"] for r in results])[gp.chosen_index]
    assert len(gp.pairs) == len(scores) - 1 and all(p["weight"] == pytest.approx(w) for p in gp.pairs)
    assert all(r.components["S8"] is not None for r in results)
    assert scorer.best_of(g["candidates"], prompt=g["prompt"]).index == gp.chosen_index
