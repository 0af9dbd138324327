import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.ddpo_helpers import FakeScorer
from wqrm.cli import app
from wqrm.ddpo import LengthBalancer
from wqrm.pairs import default_log_path, group_key, pairs_jsonl, read_groups

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "ddpo" / "candidates.jsonl"
CHAT_EXAMPLES = ROOT / "examples" / "ddpo" / "chat_candidates.jsonl"
TABLE = {
    "a": (0.9, 0.1, 50),
    "b": (0.5, 0.7, 60),
    "c": (0.3, 0.5, 70),
    "d": (0.1, 0.3, 80),
}


def _write(path: Path, rows: list) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


def _read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_read_groups_grouped_flat_and_bad_rows(tmp_path):
    inp = _write(
        tmp_path / "in.jsonl",
        [
            {"id": "g1", "prompt": "P1", "candidates": ["a", "b"]},
            {"prompt": "P2", "completion": "a"},
            {"prompt": "P2", "completion": "c"},
            {"prompt": "P3", "completion": "b"},
            "{not json",
            {"prompt": "P2", "completion": "d"},  # P2 again after P3: unsorted flat rows
            {"id": "g1", "prompt": "P9", "candidates": ["a"]},  # repeated group id
            {"prompt": 3, "candidates": ["a"]},
            {"prompt": "P4", "candidates": "ab"},
            {"prompt": "P5"},
            "",
            {"prompt": "P6", "completion": [{"role": "assistant", "content": "x"}]},
        ],
    )
    groups = list(read_groups(inp))
    ok = [(g.key, g.prompt, g.candidates, g.rows) for g in groups if g.error is None]
    assert ok == [
        ("g1", "P1", ["a", "b"], 1),
        (group_key("P2"), "P2", ["a", "c"], 2),
        (group_key("P3"), "P3", ["b"], 1),
        (group_key("P6"), "P6", [[{"role": "assistant", "content": "x"}]], 1),
    ]
    errors = {g.key: g.error for g in groups if g.error}
    assert set(errors) == {"line:5", "line:6", "line:7", "line:8", "line:9", "line:10"}
    assert "invalid JSON" in errors["line:5"] and "sorted by prompt" in errors["line:6"]
    assert "again" in errors["line:7"] and "prompt" in errors["line:8"]
    assert "candidates" in errors["line:9"] and "completion" in errors["line:10"]


def test_pairs_jsonl_log_resume_and_orphans(tmp_path):
    inp = _write(
        tmp_path / "in.jsonl",
        [
            {"id": "g1", "prompt": "P", "candidates": ["a", "b", "c", "d"]},
            {"id": "g2", "prompt": "P", "candidates": ["a", ""]},
            "[1, 2]",
            {"id": "g3", "prompt": "Q", "candidates": ["c", "d"]},
        ],
    )
    out = tmp_path / "pairs.jsonl"
    stats = pairs_jsonl(inp, out, FakeScorer(TABLE))
    log = default_log_path(out)
    assert log.name == "pairs.groups.jsonl"
    pairs, records = _read(out), _read(log)
    assert [(p["group"], p["chosen"], p["rejected"]) for p in pairs] == [
        ("g1", "b", "a"),
        ("g1", "b", "c"),
        ("g1", "b", "d"),
        ("g3", "c", "d"),
    ]
    assert [r["group"] for r in records] == ["g1", "g2", "line:3", "g3"]
    assert records[0]["n_pairs"] == records[0]["n_written"] == 3 and records[0]["best_without_s8_index"] == 0
    assert "1 scorable" in records[1]["error"] and records[1]["candidate_errors"] == {
        "1": "empty text: nothing to score"
    }
    assert "expected an object" in records[2]["error"]
    assert (stats.groups, stats.failed, stats.texts, stats.pairs_written) == (4, 2, 8, 4)

    # a run killed after writing g3's pairs but before its log row: the orphan pairs are dropped, g3 redone
    log.write_text("".join(line + "\n" for line in log.read_text().splitlines()[:3]))
    scorer = FakeScorer(TABLE)
    again = pairs_jsonl(inp, out, scorer)
    assert (again.skipped, again.groups, again.pairs_written, again.orphans_removed) == (3, 1, 1, 1)
    assert scorer.calls == [(["c", "d"], "Q", True)]
    assert _read(out) == pairs and [r["group"] for r in _read(log)] == ["g1", "g2", "line:3", "g3"]
    # a complete output: nothing to do
    third = pairs_jsonl(inp, out, FakeScorer(TABLE))
    assert third.groups == 0 and third.skipped == 4 and _read(out) == pairs
    assert (third.balance.longer, third.balance.shorter) == (1, 3)  # counted from the file
    # an output whose log is missing is refused, not truncated
    log.unlink()
    with pytest.raises(ValueError, match="group log"):
        pairs_jsonl(inp, out, FakeScorer(TABLE))
    assert _read(out) == pairs


