"""Hostile input through every interface: `wqrm score` (files and --input), `wqrm metrics`,
`wqrm eval-pairs` and the Python API (`tests/hostile_inputs.py` generates the inputs).

What must hold (issue 16): no traceback, no hang (every run is bounded), no lost row (one record
per input, or a named skip), no NaN / Infinity in any JSON, and every metric inside its catalogued
range or null with a reason. Every input goes through `metrics`; the full scorer (`score`,
`score --input`, the API) gets each hostile text once per interface, the prose-prefixed copies only
through `metrics`. The two largest texts (a 200,000-character word and 10,000 one-word sentences)
go through `metrics` by default and through the scorer, every command and the API with `-m slow`.
"""

from __future__ import annotations

import contextlib
import json
import math
import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import wqrm
import wqrm.metrics as M
from tests import hostile_inputs as H
from wqrm.cli import app
from wqrm.jsonl import dumps, loads
from wqrm.lang import SUPPORTED, UnsupportedLanguageError, detect
from wqrm.metrics.registry import specs

SPECS = specs()
#: Wall-clock bound of one in-process run (the machine may be shared; a hang never ends).
BOUND_S = 900


class Hang(Exception):
    pass


@contextlib.contextmanager
def bounded(seconds: int = BOUND_S):
    """Fail (instead of hanging) when the block runs longer than `seconds`."""

    def alarm(signum, frame):
        raise Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def invoke(args: list[str], **kw):
    with bounded():
        result = CliRunner().invoke(app, args, catch_exceptions=True, **kw)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output, result.output[-3000:]
    return result


def check_record(rec: dict, where: str) -> None:
    """One scored record (`ScoreResult.to_dict` shape): sane whether it is an error or a score."""
    if rec["error"] is not None:
        assert isinstance(rec["error"], str) and rec["error"].strip(), where
        assert rec["score"] is None, where
        return
    assert rec["score"] is None or 0.0 <= rec["score"] <= 1.0, (where, rec["score"])
    for c, v in rec["components"].items():
        assert v is None or 0.0 <= v <= 1.0, (where, c, v)
    check_metrics(rec["metrics"], rec["reasons"], where)


def check_metrics(values: dict, reasons: dict, where: str) -> None:
    for name, v in values.items():
        if v is None:
            assert reasons.get(name), f"{where}: {name} is null without a reason"
            continue
        assert isinstance(v, (int, float)) and math.isfinite(v), (where, name, v)
        lo, hi = SPECS[name].valid_range
        assert lo <= v <= hi, f"{where}: {name} = {v} outside [{lo}, {hi}]"


