"""benchmarks/loso_ablation.py: its one-line summary of a setting, on a synthetic pair table."""

import re

import numpy as np

from tests.fit.test_loso import _table
from wqrm.benchmarks import loso_ablation as A
from wqrm.fit.loso import FitSetting, crossfit_report, loso_report


def test_summary_reports_the_loso_and_crossfit_figures():
    rng = np.random.default_rng(5)
    table = _table(
        rng,
        ["lamp_x", "iterater_doc", "negative:shuffle_words"],
        {"lamp_x": "S1", "iterater_doc": "S1", "negative:shuffle_words": "S4"},
    )
    setting = FitSetting(1e-3)
    line = A.summary(table, setting)
    rep = loso_report(table, setting)
    neg = crossfit_report(table, setting)["negatives"]["accuracy"]
    worst = min(r["accuracy"] - r["shorter_wins"] for r in rep.values())
    assert f"worst margin {worst:+.4f}" in line
    assert f"LAMP {rep['lamp']['accuracy']:.3f}" in line and f"negatives {neg:.3f}" in line
    assert f"IteraTeR {rep['iterater']['accuracy']:.3f}" in line
    assert re.search(r"len-adv \d\.\d{3}", line)
    assert rep["lamp"]["accuracy"] > 0.8  # S1 carries both human sources
