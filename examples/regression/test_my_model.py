"""A metric regression check for a model's writing: copy this folder into your project.

`outputs.jsonl` stands for the outputs of your current checkpoint on a fixed set of prompts, and
`snapshots/my_model.wqrm.json` is their metric profile (every metric, S1..S8 and the composite),
written once with `pytest --wqrm-update`. CI then fails when a new checkpoint's writing drifts,
with a table of what moved:

    pytest examples/regression                                        # passes
    MODEL_OUTPUTS=outputs_drifted.jsonl pytest examples/regression    # fails: a generic paragraph
                                                                      # was appended to every output
    MODEL_OUTPUTS=new.jsonl pytest examples/regression --wqrm-update  # accept new outputs
"""

import json
import os
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SNAPSHOT = "snapshots/my_model.wqrm.json"  # relative to this file's folder


def load_outputs(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


@pytest.fixture(scope="module")
def results(wqrm_scorer):
    """The outputs scored once (the scorer is loaded once per session) and shared by both checks."""
    return wqrm_scorer.score_batch(load_outputs(HERE / os.environ.get("MODEL_OUTPUTS", "outputs.jsonl")))


def test_writing_profile_did_not_drift(wqrm_check, results):
    # Every quantity may move by 4 bootstrap standard errors at most (resampling noise).
    wqrm_check(results, SNAPSHOT)


@pytest.mark.wqrm(snapshot=SNAPSHOT, allow="improve", tolerance={"*": "4sigma", "score": 0.02})
def test_nothing_got_worse(wqrm_check, results):
    # Moves in a quantity's good direction are free; the composite may drop by 0.02 at most.
    wqrm_check(results)
