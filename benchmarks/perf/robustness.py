"""Robustness at scale: a 5 MB text, and a 1,000-row batch with bad rows that is killed and resumed.

    python benchmarks/perf/robustness.py [--mb 5] [--rows 1000] [--skip-big] [--skip-batch]

1. Builds a text of --mb megabytes from the reference books in the development data (one long
   paragraph-structured text), runs `wqrm score --json` on it in a child process and prints the
   wall time, the peak resident memory of the child, and the score.
2. Writes --rows rows of lamp_R_train paragraphs with 3 bad rows (empty text, invalid JSON,
   missing text), starts `wqrm score --input … --output …`, kills it (SIGKILL) when about half the
   rows are written, re-runs it, and checks: every row written once, exactly 3 error records.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))
WQRM = [sys.executable, "-m", "wqrm.cli"]


def big_text(mb: float) -> str:
    books = sorted((DATA / "reference" / "books" / "en").glob("*.txt"))
    target = int(mb * 1_000_000)
    parts, size = [], 0
    for book in books:
        t = book.read_text(encoding="utf-8")
        parts.append(t)
        size += len(t.encode())
        if size >= target:
            break
    return "\n\n".join(parts).encode()[:target].decode("utf-8", errors="ignore")


def run_big(mb: float, tmp: Path) -> None:
    path = tmp / "big.txt"
    path.write_text(big_text(mb), encoding="utf-8")
    t0 = time.perf_counter()
    proc = subprocess.run([*WQRM, "score", "--json", str(path)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    out = json.loads(proc.stdout) if proc.stdout.strip() else {}
    words = out.get("metrics", {})
    print(
        f"[5 MB] {path.stat().st_size / 1e6:.2f} MB: exit {proc.returncode}, {wall:.0f} s, "
        f"peak RSS {peak_mb:.0f} MB, score {out.get('score')}, sc {words.get('sc')}, mtld {words.get('mtld')}"
    )
    if proc.returncode != 0:
        print(proc.stderr[-2000:])


def run_batch(rows: int, tmp: Path) -> None:
    src = [json.loads(line)["text"] for line in (DATA / "scored" / "lamp_R_train.jsonl").open()]
    inp, out = tmp / "rows.jsonl", tmp / "out.jsonl"
    bad = {
        rows // 5: '{"id": "bad-empty", "text": ""}',
        rows // 2: "{not json",
        (4 * rows) // 5: '{"id": "bad-missing"}',
    }
    with inp.open("w", encoding="utf-8") as fh:
        for i in range(rows):
            fh.write((bad[i] if i in bad else json.dumps({"id": i, "text": src[i % len(src)]})) + "\n")
    cmd = [*WQRM, "score", "--input", str(inp), "--output", str(out), "--no-progress"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while proc.poll() is None and (not out.exists() or sum(1 for _ in out.open()) < rows // 2):
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = sum(1 for _ in out.open())
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    ids = [json.loads(line)["id"] for line in out.open()]
    errors = sum(1 for line in out.open() if json.loads(line)["error"])
    print(
        f"[batch] {rows} rows, killed after {killed_at} written, resumed (exit {done.returncode}): "
        f"{len(ids)} rows written, {len(set(map(str, ids)))} distinct ids, {errors} error rows, "
        f"{wall:.0f} s total"
    )
    print("[batch] resume said:", done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=5.0)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--skip-batch", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_batch:
            run_batch(args.rows, tmp)
        if not args.skip_big:
            run_big(args.mb, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
