"""The report of the shared benchmark run, rendered once for the HTML and browser tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from wqrm.benchmarks.results import load_run
from wqrm.reports.html import render_report


@pytest.fixture(scope="session")
def bench_report(bench_run, tmp_path_factory) -> Path:
    results, rows = load_run(bench_run)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report(results, rows), encoding="utf-8")
    return path
