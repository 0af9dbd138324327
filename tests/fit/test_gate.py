"""The metric gate (wqrm.fit.gate) on hand-made pair tables with a known answer."""

import numpy as np
import pytest

from wqrm.components import COMPONENTS
from wqrm.fit.data import Pair
from wqrm.fit.gate import FoldGate, credit_table, excluded, metric_gate
from wqrm.fit.loso import FitSetting, default_grid, loso_report
from wqrm.fit.pairs import PairTable
from wqrm.scoring import component_values

# Two S7 metrics and S4's two: `good` and `s4a` favour the preferred text, `bad` the other one,
# `s4b` is noise.
COMPS = {"good": "S7", "bad": "S7", "s4a": "S4", "s4b": "S4"}
NAMES = list(COMPS)


def _table(per_source: dict[str, int], bad_agreement: float = 0.2, seed: int = 0) -> PairTable:
    rng = np.random.default_rng(seed)
    rows = []
    for src, n in per_source.items():
        for i in range(n):
            ga, gb = rng.uniform(0.2, 0.6, 4), rng.uniform(0.2, 0.6, 4)
            ga[0] += 0.5  # good: the preferred text is always better
            ga[2] += 0.5  # s4a
            hit = rng.random() < bad_agreement  # bad: agrees with the people only this often
            ga[1], gb[1] = (0.8, 0.2) if hit else (0.2, 0.8)
            rows.append((src, i, ga, gb))
    GA = np.array([r[2] for r in rows])
    GB = np.array([r[3] for r in rows])
    pairs = [Pair("x", "y", src, id=f"{src}{i}", group=f"{src}{i}") for src, i, _, _ in rows]
    return PairTable(
        pairs=pairs,
        dev=np.zeros(len(rows), bool),
        A=component_values(NAMES, GA, COMPS),
        B=component_values(NAMES, GB, COMPS),
        weight=np.ones(len(rows)),
        source=np.array([r[0] for r in rows]),
        length_adversarial=np.zeros(len(rows), bool),
        n_words=np.full((len(rows), 2), 100),
        better_metrics=[{} for _ in rows],
        worse_metrics=[{} for _ in rows],
        metric_names=NAMES,
        GA=GA,
        GB=GB,
        metric_components=COMPS,
    )


def test_gate_excludes_the_metric_that_disagrees():
    table = _table({"lamp_x": 200, "iterater_doc": 200})
    rep = metric_gate(credit_table(table))
    assert rep["good"]["verdict"] == "agrees" and rep["good"]["agreement"] == 1.0
    assert rep["bad"]["verdict"] == "disagrees"
    assert rep["bad"]["agreement"] == pytest.approx(0.2, abs=0.05)
    assert set(rep["bad"]["by_group"]) == {"lamp", "iterater"}
    assert list(excluded(rep, COMPS)) == ["bad"]


def test_components_without_the_excluded_metric():
    table = _table({"lamp_x": 100})
    gated = table.with_excluded({"bad"})
    s7 = COMPONENTS.index("S7")
    np.testing.assert_allclose(gated.A[:, s7], table.GA[:, 0])  # S7 is now `good` alone
    np.testing.assert_allclose(table.A[:, s7], (table.GA[:, 0] + table.GA[:, 1]) / 2)  # before: both
    np.testing.assert_array_equal(gated.A[:, COMPONENTS.index("S4")], table.A[:, COMPONENTS.index("S4")])


def test_groups_count_once_whatever_their_size():
    """5,000 pairs of one source where `bad` agrees do not outvote two sources where it disagrees."""
    big = _table({"negative:x": 2000}, bad_agreement=0.9, seed=1)
    small = _table({"lamp_x": 100, "iterater_doc": 100}, bad_agreement=0.1, seed=2)
    ct_big, ct_small = credit_table(big), credit_table(small)
    ct = type(ct_big)(NAMES, np.vstack([ct_big.credit, ct_small.credit]), np.r_[ct_big.group, ct_small.group])
    rep = metric_gate(ct)["bad"]
    assert rep["agreement"] == pytest.approx((0.9 + 0.1 + 0.1) / 3, abs=0.03)
    assert rep["verdict"] == "disagrees"


