"""wqrm leaves the caller's process as it found it and never reaches for the network.

One child process with a clean environment (no HF_*_OFFLINE variable) and every socket call
replaced by a recorder that fails: it imports wqrm, loads the scorer, scores in a rephrase task
(BERTScore loads MiniLM through `bert_score`) and runs the `evaluate` metric module. The
environment must be unchanged after each step and no connection may have been attempted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_EVALUATE_OFFLINE")

PROBE = textwrap.dedent(
    """
    import json, os, socket
    attempts = []

    def blocked(name):
        def refuse(*args, **kwargs):
            attempts.append(name)
            raise OSError(f"network blocked by the test ({name})")
        return refuse

    socket.socket.connect = blocked("connect")
    socket.socket.connect_ex = blocked("connect_ex")
    socket.create_connection = blocked("create_connection")
    socket.getaddrinfo = blocked("getaddrinfo")
    env = lambda: dict(os.environ)
    steps = {"start": env()}
    import wqrm
    steps["import wqrm"] = env()
    scorer = wqrm.load()
    steps["wqrm.load()"] = env()
    r = scorer.score(
        "The rain had stopped. Somewhere below, a door slammed twice.",
        task="rephrase",
        prompt="The rain stopped, and below a door slammed twice.",
    )
    steps["score"] = env()
    import evaluate
    from wqrm.integrations.evaluate_metric import METRIC_PATH
    result = evaluate.load(METRIC_PATH).compute(predictions=["A gull cried over the harbour at dawn."])
    print(json.dumps({
        "steps": steps,
        "attempts": attempts,
        "bertscore_f1": r.metrics["bertscore_f1"],
        "reason": r.reasons.get("bertscore_f1"),
        "evaluate_score": result["scores"][0],
        "direct_score": scorer.score("A gull cried over the harbour at dawn.").score,
    }))
    """
)


def test_no_environment_change_and_no_network(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in OFFLINE_VARS and not k.startswith("HF_")}
    env["HF_HOME"] = str(tmp_path / "hf")  # evaluate copies its module under HF_HOME
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["attempts"] == []
    start = report["steps"]["start"]
    assert not set(OFFLINE_VARS) & set(start)
    for step, seen in report["steps"].items():
        assert seen == start, f"the environment changed at {step!r}"
    assert report["bertscore_f1"] is not None, report["reason"]
    assert 0 < report["bertscore_f1"] <= 1
    assert report["evaluate_score"] == report["direct_score"]
