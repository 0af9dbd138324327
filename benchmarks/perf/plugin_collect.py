"""Does the installed-but-unused wqrm pytest plugin slow down test collection?

Writes a small project (`--files` test files of `--tests` trivial tests each, no wqrm fixture) to a
temporary folder and times `python -m pytest --co -q` there, alternating runs with the plugin
loaded (it is installed as the `wqrm` entry point) and with `-p no:wqrm`, `--runs` times each.

    nice -n 10 python benchmarks/perf/plugin_collect.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--tests", type=int, default=10)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for f in range(args.files):
            body = "".join(f"def test_{t}():\n    assert {t} + 1 == {t + 1}\n\n" for t in range(args.tests))
            (root / f"test_mod{f}.py").write_text(body)
        base = [sys.executable, "-m", "pytest", "--co", "-q", "-p", "no:cacheprovider"]
        variants = {"plugin installed, unused": base, "-p no:wqrm": [*base, "-p", "no:wqrm"]}
        times: dict[str, list[float]] = {k: [] for k in variants}
        for cmd in variants.values():  # warm the file cache once
            subprocess.run(cmd, cwd=root, capture_output=True, check=True)
        for _ in range(args.runs):
            for name, cmd in variants.items():
                t0 = time.perf_counter()
                subprocess.run(cmd, cwd=root, capture_output=True, check=True)
                times[name].append(time.perf_counter() - t0)
    n = args.files * args.tests
    print(f"`pytest --co` of {n} tests in {args.files} files, {args.runs} alternating runs each:")
    for name, ts in times.items():
        q = statistics.quantiles(ts, n=4)
        median, lo, hi = (1000 * x for x in (statistics.median(ts), q[0], q[2]))
        print(f"  {name:26s} median {median:.0f} ms (IQR {lo:.0f}-{hi:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
