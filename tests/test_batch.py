import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from wqrm.batch import score_jsonl
from wqrm.jsonl import repair_tail


def _write_rows(path: Path, n: int, bad: dict[int, str] | None = None) -> None:
    bad = bad or {}
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            if i in bad:
                fh.write(bad[i] + "\n")
            else:
                text = f"Row {i} opens a story. The harbour was quiet and the boats lay still, number {i}."
                fh.write(json.dumps({"id": f"r{i}", "text": text}) + "\n")


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_bad_rows_get_error_records(tmp_path, scorer):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_rows(inp, 12, bad={3: '{"id": "r3", "text": ""}', 5: "{not json", 8: '{"id": "r8"}'})
    stats = score_jsonl(inp, out, scorer, chunk_size=4)
    rows = _read(out)
    assert len(rows) == 12 and stats.written == 12 and stats.errors == 3
    errors = {r["id"]: r["error"] for r in rows if r["error"]}
    assert set(errors) == {"r3", "line:6", "r8"}
    assert "empty" in errors["r3"] and "invalid JSON" in errors["line:6"] and "text" in errors["r8"]
    good = [r for r in rows if not r["error"]]
    assert all(0 <= r["score"] <= 1 and set(r) >= {"components", "metrics", "used_components"} for r in good)
    # re-running writes nothing new
    again = score_jsonl(inp, out, scorer, chunk_size=4)
    assert again.written == 0 and again.skipped == 12 and len(_read(out)) == 12


def test_resume_after_partial_line(tmp_path, scorer):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_rows(inp, 6)
    score_jsonl(inp, out, scorer, chunk_size=2)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:3]) + lines[3][:25])  # killed mid-write of row 4
    repair_tail(out)
    assert len(_read(out)) == 3
    score_jsonl(inp, out, scorer, chunk_size=2)
    assert [r["id"] for r in _read(out)] == [f"r{i}" for i in range(6)]


def test_killed_run_resumes_without_duplicates(tmp_path):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    _write_rows(inp, 60, bad={7: '{"id": "r7", "text": "  "}'})
    cmd = [
        sys.executable,
        "-m",
        "wqrm.cli",
        "score",
        "--input",
        str(inp),
        "--output",
        str(out),
        "--batch-size",
        "4",
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 8):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(out.read_text().splitlines())
    assert 8 <= partial < 60
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ids = [r["id"] for r in _read(out)]
    assert sorted(ids) == sorted(f"r{i}" for i in range(60)) and len(ids) == len(set(ids))
    assert sum(1 for r in _read(out) if r["error"]) == 1
