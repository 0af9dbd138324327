"""The realistic `wqrm bench` run: frontier and open models' creative writing against human stories.

Systems are models' outputs from the development data's `human_vs_ai/slop_score.jsonl` (one text
per model and prompt; grouped by `model`, prompts by `meta.prompt_index`); the reference is the
human texts of `human_vs_ai/fast_detect_gpt.jsonl` in the same domain (WritingPrompts stories),
plus the shipped profile. The data is converted into system JSONL files in a temporary directory
(never into the repository), then `wqrm bench` and `wqrm report` run on them; the exact commands
are printed.

    nice -n 10 python benchmarks/slop_score_bench.py --out runs/slop [--models A,B,…]
        [--baseline MODEL] [--max-prompts N] [--data ../shared/data] [-- extra wqrm bench options]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))
#: a spread of model families and sizes; gemma-3-27b-it is the base of the antislop fine-tune
DEFAULT_MODELS = (
    "google/gemma-3-27b-it",
    "sam-paech/gemma-3-27b-it-antislop",
    "google/gemma-3-4b-it",
    "claude-sonnet-4-5",
    "openai/o3",
    "mistralai/mistral-nemo",
)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


def convert(
    data: Path, out: Path, models: list[str], domain: str, max_prompts: int | None
) -> dict[str, Path]:
    """Write one JSONL per model ({id, prompt_id, text}), prompts.jsonl and the human reference."""
    out.mkdir(parents=True, exist_ok=True)
    by_model: dict[str, list[dict]] = defaultdict(list)
    prompts: dict[str, str] = {}
    with (data / "human_vs_ai" / "slop_score.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if row["domain"] != domain or row["model"] not in models:
                continue
            pid = str(row["meta"]["prompt_index"])
            prompts[pid] = row["meta"]["prompt"]
            by_model[row["model"]].append({"id": row["id"], "prompt_id": pid, "text": row["text"]})
    missing = [m for m in models if m not in by_model]
    if missing:
        sys.exit(f"no {domain} rows for: {', '.join(missing)}")
    keep = sorted({r["prompt_id"] for rows in by_model.values() for r in rows}, key=int)
    keep = set(keep[:max_prompts] if max_prompts else keep)
    paths = {}
    for model, rows in by_model.items():
        paths[model] = out / f"{_safe(model)}.jsonl"
        with paths[model].open("w", encoding="utf-8") as fh:
            for r in rows:
                if r["prompt_id"] in keep:
                    fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with (out / "prompts.jsonl").open("w", encoding="utf-8") as fh:
        for pid in sorted(keep, key=int):
            fh.write(json.dumps({"id": pid, "text": prompts[pid]}, ensure_ascii=False) + "\n")
    human = out / "human.jsonl"
    with (
        (data / "human_vs_ai" / "fast_detect_gpt.jsonl").open(encoding="utf-8") as src,
        human.open("w") as fh,
    ):
        for line in src:
            row = json.loads(line)
            if row["label"] == "human" and row["domain"] == domain:
                fh.write(json.dumps({"id": row["id"], "text": row["text"]}, ensure_ascii=False) + "\n")
    paths["prompts"], paths["human"] = out / "prompts.jsonl", human
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "slop")
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS), help="comma-separated `model` values")
    ap.add_argument("--baseline", default=DEFAULT_MODELS[0], help="the model marked --baseline ('' for none)")
    ap.add_argument("--domain", default="creative_writing")
    ap.add_argument("--max-prompts", type=int, default=None, help="only the first N prompts (by index)")
    ap.add_argument("bench_args", nargs="*", help="extra `wqrm bench` options (after --)")
    args = ap.parse_args(argv)
    models = [m for m in args.models.split(",") if m]
    with tempfile.TemporaryDirectory(prefix="wqrm-slop-") as tmp:
        paths = convert(args.data, Path(tmp), models, args.domain, args.max_prompts)
        wqrm = [sys.executable, "-m", "wqrm.cli"]
        cmd = [*wqrm, "bench"]
        for m in models:
            cmd += ["--baseline" if m == args.baseline else "--system", f"{m}={paths[m]}"]
        cmd += [
            "--reference",
            f"human={paths['human']}",
            "--prompts",
            str(paths["prompts"]),
            "--out",
            str(args.out),
        ]
        cmd += args.bench_args
        print("$ " + shlex.join(cmd), flush=True)
        rc = subprocess.call(cmd)
        if rc:
            return rc
    report = [*wqrm, "report", str(args.out), "-o", str(args.out / "report.html")]
    print("$ " + shlex.join(report), flush=True)
    return subprocess.call(report)


if __name__ == "__main__":
    raise SystemExit(main())
