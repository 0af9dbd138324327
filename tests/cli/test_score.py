import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wqrm import __version__
from wqrm.cli import app
from wqrm.weights import LearnedWeights, default_weights_path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lighthouse.txt"
runner = CliRunner()


def test_help_for_every_command():
    for cmd in (
        [],
        ["score"],
        ["metrics"],
        ["build-profile"],
        ["catalogue"],
        ["fit-weights"],
        ["eval-pairs"],
        ["red-team"],
    ):
        result = runner.invoke(app, [*cmd, "--help"])
        assert result.exit_code == 0, cmd
        assert "Usage" in result.output


def test_score_json_contract():
    result = runner.invoke(app, ["score", "--json", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["file"] == str(EXAMPLE)
    assert isinstance(d["score"], float) and 0 <= d["score"] <= 1
    assert set(d["components"]) == {f"S{i}" for i in range(1, 9)}
    assert all(v is None or isinstance(v, float) for v in d["components"].values())
    assert all(v is None or isinstance(v, float) for v in d["metrics"].values())
    assert d["used_components"] and d["version"] == __version__
    assert d["weights"] == LearnedWeights.load(default_weights_path()).name  # the shipped learned weights
    # what pulled the score: per-metric goodness and each component's part (they sum to the score)
    assert set(d["goodness"]) <= set(d["metrics"]) and all(
        0 <= g <= 1 for g in d["goodness"].values() if g is not None
    )
    assert set(d["contributions"]) == set(d["used_components"])
    assert abs(sum(d["contributions"].values()) - d["score"]) < 1e-9
    assert d["substance"]["failed"] == {} and d["uncapped_score"] == d["score"]
    assert all({"start", "end", "label", "probability", "source"} <= set(s) for s in d["spans"])


def test_score_of_a_degenerate_text_is_a_low_number_with_a_reason(tmp_path):
    f = tmp_path / "short.txt"
    f.write_text("ok fine.", encoding="utf-8")
    result = runner.invoke(app, ["score", "--json", str(f)])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert abs(d["score"] - 0.1 * 2 / 20) < 1e-12 and "degenerate text" in d["reasons"]["score"]
    assert d["uncapped_score"] > d["score"]


def test_score_table_for_people():
    result = runner.invoke(app, ["score", str(EXAMPLE)])
    assert result.exit_code == 0
    assert "score" in result.output and "S4 coherence" in result.output and "mtld" in result.output


def test_score_table_marks_a_guard_that_took_its_component_away(tmp_path):
    """A text cut mid-sentence: the guard's goodness is about 0, S4 with it, and the table says
    that the guard multiplies its component."""
    cut = tmp_path / "cut.txt"
    cut.write_text(
        "The ferry left at six, and by seven the harbour lights had gone under the rain. Mara stood at "
        "the rail with her coat buttoned to the chin. She did not look back at the",
        encoding="utf-8",
    )
    table = runner.invoke(app, ["score", str(cut)], env={"COLUMNS": "400"}).stdout
    row = next(line for line in table.splitlines() if "S4 coherence" in line)
    assert "incomplete_sentence_rate 0.333 → 0.00 (guard: × component)" in row
    assert row.split("│")[2].strip() == "0.000"


def test_metrics_csv_two_files(tmp_path):
    other = tmp_path / "b.txt"
    other.write_text("A second file. It is short.", encoding="utf-8")
    result = runner.invoke(app, ["metrics", "--csv", str(EXAMPLE), str(other)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 2 and rows[1]["file"] == str(other)
    assert float(rows[1]["ttr"]) == 1.0


def test_metrics_stdin_and_names():
    result = runner.invoke(
        app, ["metrics", "--json", "--names", "ttr,nns", "-"], input="Go stop go stop go stop."
    )
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["metrics"]["ttr"] == pytest.approx(2 / 6)
    assert set(d["metrics"]) == {"ttr", "nns"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        ("caf\u00e9 au lait".encode("latin-1"), "--encoding"),
    ],
)
def test_bad_input_exit_1_with_message(tmp_path, content, message):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    result = runner.invoke(app, ["score", "--json", str(f)])
    assert result.exit_code == 1
    assert message in result.stderr
    assert json.loads(result.stdout)["error"]


def test_encoding_option(tmp_path):
    f = tmp_path / "latin.txt"
    f.write_bytes("The café was closed. It rained all day.".encode("latin-1"))
    result = runner.invoke(app, ["metrics", "--json", "--encoding", "latin-1", str(f)])
    assert result.exit_code == 0, result.output
    french = tmp_path / "french.txt"  # a language wqrm does not analyse: a named error, no numbers
    french.write_bytes("Le café était fermé. Il pleuvait depuis le matin sur la ville.".encode("latin-1"))
    result = runner.invoke(app, ["metrics", "--json", "--encoding", "latin-1", str(french)])
    assert result.exit_code == 1
    row = json.loads(result.stdout)
    assert "French" in row["error"] and row["lang"] == "fr" and set(row["metrics"].values()) == {None}


def test_one_bad_file_does_not_hide_good_ones(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_text("")
    result = runner.invoke(app, ["score", "--json", str(EXAMPLE), str(bad)])
    assert result.exit_code == 1
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert lines[0]["score"] is not None and lines[1]["error"]


def test_unknown_metric_name_is_usage_error():
    result = runner.invoke(app, ["metrics", "--names", "nope", str(EXAMPLE)])
    assert result.exit_code == 2 and "unknown metric" in result.stderr


def test_catalogue_json():
    result = runner.invoke(app, ["catalogue", "--json"])
    rows = json.loads(result.stdout)
    assert {"ttr", "sc"} <= {r["name"] for r in rows}
    for r in rows:  # each metric's evidence: its verdict and where the table is
        assert r["verdict"] and r["evidence"] == "benchmarks/results/metric_validity.md", r["name"]
        assert "auc_human_ai" in r and "lamp_accuracy" in r and "rho_words" in r
    from wqrm.weights import LearnedWeights, default_weights_path

    shipped = LearnedWeights.load(default_weights_path())
    agreement = shipped.meta["metric_gate"]["balanced"]
    for r in rows:  # what the shipped weights' fit saw of each metric, and whether it is weighted
        assert r["in_composite"] == (r["component"] != "-" and r["name"] not in shipped.excluded_metrics)
        assert r["fit_agreement"] == agreement.get(r["name"], {}).get("agreement"), r["name"]
    assert any(isinstance(r["fit_agreement"], float) for r in rows)
    flags = {r["name"]: (r["guard"], r["decay"]) for r in rows}
    assert flags["incomplete_sentence_rate"] == (True, False) and flags["gpp"] == (False, True)
    table = runner.invoke(app, ["catalogue"], env={"COLUMNS": "400"}).stdout
    assert any("incomplete_sentence_rate" in line and "lower, guard" in line for line in table.splitlines())
    assert any(
        line.split("│")[1].strip() == "gpp" and "lower, decay" in line
        for line in table.splitlines()
        if "│" in line
    )


def test_eval_pairs_reports_accuracy(tmp_path):
    rows = [
        {"chosen": "Go stop now. The dog ran home fast.", "rejected": "Go go go go. Go go go go go."},
        {"original": "It it it it it it.", "edited": "The cat slept by the warm stove."},
    ]
    f = tmp_path / "pairs.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = runner.invoke(app, ["eval-pairs", str(f), "--scorer", "metric:ttr", "--json"])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["n"] == 2 and d["accuracy"] == 1.0  # the preferred text has the higher TTR in both
    assert d["n_length_adversarial"] == 1 and d["length_adversarial_accuracy"] == 1.0
    edit = json.loads(runner.invoke(app, ["eval-pairs", str(f), "--json"]).stdout)
    assert edit["scorer"] == "edit" and edit["n"] == 2 and 0 <= edit["accuracy"] <= 1


def test_score_with_uniform_or_missing_weights(tmp_path):
    result = runner.invoke(app, ["score", "--json", "--weights", "uniform", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["weights"] == "uniform"
    result = runner.invoke(app, ["score", "--weights", str(tmp_path / "nope.json"), str(EXAMPLE)])
    assert result.exit_code == 2 and "no weights file" in result.output
