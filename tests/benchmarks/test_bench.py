"""`wqrm bench` / `wqrm report` end to end: real scoring, the cache, the schema round trip, the CLI."""

import json
import shlex
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.benchmarks.sample_run import EXAMPLES, PAYLOAD_NAME, ROOT, load_results
from wqrm.benchmarks.bench import Group, run_bench
from wqrm.benchmarks.cache import CacheMismatchError, ScoreCache, scorer_fingerprint, text_key
from wqrm.benchmarks.corpora import CorpusError, read_items
from wqrm.benchmarks.results import SCHEMA, RunFormatError, load_run
from wqrm.cli import app

runner = CliRunner()


def test_results_schema_and_per_text_rows(bench_run, scorer):
    results, rows = load_run(bench_run)
    assert results["schema"] == SCHEMA == "wqrm-bench/1"
    assert [g["name"] for g in results["groups"]] == ["revised", "draft", PAYLOAD_NAME, "human"]
    assert [g["kind"] for g in results["groups"]] == ["system", "baseline", "system", "reference"]
    assert [r["name"] for r in results["references"]] == ["human", "profile:default"]
    assert results["run"]["weights"]["name"] == scorer.weights.name
    assert (
        results["run"]["texts"]["total"]
        == len(rows)
        == 8 + 8 + 6 + len([r for r in rows if r["group"] == "human"])
    )
    # the reference shares the revised texts: each distinct text was scored once
    assert results["run"]["texts"]["distinct"] == len({r["key"] for r in rows})
    for g in results["groups"]:
        mine = [r for r in rows if r["group"] == g["name"]]
        assert g["composite"]["value"] == pytest.approx(np.mean([r["score"] for r in mine]))
        assert g["composite_uniform"]["value"] == pytest.approx(np.mean([r["score_uniform"] for r in mine]))
        lo, hi = g["composite"]["ci"]
        assert lo <= g["composite"]["value"] <= hi
    assert results["groups"][0]["unit"] == "prompt" and results["groups"][0]["n_prompts"] == 8
    human = [r for r in rows if r["group"] == "human"]
    assert sorted({r["half"] for r in human}) == [0, 1]
    assert abs(sum(r["half"] for r in human) * 2 - len(human)) <= 1
    # the example systems are ordered: concrete revisions above generic drafts, on shared prompts
    (c,) = [c for c in results["comparisons"] if (c["a"], c["b"]) == ("revised", "draft")]
    assert c["pairing"] == "prompt" and c["n_units"] == 8
    assert c["win_rate"]["value"] > 0.5
    json.dumps(results, allow_nan=False)


def test_per_text_scores_equal_the_scorer(bench_run, scorer):
    _, rows = load_run(bench_run)
    r = next(r for r in rows if r["id"] == "revised-ferry")
    direct = scorer.score(r["text"])
    # batched vs alone: equal up to float32 encoder noise (the golden snapshot's tolerance)
    assert r["score"] == pytest.approx(direct.score, abs=1e-6)
    assert r["n_words"] == direct.n_words
    assert r["components"] == pytest.approx(dict(direct.components), abs=1e-6)


class CountingScorer:
    """Delegates to a real scorer and counts the texts it was asked to score."""

    def __init__(self, scorer):
        self.scorer, self.profile, self.weights, self.metric_names = (
            scorer,
            scorer.profile,
            scorer.weights,
            scorer.metric_names,
        )
        self.texts = 0

    def score_batch(self, texts, ids=None):
        self.texts += len(texts)
        return self.scorer.score_batch(texts, ids=ids)


def test_a_killed_run_resumes_without_rescoring(bench_run, scorer, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for name in ("scores.jsonl", "scores.meta.json"):
        shutil.copy(bench_run / name, run / name)
    lines = (run / "scores.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    # simulate a kill: the last two rows lost, the one before written half
    (run / "scores.jsonl").write_text("".join(lines[:-3]) + lines[-3][:40], encoding="utf-8")
    counting = CountingScorer(scorer)
    groups = [
        Group("revised", "system", EXAMPLES / "revised.jsonl"),
        Group("draft", "baseline", EXAMPLES / "draft.jsonl"),
    ]
    texts = {it.text for g in groups for it in g.items(150)}
    cached = ScoreCache(run, scorer_fingerprint(scorer))
    missing = [t for t in texts if cached.get(t) is None]
    res = run_bench(groups, run, scorer=counting, chunk=4)
    assert counting.texts == len(missing) == res["run"]["texts"]["scored"]
    assert res["run"]["texts"]["cached"] == len(cached.rows)
    keys = [
        json.loads(line)["key"] for line in (run / "scores.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(keys) == len(set(keys))  # no duplicates, no broken line
    again = CountingScorer(scorer)
    run_bench(groups, run, scorer=again)
    assert again.texts == 0


def test_another_scorer_is_refused(bench_run, tmp_path):
    import wqrm

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(bench_run / "scores.meta.json", run / "scores.meta.json")
    with pytest.raises(CacheMismatchError, match=r"different scorer.*weights"):
        ScoreCache(run, scorer_fingerprint(wqrm.load(weights="uniform")))


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


def test_report_refuses_what_it_cannot_read(bench_run, tmp_path):
    res = runner.invoke(app, ["report", str(tmp_path)])
    assert res.exit_code == 2 and "no results.json" in res.output
    run = tmp_path / "run"
    shutil.copytree(bench_run, run)
    results = load_results(run)
    results["schema"] = "wqrm-bench/2"
    (run / "results.json").write_text(json.dumps(results), encoding="utf-8")
    with pytest.raises(RunFormatError, match="wqrm-bench/2 is not supported"):
        load_run(run)
    (run / "results.json").write_text(json.dumps({"schema": "other"}), encoding="utf-8")
    with pytest.raises(RunFormatError, match="not a wqrm benchmark result"):
        load_run(run)


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


def test_corpus_readers(tmp_path):
    book = tmp_path / "book.txt"
    book.write_text("One two three.\n\nFour five six seven.\n\nEight nine.\n\nTen.\n", encoding="utf-8")
    passages = read_items(book, passage_words=5)
    assert [p.text for p in passages] == ["One two three.\n\nFour five six seven."]  # short tail dropped
    d = tmp_path / "dir"
    d.mkdir()
    (d / "b.txt").write_text("Second.", encoding="utf-8")
    (d / "a.md").write_text("First.", encoding="utf-8")
    (d / "c.jsonl").write_text('{"text": "Third.", "prompt": "Why?"}\n', encoding="utf-8")
    items = read_items(d)
    assert [i.text for i in items] == ["First.", "Second.", "Third."]
    assert items[2].prompt == "Why?" and items[2].prompt_id.startswith("p")
    (d / "bad.txt").write_bytes(b"\xff\xfe bad")
    with pytest.raises(CorpusError, match="not valid UTF-8"):
        read_items(d)
    assert text_key("a") == text_key("a") != text_key("b")
