"""wqrm.testing: tolerances, direction-aware comparison, version safety, the drift table."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_snapshot import score_rows
from wqrm.snapshot import Snapshot, Summary, build_snapshot, provenance_of
from wqrm.testing import (
    DEFAULT_NOISE,
    ProfileDriftError,
    SnapshotVersionError,
    Tolerance,
    WqrmVersionWarning,
    assert_profile,
    compare,
    md_escape,
    meaning,
    version_changes,
)

PROVENANCE = {
    "wqrm_version": "0.1.0",
    "weights": {"name": "w", "sha256": "a" * 64},
    "profile": {"name": "p", "sha256": "b" * 64},
    "scoring": {"task": None, "group": False, "persona": False, "prompt": False, "references": False},
}


def q(
    mean, se=0.01, direction="higher", band=None, kind="metric", component="S3", median=None, median_se=None
):
    return Summary(
        kind=kind, n=100, n_undefined=0, mean=mean, median=mean if median is None else median,
        mean_se=se, median_se=se if median_se is None else median_se, band=band,
        component=component, direction=direction,
    )  # fmt: skip


def snap(quantities: dict[str, Summary], provenance=None) -> Snapshot:
    return Snapshot(quantities=quantities, provenance=provenance or PROVENANCE, n_texts=100)


def drifted_names(message: str) -> set[str]:
    """The first column of the drift table in a failure message."""
    lines = message.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("metric "))
    names = set()
    for line in lines[start + 1 :]:
        if not line.strip():
            break
        names.add(line.split()[0])
    return names


# ---- tolerances ---------------------------------------------------------------------------------


def test_tolerance_specs():
    assert Tolerance.parse(0.05) == Tolerance(absolute=0.05)
    assert Tolerance.parse("10%") == Tolerance(relative=0.10)
    assert Tolerance.parse("3sigma") == Tolerance.parse("3σ") == Tolerance(noise=3.0)
    assert Tolerance.parse("0.5") == Tolerance(absolute=0.5)
    for bad in ("ten percent", "-1", True, None):
        with pytest.raises((ValueError, TypeError)):
            Tolerance.parse(bad)
    with pytest.raises(ValueError):
        Tolerance()
    t = Tolerance(absolute=0.1, relative=0.5, noise=2)
    assert t.allowed(before=1.0, noise_se=0.2) == 0.5  # the largest part
    assert t.allowed(before=0.1, noise_se=0.2) == pytest.approx(0.4)
    assert str(t) == "±0.1 or ±50% or ±2σ"


def test_most_specific_tolerance_wins():
    before = snap(
        {"gpp": q(1.0), "cbq": q(1.0), "mtld": q(1.0, component="S7"), "S3": q(1.0, kind="component")}
    )
    after = snap({name: q(1.5) for name in ("gpp", "cbq", "mtld", "S3")})
    r = compare(before, after, {"gpp": 1.0, "S3": "60%", "*": 0.1})
    status = {row.name: row.status for row in r.rows}
    assert status == {"gpp": "ok", "cbq": "ok", "S3": "ok", "mtld": "drifted"}  # S3 covers cbq and itself
    with pytest.raises(KeyError, match="nonexistent"):
        compare(before, after, {"nonexistent": 0.1})


def test_default_tolerance_is_resampling_noise():
    se_b, se_a = 0.03, 0.04  # combined noise 0.05
    before = snap({"mtld": q(10.0, se_b)})
    inside = compare(before, snap({"mtld": q(10.0 + 0.99 * DEFAULT_NOISE * 0.05, se_a)}))
    outside = compare(before, snap({"mtld": q(10.0 - 1.01 * DEFAULT_NOISE * 0.05, se_a)}))
    assert inside.passed and not outside.passed
    assert outside.rows[0].noise == pytest.approx(0.05) and outside.rows[0].allowed == pytest.approx(0.2)


@settings(max_examples=60, deadline=None)
@given(
    before=st.floats(-100, 100),
    change=st.floats(-10, 10),
    tol=st.floats(0.001, 5),
)
def test_fails_exactly_beyond_an_absolute_tolerance(before, change, tol):
    r = compare(snap({"gpp": q(before)}), snap({"gpp": q(before + change)}), tol)
    assert r.passed == (abs((before + change) - before) <= tol)
    assert compare(snap({"gpp": q(before)}), snap({"gpp": q(before)}), tol).passed  # no change never fails


def test_median_statistic():
    before = snap({"mtld": q(10.0, se=0.01, median=10.0, median_se=1.0)})
    after = snap({"mtld": q(10.0, se=0.01, median=12.0, median_se=1.0)})
    assert compare(before, after, statistic="median").passed  # 2 < 4 × √2
    assert not compare(before, snap({"mtld": q(12.0, se=0.01)}), statistic="mean").passed
    with pytest.raises(ValueError, match="statistic"):
        compare(before, after, statistic="mode")


# ---- directions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "band", "before", "after", "improves"),
    [
        ("higher", None, 1.0, 2.0, True),
        ("higher", None, 1.0, 0.0, False),
        ("lower", None, 1.0, 0.0, True),
        ("lower", None, 1.0, 2.0, False),
        ("band", (2.0, 3.0), 0.0, 1.5, True),  # closer to the band
        ("band", (2.0, 3.0), 1.5, 0.0, False),  # away from it
        ("band", (2.0, 3.0), 3.5, 5.0, False),
        ("band", (2.0, 4.0), 2.1, 3.9, True),  # within the band: no worse
        ("band", (2.0, 3.0), 1.0, 4.5, False),  # across it and further away
    ],
)
def test_allow_improve_is_direction_aware(direction, band, before, after, improves):
    b = snap({"m": q(before, direction=direction, band=band)})
    a = snap({"m": q(after, direction=direction, band=band)})
    assert not compare(b, a, 0.1, allow="any").passed  # any move beyond tolerance fails
    r = compare(b, a, 0.1, allow="improve")
    assert r.passed == improves
    assert r.rows[0].status == ("improved" if improves else "drifted")


def test_allow_must_be_known():
    with pytest.raises(ValueError, match="allow"):
        compare(snap({"m": q(1.0)}), snap({"m": q(1.0)}), allow="better")


def test_a_quantity_that_disappears_fails():
    r = compare(snap({"gpp": q(1.0), "mtld": q(5.0)}), snap({"gpp": q(1.0)}))
    assert [row.name for row in r.failures] == ["mtld"] and r.failures[0].status == "missing"
    assert "no longer defined" in r.failures[0].meaning
    new = compare(snap({"gpp": q(1.0)}), snap({"gpp": q(1.0), "mtld": q(5.0)}))
    assert new.passed and new.unchecked == ["mtld"]  # new quantities are reported, not checked
    assert "mtld" not in new.message() and "not checked: mtld" in new.to_markdown()


# ---- messages -----------------------------------------------------------------------------------


def test_message_lists_only_what_drifted():
    before = build_snapshot(score_rows(120, seed=1))
    after = build_snapshot(score_rows(120, seed=2, shift={"gpp": 1.5, "S1": -0.1}))
    r = compare(before, after)
    assert drifted_names(r.message()) == {"gpp", "S1"}
    assert {row.name for row in r.failures} == {"gpp", "S1"}
    assert "2 of" in r.message().splitlines()[0]
    gpp = next(row for row in r.rows if row.name == "gpp")
    assert gpp.change == pytest.approx(after.quantities["gpp"].mean - before.quantities["gpp"].mean)
    assert "S3 anti-slop" in gpp.meaning and "lower is better" in gpp.meaning and "rose: worse" in gpp.meaning
    s1 = next(row for row in r.rows if row.name == "S1")
    assert "S1 edit quality" in s1.meaning and "fell: worse" in s1.meaning
    lo, hi = map(float, re.findall(r"-?\d+\.?\d*(?:e-?\d+)?", gpp.allowed_text()))
    assert lo == pytest.approx(gpp.before - gpp.allowed, rel=1e-3) and hi == pytest.approx(
        gpp.before + gpp.allowed, rel=1e-3
    )


def test_meaning_for_band_metrics_and_components():
    sc = q(0.25, direction="band", band=(0.27, 0.33), component="S4")
    text = meaning("sc", sc, 0.25, 0.28)
    assert text.startswith("Semantic continuity (S4 coherence)")
    assert "best inside the human reference band 0.27–0.33" in text and "rose: better" in text
    assert "still inside the band" in meaning("sc", sc, 0.28, 0.30)
    comp = meaning("S3", q(0.5, kind="component", component="S3"), 0.5, 0.4)
    assert comp.startswith("S3 anti-slop") and "fell: worse" in comp


def test_markdown_report_escapes_and_lists_rows():
    assert md_escape("a|b <c> `d`") == "a\\|b &lt;c&gt; \\`d\\`"
    r = compare(snap({"gpp": q(1.0), "mtld": q(5.0)}), snap({"gpp": q(3.0), "mtld": q(5.0)}))
    md = r.to_markdown("tests/x.py::test[a|b]")
    assert "### tests/x.py::test[a\\|b]" in md
    drifted = md.split("**Drifted**")[1].split("<details>")[0]
    assert "`gpp`" in drifted and "`mtld`" not in drifted
    assert "all 2 checked quantities" in md


# ---- version safety -----------------------------------------------------------------------------


def test_version_changes_are_named():
    other = {**PROVENANCE, "weights": {"name": "w2", "sha256": "c" * 64}}
    lines = version_changes(snap({}), snap({}, other))
    assert len(lines) == 1 and "'w'" in lines[0] and "'w2'" in lines[0]
    same_name = {**PROVENANCE, "profile": {"name": "p", "sha256": "d" * 64}}
    assert "profile" in version_changes(snap({}), snap({}, same_name))[0]  # same name, other content
    ctx = {**PROVENANCE, "scoring": {**PROVENANCE["scoring"], "task": "continue"}}
    assert "task None → 'continue'" in version_changes(snap({}), snap({}, ctx))[0]


def test_assert_profile(tmp_path):
    rows = score_rows(80, seed=3)
    path = build_snapshot(rows).save(tmp_path / "s.wqrm.json")
    report = assert_profile(rows, path)
    assert report.passed and all(row.status == "ok" for row in report.rows)
    with pytest.raises(ProfileDriftError) as exc:
        assert_profile(score_rows(80, seed=3, shift={"mtld": 8.0}), path)
    assert drifted_names(str(exc.value)) == {"mtld"} and str(path) in str(exc.value)
    assert exc.value.report.failures[0].name == "mtld"

    foreign = build_snapshot(rows, provenance={**provenance_of(), "weights": {"name": "old", "sha256": "0"}})
    with pytest.raises(SnapshotVersionError, match="'old'"):
        assert_profile(rows, foreign)
    with pytest.warns(WqrmVersionWarning, match="'old'"):
        assert assert_profile(rows, foreign, allow_version_change=True).passed


def test_any_change_in_unscorable_outputs_fails_by_default():
    def errors(share):
        se = 0.0 if share == 0 else 0.06  # the bootstrap spread of 1 error in 16
        return snap({"error_rate": q(share, se=se, kind="errors", direction="lower", component=None)})

    r = compare(errors(0.0), errors(1 / 16))
    assert not r.passed and "could not be scored" in r.failures[0].meaning
    assert compare(errors(0.0), errors(1 / 16), {"error_rate": 0.1}).passed
    assert compare(errors(1 / 16), errors(0.0), allow="improve").passed  # fewer errors: better
    assert compare(errors(0.0), errors(0.0)).passed
