"""A client of the reward server (`wqrm serve`): score texts with models another process has loaded.

Loading the models takes a new process about ten seconds (`benchmarks/results/score_path.md`); a
running `wqrm serve` has them loaded, so `wqrm score --server URL file.txt` answers in well under a
second. `ServerScorer.score_batch` returns the `ScoreResult`s the server computed (`POST /score`,
read back with `ScoreResult.from_dict`), in input order, split into requests of at most the
server's `max_texts` texts. A text longer than the server's `max_chars` gets an error record
instead of failing the request; the others are scored.

`local_server` starts a `wqrm serve` process on a free local port and yields its URL once it
answers (tests and benchmarks use it). Standard library only (urllib, json, subprocess):
importing this module loads no model and no heavy library.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from wqrm.result import ScoreResult

__all__ = ["ServerError", "ServerScorer", "local_server"]


class ServerError(RuntimeError):
    """The server could not be reached, or it refused or failed a request (the message says which)."""


class ServerScorer:
    """Scores through a running `wqrm serve` at `url` (e.g. ``http://127.0.0.1:8000``).

    `timeout` bounds each request in seconds (a request of `max_texts` long texts can take
    minutes on a small machine). The server's limits and weights are read from `GET /health` on
    first use (`health`)."""

    def __init__(self, url: str, timeout: float = 600.0):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"server URL must start with http:// or https://, not {url!r}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._health: dict[str, Any] | None = None

    def _request(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(
            self.url + path,
            data=data,
            headers={"Content-Type": "application/json"} if data is not None else {},
            method="GET" if data is None else "POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            with contextlib.suppress(ValueError, AttributeError):  # FastAPI's {"detail": ...}
                detail = json.loads(detail).get("detail", detail)
            raise ServerError(f"{self.url}{path} answered {exc.code}: {detail}") from None
        except (TimeoutError, urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(exc, TimeoutError) or isinstance(reason, TimeoutError):
                raise ServerError(
                    f"the server at {self.url} did not answer {path} within {self.timeout:g} s "
                    "(a larger timeout, or fewer texts per request)"
                ) from None
            raise ServerError(
                f"no wqrm server answers at {self.url} ({reason}); start one with `wqrm serve`"
            ) from None
        except ValueError as exc:
            raise ServerError(f"{self.url}{path} did not answer JSON: {exc}") from None

    def health(self) -> dict[str, Any]:
        """The server's `GET /health`: status, version, weights, max_texts, max_chars (read once)."""
        if self._health is None:
            health = self._request("/health")
            if not isinstance(health, dict) or health.get("status") != "ok":
                raise ServerError(f"{self.url}/health answered {health!r}, not a wqrm server's status")
            self._health = health
        return self._health

    def score_batch(self, texts: Sequence[str]) -> list[ScoreResult]:
        """One `ScoreResult` per text, in order, as the server scored it."""
        health = self.health()
        max_texts, max_chars = int(health["max_texts"]), int(health["max_chars"])
        results: list[ScoreResult | None] = [None] * len(texts)
        todo = []
        for i, t in enumerate(texts):
            if len(t) > max_chars:
                results[i] = ScoreResult.failed(
                    f"text has {len(t):,} characters; the server at {self.url} takes at most {max_chars:,}"
                )
            else:
                todo.append(i)
        for start in range(0, len(todo), max_texts):
            part = todo[start : start + max_texts]
            answer = self._request("/score", {"texts": [texts[i] for i in part]})
            rows = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(rows, list) or len(rows) != len(part):
                raise ServerError(
                    f"{self.url}/score answered {len(rows or [])} results for {len(part)} texts"
                )
            for i, row in zip(part, rows, strict=True):
                results[i] = ScoreResult.from_dict(row)
        return [r for r in results if r is not None]


@contextlib.contextmanager
def local_server(
    *args: str, python: str = sys.executable, timeout: float = 300.0, cwd: str | Path | None = None
) -> Iterator[tuple[str, subprocess.Popen]]:
    """(URL, process) of a `wqrm serve` started with `python` on a free 127.0.0.1 port (`args`: more
    `wqrm serve` options), yielded once `GET /health` answers "ok"; terminated (SIGTERM) on exit.
    Raises `ServerError` with the end of the server's stderr if it exits or is not up in `timeout`
    seconds (loading the models takes 10-20 s on a 2-core machine)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cmd = [python, "-m", "wqrm.cli", "serve", "--port", str(port), *args]
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                ServerScorer(url, timeout=2).health()
                break
            except ServerError:
                if proc.poll() is not None:
                    raise ServerError(
                        f"wqrm serve exited ({proc.returncode}): {proc.stderr.read()[-2000:]}"
                    ) from None
                if time.monotonic() > deadline:
                    raise ServerError(f"wqrm serve did not answer at {url} within {timeout:.0f} s") from None
                time.sleep(0.25)
        yield url, proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)
