"""`wqrm score` on Russian text: the language in the JSON, Russian-valid metrics, reasons for the rest."""

import json
from pathlib import Path

from typer.testing import CliRunner

from wqrm.cli import app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_RU = ROOT / "examples" / "ru_station.txt"
runner = CliRunner()

#: Metrics that need a model or lexicon wqrm has in English only.
ENGLISH_MODEL_METRICS = (
    "edit_reward", "edit_flag_rate", "sc", "mi_segments", "sent", "sentiment_arc_std", "emotion_js",
    "emotion_entropy", "sd2", "wordnet_sim", "t1", "t2", "gpp", "ppl_div", "creativity_prob",
)  # fmt: skip
#: Metrics whose definition is language-independent (computed on the Russian parse).
RUSSIAN_METRICS = (
    "ttr", "mtld", "word_entropy", "w1", "w2", "pos_richness", "nns", "cbq", "syn", "parse_validity",
    "omega", "dep_dist_mean", "left_arc_ratio", "dep_label_js", "pos_js", "sld_kl", "ttr_consistency",
    "formality", "coherence_tau", "lsa_m9a", "ne_count",
)  # fmt: skip


def test_score_json_on_a_russian_file():
    result = runner.invoke(app, ["score", "--json", str(EXAMPLE_RU)])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["lang"] == "ru" and d["error"] is None
    for name in RUSSIAN_METRICS:
        assert isinstance(d["metrics"][name], float), (name, d["reasons"].get(name))
    for name in ENGLISH_MODEL_METRICS:  # no English model number, and the reason says why
        assert d["metrics"][name] is None, name
        assert d["reasons"][name].startswith("no Russian resource"), (name, d["reasons"][name])
    # S1 (the English edit model) is missing and says so; the composite uses what Russian has
    assert d["components"]["S1"] is None and "S1" not in d["used_components"]
    assert "no Russian resource" in d["reasons"]["S1"] and "edit" in d["reasons"]["S1"]
    assert {"S3", "S4", "S7"} <= set(d["used_components"])
    # S2 and S6 are computed for Russian too; the shipped weights give them α = 0 (not "used")
    assert d["components"]["S2"] is not None and d["components"]["S6"] is not None
    assert 0.0 <= d["score"] <= 1.0
    assert d["spans"] == []  # the English edit tagger did not run


def test_score_table_on_a_russian_file():
    result = runner.invoke(app, ["score", str(EXAMPLE_RU)])
    assert result.exit_code == 0, result.output
    assert "lang ru" in result.output and "no Russian resource" in result.output


def test_score_refuses_an_unsupported_language(tmp_path):
    uk = tmp_path / "uk.txt"
    uk.write_text("Говорили, що на набережній з'явилося нове обличчя: дама з собачкою.", encoding="utf-8")
    en = ROOT / "examples" / "lighthouse.txt"
    result = runner.invoke(app, ["score", "--json", str(uk), str(en)])
    assert result.exit_code == 1  # one file failed; the other is still scored
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    by_file = {r["file"]: r for r in rows}
    assert "Ukrainian" in by_file[str(uk)]["error"] and by_file[str(uk)]["lang"] == "uk"
    assert by_file[str(uk)]["score"] is None and by_file[str(uk)]["metrics"] == {}
    assert by_file[str(en)]["lang"] == "en" and by_file[str(en)]["score"] is not None
