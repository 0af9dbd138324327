"""`wqrm snapshot`: write a snapshot from outputs, compare outputs with one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.test_snapshot import score_rows
from tests.test_testing import drifted_names
from wqrm.cli import app
from wqrm.snapshot import Snapshot, text_sha256

runner = CliRunner()


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def test_snapshot_of_score_rows_and_compare(tmp_path):
    rows = _jsonl(tmp_path / "scores.jsonl", score_rows(60, seed=1))
    snap = tmp_path / "model.wqrm.json"
    result = runner.invoke(app, ["snapshot", rows, "-o", str(snap)])
    assert result.exit_code == 0, result.output
    assert Snapshot.load(snap).n_texts == 60 and "snapshot of 60 outputs" in result.output

    same = runner.invoke(app, ["snapshot", rows, "--compare", str(snap)])
    assert same.exit_code == 0, same.output
    assert "within tolerance" in same.stdout

    shifted = _jsonl(tmp_path / "new.jsonl", score_rows(60, seed=2, shift={"gpp": 2.0}))
    drift = runner.invoke(app, ["snapshot", shifted, "--compare", str(snap)])
    assert drift.exit_code == 1
    assert drifted_names(drift.stdout) == {"gpp"}
    loose = runner.invoke(app, ["snapshot", shifted, "--compare", str(snap), "--tolerance", "gpp=3"])
    assert loose.exit_code == 0, loose.output


def test_snapshot_of_texts(tmp_path, scorer):
    texts = [
        "The tide came in while we argued. By the time we noticed, the car was an island.",
        "She kept the letters in a shoebox. Some were never opened, and she liked them best.",
        "Snow fell on the allotments all night. In the morning the scarecrow wore a white hat.",
    ]
    src = _jsonl(tmp_path / "outputs.jsonl", [{"id": i, "text": t} for i, t in enumerate(texts)])
    out = tmp_path / "s.wqrm.json"
    result = runner.invoke(app, ["snapshot", src, "-o", str(out), "--resamples", "200", "--seed", "3"])
    assert result.exit_code == 0, result.output
    snap = Snapshot.load(out)
    assert snap.text_sha256 == [text_sha256(t) for t in texts]
    assert snap.bootstrap["seed"] == 3 and snap.bootstrap["n_resamples"] == 200
    expected = [r.score for r in scorer.score_batch(texts)]
    assert snap.quantities["score"].mean == pytest.approx(sum(expected) / 3, rel=1e-9)


def test_snapshot_errors_are_named(tmp_path):
    assert runner.invoke(app, ["snapshot", str(tmp_path / "x.jsonl")]).exit_code == 2  # no -o / --compare
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"oops": 1}\n', encoding="utf-8")
    result = runner.invoke(app, ["snapshot", str(bad), "-o", str(tmp_path / "s.json")])
    assert result.exit_code == 2 and "bad.jsonl:2" in result.output
    missing = runner.invoke(app, ["snapshot", str(tmp_path / "none.jsonl"), "-o", str(tmp_path / "s.json")])
    assert missing.exit_code == 2 and "none.jsonl" in missing.output
    rows = _jsonl(tmp_path / "scores.jsonl", score_rows(10))
    unknown = runner.invoke(
        app, ["snapshot", rows, "--compare", _snap(tmp_path, rows), "--tolerance", "nonexistent=1"]
    )
    assert unknown.exit_code == 2 and "nonexistent" in unknown.output


def _snap(tmp_path, rows) -> str:
    path = tmp_path / "ref.wqrm.json"
    assert runner.invoke(app, ["snapshot", rows, "-o", str(path)]).exit_code == 0
    return str(path)


def test_snapshot_help():
    result = runner.invoke(app, ["snapshot", "--help"])
    assert result.exit_code == 0 and "--compare" in result.output and "--tolerance" in result.output
    assert "snapshot" in runner.invoke(app, ["--help"]).output