def json_lines(text: str) -> list[dict]:
    """Strictly parsed JSON lines (NaN / Infinity refused by `wqrm.jsonl.loads`)."""
    return [loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("hostile")
    for name, data in H.files().items():
        (d / name).write_bytes(data)
    return d


def test_the_suite_is_large_enough():
    n = len(H.files()) + len(H.api_inputs()) + len(H.jsonl_lines()) + len(H.pair_lines())
    assert n >= 300, n
    assert len(H.files()) >= 150 and len(H.files(with_prose=False)) >= 90


# ---- wqrm score FILE… --------------------------------------------------------------------------


def test_score_files(hostile_dir, monkeypatch):
    monkeypatch.chdir(hostile_dir)
    names = sorted(H.files(with_prose=False))
    result = invoke(["score", "--json", "--no-progress", *names])
    assert result.exit_code == 1  # some files are refused
    records = json_lines(result.stdout)
    assert [r["file"] for r in records] == names  # one record per file, in order: nothing lost
    for r in records:
        check_record(r, r["file"])
        if r["error"] is not None:
            assert r["file"] in r["error"]  # every message names its file
            assert f"error: {r['file']}" in result.stderr or r["file"] in result.stderr
    errors = {r["file"] for r in records if r["error"]}
    assert {"empty.txt", "binary-random.txt", "utf16-le-bom.txt", "invalid-utf8-overlong.txt"} <= errors
    assert "emoji-in-prose.txt" not in errors and "utf8-bom.txt" not in errors
    utf16 = next(r for r in records if r["file"] == "utf16-le-bom.txt")
    assert "--encoding utf-16" in utf16["error"]


def test_score_files_other_encodings(hostile_dir, monkeypatch):
    monkeypatch.chdir(hostile_dir)
    result = invoke(["score", "--json", "--no-progress", "--encoding", "utf-16", "utf16-le-bom.txt"])
    assert result.exit_code == 0, result.output
    check_record(json_lines(result.stdout)[0], "utf-16")
    result = invoke(["metrics", "--json", "--encoding", "latin-1", "latin1.txt", "cp1252-smart-quotes.txt"])
    assert result.exit_code == 0, result.output
    records = json_lines(result.stdout)
    assert [r["error"] for r in records] == [None, None]


def test_score_table_output_survives_markup_and_odd_names(hostile_dir, monkeypatch):
    monkeypatch.chdir(hostile_dir)
    odd = hostile_dir / "[bold]odd[x] name.txt"
    odd.write_text(H.texts()["rich-markup-lookalike"], encoding="utf-8")
    result = invoke(["score", "--spans", "--no-progress", odd.name, "empty.txt"])
    assert result.exit_code == 1
    assert "[bold]odd[x] name.txt" in result.output  # shown literally, not read as markup


# ---- wqrm score --input ----------------------------------------------------------------------


def test_score_input_rows(tmp_path):
    lines = H.jsonl_lines()
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_bytes(b"\n".join(raw for _, raw in lines) + b"\n")
    result = invoke(
        ["score", "--input", str(inp), "--output", str(out), "--batch-size", "16", "--no-progress"]
    )
    assert result.exit_code == 0, result.output[-3000:]
    records = json_lines(out.read_text(encoding="utf-8"))
    expected = [row_id for row_id, _ in lines]
    assert sorted(map(json.dumps, (r["id"] for r in records))) == sorted(map(json.dumps, expected))
    for r in records:
        check_record(r, str(r["id"]))
    by_id = {json.dumps(r["id"]): r for r in records}
    errors = {k for k, r in by_id.items() if r["error"]}
    for key in ("f:missing-text", "f:task-unknown", "f:references-mixed", "f:persona-missing", "t:surrogate"):
        assert json.dumps(key) in errors, key
    for key in ("t:single-sentence", "ctx:continue", "grp:a", "grp:b", "huge-field", 1234):
        assert json.dumps(key) not in errors, (key, by_id[json.dumps(key)]["error"])
    assert by_id['"grp:a"']["metrics"]["deviation"] is not None  # the group was scored together
    assert by_id['"grp:mismatch-1"']["error"] and "disagree" in by_id['"grp:mismatch-2"']["error"]
    assert by_id['"ctx:continue"']["components"]["S5"] is not None
    # every error names its row on stderr
    for k in errors:
        assert k in result.stderr or by_id[k]["id"] in result.stderr, k


# ---- wqrm metrics ----------------------------------------------------------------------------


def test_metrics_files(hostile_dir, monkeypatch):
    monkeypatch.chdir(hostile_dir)
    names = sorted(H.files()) + [f"{name}.txt" for name in H.GIANTS]
    for name, text in H.GIANTS.items():
        (hostile_dir / f"{name}.txt").write_text(text, encoding="utf-8")
    result = invoke(["metrics", "--json", "--no-progress", *names])
    assert result.exit_code == 1
    records = json_lines(result.stdout)
    assert [r["file"] for r in records] == names
    for r in records:
        if r["error"] is None:
            check_metrics(r["metrics"], r["reasons"], r["file"])
        else:
            assert r["file"] in r["error"]
    csv_result = invoke(["metrics", "--csv", "--no-progress", *names[:40]])
    assert len(csv_result.stdout.splitlines()) >= 41  # header + one row per file (a text may hold newlines)


# ---- wqrm eval-pairs -------------------------------------------------------------------------


def test_eval_pairs_rows(tmp_path):
    rows = H.pair_lines()
    f = tmp_path / "pairs.jsonl"
    f.write_bytes(b"\n".join(raw for _, raw in rows) + b"\n")
    result = invoke(["eval-pairs", str(f), "--scorer", "baseline:shorter", "--json", "--no-progress"])
    assert result.exit_code == 0, result.output[-3000:]
    rep = json_lines(result.stdout)[0]
    usable = sum(ok for ok, _ in rows)
    assert rep["n"] + rep["n_undefined"] == usable  # every usable row evaluated ...
    assert rep["rows_skipped"] == len(rows) - usable  # ... and every other row named
    assert result.stderr.count("skipped:") >= 1
    for scorer in ("metric:ttr", "metric:mtld"):
        result = invoke(["eval-pairs", str(f), "--scorer", scorer, "--json", "--no-progress"])
        assert result.exit_code in (0, 1), result.output[-3000:]


# ---- the Python API --------------------------------------------------------------------------


def test_api_score_batch(scorer):
    inputs = H.api_inputs()
    with bounded():
        results = scorer.score_batch(list(inputs.values()), ids=list(inputs))
    assert [r.id for r in results] == list(inputs)
    for r in results:
        rec = loads(dumps(r.to_dict(id=r.id)))
        check_record(rec, r.id)
    errors = {r.id for r in results if r.error}
    assert {"empty", "none", "bytes", "int", "list", "lone-high-surrogate", "nul-in-string"} <= errors
    assert not errors & {"emoji-in-prose", "bom-only", "controls-in-prose"}
    # a text in a language wqrm does not analyse is an error record naming the language (issue 15)
    by_id = {r.id: r for r in results}
    assert by_id["chinese"].error.startswith("unsupported language") and by_id["chinese"].lang == "zh"
    for r in results:
        if r.error and r.error.startswith("unsupported language"):
            assert r.lang is not None and r.lang not in SUPPORTED, (r.id, r.lang)


def test_api_score_and_compute_refuse_with_invalid_text_error(scorer):
    refused = ["empty", "space", "none", "bytes", "int", "float-nan", "list", "dict", "lone-low-surrogate"]
    inputs = H.api_inputs()
    for name in refused:
        with pytest.raises(wqrm.InvalidTextError):
            scorer.score(inputs[name])
        with pytest.raises(wqrm.InvalidTextError):
            M.compute(inputs[name])
    texts = [t for t in H.texts().values() if t.strip()]
    supported = [t for t in texts if detect(t).supported]
    assert 0 < len(supported) < len(texts)  # the hostile texts include other languages and scripts
    with bounded():
        values = M.compute_batch(supported)
    for mv in values:
        check_metrics(mv, mv.reasons, "compute_batch")
    other = next(t for t in texts if not detect(t).supported)
    with pytest.raises(UnsupportedLanguageError):  # an InvalidTextError: the batch names the language
        M.compute_batch([supported[0], other])


# ---- the largest texts through every command (slow) ---------------------------------------------


@pytest.mark.slow
def test_giants_through_every_command(tmp_path, monkeypatch, scorer):
    monkeypatch.chdir(tmp_path)
    names = []
    for name, text in H.GIANTS.items():
        (tmp_path / f"{name}.txt").write_text(text, encoding="utf-8")
        names.append(f"{name}.txt")
    result = invoke(["score", "--json", "--no-progress", *names])
    assert result.exit_code == 0, result.output[-3000:]
    for r in json_lines(result.stdout):
        check_record(r, r["file"])
    inp = tmp_path / "giants.jsonl"
    inp.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in H.GIANTS.items()))
    result = invoke(["score", "--input", str(inp), "--output", str(tmp_path / "out.jsonl"), "--no-progress"])
    assert result.exit_code == 0
    records = json_lines((tmp_path / "out.jsonl").read_text())
    assert sorted(r["id"] for r in records) == sorted(H.GIANTS)
    for r in records:
        check_record(r, r["id"])
    with bounded():
        results = scorer.score_batch(list(H.GIANTS.values()), ids=list(H.GIANTS))
    for r in results:
        assert r.error is None, r.error
        check_record(loads(dumps(r.to_dict(id=r.id))), r.id)