def test_balance_length_brings_share_to_half(tmp_path):
    # 40 groups whose best candidate is always the shortest, plus 10 where it is the longest
    table, rows = {}, []
    for g in range(50):
        longer_wins = g % 5 == 0
        texts = [f"g{g} t{k}" for k in range(3)]
        for k, t in enumerate(texts):
            quality = 0.9 - 0.2 * k
            words = (30 - 5 * k) if longer_wins else (10 + 5 * k)
            table[t] = (quality, 0.2 + 0.1 * k, words)
        rows.append({"id": f"g{g}", "prompt": "P", "candidates": texts})
    inp = _write(tmp_path / "in.jsonl", rows)
    plain = pairs_jsonl(inp, tmp_path / "plain.jsonl", FakeScorer(table))
    assert plain.balance.share == pytest.approx(0.2) and plain.pairs_written == 100
    bal = pairs_jsonl(inp, tmp_path / "bal.jsonl", FakeScorer(table), balance_length=True)
    assert abs(bal.balance.share - 0.5) <= 0.05 and bal.built_balance.share == pytest.approx(0.2)
    assert bal.pairs_written + bal.dropped_length == 100
    kept = _read(tmp_path / "bal.jsonl")
    longer = sum(p["n_words_chosen"] > p["n_words_rejected"] for p in kept)
    # the stream decides pair by pair: only the second pair of the first group (n = 1, both longer) is
    # lost from the scarce side; the shorter-chosen side fills up to the tolerance: 19 / (19 + 23) = 0.452
    assert (longer, len(kept) - longer) == (19, 23) == (bal.balance.longer, bal.balance.shorter)
    logged = sum(r["n_written"] for r in _read(default_log_path(tmp_path / "bal.jsonl")))
    assert logged == len(kept) == bal.pairs_written
    # the stream keeps exactly what the balancer keeps from the unbalanced file in order
    # (benchmarks/ddpo_pairs.py relies on this to report both shares from one run)
    post_hoc = LengthBalancer()
    assert [p for p in _read(tmp_path / "plain.jsonl") if post_hoc.accept(p)] == kept


