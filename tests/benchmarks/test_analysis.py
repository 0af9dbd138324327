"""wqrm.benchmarks.analysis on synthetic per-text rows (no scorer): known distributions, known answers."""

import json

import numpy as np
import pytest

from wqrm.benchmarks.analysis import BenchConfig, analyse
from wqrm.components import COMPONENTS
from wqrm.weights import composite_scores

ALPHA = {c: 1 / 8 for c in COMPONENTS}
CFG = BenchConfig(n_resamples=1000)


def row(group, kind, i, *, comps, words=100, prompt=None, metrics=None, half=None):
    comps = {c: comps.get(c) for c in COMPONENTS}
    C = np.array([[np.nan if comps[c] is None else comps[c] for c in COMPONENTS]])
    score = float(composite_scores(C, ALPHA)[0])
    return {
        "group": group,
        "kind": kind,
        "id": f"{group}-{i}",
        "prompt_id": prompt,
        "key": f"{group}-{i}",
        "text": f"text {i}",
        "n_words": int(words),
        "score": score,
        "score_uniform": score,
        "components": comps,
        "metrics": metrics or {},
        "goodness": {k: 0.5 for k in metrics or {}},
        "reasons": {},
        "spans": [],
        "error": None,
        "half": half,
    }


def groups(*names_kinds):
    return [{"name": n, "kind": k, "source": "synthetic"} for n, k in names_kinds]


