"""pytest plugin (entry point `wqrm`): metric regression checks on a model's outputs.

    @pytest.mark.wqrm(allow="improve")                  # optional: defaults for wqrm_check
    def test_my_model_does_not_drift(wqrm_check):
        wqrm_check(my_model_outputs, "snapshots/my_model.wqrm.json")

`wqrm_check(outputs, snapshot=None, *, tolerance=None, allow="any", statistic="mean",
**score_kwargs)` scores `outputs` (texts; or score results / score dicts, which are not re-scored)
with the session's scorer and compares their metric profile with the snapshot (see
`wqrm.testing`). On drift the test fails with a table of what moved — metric, before, after,
change, allowed band, what it means — and nothing else. It returns the `DriftReport` (None when
it wrote a new snapshot).

* `snapshot`: a path relative to the test file's folder; default
  `snapshots/<test file stem>/<test name>.wqrm.json` (a second call in one test adds `.2`, …).
* A missing snapshot fails with a hint; `--wqrm-update` writes it.
* `--wqrm-update`: rewrite snapshots that drifted, are missing or were made with other weights,
  profile or scoring context, instead of failing (a snapshot within tolerance is left untouched).
* `--wqrm-allow-version-change`: compare across a weights/profile change with a warning instead of
  failing.
* `--wqrm-report PATH`: a markdown drift report of every check of the session.
* marker `wqrm(snapshot=, tolerance=, allow=, statistic=)`: that test's defaults for `wqrm_check`.
* fixture `wqrm_scorer`: the default `wqrm.Scorer`, loaded once per session when first used
  (override it in a conftest to check with other weights or another profile).

pytest imports this module in every session of an environment where wqrm is installed, so it
imports nothing but pytest and the standard library: numpy, scipy, the metrics and the models are
imported when a test first uses a fixture.
"""

from __future__ import annotations

import itertools
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

__all__ = ["wqrm_check", "wqrm_scorer"]

SUFFIX = ".wqrm.json"


@dataclass
class _Record:
    nodeid: str
    snapshot: Path
    outcome: str  # passed, drifted, written, missing, version change
    report: Any = None  # wqrm.testing.DriftReport
    detail: str = ""


class _Session:
    """Per-session state: options and the record of every check (for the summary and report)."""

    def __init__(self, config: pytest.Config):
        self.update = bool(config.getoption("wqrm_update"))
        self.allow_version_change = bool(config.getoption("wqrm_allow_version_change"))
        report = config.getoption("wqrm_report")
        self.report_path = Path(config.invocation_params.dir, report) if report else None
        self.records: list[_Record] = []


_STATE = pytest.StashKey[_Session]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wqrm", "wqrm metric regression checks")
    group.addoption(
        "--wqrm-update",
        action="store_true",
        default=False,
        help="wqrm: rewrite snapshots that drifted or are missing instead of failing.",
    )
    group.addoption(
        "--wqrm-report",
        metavar="PATH",
        default=None,
        help="wqrm: write a markdown drift report of every check to PATH.",
    )
    group.addoption(
        "--wqrm-allow-version-change",
        action="store_true",
        default=False,
        help="wqrm: compare snapshots made with other weights/profile (warn instead of failing).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "wqrm(snapshot=None, tolerance=None, allow='any', statistic='mean'): "
        "defaults for the wqrm_check fixture in this test",
    )
    config.stash[_STATE] = _Session(config)


@pytest.fixture(scope="session")
def wqrm_scorer():
    """The default `wqrm.Scorer`, loaded once per test session (when a test first needs it)."""
    from wqrm.scoring import load  # deferred: loading the scorer imports the metrics and models

    return load()


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_") or "check"


def _snapshot_path(request: pytest.FixtureRequest, snapshot: Any, index: int) -> Path:
    base = Path(request.path).parent
    if snapshot is not None:
        return base / Path(snapshot)
    suffix = "" if index == 0 else f".{index + 1}"
    return base / "snapshots" / Path(request.path).stem / f"{_safe(request.node.name)}{suffix}{SUFFIX}"