def _readme_ddpo_commands() -> list[list[str]]:
    """The `wqrm …` lines of the README's DDPO section's bash blocks, as argument lists."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## DDPO")
    section = text[start : text.index("\n## ", start)]  # up to the next section
    commands, inside = [], False
    for line in section.splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```bash"
            continue
        if inside and line.strip():
            commands.append(shlex.split(line, comments=True))
    return commands


def test_readme_ddpo_commands(tmp_path, monkeypatch):
    """Runs the README's DDPO commands as written (from a directory holding `examples/`), then checks
    what they wrote."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    commands = _readme_ddpo_commands()
    assert [c[:2] for c in commands] == [["wqrm", "pairs"]] * 3 + [["wqrm", "rerank"]]
    runner = CliRunner()
    outputs = []
    for cmd in commands:
        res = runner.invoke(app, cmd[1:])
        assert res.exit_code == 0, (cmd, res.output)
        outputs.append(res)
    assert "longer text chosen" in outputs[0].output and "3 groups (0 without pairs)" in outputs[0].output

    pairs = _read(tmp_path / "pairs.jsonl")
    assert {p["group"] for p in pairs} == {"lighthouse", "station", "garden"}
    assert all(isinstance(p[k], str) for p in pairs for k in ("prompt", "chosen", "rejected"))
    log = _read(tmp_path / "pairs.groups.jsonl")
    for rec in log:
        scores = [s for s in rec["scores"] if s is not None]
        mine = [p for p in pairs if p["group"] == rec["group"]]
        assert len(mine) == rec["n_written"] == len(scores) - 1  # margin 0: the best vs every other
        assert all(p["score_chosen"] == max(scores) for p in mine)
    balanced = _read(tmp_path / "balanced.jsonl")
    post_hoc = LengthBalancer()
    assert balanced == [p for p in pairs if post_hoc.accept(p)]

    source = json.loads(CHAT_EXAMPLES.read_text(encoding="utf-8"))
    (chat,) = _read(tmp_path / "chat_pairs.jsonl")  # best-worst: one pair
    assert chat["prompt"] == source["prompt"]
    assert chat["chosen"] in source["candidates"] and chat["rejected"] in source["candidates"]
    assert chat["score_rejected"] == min(s for s in _read(tmp_path / "chat_pairs.groups.jsonl")[0]["scores"])

    rows = [json.loads(line) for line in outputs[3].stdout.splitlines()]
    assert [r["group"] for r in rows] == ["lighthouse", "station", "garden"]
    for r in rows:
        chosen = next(p for p in pairs if p["group"] == r["group"])
        assert r["error"] is None and r["index"] == chosen["chosen_index"]
        assert r["score"] == pytest.approx(chosen["score_chosen"]) and r["margin"] >= 0 and r["decided_by"]


def test_cli_pairs_refuses_bad_options(tmp_path):
    res = CliRunner().invoke(
        app, ["pairs", "--input", str(EXAMPLES), "--output", str(tmp_path / "o.jsonl"), "--mode", "x"]
    )
    assert res.exit_code == 2 and "--mode" in res.output and not (tmp_path / "o.jsonl").exists()
    res = CliRunner().invoke(
        app, ["pairs", "--input", str(tmp_path / "none.jsonl"), "--output", str(tmp_path / "o.jsonl")]
    )
    assert res.exit_code == 2 and "no such input file" in res.output  # a usage error, as in every command
    res = CliRunner().invoke(
        app,
        ["pairs", "--input", str(EXAMPLES), "--output", str(tmp_path / "o.jsonl"), "--weights", "nope.json"],
    )
    assert res.exit_code == 2 and "--weights" in res.output and not (tmp_path / "o.jsonl").exists()


def test_killed_pairs_run_resumes_without_duplicates(tmp_path):
    rows = []
    for g in range(14):
        # over 20 words each, so the degeneracy floor does not tie them at its cap
        tail = " Nobody on the quay said a word about it that grey morning."
        cands = [
            f"Story {g}. The harbour was quiet and the boats lay still. A gull landed on post {g}." + tail,
            f"Story {g}. It was a very nice day and everything was nice. The end of story {g}." + tail,
            f"Story {g}. Rain came over the hill at noon; the shepherd counted {g} sheep twice." + tail,
        ]
        rows.append({"id": f"g{g}", "prompt": f"Write story {g}.", "candidates": cands})
    inp = _write(tmp_path / "in.jsonl", rows)
    out = tmp_path / "pairs.jsonl"
    log = default_log_path(out)
    cmd = [
        sys.executable,
        "-m",
        "wqrm.cli",
        "pairs",
        "--input",
        str(inp),
        "--output",
        str(out),
        "--no-progress",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 180
    while time.time() < deadline and (not log.exists() or len(log.read_text().splitlines()) < 3):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = len(log.read_text().splitlines())
    assert 3 <= partial < 14
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"{partial} already in the log" in done.stderr
    records = _read(log)
    assert sorted(r["group"] for r in records) == sorted(f"g{g}" for g in range(14))
    pairs = _read(out)
    keys = [(p["group"], p["chosen_index"], p["rejected_index"]) for p in pairs]
    assert len(keys) == len(set(keys))
    for r in records:
        assert r["error"] is None and sum(p["group"] == r["group"] for p in pairs) == r["n_written"] == 2
