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


@pytest.mark.parametrize("negatives", [0, 1])
def test_sentence_blend_adds_a_second_head_read_on_sentences(pair_file, tmp_path, negatives):
    from wqrm.edit.frozen import blend_quality

    out = tmp_path / "blend"
    args = ["train-edit", "--pairs", str(pair_file), "--frozen", "--epochs", "2"]
    args += ["--negatives", str(negatives), "--features-cache", str(tmp_path / "f.npz")]
    args += ["--sentence-blend", "0.25", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "sentence head blended at w 0.25" in res.output
    config = json.loads((out / "wqrm_edit_model.json").read_text())
    blend = config["sentence_blend"]
    assert blend["weight"] == 0.25 and blend["input_dim"] == 384 and blend["paragraph_sd"] > 0
    assert (out / "sentence_head.safetensors").is_file()
    assert ("degeneracy" in config) == bool(negatives)
    model = load_reward_model(out)
    texts = [
        "The gulls rose. A bell rang twice.\n\nShe waited by the door.",
        "A bell rang twice. The gulls rose.",
    ]
    feats = model.features(texts)
    surface = len(config.get("degeneracy", {}).get("surface") or ())
    assert feats.shape == (2, 768 + surface + 384)
    # the reward is the blend of the two heads, each read on its own columns
    from wqrm.edit.base import head_float64

    q = head_float64(model.head, feats[:, :768])
    q_s = head_float64(model.sentence_head, feats[:, -384:])
    expected = blend_quality(q, q_s, blend)
    if negatives:
        outs = model.run(texts)
        assert all(o.degeneracy is not None and 0 <= o.degeneracy <= 1 for o in outs)
    else:
        assert model.score(texts) == pytest.approx(expected, abs=1e-9)
    # the sentence columns do not move when a paragraph's sentences trade places
    swapped = model.features(["A bell rang twice. The gulls rose.\n\nShe waited by the door."])
    assert swapped[0, -384:] == pytest.approx(feats[0, -384:], abs=1e-9)


def test_sentence_blend_needs_a_paragraph_reading(pair_file, tmp_path):
    args = ["train-edit", "--pairs", str(pair_file), "--frozen", "--reading", "sentences"]
    res = runner.invoke(app, [*args, "--sentence-blend", "0.5", "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "--sentence-blend needs --frozen" in res.output
