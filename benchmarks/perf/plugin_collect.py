"""Does the installed-but-unused wqrm pytest plugin slow down test collection?

Writes a small project (`--files` test files of `--tests` trivial tests each, no wqrm fixture) to a
temporary folder and times `python -m pytest --co -q` there, alternating runs with the plugin
loaded (it is installed as the `wqrm` entry point) and with `-p no:wqrm`, `--runs` times each.
Reports wall-clock time and the CPU time (user + system) of the pytest process: on a shared
machine the CPU time is the steadier of the two.

    nice -n 10 python benchmarks/perf/plugin_collect.py [--runs 15]
"""

from __future__ import annotations

import argparse
import resource
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
        wall: dict[str, list[float]] = {k: [] for k in variants}
        cpu: dict[str, list[float]] = {k: [] for k in variants}
        for cmd in variants.values():  # warm the file cache once
            subprocess.run(cmd, cwd=root, capture_output=True, check=True)
        for _ in range(args.runs):
            for name, cmd in variants.items():
                r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
                subprocess.run(cmd, cwd=root, capture_output=True, check=True)
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                wall[name].append(time.perf_counter() - t0)
                cpu[name].append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
    n = args.files * args.tests
    print(f"`pytest --co` of {n} tests in {args.files} files, {args.runs} alternating runs (median, IQR):")
    for name in variants:
        print(f"  {name:26s} wall {_stats(wall[name])}   cpu {_stats(cpu[name])}")
    return 0


def _stats(ts: list[float]) -> str:
    q = statistics.quantiles(ts, n=4)
    return f"{1000 * statistics.median(ts):.0f} ms ({1000 * q[0]:.0f}-{1000 * q[2]:.0f})"


if __name__ == "__main__":
    raise SystemExit(main())
