"""DESIGN.md's Layout rules hold: no import cycle (function-local imports included), run time never
imports build / fit / cli code, function-local imports say why, no module over 600 lines. The
checker (`tools/check_imports.py`) is itself tested on small packages with a known defect."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tools.check_imports import MAX_LINES, check

ROOT = Path(__file__).resolve().parent.parent


def test_project_follows_the_layout_rules():
    findings = check(ROOT)
    assert findings.n_modules > 40 and findings.n_edges > 100  # the walk really read the package
    assert not findings, "\n".join(findings.lines())


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, source in {"wqrm/__init__.py": "", **files}.items():
        f = tmp_path / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(source), encoding="utf-8")
    return tmp_path


def test_checker_finds_a_cycle_through_a_function_local_import(tmp_path):
    root = _package(
        tmp_path,
        {
            "wqrm/a.py": "from wqrm.b import helper\n",
            "wqrm/b.py": """
                def helper():
                    from wqrm import a  # deferred on purpose, still a cycle
                    return a
            """,
            "wqrm/c.py": "import wqrm.a\n",
        },
    )
    findings = check(root)
    assert findings.cycles == [["wqrm.a", "wqrm.b"]]
    assert findings.lines() == ["import cycle: wqrm.a -> wqrm.b -> wqrm.a"]


def test_checker_finds_a_cycle_hidden_in_type_checking(tmp_path):
    root = _package(
        tmp_path,
        {
            "wqrm/x.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from wqrm.y import Y\n",
            "wqrm/y.py": "from wqrm import x\n",
        },
    )
    assert check(root).cycles == [["wqrm.x", "wqrm.y"]]


def test_checker_finds_run_time_importing_fit_and_cli(tmp_path):
    root = _package(
        tmp_path,
        {
            "wqrm/fit/__init__.py": "",
            "wqrm/fit/train.py": "from wqrm import scoring\n",  # fit -> run time: allowed
            "wqrm/cli/__init__.py": "",
            "wqrm/scoring.py": "from wqrm.fit.train import x\nfrom wqrm.cli import app\n",
        },
    )
    findings = check(root)
    assert findings.layer_violations == [("wqrm.scoring", "wqrm.cli"), ("wqrm.scoring", "wqrm.fit.train")]
    assert findings.cycles == [["wqrm.fit.train", "wqrm.scoring"]]


def test_checker_wants_a_reason_on_function_local_imports(tmp_path):
    root = _package(
        tmp_path,
        {
            "wqrm/light.py": "X = 1\n",
            "wqrm/user.py": """
                def f():
                    from wqrm.light import X
                    return X


                def g():
                    from wqrm.light import X  # deferred: loads a model
                    return X
            """,
        },
    )
    assert check(root).uncommented_local_imports == [("wqrm.user", 3, "from wqrm.light import X")]


def test_checker_flags_long_modules(tmp_path):
    root = _package(tmp_path, {"wqrm/big.py": "x = 1\n" * (MAX_LINES + 1)})
    assert check(root).long_modules == [("wqrm.big", MAX_LINES + 1)]


@pytest.mark.parametrize("folder", ["wqrm/build", "wqrm/fit", "wqrm/cli", "wqrm/edit"])
def test_every_subpackage_is_a_regular_package(folder):
    assert (ROOT / folder / "__init__.py").exists()  # else setuptools and the checker skip it
