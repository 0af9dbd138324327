"""Scale and memory: texts/s on Ray with 1 and 2 workers against one process, peak memory of a
1,000-row against a 10,000-row stream, and one long text of 1, 2 and 4 MB.

    python benchmarks/perf/ray_scale.py [--n 200] [--rows 1000 10000] [--mb 1 2 4]
        [--threads N] [--skip-throughput] [--skip-rows] [--skip-big] [--rows-engine local|ray]

1. Throughput: the first --n paragraphs of lamp_R_train, each configuration in a fresh process:
   the local engine (`wqrm.batch.score_jsonl`, as `wqrm score --input` runs it) with torch's default
   threads and with one thread, and `wqrm.integrations.ray.score_file` with 1 and 2 actors (one CPU,
   so one torch thread, each) on a local Ray cluster. Printed: texts/s of scoring alone (models
   loaded before the clock starts; for Ray: from the first finished batch to the last, every actor
   then loaded) and end to end (process start to exit, models and Ray included); and how the rows
   of each run compare with the one-thread local run (lines identical, largest number difference).
2. Rows: --rows single sentences (8-40 words) cut from lamp_R_train paragraphs, scored by
   `wqrm score --input … --output …` (--rows-engine local, or ray with 2 workers) in a child
   process: wall time, the child's peak RSS (`os.wait4`'s rusage: the largest process of its
   tree) and the peak of its whole process tree's RSS (sampled every 0.2 s from /proc).
3. One long text: --mb megabytes of the reference books (one text, paragraphs kept), scored by
   `wqrm score --json FILE` in a child (torch threads: --threads, else torch's default): wall
   time, CPU time (user + system, its whole tree), peak RSS, and CPU time less that of a one-line
   text (the start: imports and model loads), per MB. CPU time is the figure to compare on a
   shared machine: wall time there depends on what else runs.

The first line names the machine and its load. Linux only (/proc, os.wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from robustness import big_text  # the 5 MB text's builder (this folder is the script's first path)

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))
WQRM = [sys.executable, "-m", "wqrm.cli"]
BATCH = 16


def machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{cpu}; {os.cpu_count()} logical cores; load average {load}"


def paragraphs(n: int) -> list[str]:
    texts = []
    with (DATA / "scored" / "lamp_R_train.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            text = json.loads(line).get("text")
            if isinstance(text, str) and text.strip():
                texts.append(text)
            if len(texts) >= n:
                break
    return texts


def sentences(n: int) -> list[str]:
    """`n` single sentences of 8-40 words from lamp_R_train (distinct first, then repeated)."""
    found: list[str] = []
    seen: set[str] = set()
    for text in paragraphs(10**9):
        for s in re.split(r"(?<=[.!?])\s+", text):
            s = s.strip()
            if 8 <= len(s.split()) <= 40 and s not in seen:
                seen.add(s)
                found.append(s)
    return [found[i % len(found)] for i in range(n)]


def write_rows(path: Path, texts: list[str]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i, t in enumerate(texts):
            fh.write(json.dumps({"id": i, "text": t}) + "\n")


# ---- one configuration, in its own process ---------------------------------------------------


def child(config: str, inp: Path, out: Path) -> dict:
    """Score `inp` into `out` with `config` (local, local1, ray1, ray2); timings as a dict."""
    t_start = time.perf_counter()
    rows = sum(1 for _ in inp.open(encoding="utf-8"))
    if config.startswith("local"):
        import torch

        import wqrm
        from wqrm.batch import score_jsonl

        if config == "local1":
            torch.set_num_threads(1)
        scorer = wqrm.load()
        scorer.score("A first sentence loads every model. A second one follows it.")
        t0 = time.perf_counter()
        score_jsonl(inp, out, scorer, chunk_size=BATCH)
        score_s = time.perf_counter() - t0
        return {"rows": rows, "score_s": score_s, "threads": torch.get_num_threads(), "start": t_start}
    import ray

    from wqrm.integrations.ray import score_file

    workers = int(config.removeprefix("ray"))
    ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    marks: list[tuple[float, int]] = []
    t0 = time.perf_counter()
    score_file(
        inp,
        out,
        workers=workers,
        batch_size=BATCH,
        on_progress=lambda n: marks.append((time.perf_counter(), n)),
    )
    total = time.perf_counter() - t0
    ray.shutdown()
    first_t, first_n = marks[0]
    after = rows - first_n  # rows scored once the first batch is out (every actor loaded by then)
    score_s = (marks[-1][0] - first_t) * rows / after if after else None
    return {"rows": rows, "score_s": score_s, "first_batch_s": first_t - t0, "run_s": total}


def compare(a: Path, b: Path) -> tuple[int, int, float]:
    """(identical lines, lines, largest difference of any number) between two JSONL outputs."""
    la, lb = a.read_text(encoding="utf-8").splitlines(), b.read_text(encoding="utf-8").splitlines()

    def numbers(x, p=""):
        if isinstance(x, dict):
            for k, v in x.items():
                yield from numbers(v, f"{p}.{k}")
        elif isinstance(x, list):
            for i, v in enumerate(x):
                yield from numbers(v, f"{p}[{i}]")
        elif isinstance(x, float):
            yield p, x

    worst = 0.0
    for x, y in zip(la, lb, strict=True):
        nx, ny = dict(numbers(json.loads(x))), dict(numbers(json.loads(y)))
        worst = max([worst, *(abs(v - ny[k]) for k, v in nx.items() if k in ny)])
    return sum(x == y for x, y in zip(la, lb, strict=True)), len(la), worst


# ---- child processes with their memory --------------------------------------------------------


def _tree_rss_kb(root: int) -> int:
    """Sum of VmRSS (kB) over `root` and its descendants (from /proc)."""
    parent: dict[int, int] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/status", encoding="utf-8") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        parent[int(d)] = int(fields.get("PPid", "0").strip())
        rss[int(d)] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    tree, frontier = {root}, [root]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p and c not in tree]
        tree.update(kids)
        frontier.extend(kids)
    return sum(rss.get(p, 0) for p in tree)


def measured(cmd: list[str], **kwargs) -> dict:
    """Run `cmd`; its wall time, peak RSS (its rusage: the largest process of its tree) and the peak
    of its whole tree's RSS sampled every 0.2 s, all in MB."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, **kwargs)
    peak_tree = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak_tree[0] = max(peak_tree[0], _tree_rss_kb(proc.pid))
            stop.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "exit": proc.returncode,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
        "peak_tree_mb": peak_tree[0] / 1024,
    }


