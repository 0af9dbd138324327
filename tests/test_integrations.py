import inspect
import json
import os
import urllib.error
import urllib.request

import pytest
from fastapi.testclient import TestClient

from wqrm.client import local_server
from wqrm.integrations import rewards, score_completions
from wqrm.integrations.serve import create_app
from wqrm.integrations.trl import make_reward_function, reward_function

PROMPT = "Write two sentences about a harbour at dawn."
GOOD = "The harbour was still. A gull landed on the last post and watched the boats come in."
FLAT = "The harbour was nice. It was a very nice harbour and everything was nice."


def test_reward_function_has_trls_signature():
    params = inspect.signature(reward_function).parameters
    assert list(params)[:2] == ["prompts", "completions"]
    assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def test_reward_function_scores_in_prompt_context(scorer):
    f = make_reward_function(scorer, failure_reward=-1.0)
    chat_prompt = [{"role": "user", "content": PROMPT}]
    prompts = [PROMPT, PROMPT, chat_prompt, PROMPT]
    completions = [GOOD, FLAT, [{"role": "assistant", "content": GOOD}], "   "]
    got = f(prompts=prompts, completions=completions, completion_ids=[[1], [2], [3], [4]], trainer_state=None)
    assert isinstance(got, list) and len(got) == 4 and all(isinstance(x, float) for x in got)
    expected = [r.score for r in scorer.score_batch([GOOD, FLAT], prompt=PROMPT)]
    assert got[:2] == pytest.approx(expected, abs=1e-12)
    assert got[2] == pytest.approx(got[0], abs=1e-6)  # chat format: same text and prompt (another batch)
    assert got[3] == -1.0  # an empty completion gets the failure reward, the others are unaffected
    assert got[0] > got[1]


def test_score_completions_groups_per_prompt(scorer):
    res = score_completions(scorer, [GOOD, FLAT, GOOD], [PROMPT, PROMPT, "Another prompt."], group=True)
    assert res[0].metrics.get("deviation") is not None  # siblings: the other completion of PROMPT
    assert res[2].metrics.get("deviation") is None  # alone for its prompt
    assert rewards(res) == [r.score for r in res]
    with pytest.raises(ValueError, match="prompts for"):
        score_completions(scorer, [GOOD], [PROMPT, PROMPT])


@pytest.fixture(scope="module")
def client(scorer):
    return TestClient(create_app(scorer, max_texts=4, max_chars=500, failure_reward=-1.0))


def test_server_reward_and_score(client, scorer):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["max_texts"] == 4 and h["weights"] == scorer.weights.name
    r = client.post(
        "/get_reward", json={"query": [PROMPT + GOOD, PROMPT + FLAT, ""], "prompts": [PROMPT] * 3}
    )
    assert r.status_code == 200, r.text
    got = r.json()["rewards"]
    expected = [x.score for x in scorer.score_batch([GOOD, FLAT], prompt=PROMPT)]
    assert got[:2] == pytest.approx(expected, abs=1e-12) and got[2] == -1.0  # the prompt is cut off the query
    r = client.post("/get_reward", json={"query": [GOOD]})  # no prompts: the whole query is the response
    assert r.json()["rewards"] == pytest.approx([scorer.score(GOOD).score], abs=1e-6)
    r = client.post("/score", json={"texts": [GOOD, "\x00bad"], "prompt": PROMPT})
    results = r.json()["results"]
    assert results[0]["score"] == pytest.approx(expected[0], abs=1e-6) and results[0]["error"] is None
    assert results[1]["score"] is None and "binary" in results[1]["error"]


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/get_reward", {"query": []}, 400, "non-empty"),
        ("/get_reward", {"query": ["ok", 3]}, 400, "not a string"),
        ("/get_reward", {"query": ["a"] * 5}, 413, "at most 4"),
        ("/get_reward", {"query": ["x" * 501]}, 413, "at most 500"),
        ("/get_reward", {"query": ["a", "b"], "prompts": ["p"]}, 400, "1 prompts for 2"),
        ("/get_reward", {"texts": ["a"]}, 422, "query"),
        ("/score", {"texts": "abc"}, 422, "texts"),
        ("/score", {"texts": ["a"], "prompt": 5}, 400, "prompt"),
    ],
)
def test_server_rejects_bad_requests_and_keeps_serving(client, path, body, status, message):
    r = client.post(path, json=body)
    assert r.status_code == status and message in r.text
    assert client.post("/get_reward", json={"query": [GOOD]}).status_code == 200


def _post(url: str, body: object) -> tuple[int, dict]:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_real_server_process_on_a_free_port():
    with local_server("--max-texts", "8") as (base, proc):
        with urllib.request.urlopen(base + "/health", timeout=10) as resp:
            assert json.loads(resp.read())["status"] == "ok"
        status, body = _post(
            base + "/get_reward", {"query": [PROMPT + GOOD, PROMPT + FLAT], "prompts": [PROMPT] * 2}
        )
        assert status == 200 and len(body["rewards"]) == 2 and body["rewards"][0] > body["rewards"][1]
        status, body = _post(base + "/get_reward", {"query": ["a"] * 9})
        assert status == 413 and "at most 8" in body["detail"]
        status, body = _post(base + "/get_reward", {"query": [GOOD]})
        assert status == 200 and 0 <= body["rewards"][0] <= 1
    assert os.name != "posix" or proc.returncode in (0, -15)