def test_small_groups_and_undefined_pairs_do_not_count():
    table = _table({"lamp_x": 19})
    rep = metric_gate(credit_table(table))
    assert rep["bad"]["verdict"] == "undefined" and rep["bad"]["by_group"] == {}
    table = _table({"lamp_x": 40})
    table.GA[:30, 1] = np.nan  # `bad` undefined on 30 preferred texts: 10 pairs left, under 20
    assert metric_gate(credit_table(table))["bad"]["verdict"] == "undefined"


def test_a_component_keeps_its_last_defined_metric():
    no = {"verdict": "disagrees", "agreement": 0.3, "ci95": [0.2, 0.4], "by_group": {}}
    undefined = {"verdict": "undefined", "agreement": None, "ci95": None, "by_group": {}}
    rep = {"s4a": no, "s4b": no, "bad": no, "good": {**no, "verdict": "agrees"}}
    assert list(excluded(rep, COMPS)) == ["bad"]  # S4 would be left without a metric
    rep = {"s4a": no, "s4b": undefined, "bad": no, "good": no}
    assert excluded(rep, COMPS) == {}  # the only defined ones of S4 and of S7


def test_loso_decides_the_gate_without_the_held_out_source():
    """`bad` disagrees on lamp only: held out, lamp's fold gate (from iterater alone, where `bad`
    agrees) keeps it; the iterater fold's gate (from lamp) drops it."""
    lamp = _table({"lamp_x": 150}, bad_agreement=0.1, seed=3)
    it = _table({"iterater_doc": 150}, bad_agreement=0.9, seed=4)
    both = PairTable(
        pairs=lamp.pairs + it.pairs,
        dev=np.r_[lamp.dev, it.dev],
        A=np.vstack([lamp.A, it.A]),
        B=np.vstack([lamp.B, it.B]),
        weight=np.r_[lamp.weight, it.weight],
        source=np.r_[lamp.source, it.source],
        length_adversarial=np.r_[lamp.length_adversarial, it.length_adversarial],
        n_words=np.vstack([lamp.n_words, it.n_words]),
        better_metrics=lamp.better_metrics + it.better_metrics,
        worse_metrics=lamp.worse_metrics + it.worse_metrics,
        metric_names=NAMES,
        GA=np.vstack([lamp.GA, it.GA]),
        GB=np.vstack([lamp.GB, it.GB]),
        metric_components=COMPS,
    )
    gates = {"balanced": FoldGate(both, "balanced")}
    setting = FitSetting(1e-2, gate="balanced")
    rep = loso_report(both, setting, held_out=["lamp", "iterater"], gates=gates)
    assert rep["lamp"]["excluded_metrics"] == []
    assert rep["iterater"]["excluded_metrics"] == ["bad"]
    off = loso_report(both, FitSetting(1e-2), held_out=["lamp", "iterater"], gates=gates)
    assert "excluded_metrics" not in off["lamp"]
    with pytest.raises(ValueError, match="pooled"):
        loso_report(both, FitSetting(1e-2, gate="pooled"), held_out=["lamp"], gates=gates)


def test_pooled_mode_counts_pairs_not_sources():
    big = _table({"negative:x": 2000}, bad_agreement=0.9, seed=1)
    small = _table({"lamp_x": 100, "iterater_doc": 100}, bad_agreement=0.1, seed=2)
    ct_big, ct_small = credit_table(big), credit_table(small)
    ct = type(ct_big)(NAMES, np.vstack([ct_big.credit, ct_small.credit]), np.r_[ct_big.group, ct_small.group])
    rep = metric_gate(ct, mode="pooled")["bad"]
    assert rep["agreement"] == pytest.approx((0.9 * 2000 + 0.1 * 200) / 2200, abs=0.02)
    assert rep["verdict"] == "agrees"
    with pytest.raises(ValueError, match="mode"):
        metric_gate(ct, mode="median")


def test_the_grid_offers_each_gate_choice():
    assert {s.gate for s in default_grid()} == {"off"}
    grid = default_grid(("off", "pooled", "balanced"))
    assert len(grid) == 3 * len(default_grid())
    assert {s.gate for s in grid} == {"off", "pooled", "balanced"}
