"""`wqrm build-pos-lm` end to end on twelve tiny books written here: files, manifest, the model."""

from __future__ import annotations

import hashlib
import json

from typer.testing import CliRunner

from wqrm.build.pos_lm import POS_LM_BOOKS, POS_LM_ORDER, UPOS_TAGS
from wqrm.cli import app
from wqrm.ngram import KneserNeyLM

runner = CliRunner()

PARAGRAPHS = [
    "The old man walked down to the harbour before the sun came up. He carried a basket of bread.",
    "She opened the window and listened to the rain on the roof. Nobody else in the house was awake.",
    "The boys ran across the field, and the dog followed them all the way to the river.",
    "When the bell rang, the teacher closed her book and looked at the clock on the wall.",
]


def _books(tmp_path):
    root = tmp_path / "data" / "reference" / "books" / "en"
    root.mkdir(parents=True)
    for i, name in enumerate(POS_LM_BOOKS):
        paragraphs = PARAGRAPHS[i % 4 :] + PARAGRAPHS[: i % 4]
        (root / f"{name}.txt").write_text("\n\n".join(paragraphs * 3) + "\n", encoding="utf-8")
    return tmp_path / "data"


def test_build_pos_lm_writes_a_model_of_tag_order(tmp_path):
    data, out = _books(tmp_path), tmp_path / "pos_lm"
    args = ["build-pos-lm", "--data", str(data), "--out", str(out), "--profile-passages", "0"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "wqrm-pos-lm/1" and manifest["order"] == POS_LM_ORDER
    assert manifest["command"].startswith("wqrm build-pos-lm") and manifest["excluded_passages"] == 0
    first = data / "reference" / "books" / "en" / f"{POS_LM_BOOKS[0]}.txt"
    assert manifest["sources"][0] == {
        "file": first.name,
        "sha256": hashlib.sha256(first.read_bytes()).hexdigest(),
    }
    assert len(manifest["sources"]) == 12 and manifest["passages"] >= 12 and manifest["sentences"] > 0
    assert manifest["heldout_surprisal_bits"] is not None and manifest["heldout_surprisal_bits"] > 0
    lm = KneserNeyLM.load(out)
    assert set(UPOS_TAGS) <= set(lm.vocab)
    usual = [["DET", "NOUN", "VERB", "ADP", "DET", "NOUN", "PUNCT"]]
    backwards = [list(reversed(usual[0]))]
    assert lm.surprisal_bits(usual) < lm.surprisal_bits(backwards)


def test_build_pos_lm_names_missing_books(tmp_path):
    data = _books(tmp_path)
    (data / "reference" / "books" / "en" / f"{POS_LM_BOOKS[3]}.txt").unlink()
    result = runner.invoke(app, ["build-pos-lm", "--data", str(data), "--out", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "missing reference books" in result.output and POS_LM_BOOKS[3] in result.output
