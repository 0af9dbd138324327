"""`wqrm bench` / `wqrm report` from the command line: the report reads results.json without
rescoring, the README's Benchmark commands run as written, bad input gets a clear message."""

import json
import shlex
import shutil

from typer.testing import CliRunner

from tests.benchmarks.sample_run import EXAMPLES, ROOT, load_results
from wqrm.cli import app

runner = CliRunner()


def test_report_round_trip_reads_results_json_without_rescoring(bench_run, tmp_path, monkeypatch):
    """results.json → `wqrm report`: nothing is scored (any scorer use fails) and the figures shown
    are results.json's (a value edited there appears in the report)."""
    import wqrm.scoring

    def refuse(*a, **k):
        raise AssertionError("the report must not score")

    monkeypatch.setattr(wqrm.scoring.Scorer, "score_batch", refuse)
    monkeypatch.setattr(wqrm.scoring, "load", refuse)
    run = tmp_path / "run"
    shutil.copytree(bench_run, run)
    results = load_results(run)
    results["groups"][0]["composite"]["value"] = 0.123456
    (run / "results.json").write_text(json.dumps(results), encoding="utf-8")
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["report", str(run), "-o", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "<strong>0.123</strong>" in html
    for g in results["groups"][1:]:
        assert f"<strong>{g['composite']['value']:.3f}</strong>" in html


def test_report_refuses_a_folder_without_results(tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "no results.json" in res.output


def readme_benchmark_commands() -> list[list[str]]:
    """The commands of the README's Benchmark code block (continuation lines joined)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Benchmark", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line) for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_readme_benchmark_example_runs(bench_run, tmp_path, monkeypatch):
    """The README's Benchmark commands, as written (only runs/example moved under tmp; the score
    cache of the shared run is reused, so nothing is rescored)."""
    commands = readme_benchmark_commands()
    assert [c[:2] for c in commands] == [["wqrm", "bench"], ["wqrm", "report"]]
    run = tmp_path / "runs" / "example"
    run.mkdir(parents=True)
    for name in ("scores.jsonl", "scores.meta.json"):
        shutil.copy(bench_run / name, run / name)
    monkeypatch.chdir(ROOT)  # the example's paths are relative to the checkout
    for cmd in commands:
        args = [str(run) if a == "runs/example" else a.replace("runs/example/", f"{run}/") for a in cmd[1:]]
        monkeypatch.setattr("sys.argv", ["wqrm", *args])  # the command line the run records
        res = runner.invoke(app, args)
        assert res.exit_code == 0, (cmd, res.output)
        if cmd[1] == "bench":
            assert "revised" in res.stdout and "composite" in res.stdout and "profile:default" in res.stdout
    results = load_results(run)
    assert results["run"]["texts"]["scored"] == 0  # all cached
    assert results["run"]["command"].startswith("wqrm bench --system revised=examples/bench/revised.jsonl")
    assert [g["name"] for g in results["groups"]] == ["revised", "draft"]
    assert (run / "report.html").stat().st_size > 10_000


def test_cli_errors_are_clear(tmp_path):
    res = runner.invoke(
        app, ["bench", "--system", f"a={tmp_path / 'missing.jsonl'}", "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 2 and "does not exist" in res.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"no_text": 1}\n', encoding="utf-8")
    res = runner.invoke(app, ["bench", "--system", f"a={bad}", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "bad.jsonl:2" in res.output
    dup = ["--system", f"a={EXAMPLES / 'draft.jsonl'}", "--baseline", f"a={EXAMPLES / 'revised.jsonl'}"]
    res = runner.invoke(app, ["bench", *dup, "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "two groups are named 'a'" in res.output
    res = runner.invoke(
        app, ["bench", "--reference", f"r={EXAMPLES / 'draft.jsonl'}", "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 2 and "at least one --system" in res.output
    res = runner.invoke(app, ["bench", "--help"])
    assert res.exit_code == 0 and "--reference" in res.output and "--baseline" in res.output
