"""`wqrm score --server` and `wqrm.client.ServerScorer`: a real `wqrm serve` process on a free port,
scored through by the command line (in a fresh process: no model may load there) and by the client
class, against the same texts scored in this process; `ScoreResult.from_dict` by round trip."""

import http.server
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from wqrm.cli import app
from wqrm.client import ServerError, ServerScorer, local_server
from wqrm.result import ScoreResult

ROOT = Path(__file__).resolve().parents[2]
LIGHTHOUSE = (ROOT / "examples" / "lighthouse.txt").read_text(encoding="utf-8")
HARBOUR = (
    "The ferry came in late, its horn flattened by the fog. On the quay a boy counted the cars as they "
    "rolled off, lips moving, and lost his place when a lorry stalled on the ramp. His mother did not "
    "hurry him. She was reading the timetable again, though she knew it by heart, because the last "
    "boat home left at nine and the fog had never once let it leave on time."
)
SHORT = "The end."  # below the degeneracy floor: a low score with its reason, not an error
MAX_CHARS = 4000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    with local_server("--max-texts", "2", "--max-chars", str(MAX_CHARS)) as (url, _):
        yield url


def _same(remote: dict, local: dict) -> None:
    """Two result dicts agree: the same keys and text fields, numbers to 1e-6 (the server's
    float32 sentence encoder may run on another number of threads)."""
    assert remote.keys() == local.keys()
    for key in ("lang", "used_components", "reasons", "weights", "error", "spans", "substance"):
        assert remote[key] == local[key], key
    for key in ("score", "uncapped_score"):
        assert remote[key] == pytest.approx(local[key], abs=1e-6)
    for key in ("components", "metrics", "goodness", "contributions"):
        assert remote[key].keys() == local[key].keys()
        for name, value in local[key].items():
            assert remote[key][name] == pytest.approx(value, abs=1e-6, nan_ok=True), (key, name)


PROBE = textwrap.dedent(
    """
    import json, sys, time
    from typer.testing import CliRunner
    from wqrm.cli import app

    start = time.perf_counter()
    r = CliRunner().invoke(app, json.loads(sys.argv[1]))
    heavy = [m for m in ("spacy", "torch", "transformers", "wqrm.scoring") if m in sys.modules]
    print(json.dumps({"code": r.exit_code, "stdout": r.stdout, "stderr": r.stderr, "exc": repr(r.exception),
                      "heavy": heavy, "seconds": time.perf_counter() - start}))
    """
)


def _cli(args: list[str]) -> dict:
    """`wqrm score …` in a fresh process, as a user runs it: exit code, output, heavy modules loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cli_json_through_the_server_matches_local_scoring(server, scorer, tmp_path):
    files = []
    for name, text in (("lighthouse.txt", LIGHTHOUSE), ("harbour.txt", HARBOUR), ("short.txt", SHORT)):
        files.append(tmp_path / name)
        files[-1].write_text(text, encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    got = _cli(["score", "--server", server, "--json", *map(str, files), str(empty)])
    assert got["code"] == 1, got  # the empty file fails; the three others are scored (two requests)
    assert got["heavy"] == [], "the client must not load a model"
    rows = [json.loads(line) for line in got["stdout"].splitlines()]
    assert [r["file"] for r in rows] == [*map(str, files), str(empty)]
    local = scorer.score_batch([LIGHTHOUSE, HARBOUR, SHORT])
    for row, want in zip(rows, local, strict=False):
        _same(row, want.to_dict(file=row["file"]))
    assert rows[2]["score"] < 0.1 and rows[2]["reasons"]["score"].startswith("degenerate text (2 words < 20)")
    assert rows[3]["error"] and "empty" in rows[3]["error"] and rows[3]["score"] is None
    assert "empty" in got["stderr"] and "Traceback" not in got["stderr"]


def test_cli_table_through_the_server(server):
    got = _cli(["score", "--server", server, str(ROOT / "examples" / "lighthouse.txt")])
    assert got["code"] == 0, got
    assert "lighthouse.txt" in got["stdout"] and "S1 edit quality" in got["stdout"]
    assert "weights: learned-v2" in got["stdout"]


def test_client_splits_requests_and_refuses_overlong_texts(server, scorer):
    remote = ServerScorer(server)
    assert remote.health()["max_texts"] == 2 and remote.health()["max_chars"] == MAX_CHARS
    long = (HARBOUR + " ") * (MAX_CHARS // len(HARBOUR) + 1)
    results = remote.score_batch([HARBOUR, long, LIGHTHOUSE, SHORT, HARBOUR])
    assert len(results) == 5
    assert results[1].error and f"at most {MAX_CHARS:,}" in results[1].error and results[1].score is None
    local = scorer.score_batch([HARBOUR, LIGHTHOUSE, SHORT])
    for r, want in zip([results[0], results[2], results[3]], local, strict=True):
        _same(r.to_dict(), want.to_dict())
    # the same text in another request: batch invariance holds to 1e-6 (docs/design-decisions.md)
    _same(results[4].to_dict(), results[0].to_dict())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--task", "continue"], "drop --task"),
        (["--weights", "uniform"], "drop --weights"),
        (["--input", "in.jsonl", "--output", "out.jsonl"], "drop --input/--output"),
    ],
)
def test_server_mode_refuses_scoring_options(args, message):
    r = CliRunner().invoke(
        app, ["score", "--server", "http://127.0.0.1:9", *args, *([] if "--input" in args else ["x.txt"])]
    )
    assert r.exit_code == 2 and message in r.stderr


def test_unreachable_server_is_a_clear_error(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text(HARBOUR, encoding="utf-8")
    url = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    r = CliRunner().invoke(app, ["score", "--server", url, str(f)])
    assert r.exit_code == 1 and "no wqrm server answers at" in r.stderr and "wqrm serve" in r.stderr
    assert r.exception is None or isinstance(r.exception, SystemExit)
    with pytest.raises(ServerError, match="no wqrm server answers"):
        ServerScorer(url).score_batch([HARBOUR])
    assert CliRunner().invoke(app, ["score", "--server", "localhost:8000", str(f)]).exit_code == 2
    with pytest.raises(ValueError, match="http"):
        ServerScorer("localhost:8000")


def test_from_dict_inverts_to_dict(scorer):
    results = scorer.score_batch([LIGHTHOUSE, SHORT, "\x00\x01binary"])
    results.append(ScoreResult.failed("x.txt: empty text"))
    for r in results:
        d = r.to_dict(file="x")
        back = ScoreResult.from_dict(d)
        assert back.to_dict(file="x") == d
        assert back.component_reasons == r.component_reasons and back.reasons == r.reasons
    assert ScoreResult.from_dict(results[1].to_dict()).substance.degenerate


def test_a_slow_server_is_a_timeout_not_an_absent_one():
    """A server that accepts the connection but does not answer in time is reported as slow."""

    class Slow(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            time.sleep(2)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        remote = ServerScorer(f"http://127.0.0.1:{httpd.server_address[1]}", timeout=0.5)
        with pytest.raises(ServerError, match=r"did not answer /health within 0.5 s"):
            remote.health()
    finally:
        httpd.shutdown()
        httpd.server_close()