def halves(n, seed=0):
    h = np.zeros(n, dtype=int)
    h[np.random.default_rng(seed).permutation(n)[: n // 2]] = 1
    return h


def metric_rows(rng, n_ref=400, n_sys=200):
    """Reference m ~ N(0, 1); system `same` ~ N(0, 1); system `shifted` ~ N(1.349, 1) (one IQR)."""
    rows = []
    h = halves(n_ref)
    for i, v in enumerate(rng.normal(0, 1, n_ref)):
        rows.append(row("ref", "reference", i, comps={"S1": 0.5}, metrics={"m": v}, half=int(h[i])))
    for i, v in enumerate(rng.normal(0, 1, n_sys)):
        rows.append(row("same", "system", i, comps={"S1": 0.5}, metrics={"m": v}))
    for i, v in enumerate(rng.normal(1.349, 1, n_sys)):
        rows.append(row("shifted", "system", i, comps={"S1": 0.6}, metrics={"m": v}))
    return rows


def test_reference_halves_noise_floor_is_near_zero():
    rows = metric_rows(np.random.default_rng(0))
    res = analyse(
        rows, groups(("same", "system"), ("shifted", "system"), ("ref", "reference")), alpha=ALPHA, cfg=CFG
    )
    cell = res["metrics"]["m"]["references"]["ref"]
    floor, same, shifted = cell["noise_floor"], cell["groups"]["same"], cell["groups"]["shifted"]
    assert floor["value"] < 0.12 and floor["ci"][0] >= 0
    assert same["distance"]["value"] < 0.15
    assert shifted["distance"]["value"] == pytest.approx(1.0, abs=0.15)
    assert shifted["distance"]["ci"][0] > floor["ci"][1]
    # a group distributed like the reference has half its texts inside the reference IQR band
    assert same["inside_band"] == pytest.approx(0.5, abs=0.1)
    assert shifted["inside_band"] < 0.3
    summary = res["distance_summary"]["ref"]
    assert summary["noise_floor"]["median"] == pytest.approx(floor["value"])
    assert summary["groups"]["shifted"]["median"] == pytest.approx(shifted["distance"]["value"])
    # the reference halves are also a win-rate noise floor: about ½
    nf = [c for c in res["comparisons"] if c["kind"] == "noise_floor"]
    assert len(nf) == 1 and nf[0]["a"] == "ref (half A)"
    json.dumps(res, allow_nan=False)  # results.json never holds NaN


def test_composite_interval_shrinks_as_prompts_grow():
    rng = np.random.default_rng(1)
    widths = {}
    for n in (50, 200, 800):
        rows = [
            row("sys", "system", i, comps={"S1": float(np.clip(rng.normal(0.6, 0.15), 0, 1))}, prompt=f"p{i}")
            for i in range(n)
        ]
        g = analyse(rows, groups(("sys", "system")), alpha=ALPHA, cfg=CFG)["groups"][0]
        assert g["unit"] == "prompt" and g["n_prompts"] == n
        assert g["composite"]["value"] == pytest.approx(np.mean([r["score"] for r in rows]))
        lo, hi = g["composite"]["ci"]
        assert lo < g["composite"]["value"] < hi
        widths[n] = hi - lo
    assert 0.35 < widths[200] / widths[50] < 0.65
    assert 0.35 < widths[800] / widths[200] < 0.65


def _pairs(rng, n, a_better_at_equal_length: bool):
    """Two systems on the same prompts. A writes longer texts; the scorer here rewards length
    (score rises with words), so A leads overall. With `a_better_at_equal_length` A is also
    better by 0.1 at any length."""
    rows = []
    for p in range(n):
        for sys, lo, hi in (("A", 100, 200), ("B", 80, 130)):
            words = rng.uniform(lo, hi)
            s1 = 0.2 + 0.003 * words + (0.1 if sys == "A" and a_better_at_equal_length else 0.0)
            s1 += rng.normal(0, 0.02)
            rows.append(row(sys, "system", p, comps={"S1": s1, "S2": 0.5}, words=words, prompt=f"p{p}"))
    return rows


def test_length_check_flags_a_lead_that_is_only_length():
    res = analyse(
        _pairs(np.random.default_rng(2), 300, False),
        groups(("A", "system"), ("B", "system")),
        alpha=ALPHA,
        cfg=CFG,
    )
    (c,) = res["comparisons"]
    assert c["pairing"] == "prompt" and c["n_pairs"] == 300 and c["n_units"] == 300
    assert c["win_rate"]["ci"][0] > 0.5  # A leads
    length = c["length"]
    assert length["leader"] == "A" and length["n_matched_pairs"] >= 10
    assert length["win_rate"]["ci"][0] <= 0.5 <= length["win_rate"]["ci"][1]
    assert length["flag"] is True and "mostly length" in length["verdict"]
    # the shorter-wins baseline disagrees with the composite here: A's texts are the longer ones
    assert c["win_rate_shorter"]["value"] < 0.2


def test_length_check_keeps_a_real_lead():
    res = analyse(
        _pairs(np.random.default_rng(3), 300, True),
        groups(("A", "system"), ("B", "system")),
        alpha=ALPHA,
        cfg=CFG,
    )
    length = res["comparisons"][0]["length"]
    assert length["flag"] is False and length["win_rate"]["ci"][0] > 0.5 and "holds" in length["verdict"]


def test_no_lead_no_length_verdict():
    rng = np.random.default_rng(4)
    rows = [row(s, "system", i, comps={"S1": rng.uniform()}, prompt=f"p{i}") for s in "AB" for i in range(40)]
    length = analyse(rows, groups(("A", "system"), ("B", "system")), alpha=ALPHA, cfg=CFG)["comparisons"][0][
        "length"
    ]
    assert length["flag"] is None and length["verdict"] == "no significant lead"


def test_drivers_name_the_component_that_differs():
    rows = []
    for i in range(30):
        rows.append(row("A", "system", i, comps={"S1": 0.8, "S2": 0.5, "S3": 0.4}, prompt=f"p{i}"))
        rows.append(row("B", "system", i, comps={"S1": 0.6, "S2": 0.5, "S3": 0.45}, prompt=f"p{i}"))
    c = analyse(rows, groups(("A", "system"), ("B", "system")), alpha=ALPHA, cfg=CFG)["comparisons"][0]
    assert c["drivers"] == ["S1", "S3"]  # S2 does not differ
    assert c["components"]["S1"]["difference"] == pytest.approx(0.2)
    # contributions: α_i ΔS_i / Σ_shared α (three shared components of equal weight); they sum to the margin
    assert c["components"]["S1"]["contribution"] == pytest.approx(0.2 / 3)
    assert c["components"]["S3"]["contribution"] == pytest.approx(-0.05 / 3)
    assert sum(v["contribution"] for v in c["components"].values()) == pytest.approx(0.15 / 3)
    assert c["win_rate"]["value"] == 1.0


def test_unpaired_groups_compare_all_pairs():
    rows = [row("A", "system", i, comps={"S1": 0.1 * i}) for i in range(5)]
    rows += [row("B", "system", i, comps={"S1": 0.25}) for i in range(4)]
    c = analyse(rows, groups(("A", "system"), ("B", "system")), alpha=ALPHA, cfg=CFG)["comparisons"][0]
    assert c["pairing"] == "unpaired" and c["n_pairs"] == 20
    assert c["win_rate"]["value"] == pytest.approx(2 / 5)  # 0.3 and 0.4 beat 0.25; 0.0-0.2 lose


def test_examples_best_and_worst_never_overlap():
    rows = [row("A", "system", i, comps={"S1": i / 10}) for i in range(4)]
    ex = analyse(rows, groups(("A", "system")), alpha=ALPHA, cfg=CFG)["examples"]["A"]
    assert [e["id"] for e in ex["best"]] == ["A-3", "A-2", "A-1"]
    assert [e["id"] for e in ex["worst"]] == ["A-0"]


def test_error_rows_are_counted_not_used():
    rows = [row("A", "system", i, comps={"S1": 0.5}) for i in range(5)]
    bad = row("A", "system", 9, comps={})
    bad.update(score=None, error="empty text")
    res = analyse([*rows, bad], groups(("A", "system")), alpha=ALPHA, cfg=CFG)
    g = res["groups"][0]
    assert (g["n_texts"], g["n_scored"], g["n_errors"]) == (6, 5, 1)
    assert g["composite"]["value"] == pytest.approx(0.5)
