"""Same input, same output: two processes write byte-identical JSON for the same files and rows."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from wqrm.cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_two_processes_give_byte_identical_json(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    files = ["examples/lighthouse.txt", "examples/generic.txt", "examples/context/continuation.txt"]
    score = ["score", "--json", "--no-progress", *files]
    batch = ["score", "--input", "examples/rows.jsonl", "--no-progress", "--output"]
    # this process (models already warm, other texts scored before) ...
    here = CliRunner().invoke(app, score)
    assert here.exit_code == 0, here.output
    assert CliRunner().invoke(app, [*batch, "here.jsonl"]).exit_code == 0
    # ... and a fresh one
    child = (
        "import sys; from wqrm.cli import app; from typer.testing import CliRunner; "
        "r = CliRunner().invoke(app, sys.argv[1:]); sys.stdout.write(r.stdout); sys.exit(r.exit_code)"
    )
    there = subprocess.run([sys.executable, "-c", child, *score], capture_output=True, timeout=900)
    assert there.returncode == 0, there.stderr[-2000:]
    assert there.stdout == here.stdout.encode("utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "wqrm.cli", *batch, "there.jsonl"], capture_output=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert Path("there.jsonl").read_bytes() == Path("here.jsonl").read_bytes()
