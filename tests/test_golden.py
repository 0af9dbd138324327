"""Golden snapshot: the score, S1..S8 and every metric of the shipped examples stay put.

Regenerate with `python tools/update_golden.py` only when a change is meant to move scores.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from tools.update_golden import context_cases

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = json.loads((ROOT / "tests" / "golden" / "examples.json").read_text(encoding="utf-8"))
TOL = 1e-6


def _close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def _compare(name: str, got: dict) -> None:
    expected = GOLDEN[name]
    assert set(got["metrics"]) == set(expected["metrics"]), "the set of metrics changed"
    diffs = [
        f"{key}: {expected[key]} -> {got[key]}" for key in ("score",) if not _close(expected[key], got[key])
    ]
    for group in ("components", "metrics"):
        for k, v in expected[group].items():
            if not _close(v, got[group][k]):
                diffs.append(f"{group}.{k}: {v} -> {got[group][k]}")
    assert not diffs, f"{name} moved (regenerate with tools/update_golden.py only on purpose):\n" + "\n".join(
        diffs
    )


@pytest.mark.parametrize("name", sorted(n for n in GOLDEN if ":" not in n))
def test_example_matches_golden(scorer, name):
    r = scorer.score((ROOT / "examples" / name).read_text(encoding="utf-8"))
    _compare(name, {"score": r.score, "components": r.components, "metrics": r.metrics})


def test_examples_in_context_match_golden(scorer):
    cases = context_cases(scorer)
    assert set(cases) == {n for n in GOLDEN if ":" in n}
    for name, got in cases.items():
        _compare(name, got)
