"""The pytest plugin (wqrm.pytest_plugin), run on inner test projects with pytester.

Most inner projects compare precomputed score rows (cheap: the point is the plugin, not the scorer);
they run in-process, so the inner sessions share this process's imports. The example project
(tests/test_examples_regression.py) runs the real scorer.
"""

from __future__ import annotations

import json
import textwrap

import pytest

from tests.test_snapshot import score_rows
from tests.test_testing import drifted_names
from wqrm.snapshot import Snapshot, build_snapshot, provenance_of

pytest_plugins = ["pytester"]

INNER_TEST = """
import json
from pathlib import Path

import pytest


def rows():
    return json.loads((Path(__file__).parent / "rows_now.json").read_text())


def test_profile(wqrm_check):
    wqrm_check(rows(), "snapshots/model.wqrm.json")
"""


@pytest.fixture
def project(pytester):
    """An inner project whose test compares rows_now.json with snapshots/model.wqrm.json."""
    pytester.makepyfile(test_model=INNER_TEST)

    def setup(now: list[dict], snapshot: Snapshot | None) -> None:
        (pytester.path / "rows_now.json").write_text(json.dumps(now))
        if snapshot is not None:
            snapshot.save(pytester.path / "snapshots" / "model.wqrm.json")

    return setup


ROWS = score_rows(60, seed=11)


@pytest.fixture(scope="module")
def reference():
    """The snapshot of ROWS (built when a test first needs it, not at collection)."""
    return build_snapshot(ROWS)


def test_passing_run(pytester, project, reference):
    project(score_rows(60, seed=12), reference)  # another sample of the same distribution
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["wqrm: 1 checks: 1 passed"])


def test_failing_run_names_the_drifted_metrics_and_nothing_else(pytester, project, reference):
    project(score_rows(60, seed=12, shift={"gpp": 2.0, "S7": -0.15}), reference)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert drifted_names(out[out.index("wqrm: 2 of") :]) == {"gpp", "S7"}
    assert "Generic phrase penalty (S3 anti-slop); lower is better. It rose: worse." in out
    assert "Traceback" not in out and "def check(" not in out  # the table, not the plugin's code


def test_update_rewrites_the_snapshot(pytester, project, reference):
    now = score_rows(60, seed=12, shift={"mtld": 20.0})
    project(now, reference)
    path = pytester.path / "snapshots" / "model.wqrm.json"
    before = path.read_text()
    result = pytester.runpytest("--wqrm-update")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["wqrm: 1 checks: 1 written"])
    rewritten = Snapshot.load(path)
    assert path.read_text() != before
    assert rewritten.quantities["mtld"].mean == pytest.approx(build_snapshot(now).quantities["mtld"].mean)
    pytester.runpytest().assert_outcomes(passed=1)  # the new snapshot holds
    # a snapshot within tolerance is left untouched by --wqrm-update
    unchanged = path.read_text()
    (pytester.path / "rows_now.json").write_text(json.dumps(score_rows(60, seed=13, shift={"mtld": 20.0})))
    pytester.runpytest("--wqrm-update").assert_outcomes(passed=1)
    assert path.read_text() == unchanged


def test_missing_snapshot_fails_with_a_hint_and_update_writes_it(pytester, project):
    project(ROWS, None)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no snapshot at snapshots/model.wqrm.json*--wqrm-update*"])
    pytester.runpytest("--wqrm-update").assert_outcomes(passed=1)
    assert Snapshot.load(pytester.path / "snapshots" / "model.wqrm.json").n_texts == len(ROWS)


def test_version_mismatch(pytester, project):
    old = build_snapshot(
        ROWS, provenance={**provenance_of(), "weights": {"name": "learned-v0", "sha256": "0"}}
    )
    project(ROWS, old)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    now = provenance_of()["weights"]["name"]
    result.stdout.fnmatch_lines(
        [
            "*not comparable*",
            f"*weights: snapshot 'learned-v0' (sha256 0) → now '{now}'*",
            "*--wqrm-allow-version-change*",
        ]
    )
    warned = pytester.runpytest("--wqrm-allow-version-change")
    warned.assert_outcomes(passed=1, warnings=1)
    warned.stdout.fnmatch_lines(["*WqrmVersionWarning*compared across a version change*", "*'learned-v0'*"])
    pytester.runpytest("--wqrm-update").assert_outcomes(passed=1)  # re-created for the current versions
    assert Snapshot.load(pytester.path / "snapshots" / "model.wqrm.json").provenance["weights"]["name"] == now


def test_marker_defaults_and_default_snapshot_path(pytester, reference):
    (pytester.path / "rows_now.json").write_text(json.dumps(score_rows(60, seed=12, shift={"mtld": 20.0})))
    pytester.makepyfile(
        test_marked=textwrap.dedent(
            """
            import json
            from pathlib import Path

            import pytest

            ROWS = json.loads((Path(__file__).parent / "rows_now.json").read_text())


            @pytest.mark.wqrm(allow="improve")
            def test_improvement_is_free(wqrm_check):
                wqrm_check(ROWS)


            def test_any_move_fails(wqrm_check):
                wqrm_check(ROWS, "snapshots/test_marked/test_improvement_is_free.wqrm.json")
            """
        )
    )
    reference.save(pytester.path / "snapshots" / "test_marked" / "test_improvement_is_free.wqrm.json")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_improvement_is_free PASSED*", "*test_any_move_fails FAILED*"])


def test_markdown_report(pytester, project, reference):
    project(score_rows(60, seed=12, shift={"gpp": 2.0}), reference)
    result = pytester.runpytest("--wqrm-report", "out/drift.md")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["wqrm: 1 checks: 1 drifted; drift report: out/drift.md"])
    md = (pytester.path / "out" / "drift.md").read_text()
    assert md.startswith("# wqrm drift report")
    assert "| test_model.py::test_profile | snapshots/model.wqrm.json | drifted | `gpp` |" in md
    drifted = md.split("**Drifted**")[1].split("<details>")[0]
    assert "| `gpp` |" in drifted and "| `mtld` |" not in drifted


def test_unused_plugin_imports_nothing_heavy(pytester):
    """A session that uses no wqrm fixture never imports numpy, scipy, the models or the scorer."""
    pytester.makeconftest(
        """
        import sys

        HEAVY = ("numpy", "scipy", "torch", "spacy", "transformers", "sentence_transformers")

        def pytest_sessionfinish(session):
            loaded = sorted(m for m in sys.modules if m.split(".")[0] in HEAVY
                            or m.startswith(("wqrm.scoring", "wqrm.metrics", "wqrm.testing")))
            plugin = session.config.pluginmanager.has_plugin("wqrm")
            with open("modules.txt", "w") as fh:
                fh.write(f"plugin={plugin}\\n" + "\\n".join(loaded))
        """
    )
    pytester.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = pytester.runpytest_subprocess("--co", "-q")
    assert result.ret == 0
    report = (pytester.path / "modules.txt").read_text().splitlines()
    assert report == ["plugin=True"], report


def test_unreadable_snapshot_fails_and_update_replaces_it(pytester, project):
    project(ROWS, None)
    path = pytester.path / "snapshots" / "model.wqrm.json"
    path.parent.mkdir(parents=True)
    path.write_text("<<<<<<< HEAD\n")  # a merge conflict left in the file
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*not valid JSON*--wqrm-update replaces it*"])
    pytester.runpytest("--wqrm-update").assert_outcomes(passed=1)
    assert Snapshot.load(path).n_texts == len(ROWS)