def throughput(n: int, tmp: Path) -> None:
    inp = tmp / "paragraphs.jsonl"
    texts = paragraphs(n)
    write_rows(inp, texts)
    words = sum(len(t.split()) for t in texts)
    print(f"\n## Throughput: {len(texts)} lamp_R_train paragraphs ({words} words), {BATCH} rows per call")
    print("| configuration | torch threads per process | texts/s scoring | texts/s end to end | wall (s) |")
    print("|---|---:|---:|---:|---:|")
    outputs = {}
    for config in ("local", "local1", "ray1", "ray2"):
        out = tmp / f"out_{config}.jsonl"
        report = tmp / f"{config}.json"
        cmd = [sys.executable, __file__, "--child", config, str(inp), str(out), str(report)]
        m = measured(cmd, cwd=ROOT)
        if m["exit"] != 0:
            print(f"| {config} | failed (exit {m['exit']}) | | | |")
            continue
        r = json.loads(report.read_text())
        threads = r.get("threads", 1)
        name = {
            "local": "one process",
            "local1": "one process",
            "ray1": "Ray, 1 actor",
            "ray2": "Ray, 2 actors",
        }
        rate = "n/a (one batch)" if r["score_s"] is None else f"{r['rows'] / r['score_s']:.2f}"
        print(f"| {name[config]} | {threads} | {rate} | {r['rows'] / m['wall_s']:.2f} | {m['wall_s']:.0f} |")
        outputs[config] = out
    if "local1" in outputs:
        for config, out in outputs.items():
            if config != "local1":
                same, total, worst = compare(out, outputs["local1"])
                print(
                    f"rows of {config} vs one process with 1 thread: {same}/{total} lines identical, "
                    f"largest number difference {worst:.2e}"
                )


