"""`wqrm bench` / `wqrm report` end to end: real scoring, the cache, the schema round trip, the CLI."""

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.benchmarks.sample_run import EXAMPLES, PAYLOAD_NAME, load_results
from wqrm.benchmarks.bench import Group, run_bench
from wqrm.benchmarks.cache import CacheMismatchError, ScoreCache, scorer_fingerprint, text_key
from wqrm.benchmarks.corpora import CorpusError, read_items
from wqrm.benchmarks.results import SCHEMA, RunFormatError, load_run

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


def test_load_run_refuses_other_schemas(bench_run, tmp_path):
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
