"""wqrm.snapshot: distribution summaries, bootstrap spread, provenance, save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from wqrm.components import COMPONENTS
from wqrm.profile import Profile
from wqrm.snapshot import (
    SNAPSHOT_LEVELS,
    Snapshot,
    build_snapshot,
    is_scored,
    provenance_of,
    summarize,
)


def score_rows(n: int, seed: int = 0, shift: dict[str, float] | None = None) -> list[dict]:
    """Synthetic score dicts (the shape of `ScoreResult.to_dict()`): composite, three components,
    four metrics; `shift` adds a constant to the named quantities."""
    rng = np.random.default_rng(seed)
    shift = shift or {}
    rows = []
    for _ in range(n):
        comps = dict.fromkeys(COMPONENTS)
        comps.update({c: float(np.clip(0.6 + 0.1 * rng.normal(), 0, 1)) for c in ("S1", "S3", "S7")})
        metrics = {
            "gpp": float(abs(1.0 + rng.normal())),
            "mtld": float(70 + 10 * rng.normal()),
            "sc": float(0.29 + 0.04 * rng.normal()),
            "ec": None,
        }
        row = {
            "score": float(0.55 + 0.1 * rng.normal()),
            "components": comps,
            "metrics": metrics,
            "error": None,
        }
        for name, c in shift.items():
            if name == "score":
                row["score"] += c
            elif name in comps:
                comps[name] += c
            else:
                metrics[name] += c
        rows.append(row)
    return rows


def test_summary_matches_numpy():
    values = [3.0, None, 1.0, 4.0, float("nan"), 1.0, 5.0, 9.0, 2.0, 6.0]
    s = summarize(values, band=(2.0, 5.0))
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    assert (s.n, s.n_undefined) == (8, 2)
    assert s.mean == pytest.approx(x.mean()) and s.std == pytest.approx(x.std())
    assert s.median == pytest.approx(3.5)
    assert s.quantiles == pytest.approx(tuple(np.quantile(x, SNAPSHOT_LEVELS)))
    assert s.in_band == pytest.approx(4 / 8)  # 3, 4, 5, 2 inside [2, 5]
    assert s.mean_ci[0] <= s.mean <= s.mean_ci[1]


def test_bootstrap_spread_agrees_with_theory_and_is_seeded():
    x = np.random.default_rng(7).normal(10.0, 2.0, size=400)
    s = summarize(x.tolist())
    assert s.mean_se == pytest.approx(2.0 / np.sqrt(400), rel=0.15)
    # the median's spread against a direct resampling of our own (its theory, √(π/2) σ/√n, holds only
    # on average over samples: a bootstrap of one sample's median is noisy)
    idx = np.random.default_rng(99).integers(0, 400, size=(5000, 400))
    assert s.median_se == pytest.approx(np.median(x[idx], axis=1).std(ddof=1), rel=0.1)
    again, other = summarize(x.tolist()), summarize(x.tolist(), seed=1)
    assert again.mean_se == s.mean_se and again.mean_ci == s.mean_ci
    assert other.mean_se != s.mean_se


def test_degenerate_and_tiny_samples():
    const = summarize([0.5] * 20)
    assert const.mean_se == 0.0 and const.mean_ci == (0.5, 0.5) and const.median_se == 0.0
    one = summarize([0.5, None])
    assert one.n == 1 and one.mean == 0.5 and one.mean_se is None
    none = summarize([None, None])
    assert none.n == 0 and none.mean is None and none.n_undefined == 2


def test_build_snapshot_from_results():
    rows = score_rows(30)
    rows[4] = {"score": None, "components": {}, "metrics": {}, "error": "empty text"}
    snap = build_snapshot(rows)
    assert snap.n_texts == 30 and snap.n_errors == 1
    assert list(snap.quantities)[:9] == ["score", *COMPONENTS]
    assert snap.quantities["error_rate"].mean == pytest.approx(1 / 30)
    assert snap.quantities["score"].n == 29
    assert snap.quantities["S2"].n == 0 and snap.quantities["ec"].n == 0
    gpp = snap.quantities["gpp"]
    assert (gpp.component, gpp.direction, gpp.kind) == ("S3", "lower", "metric")
    mq = Profile.default().metrics["gpp"]
    assert gpp.band == (mq.at(0.25), mq.at(0.75))  # the reference IQR
    values = np.array([r["metrics"]["gpp"] for r in rows if r["error"] is None])
    assert gpp.in_band == pytest.approx(np.mean((values >= gpp.band[0]) & (values <= gpp.band[1])))
    assert snap.text_sha256 is None  # results without texts
    assert snap.bootstrap["seed"] == 0 and snap.bootstrap["n_resamples"] == 1000


def test_save_load_roundtrip_is_deterministic(tmp_path):
    a, b = build_snapshot(score_rows(20)), build_snapshot(score_rows(20))
    assert a.dumps() == b.dumps()  # same outputs, same file
    path = a.save(tmp_path / "s.wqrm.json")
    loaded = Snapshot.load(path)
    assert loaded.to_json() == json.loads(path.read_text())
    assert loaded.quantities["mtld"].mean == pytest.approx(a.quantities["mtld"].mean, rel=1e-9)
    lines = path.read_text().splitlines()
    assert sum(line.lstrip().startswith('"mtld": {') for line in lines) == 1  # one line per quantity


def test_load_refuses_other_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="--wqrm-update"):
        Snapshot.load(tmp_path / "missing.json")
    other = tmp_path / "profile.json"
    other.write_text(json.dumps({"format": "wqrm-profile/1"}))
    with pytest.raises(ValueError, match="not a wqrm snapshot"):
        Snapshot.load(other)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        Snapshot.load(broken)


def test_bad_outputs_are_named():
    with pytest.raises(ValueError, match="mix texts and score results"):
        build_snapshot(["a text", *score_rows(2)])
    with pytest.raises(ValueError, match="at least two"):
        build_snapshot(score_rows(1))
    with pytest.raises(ValueError, match="no outputs"):
        build_snapshot([])
    with pytest.raises(TypeError, match="output 1"):
        build_snapshot(["a text", 42])
    rows = [{**r, "weights": "someone-elses-weights"} for r in score_rows(3)]
    with pytest.raises(ValueError, match="someone-elses-weights"):
        build_snapshot(rows)
    assert is_scored(score_rows(2)) and not is_scored(["a", "b"]) and not is_scored([])


def test_provenance_identifies_weights_and_profile():
    from wqrm.scoring import Scorer, UniformWeights

    default = provenance_of()
    assert default == provenance_of()  # stable
    uniform = provenance_of(Scorer(weights=UniformWeights()))
    assert uniform["weights"]["name"] == "uniform"
    assert uniform["weights"]["sha256"] != default["weights"]["sha256"]
    assert uniform["profile"] == default["profile"]
    assert provenance_of(scoring={"task": "continue"})["scoring"]["task"] == "continue"
