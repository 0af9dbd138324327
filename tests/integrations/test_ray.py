"""Scoring on Ray Data (`wqrm.integrations.ray`, `wqrm score --engine ray`): the rows equal the
single-process `wqrm score --input` rows, on a local Ray cluster of 2 CPUs.

The texts are written here; the input holds bad rows (an empty text, a line that is not JSON, a
missing text, a bad task), a repeated id, a numeric id and rows with their own context.

Equal means: the same rows in the same order, the same keys, ids, errors, reasons, spans and
strings, and numbers equal within `TOLERANCE`. Two things move the float32 encoders' outputs by a
few units in the last place, and the raw edit reward (a logit of magnitude up to ~8) by up to
~6e-6: which texts share an encoder batch (~1e-6), and the number of torch threads (5.9e-6 between
1 and 2 threads on these texts). A Ray actor with one CPU runs one torch thread, so the
single-process reference here runs with one thread too; with batch-invariant encoders
`TOLERANCE` becomes 0 and the lines are compared byte for byte.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from typer.testing import CliRunner

from wqrm.batch import score_jsonl
from wqrm.cli import app
from wqrm.integrations.ray import BatchScorer, RayEngineError, score_file

ROOT = Path(__file__).resolve().parents[2]
#: Relative (and absolute, near 0) tolerance on numbers: encoder batch composition, see above.
TOLERANCE = 1e-6

TEXTS = [
    "The gate had been left open all night, and by morning the goats were on the church roof.",
    "She tied the boat to the ring and did not look back at the town.",
    "Rain came sideways off the estuary. The ferryman counted his passengers twice and frowned.",
    "My grandmother kept buttons in a biscuit tin, sorted by the coats they had fallen from.",
    "The train stopped in a field. Nobody spoke; a cow regarded us through the window.",
    "He learned to bake bread the winter the mill closed, badly at first, then every morning.",
    "At the end of the pier a boy was fishing with a bent nail and enormous patience.",
    "The letter arrived eleven years late, its stamp showing a queen nobody remembered.",
    "Frost had drawn ferns on the inside of the glass. She breathed on one and watched it go.",
    "The old clock in the hall ran fast, so the family lived four minutes in the future.",
    "We found the key under the third stone, exactly where the map said it would not be.",
    "The choir sang flat all evening and the vicar, kindly, called it a new arrangement.",
    "Snow closed the pass on Tuesday. By Friday the inn had run out of everything but soup.",
    "He painted the shed blue to annoy his neighbour, then found he liked it.",
    "The lighthouse keeper's logbook recorded weather, ships, and once, a whale that waved.",
    "Our street had one streetlamp and it flickered in a rhythm my sister swore was Morse.",
    "The river took the bridge in March. In April the town built a ferry out of the bridge.",
    "She kept bees on the roof of the library, and the honey tasted faintly of old paper.",
    "The market sold everything except what you came for, which was always around the corner.",
    "It is important to note that the journey is a tapestry of experiences that shape us.",
    "The dog waited at the station every evening, long after there was anyone to meet.",
    "In the photograph they are laughing at something outside the frame, and I never asked what.",
    "Two crows argued on the gutter about a crust until a gull settled the matter.",
    "The bakery's oven failed at dawn, so the whole street ate yesterday's bread and said nothing.",
]


def _rows() -> list[str]:
    """The input lines: scoreable rows, bad rows, a repeated id, a numeric id, rows in context."""
    lines = [json.dumps({"id": f"t{i}", "text": t}) for i, t in enumerate(TEXTS)]
    lines[5] = json.dumps(
        {
            "id": "t5",
            "text": TEXTS[5],
            "task": "continue",
            "prompt": "The mill closed in November and the village went quiet.",
            "references": ["He took up baking when the mill shut, and got good at it slowly."],
        }
    )
    lines[9] = json.dumps({"id": 9, "text": TEXTS[9]})
    lines += [
        json.dumps({"id": "empty", "text": "   "}),
        "{not json",
        json.dumps({"id": "no-text", "body": "x"}),
        json.dumps({"id": "bad-task", "text": TEXTS[0], "task": "summarise"}),
        json.dumps({"id": "t3", "text": "a repeated id: skipped and reported, as in the local engine"}),
        json.dumps({"text": "A row with no id gets the id of its line number, and is scored like the rest."}),
    ]
    return lines


@pytest.fixture(scope="module")
def files(tmp_path_factory, scorer) -> dict[str, Path]:
    """The JSONL input and its single-process output (`wqrm.batch.score_jsonl`, 8 rows per call)."""
    d = tmp_path_factory.mktemp("ray")
    inp, local = d / "in.jsonl", d / "local.jsonl"
    inp.write_text("\n".join(_rows()) + "\n", encoding="utf-8")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a Ray actor of one CPU
    try:
        stats = score_jsonl(inp, local, scorer, chunk_size=8)
    finally:
        torch.set_num_threads(threads)
    assert stats.rows == 30 and stats.written == 29 and stats.duplicates == 1 and stats.errors == 4
    return {"dir": d, "in": inp, "local": local}


@pytest.fixture(scope="module")
def ray_cluster():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _differences(a: Any, b: Any, where: str = "") -> Iterator[str]:
    """Where two JSON values differ: any structure, key order, type or string; a number beyond
    `TOLERANCE` (relative, and absolute near 0)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            yield f"{where}: keys {list(a)} != {list(b)}"
        for k in a.keys() & b.keys():
            yield from _differences(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            yield f"{where}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=False)):  # a length difference is reported above
            yield from _differences(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        if not math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=TOLERANCE):
            yield f"{where}: {a!r} != {b!r}"
    elif type(a) is not type(b) or a != b:
        yield f"{where}: {a!r} != {b!r}"


def assert_same_rows(actual: list[str], expected: list[str]) -> None:
    """The JSONL lines are equal (byte for byte when `TOLERANCE` is 0)."""
    if TOLERANCE == 0:
        assert actual == expected
        return
    assert len(actual) == len(expected)
    for line, want in zip(actual, expected, strict=True):
        row, expected_row = json.loads(line), json.loads(want)
        diffs = list(_differences(row, expected_row))
        assert not diffs, f"row {expected_row['id']!r}: {diffs[:5]}"


def test_ray_data_map_batches_rows_equal_the_single_process_rows(files, ray_cluster):
    """`Dataset.map_batches(BatchScorer)` with 2 actors, 5 rows per call (the local run used 8):
    each row's `record` is its single-process JSONL row; input columns pass through."""
    local = {json.loads(line)["id"]: line for line in _lines(files["local"])}
    objs = [json.loads(line) for line in _rows() if line != "{not json"]
    keys = ("id", "text", "task", "prompt", "references")
    first: dict = {}
    for o in objs:
        first.setdefault(o.get("id"), o)  # a repeated id: its first row
    rows = [{k: o.get(k) for k in keys} for i, o in first.items() if isinstance(i, str)]
    table = pa.Table.from_pylist(rows)
    ds = ray_cluster.data.from_arrow([table.slice(i, 5) for i in range(0, table.num_rows, 5)])
    scored = ds.map_batches(
        BatchScorer, compute=ray_cluster.data.ActorPoolStrategy(size=2), batch_size=5, batch_format="pandas"
    )
    out = {row["id"]: row for row in scored.take_all()}
    assert sorted(out) == sorted(r["id"] for r in rows) and len(out) == 26
    assert_same_rows([out[r["id"]]["record"] for r in rows], [local[r["id"]] for r in rows])
    assert out["t5"]["prompt"].startswith("The mill closed") and out["t5"]["rouge_l"] is not None
    assert out["empty"]["error"] is not None and pd.isna(out["empty"]["score"])
    assert out["bad-task"]["error"].startswith("'task' must be one of")


def test_the_cli_scores_jsonl_with_ray_like_the_local_engine(files):
    """`wqrm score --engine ray --workers 2` in its own process (its own local Ray cluster), 5 rows
    per call: the JSONL the local engine wrote, with the same error messages on stderr. The output
    starts with 3 rows of an interrupted run, which are kept and not rescored (resume)."""
    local = _lines(files["local"])
    out = files["dir"] / "ray.jsonl"
    out.write_text("\n".join(local[:3]) + "\n", encoding="utf-8")
    cmd = [
        sys.executable,
        "-m",
        "wqrm.cli",
        "score",
        "--engine",
        "ray",
        "--workers",
        "2",
        "--batch-size",
        "5",
    ]
    done = subprocess.run(
        [*cmd, "--input", str(files["in"]), "--output", str(out), "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "30 rows: 26 written (4 with errors), 3 already in" in done.stderr
    assert "1 repeated ids skipped" in done.stderr
    for message in ('row "empty" (line 25)', 'row "line:26": line 26: invalid JSON', 'row "t3" (line 29)'):
        assert message in done.stderr
    assert_same_rows(_lines(out), local)
    by_id = {json.loads(line)["id"]: json.loads(line) for line in local}
    assert by_id[9]["score"] is not None and by_id["line:30"]["score"] is not None
    assert by_id["t5"]["metrics"]["rouge_l"] is not None  # the row's own context (a continuation) was used
    assert by_id["t4"]["metrics"]["rouge_l"] is None


def test_score_file_reads_and_writes_parquet(files, ray_cluster):
    """Parquet in, Parquet out (1 actor on the running cluster, which is left running): each row's
    `record` is the single-process JSONL row, and the flat columns agree with it."""
    local = {json.loads(line)["id"]: line for line in _lines(files["local"])}
    ids = [f"t{i}" for i in range(len(TEXTS)) if i not in (5, 9)] + ["empty"]
    texts = [*(t for i, t in enumerate(TEXTS) if i not in (5, 9)), "   "]
    inp, out = files["dir"] / "in.parquet", files["dir"] / "out.parquet"
    pq.write_table(pa.table({"id": ids, "text": texts, "extra": list(range(len(ids)))}), inp)
    errors = []
    stats = score_file(
        inp, out, workers=1, batch_size=7, on_error=lambda row, msg: errors.append((row.id, row.line))
    )
    assert (stats.rows, stats.written, stats.errors) == (23, 23, 1) and errors == [("empty", 23)]
    table = pq.read_table(out)
    assert table.column("id").to_pylist() == ids and table.column("text").to_pylist() == texts
    assert_same_rows(table.column("record").to_pylist(), [local[i] for i in ids])
    for row in table.to_pylist():
        record = json.loads(row["record"])
        assert row["error"] == record["error"] and row["lang"] == record["lang"]
        assert row["reasons"] == json.dumps(record["reasons"], ensure_ascii=False)
        columns = [("score", record["score"]), *record["components"].items(), *record["metrics"].items()]
        assert all(row[name] == value for name, value in columns), row["id"]
    assert not (files["dir"] / "out.parquet.partial").exists()
    assert ray_cluster.is_initialized()


def test_batch_scorer_keeps_the_columns_and_the_batch_format(files, scorer):
    """`BatchScorer` called directly (as an actor calls it): pandas in, pandas out; dict of arrays;
    pyarrow. Input columns are kept; a row with a group is an error record unless `groups=True`."""
    local = {json.loads(line)["id"]: json.loads(line) for line in _lines(files["local"])}
    batch_scorer = BatchScorer()
    frame = pd.DataFrame({"id": ["t0", "t1", "t2"], "text": TEXTS[:3], "note": ["a", "b", "c"]})
    out = batch_scorer(frame)
    assert isinstance(out, pd.DataFrame) and list(out["note"]) == ["a", "b", "c"]
    assert_same_rows(list(out["record"]), [json.dumps(local[i]) for i in ("t0", "t1", "t2")])
    assert [json.loads(r)["score"] for r in out["record"]] == list(out["score"])

    arrays = {"id": frame["id"].to_numpy(), "text": frame["text"].to_numpy()}
    as_dict = batch_scorer(arrays)
    assert list(as_dict["record"]) == list(out["record"]) and as_dict["S4"].dtype.kind == "f"

    table = pa.table({"text": [TEXTS[0], None, TEXTS[1]], "group": [None, None, "g"]})
    scored = batch_scorer(table)
    assert isinstance(scored, pa.Table) and scored.column_names[:2] == ["text", "group"]
    errors = scored.column("error").to_pylist()
    assert errors[0] is None and errors[1] == "'text' is missing" and "map_groups" in errors[2]
    assert json.loads(scored.column("record")[0].as_py())["id"] is None  # no id column: id null

    candidates = pa.table({"id": ["a", "b"], "text": TEXTS[3:5], "group": ["g", "g"]})
    grouped = BatchScorer(groups=True)(candidates)
    assert grouped.column("error").to_pylist() == [None, None]
    expected = scorer.score_batch(TEXTS[3:5], ids=["a", "b"], group=True)
    assert grouped.column("score").to_pylist() == [r.score for r in expected]
    assert grouped.column("S8").to_pylist() == [r.components["S8"] for r in expected]


def test_batch_scorer_refuses_a_bad_context_at_once():
    with pytest.raises(ValueError, match="task"):
        BatchScorer(context={"task": "summarise"})
    with pytest.raises(ValueError, match="unknown field"):
        BatchScorer(context={"mood": "grim"})


runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "spark"], "--engine must be one of local, ray"),
        (["--workers", "2"], "--workers needs --engine ray"),
        (["--output", "out.parquet"], "only --engine ray reads and writes Parquet"),
    ],
)
def test_engine_options_are_checked_before_anything_loads(tmp_path, args, message):
    inp = tmp_path / "in.jsonl"
    inp.write_text('{"id": 1, "text": "The tide came in."}\n', encoding="utf-8")
    argv = ["score", "--input", str(inp), "--output", str(tmp_path / "out.jsonl"), *args]
    if "--output" in args:
        argv = ["score", "--input", str(inp), *args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2 and message in result.output


def test_the_ray_engine_refuses_groups_and_an_existing_parquet_before_ray_starts(tmp_path, monkeypatch):
    import ray

    monkeypatch.setattr(ray, "init", lambda *a, **k: pytest.fail("Ray started"))
    grouped = tmp_path / "grouped.jsonl"
    grouped.write_text(
        '{"id": 1, "text": "The tide came in.", "group": "g"}\n'
        '{"id": 2, "text": "It went out.", "group": "g"}\n',
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["score", "--engine", "ray", "--input", str(grouped), "--output", str(tmp_path / "o.jsonl")]
    )
    assert result.exit_code == 2 and "2 rows have a 'group' (rows 1, 2)" in result.output
    existing = tmp_path / "o.parquet"
    existing.write_bytes(b"")
    result = runner.invoke(
        app, ["score", "--engine", "ray", "--input", str(grouped), "--output", str(existing)]
    )
    assert result.exit_code == 2 and "is written whole" in result.output
    result = runner.invoke(app, ["score", "--engine", "ray", str(grouped)])
    assert result.exit_code == 2 and "--input and --output" in result.output


def test_more_workers_than_the_cluster_has_cpus_is_an_error_not_a_wait(files, ray_cluster, tmp_path):
    with pytest.raises(RayEngineError, match="3 workers need 3 CPUs; the Ray cluster has 2"):
        score_file(files["in"], tmp_path / "out.jsonl", workers=3)
    assert ray_cluster.is_initialized()
