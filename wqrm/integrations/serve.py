"""An HTTP reward server: `wqrm serve` (FastAPI + uvicorn, bound to 127.0.0.1 by default).

    GET  /health      → {"status": "ok", "version", "weights", "max_texts", "max_chars"}
    POST /get_reward  {"query": [str], "prompts": [str]?} → {"rewards": [float]}  (OpenRLHF's remote RM)
    POST /score       {"texts": [str], "prompt": str?, "group": bool?} → {"results": [ScoreResult.to_dict()]}

`/get_reward` follows OpenRLHF's remote reward model: `query` holds the full sequences (prompt +
response). When `prompts` is given and `query[i]` starts with `prompts[i]`, only the rest (the
response) is scored, with the prompt as context; otherwise the whole query is scored. A text that
cannot be scored (empty, binary, …) gets `failure_reward` (default 0.0, the bottom of the
composite's [0, 1] range) in `/get_reward` and an `error` in `/score`; one bad text never fails the
request or the server. A malformed request gets a 4xx with a message: 400 for an empty list, a
non-string item or mismatched lengths, 413 for more than `max_texts` texts or a text over
`max_chars` characters, 422 for a body that is not the JSON object described above.

Scoring runs under a lock (the models are not shared across threads), so concurrent requests queue;
`/health` answers while a request is being scored.
"""

from __future__ import annotations

import threading
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from wqrm import __version__
from wqrm.integrations import rewards, score_completions

__all__ = ["DEFAULT_MAX_CHARS", "DEFAULT_MAX_TEXTS", "create_app"]

DEFAULT_MAX_TEXTS = 256
DEFAULT_MAX_CHARS = 100_000


class RewardRequest(BaseModel):
    query: list[Any]
    prompts: list[Any] | None = None
    labels: list[Any] | None = None  # sent by OpenRLHF; unused


class ScoreRequest(BaseModel):
    texts: list[Any]
    prompt: Any = None
    group: bool = False


def _check_texts(name: str, items: list[Any], max_texts: int, max_chars: int) -> None:
    if not items:
        raise HTTPException(400, f"'{name}' must be a non-empty list of strings")
    if len(items) > max_texts:
        raise HTTPException(413, f"'{name}' has {len(items)} texts; at most {max_texts} per request")
    for i, t in enumerate(items):
        if not isinstance(t, str):
            raise HTTPException(400, f"'{name}'[{i}] is {type(t).__name__}, not a string")
        if len(t) > max_chars:
            raise HTTPException(413, f"'{name}'[{i}] has {len(t):,} characters; at most {max_chars:,}")


def create_app(
    scorer: Any = None,
    *,
    max_texts: int = DEFAULT_MAX_TEXTS,
    max_chars: int = DEFAULT_MAX_CHARS,
    failure_reward: float = 0.0,
    group: bool = False,
) -> FastAPI:
    """The reward server's FastAPI app around `scorer` (default: `wqrm.load()`, loaded now).

    `group=True` scores the responses of one prompt in a `/get_reward` call as a candidate group
    (S8 diversity among them)."""
    if scorer is None:
        import wqrm

        scorer = wqrm.load()
    lock = threading.Lock()
    app = FastAPI(title="wqrm reward server", version=__version__)

    @app.get("/health")
    def health() -> dict[str, Any]:
        name = getattr(getattr(scorer, "weights", None), "name", None)
        return {
            "status": "ok",
            "version": __version__,
            "weights": name,
            "max_texts": max_texts,
            "max_chars": max_chars,
        }

    @app.post("/get_reward")
    def get_reward(req: RewardRequest) -> dict[str, list[float]]:
        _check_texts("query", req.query, max_texts, max_chars)
        prompts = req.prompts
        if prompts is not None:
            if len(prompts) != len(req.query):
                raise HTTPException(400, f"{len(prompts)} prompts for {len(req.query)} queries")
            _check_texts("prompts", prompts, max_texts, max_chars)
            responses = [
                q[len(p) :] if p and q.startswith(p) else q for q, p in zip(req.query, prompts, strict=True)
            ]
        else:
            responses = list(req.query)
        with lock:
            results = score_completions(scorer, responses, prompts, group=group)
        return {"rewards": rewards(results, failure_reward)}

    @app.post("/score")
    def score(req: ScoreRequest) -> dict[str, list[dict[str, Any]]]:
        _check_texts("texts", req.texts, max_texts, max_chars)
        if req.prompt is not None and not isinstance(req.prompt, str):
            raise HTTPException(400, "'prompt' must be a string")
        with lock:
            results = score_completions(scorer, req.texts, [req.prompt] * len(req.texts), group=req.group)
        return {"results": [r.to_dict() for r in results]}

    return app
