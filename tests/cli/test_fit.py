"""`wqrm fit-weights` end to end on a small pair file written here."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from wqrm.cli import app
from wqrm.components import COMPONENTS
from wqrm.fit.weights import MetricCache

runner = CliRunner()

PLAIN = [
    "It was a very nice day and it was very nice and the people were very nice.",
    "The house was big. The house was old. The house was very big and very old.",
    "In today's fast-paced world, it is important to note that the journey matters.",
    "She was sad. She was very sad. She was so very sad that she was sad all day.",
    "The food was good and the drinks were good and everything was really good.",
    "He walked and walked and walked and then he walked some more down the road.",
]
EDITED = [
    "By noon the fog had burned off, and the ferry's horn carried clear across the bay.",
    "The house leaned on its cracked foundation, shutters hanging like loose teeth.",
    "Her grandmother kept the receipts in a biscuit tin, every one of them dated.",
    "She folded his shirts one last time and left them on the stairs for the charity van.",
    "The soup had too much salt; nobody said so, and everyone asked for seconds.",
    "He took the long road past the quarry, because the short one went by her house.",
]


def _pairs_file(tmp_path):
    rows = [
        {"id": f"t{i}", "source": "toy", "original": o, "edited": e, "meta": {}}
        for i, (o, e) in enumerate(zip(PLAIN, EDITED, strict=True))
    ]
    path = tmp_path / "edit_pairs" / "toy.jsonl"
    path.parent.mkdir()
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _fake_edit_model(tmp_path):
    """A training record saying the S1 model was trained on none of the toy pairs."""
    d = tmp_path / "s1"
    d.mkdir()
    (d / "training.json").write_text(json.dumps({"data": {"train_pairs": {"other": 10}}, "dev_ids": []}))
    return d


def test_fit_weights_end_to_end_is_deterministic(tmp_path):
    pairs = _pairs_file(tmp_path)
    cache = tmp_path / "cache.jsonl"
    args = ["fit-weights", "--pairs", str(pairs), "--cache", str(cache), "--dev-percent", "34"]
    args += ["--select", "fixed", "--edit-model", str(_fake_edit_model(tmp_path))]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "w1.json")])
    assert first.exit_code == 0, first.output
    assert len(MetricCache(cache).rows) == 12 + 6  # every distinct text once, + one negative per edit
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "w2.json")])
    assert second.exit_code == 0, second.output
    w1 = json.loads((tmp_path / "w1.json").read_text())
    w2 = json.loads((tmp_path / "w2.json").read_text())
    a = np.array([w1["alpha"][c] for c in COMPONENTS])
    assert abs(a.sum() - 1) < 1e-9 and (a >= 0).all()
    assert w1["alpha"] == w2["alpha"] and w1["tau"] == w2["tau"]
    assert w1["command"].startswith("wqrm fit-weights")
    assert w1["pair_files"][0]["file"] == "edit_pairs/toy.jsonl" and len(w1["pair_files"][0]["sha256"]) == 64
    assert w1["counts"]["fit_pairs"] == {"toy": 6, "negatives": 6}
    assert w1["counts"]["excluded_s1_training_pairs"] == 0
    assert w1["setting"]["l2"] == 0.01 and w1["selection"] == "fixed" and w1["setting_summary"] is None
    assert set(w1["fit"]["components_seen"]) >= {"S1", "S3", "S4", "S7"}


def test_fit_weights_missing_file_is_a_clear_error(tmp_path):
    result = runner.invoke(app, ["fit-weights", "--pairs", str(tmp_path / "nope.jsonl"), "--out", "x.json"])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_fit_weights_fixed_setting_with_group_weights_and_components(tmp_path):
    pairs = _pairs_file(tmp_path)
    cache = tmp_path / "cache.jsonl"
    args = ["fit-weights", "--pairs", str(pairs), "--cache", str(cache), "--dev-percent", "34"]
    args += ["--select", "fixed", "--edit-model", str(_fake_edit_model(tmp_path)), "--l2", "1.0"]
    args += ["--group-weight", "negatives=0.3", "--without-component", "S2", "--without-component", "S6"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "w.json")])
    assert result.exit_code == 0, result.output
    w = json.loads((tmp_path / "w.json").read_text())
    assert w["setting"] == {
        "l2": 1.0,
        "group_weights": {"negatives": 0.3},
        "components": ["S1", "S3", "S4", "S5", "S7", "S8"],
        "gate": "off",
    }
    assert w["alpha"]["S2"] == 0 and w["alpha"]["S6"] == 0 and w["alpha"]["S1"] > 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--group-weight", "wikipedia=0.5"], "unknown group"),
        (["--without-component", "S9"], "unknown component"),
        (["--select", "loso", "--group-weight", "negatives=0.5"], "apply to --select fixed"),
    ],
)
def test_fit_weights_setting_options_are_checked_first(tmp_path, extra, message):
    pairs = _pairs_file(tmp_path)
    result = runner.invoke(
        app, ["fit-weights", "--pairs", str(pairs), "--out", str(tmp_path / "w.json"), *extra]
    )
    assert result.exit_code == 2 and message in result.output
