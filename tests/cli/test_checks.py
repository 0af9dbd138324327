"""Every command checks its arguments and input files before anything heavy is imported or loaded,
and refuses bad ones with a message (status 2 for a bad argument, 1 for an input that cannot be
scored) — measured in a fresh process: no spaCy, torch or metric module may be imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = textwrap.dedent(
    """
    import json, sys
    from typer.testing import CliRunner
    from wqrm.cli import app

    cases = json.loads(sys.argv[1])
    runner = CliRunner()
    out = []
    for args in cases:
        r = runner.invoke(app, args)
        out.append({"args": args, "code": r.exit_code, "stderr": r.stderr, "exc": repr(r.exception)})
    heavy = ("spacy", "torch", "transformers", "wqrm.metrics", "wqrm.scoring")
    heavy = [m for m in heavy if m in sys.modules]
    print(json.dumps({"results": out, "heavy": heavy}))
    """
)


def _run(cases: list[list[str]], cwd: Path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(cases)], cwd=cwd, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_bad_arguments_and_files_are_refused_before_anything_loads(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "pairs.jsonl").write_text('{"chosen": "A b c.", "rejected": "D e f."}\n')
    (tmp_path / "ok.txt").write_text("The tide came in.")
    cases = {
        "score missing file": (["score", "missing.txt"], 1, "missing.txt: no such file"),
        "score empty file": (["score", "empty.txt"], 1, "empty.txt: empty text"),
        "score two bad files": (["score", "--json", "missing.txt", "empty.txt"], 1, "empty.txt: empty"),
        "score unknown task": (["score", "--task", "poem", "ok.txt"], 2, "--task must be one of"),
        "score prompt without task": (["score", "--prompt-file", "ok.txt", "ok.txt"], 2, "need --task"),
        "score bad encoding": (["score", "--encoding", "klingon", "ok.txt"], 2, "unknown encoding"),
        "score missing persona": (["score", "--persona", "nope/", "ok.txt"], 2, "no such directory"),
        "score missing model": (["score", "--model", "nope/", "ok.txt"], 2, "no such directory"),
        "score missing weights": (["score", "--weights", "nope.json", "ok.txt"], 2, "no weights file"),
        "score missing profile": (["score", "--profile", "nope/", "ok.txt"], 2, "--profile"),
        "score batch missing input": (
            ["score", "--input", "no.jsonl", "--output", "o.jsonl"],
            1,
            "no such file",
        ),
        "score batch output dir": (["score", "--input", "pairs.jsonl", "--output", "."], 2, "is a directory"),
        "score batch size 0": (["score", "--batch-size", "0", "ok.txt"], 2, None),
        "metrics missing file": (["metrics", "--json", "missing.txt"], 1, "missing.txt: no such file"),
        "metrics json and csv": (["metrics", "--json", "--csv", "ok.txt"], 2, "choose one"),
        "eval-pairs unknown scorer": (["eval-pairs", "pairs.jsonl", "--scorer", "nope"], 2, "valid: edit"),
        "eval-pairs old name": (
            ["eval-pairs", "pairs.jsonl", "--scorer", "baseline:length"],
            2,
            "baseline:shorter",
        ),
        "eval-pairs missing file": (["eval-pairs", "nope.jsonl"], 2, "no such file"),
        "eval-pairs bad split": (["eval-pairs", "pairs.jsonl", "--split", "test"], 2, "--split"),
        "fit-weights missing": (["fit-weights", "--pairs", "no.jsonl", "--out", "w.json"], 2, "no such file"),
        "fit-weights bad weight": (
            ["fit-weights", "--pairs", "pairs.jsonl", "--out", "w.json", "--weight", "a=x"],
            2,
            None,
        ),
        "train-edit missing": (["train-edit", "--pairs", "no.jsonl", "--out", "m"], 2, "no such file"),
        "train-edit missing spans": (
            ["train-edit", "--pairs", "pairs.jsonl", "--spans", "no.jsonl", "--out", "m"],
            2,
            "no such file",
        ),
        "build-profile missing": (["build-profile", "no.txt", "--out", "p"], 2, "no such corpus file"),
        "build-profile bad where": (
            ["build-profile", "ok.txt", "--out", "p", "--where", "x"],
            2,
            "KEY=VALUE",
        ),
    }
    report = _run([args for args, _, _ in cases.values()], tmp_path)
    for (name, (_, code, message)), got in zip(cases.items(), report["results"], strict=True):
        assert got["code"] == code, (name, got)
        assert "Traceback" not in got["stderr"], (name, got["stderr"])
        if message:
            assert message in got["stderr"], (name, got["stderr"])
    assert report["heavy"] == []  # nothing heavy was imported for any of them
