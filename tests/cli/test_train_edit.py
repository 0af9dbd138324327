"""`wqrm train-edit --frozen` end to end on a small pair file written here: how the model reads."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from wqrm.cli import app
from wqrm.edit.model import load_reward_model

runner = CliRunner()

DRAFT = "It was a very nice day and it was very nice and the people were very nice. "
EDIT = "By noon the fog had burned off, and the ferry's horn carried clear across the bay. "


@pytest.fixture
def pair_file(tmp_path):
    rows = [
        {
            "id": f"p{i}",
            "source": "toy",
            "original": f"Draft {i}. " + DRAFT,
            "edited": f"Edit {i}. " + EDIT,
            "meta": {},
        }
        for i in range(20)
    ]
    rows.append({"id": "long", "source": "toy", "original": DRAFT * 30, "edited": EDIT * 30, "meta": {}})
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.parametrize(
    ("reading", "dim", "sees_the_tail"),
    [("both", 768, True), ("chunks", 384, True), ("first", 384, False), ("sentences", 384, True)],
)
def test_frozen_training_records_how_the_model_reads(pair_file, tmp_path, reading, dim, sees_the_tail):
    out = tmp_path / reading
    args = ["train-edit", "--pairs", str(pair_file), "--frozen", "--epochs", "2", "--negatives", "0"]
    args += ["--reading", reading, "--features-cache", str(tmp_path / "f.npz"), "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert '"negative"' not in res.output  # --negatives 0: none, so no degeneracy head either
    config = json.loads((out / "wqrm_edit_model.json").read_text())
    assert config["reading"] == reading and config["chunk_tokens"] == 256 and config["input_dim"] == dim
    model = load_reward_model(out)
    long = DRAFT * 30
    # a sentence past the first 256 tokens moves the reward only for a model that reads it
    moved = abs(float(model.score([long + "The end came quickly."])[0] - model.score([long])[0]))
    assert (moved > 1e-9) == sees_the_tail


def test_unknown_reading_is_refused(pair_file, tmp_path):
    res = runner.invoke(
        app, ["train-edit", "--pairs", str(pair_file), "--frozen", "--reading", "all", "--out", "m"]
    )
    assert res.exit_code == 2 and "choose one of first, chunks, both" in res.output
