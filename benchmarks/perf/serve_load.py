"""Bounded load test of the reward server (`wqrm serve`): latency with concurrent local clients.

Starts `wqrm serve` on a free local port, waits for /health, then for each request size (texts per
request, default 1, 8, 32) runs `--clients` concurrent clients that each send `--requests`
`POST /get_reward` requests (OpenRLHF shape: prompt + response in `query`, the prompt in `prompts`).
Reports p50 / p95 / max latency per size and failed requests, then sends one malformed request
(a non-string item), expects a 4xx, and checks that the next request is served. Texts are the
repository's own examples (`examples/ddpo/candidates.jsonl`, `examples/*.txt`), cycled.

    nice -n 10 python benchmarks/perf/serve_load.py [--sizes 1 8 32] [--clients 4] [--requests 5]

Exits 1 when any request failed or the malformed request was not answered with a 4xx.
"""

from __future__ import annotations

import argparse
import json
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def texts() -> list[tuple[str, str]]:
    """(prompt, response) pairs from the shipped examples."""
    out = []
    for line in (ROOT / "examples" / "ddpo" / "candidates.jsonl").read_text(encoding="utf-8").splitlines():
        g = json.loads(line)
        prompt = g["prompt"] if isinstance(g["prompt"], str) else g["prompt"][-1]["content"]
        for c in g["candidates"]:
            out.append((prompt + "\n\n", c if isinstance(c, str) else c[-1]["content"]))
    for f in sorted((ROOT / "examples").glob("*.txt")):
        out.append(("", f.read_text(encoding="utf-8")))
    return out


def post(url: str, body: object, timeout: float = 600) -> tuple[int, object]:
    req = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 8, 32])
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--requests", type=int, default=5, help="Requests per client and size.")
    ap.add_argument("--startup-timeout", type=float, default=180)
    args = ap.parse_args(argv)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "wqrm.cli", "serve", "--port", str(port)]
    cmd += ["--max-texts", str(max(args.sizes))]
    t0 = time.perf_counter()
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    pool = texts()
    lock = threading.Lock()
    failures = 0
    lines = [
        "# reward server load",
        "",
        f"`{shlex.join(['python', *sys.argv])}`",
        "",
    ]
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=2) as resp:
                    health = json.loads(resp.read())
                    break
            except OSError:
                if server.poll() is not None:
                    print(server.stderr.read(), file=sys.stderr)
                    return 1
                if time.perf_counter() - t0 > args.startup_timeout:
                    print("server did not start", file=sys.stderr)
                    return 1
                time.sleep(0.25)
        startup = time.perf_counter() - t0
        words = statistics.mean(len(r.split()) for _, r in pool)
        lines += [
            f"Server start (model load) {startup:.1f} s; weights `{health['weights']}`; "
            f"{args.clients} concurrent clients × {args.requests} requests per size; "
            f"texts of {words:.0f} words on average.",
            "",
            "| texts / request | requests | failed | p50 latency | p95 latency | max | texts/s |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for size in args.sizes:
            latencies: list[float] = []
            failed = [0]

            def client(
                k: int, size: int = size, latencies: list = latencies, failed: list = failed, lock=lock
            ) -> None:
                for j in range(args.requests):
                    start = (k * args.requests + j) * size
                    items = [pool[(start + i) % len(pool)] for i in range(size)]
                    body = {"query": [p + r for p, r in items], "prompts": [p for p, _ in items]}
                    t = time.perf_counter()
                    status, reply = post(base + "/get_reward", body)
                    dt = time.perf_counter() - t
                    ok = status == 200 and isinstance(reply, dict) and len(reply.get("rewards", [])) == size
                    with lock:
                        latencies.append(dt)
                        failed[0] += not ok

            wall = time.perf_counter()
            threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            wall = time.perf_counter() - wall
            failures += failed[0]
            n = len(latencies)
            lines.append(
                f"| {size} | {n} | {failed[0]} | {pct(latencies, 0.5):.2f} s | "
                f"{pct(latencies, 0.95):.2f} s | {max(latencies):.2f} s | {n * size / wall:.1f} |"
            )
        status, reply = post(base + "/get_reward", {"query": ["fine", 42]})
        bad_ok = 400 <= status < 500
        prompt, response = pool[0]
        status2, reply2 = post(base + "/get_reward", {"query": [prompt + response], "prompts": [prompt]})
        next_ok = status2 == 200 and len(reply2["rewards"]) == 1
        lines += [
            "",
            f"Malformed request (a non-string item): HTTP {status} "
            f"({'4xx as expected' if bad_ok else 'NOT 4xx'}): {str(reply)[:120]}",
            f"Next request: HTTP {status2} ({'served' if next_ok else 'NOT served'}). "
            f"Failed requests: {failures}.",
        ]
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("\n".join(lines))
    return 0 if failures == 0 and bad_ok and next_ok else 1


if __name__ == "__main__":
    sys.exit(main())
