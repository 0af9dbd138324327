"""pytest plugin (entry point `wqrm`): fixtures for regression checks on a model's outputs.

def test_my_model_does_not_drift(wqrm_scorer):
    results = wqrm_scorer.score_batch(my_model_outputs)
    assert sum(r.score for r in results) / len(results) > 0.55
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def wqrm_scorer():
    """The default `wqrm.Scorer`, loaded once per test session."""
    import wqrm

    return wqrm.load()