@pytest.fixture
def wqrm_check(request: pytest.FixtureRequest):
    """`wqrm_check(outputs, snapshot=None, *, tolerance=None, allow="any", statistic="mean",
    **score_kwargs)`: fail the test when `outputs` drifted from the snapshot (module docstring)."""
    state = request.config.stash[_STATE]
    marker = request.node.get_closest_marker("wqrm")
    defaults = dict(marker.kwargs) if marker else {}
    unknown = set(defaults) - {"snapshot", "tolerance", "allow", "statistic"}
    if unknown:
        raise pytest.UsageError(f"@pytest.mark.wqrm: unknown arguments {sorted(unknown)}")
    calls = itertools.count()

    def check(
        outputs: Any,
        snapshot: str | Path | None = None,
        *,
        tolerance: Any = None,
        allow: str | None = None,
        statistic: str | None = None,
        **score_kwargs: Any,
    ):
        from wqrm import snapshot as snapshots  # deferred: numpy/scipy only in tests that check
        from wqrm import testing  # deferred: imported only by tests that check (module docstring)

        path = _snapshot_path(request, snapshot or defaults.get("snapshot"), next(calls))
        outputs = list(outputs) if not isinstance(outputs, snapshots.Snapshot) else outputs
        rel = _relative(path, request.config)

        def record(outcome: str, report: Any = None, detail: str = "") -> None:
            state.records.append(_Record(request.node.nodeid, path, outcome, report, detail))

        before, unreadable = None, None
        if path.exists():
            try:
                before = snapshots.Snapshot.load(path)
            except ValueError as exc:  # not JSON, or not a snapshot: rewritten by --wqrm-update
                unreadable = str(exc)
        if isinstance(outputs, snapshots.Snapshot):
            after = outputs
        else:
            # Texts are scored by the session's scorer; precomputed results are attributed to it
            # (its weights and profile are the "now" of the version check; no model is loaded).
            scorer = request.getfixturevalue("wqrm_scorer")
            boot = before.bootstrap if before is not None else {}
            after = snapshots.build_snapshot(
                outputs,
                scorer,
                n_resamples=int(boot.get("n_resamples", snapshots.DEFAULT_RESAMPLES)),
                seed=int(boot.get("seed", snapshots.DEFAULT_SEED)),
                **score_kwargs,
            )
        if before is None:
            if state.update:
                after.save(path)
                record("written", detail="replaced an unreadable file" if unreadable else "new snapshot")
                return None
            record("missing")
            if unreadable:
                pytest.fail(f"wqrm: {unreadable} (--wqrm-update replaces it)", pytrace=False)
            pytest.fail(
                f"wqrm: no snapshot at {rel}. Run pytest with --wqrm-update to write it from these outputs "
                f"(or `wqrm snapshot OUTPUTS.jsonl -o {rel}`).",
                pytrace=False,
            )
        report = testing.compare(
            before,
            after,
            tolerance if tolerance is not None else defaults.get("tolerance"),
            allow or defaults.get("allow", "any"),
            statistic=statistic or defaults.get("statistic", "mean"),
            snapshot_name=str(rel),
        )
        if report.version_changes and state.update:
            after.save(path)
            record("written", report, "weights/profile/context changed")
            return report
        try:
            testing.check_versions(report, state.allow_version_change)
        except testing.SnapshotVersionError as exc:
            version_error = str(exc)
        else:
            version_error = None
        if version_error is not None:
            record("version change", report)
            pytest.fail(version_error, pytrace=False)
        if not report.passed:
            if state.update:
                after.save(path)
                record("written", report, "drifted")
                return report
            record("drifted", report)
            pytest.fail(report.message(), pytrace=False)
        record("passed", report)
        return report

    return check


def _relative(path: Path, config: pytest.Config) -> Path:
    try:
        return path.relative_to(config.invocation_params.dir)
    except ValueError:
        return path


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or not state.records:
        return
    counts: dict[str, int] = {}
    for r in state.records:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    line = f"wqrm: {len(state.records)} checks: " + ", ".join(f"{n} {o}" for o, n in counts.items())
    if state.report_path is not None:
        line += f"; drift report: {_relative(state.report_path, config)}"
    terminalreporter.write_line(line)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_STATE, None)
    if state is None or state.report_path is None:
        return
    try:
        state.report_path.parent.mkdir(parents=True, exist_ok=True)
        state.report_path.write_text(_markdown(state, session.config), encoding="utf-8")
    except OSError as exc:
        warnings.warn(f"wqrm: could not write the drift report {state.report_path}: {exc}", stacklevel=1)


def _markdown(state: _Session, config: pytest.Config) -> str:
    from wqrm.testing import md_escape  # deferred (module docstring); only with --wqrm-report

    lines = ["# wqrm drift report", ""]
    if not state.records:
        return "\n".join([*lines, "No wqrm check ran in this session.", ""])
    lines += ["| test | snapshot | outcome | drifted |", "|---|---|---|---|"]
    for r in state.records:
        drifted = ", ".join(f"`{row.name}`" for row in r.report.failures) if r.report is not None else ""
        outcome = f"{r.outcome} ({r.detail})" if r.detail else r.outcome
        cells = [md_escape(r.nodeid), md_escape(str(_relative(r.snapshot, config))), outcome, drifted]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for r in state.records:
        if r.report is not None:
            lines += [r.report.to_markdown(title=r.nodeid), ""]
    return "\n".join(lines)