def rows_memory(counts: list[int], engine: str, tmp: Path) -> None:
    print(f"\n## A stream of short rows (single sentences), `wqrm score --input` --engine {engine}")
    print("| rows | wall (s) | rows/s | peak RSS of a process (MB) | peak RSS of the process tree (MB) |")
    print("|---:|---:|---:|---:|---:|")
    texts = sentences(max(counts))
    for count in counts:
        inp, out = tmp / f"rows{count}.jsonl", tmp / f"rows{count}.out.jsonl"
        write_rows(inp, texts[:count])
        extra = ["--engine", "ray", "--workers", "2"] if engine == "ray" else []
        cmd = [*WQRM, "score", "--input", str(inp), "--output", str(out), "--no-progress", *extra]
        m = measured(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        written = sum(1 for _ in out.open()) if out.exists() else 0
        print(
            f"| {count} | {m['wall_s']:.0f} | {count / m['wall_s']:.1f} | {m['peak_rss_mb']:.0f} | "
            f"{m['peak_tree_mb']:.0f} |"
            + ("" if m["exit"] == 0 and written == count else f" exit {m['exit']}, {written} written")
        )


def long_texts(mbs: list[float], threads: int | None, tmp: Path) -> None:
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {}))
    print(f"\n## One long text, `wqrm score --json FILE` (torch threads: {threads or 'default'})")
    small = tmp / "one_line.txt"
    small.write_text("The tide came in over the slipway, and the gulls rose from the wall together.\n")
    base = measured([*WQRM, "score", "--json", str(small)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    print(
        f"start (a one-line text): {base['wall_s']:.1f} s wall, {base['cpu_s']:.1f} s CPU, "
        f"peak RSS {base['peak_rss_mb']:.0f} MB"
    )
    print("| MB | words | wall (s) | CPU (s) | CPU − start (s) | CPU s per MB | peak RSS (MB) | score |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mb in mbs:
        path = tmp / f"big{mb}.txt"
        text = big_text(mb)
        path.write_text(text, encoding="utf-8")
        out = tmp / f"big{mb}.json"
        with out.open("w") as fh:
            cmd = [*WQRM, "score", "--json", str(path)]
            m = measured(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.DEVNULL)
        result = json.loads(out.read_text() or "{}")
        net = m["cpu_s"] - base["cpu_s"]
        size = path.stat().st_size / 1e6
        print(
            f"| {size:.2f} | {len(text.split())} | {m['wall_s']:.0f} | {m['cpu_s']:.0f} | {net:.0f} | "
            f"{net / size:.0f} | {m['peak_rss_mb']:.0f} | {result.get('score')} |"
            + ("" if m["exit"] == 0 else f" exit {m['exit']}")
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rows", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--rows-engine", choices=("local", "ray"), default="local")
    ap.add_argument("--mb", type=float, nargs="+", default=[1.0, 2.0, 4.0])
    ap.add_argument("--threads", type=int, help="torch threads of the long-text runs (OMP_NUM_THREADS)")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-rows", action="store_true")
    ap.add_argument("--skip-big", action="store_true")
    ap.add_argument("--child", nargs=4, metavar=("CONFIG", "IN", "OUT", "REPORT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        config, inp, out, report = args.child
        Path(report).write_text(json.dumps(child(config, Path(inp), Path(out))))
        return 0
    print(machine())
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_throughput:
            throughput(args.n, tmp)
        if not args.skip_rows:
            rows_memory(args.rows, args.rows_engine, tmp)
        if not args.skip_big:
            long_texts(args.mb, args.threads, tmp)
    print(f"\n{machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
