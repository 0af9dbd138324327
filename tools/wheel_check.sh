#!/usr/bin/env bash
# Build the wheel and run `wqrm` from a non-editable install of it, outside the source tree.
#
# The throw-away venv gets the project's dependencies from .venv through a .pth line (no second
# multi-GB install), but wqrm itself only from the wheel: .pth lines are not processed recursively,
# so .venv's editable finder stays inactive, and the commands run from a temporary directory where
# the checkout is not importable. A module or data file missing from the wheel fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=${PYTHON:-$root/.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$root/build"' EXIT

"$py" -m pip wheel -q --no-deps --no-build-isolation -w "$tmp/dist" . >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
wheel=$(ls "$tmp"/dist/wqrm-*.whl)
echo "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KB)"
"$py" - "$wheel" <<'PY'
import sys, zipfile
from pathlib import Path

names = set(zipfile.ZipFile(sys.argv[1]).namelist())
folders = {"wqrm": "wqrm", "metrics": "wqrm/metrics", "baselines": "wqrm/baselines",
           "benchmarks": "wqrm/benchmarks", "reports": "wqrm/reports"}
missing = []
for src, dst in folders.items():
    for f in Path(src).rglob("*"):
        if f.is_file() and "__pycache__" not in f.parts and "perf" not in f.parts and "results" not in f.parts:
            if f.suffix in (".py", ".json", ".npz", ".safetensors", ".txt", ".html", ".css", ".j2"):
                target = dst + "/" + f.relative_to(src).as_posix()
                if target not in names:
                    missing.append(target)
if missing:
    sys.exit("files missing from the wheel:\n  " + "\n  ".join(sorted(missing)))
print(f"wheel holds every module and data file ({len(names)} entries)")
PY
"$py" -m venv "$tmp/venv"
site=$("$tmp/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
deps=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$deps" > "$site/wqrm-deps.pth"
"$tmp/venv/bin/python" -m pip install -q --no-deps "$wheel"
cd "$tmp"
export WQRM_NLTK_DATA=$root/.nltk_data  # WordNet is data, not part of the wheel (README: set-up)
where=$("$tmp/venv/bin/python" -c 'import wqrm, pathlib; print(pathlib.Path(wqrm.__file__).parent)')
case "$where" in "$root"*) echo "wqrm imported from the checkout ($where), not the wheel"; exit 1;; esac
echo "wqrm imported from $where"
"$tmp/venv/bin/wqrm" --help >/dev/null
"$tmp/venv/bin/wqrm" score --json "$root/examples/lighthouse.txt" | "$tmp/venv/bin/python" -c '
import json, sys
r = json.loads(sys.stdin.readline())
assert r["error"] is None and r["score"] is not None, r
score, weights = r["score"], r["weights"]
print(f"wqrm score --json examples/lighthouse.txt from the wheel: score {score:.4f}, weights {weights}")
'
# the report's templates and CSS ship in the wheel: a small benchmark and its report from it
"$tmp/venv/bin/wqrm" bench --system revised="$root/examples/bench/revised.jsonl" --out "$tmp/run" \
  --resamples 200 --no-progress >/dev/null 2>"$tmp/bench.log" || { cat "$tmp/bench.log"; exit 1; }
"$tmp/venv/bin/wqrm" report "$tmp/run" -o "$tmp/run/report.html"
grep -q '<section id="summary">' "$tmp/run/report.html"
echo "wqrm bench + wqrm report from the wheel: $(du -k "$tmp/run/report.html" | cut -f1) KB report"
