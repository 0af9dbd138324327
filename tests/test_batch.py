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


def test_rows_carry_their_context_and_groups(tmp_path, scorer):
    """Each row's task/prompt/references are its context; rows sharing a group are scored together
    (S8) even when other rows come between them; the results equal the Python API's exactly."""
    story = "The ferry came in late. Nobody on the quay said a word, and the gulls went quiet too."
    prompt = "The ferry was late again."
    cands = [
        "The boy carried the suitcase down the ramp one step at a time.",
        "A gull landed on the rail and watched the queue as if it had paid.",
        "The ferry is a boat. It carries people. It was late.",
    ]
    rows = [
        {"id": "c0", "text": cands[0], "prompt": prompt, "group": "g"},
        {"id": "task", "text": story, "task": "continue", "prompt": prompt, "references": story},
        {"id": "c1", "text": cands[1], "prompt": prompt, "group": "g"},
        {"id": "plain", "text": story},
        {"id": "c2", "text": cands[2], "prompt": prompt, "group": "g"},
        {"id": "bad-task", "text": story, "task": "haiku"},
    ]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    stats = score_jsonl(inp, out, scorer, chunk_size=2)
    got = {r["id"]: r for r in _read(out)}
    assert stats.written == 6 and stats.errors == 1 and set(got) == {r["id"] for r in rows}
    assert "'task' must be one of" in got["bad-task"]["error"]
    group = scorer.score_batch(cands, ids=["c0", "c1", "c2"], prompt=prompt, group=True)
    for r in group:
        assert got[r.id]["score"] == r.score and got[r.id]["metrics"] == r.metrics
        assert got[r.id]["metrics"]["deviation"] is not None
    task = scorer.score(story, task="continue", prompt=prompt, references=[story])
    assert got["task"]["score"] == task.score and got["task"]["components"]["S5"] is not None
    assert got["plain"]["score"] == scorer.score(story).score


def test_command_line_context_is_the_default_a_row_overrides(tmp_path, scorer):
    story = "The ferry came in late. Nobody on the quay said a word, and the gulls went quiet too."
    rows = [{"id": "cli", "text": story}, {"id": "own", "text": story, "task": "storygen"}]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    reference = "The ferry came in late, and nobody on the quay said a word."
    context = {"task": "continue", "prompt": "The ferry was late.", "references": [reference]}
    score_jsonl(inp, out, scorer, context=context)
    got = {r["id"]: r for r in _read(out)}
    # continue: bleu is an overlap metric with the references (the prompt alone does not define it)
    assert got["cli"]["metrics"]["bleu"] is not None
    assert got["own"]["metrics"]["bleu"] is None and "not a storygen metric" in got["own"]["reasons"]["bleu"]


def test_resume_rescores_an_unfinished_group_whole(tmp_path, scorer):
    prompt = "The ferry was late again."
    cands = ["The boy carried the suitcase down.", "A gull watched the queue.", "The ferry is a boat."]
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text(
        "".join(
            json.dumps({"id": f"c{i}", "text": t, "prompt": prompt, "group": 1}) + "\n"
            for i, t in enumerate(cands)
        ),
        encoding="utf-8",
    )
    score_jsonl(inp, out, scorer)
    full = _read(out)
    out.write_text(json.dumps(full[0]) + "\n", encoding="utf-8")  # killed after the first member
    stats = score_jsonl(inp, out, scorer)
    assert stats.written == 2 and stats.skipped == 1
    assert _read(out) == full  # the missing members got the same S8 as in one run


def test_duplicate_ids_are_reported_not_lost(tmp_path, scorer):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text('{"id": 1, "text": "A story."}\n{"id": 1, "text": "Another."}\n', encoding="utf-8")
    seen = []
    stats = score_jsonl(inp, out, scorer, on_error=lambda row, msg: seen.append((row.id, row.line, msg)))
    assert stats.rows == 2 and stats.written == 1 and stats.duplicates == 1
    assert seen == [(1, 2, "repeats the id 1 of an earlier row; skipped")]
