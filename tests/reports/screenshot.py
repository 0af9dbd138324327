"""Screenshot of a report in headless Chromium (how docs/bench_report.png is made):

.venv/bin/python -m tests.reports.screenshot RUN/report.html docs/bench_report.png [--full-page]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.reports.chromium import Chromium, find_chromium


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--full-page", action="store_true", help="the whole page, not one laptop screen")
    ap.add_argument("--width", type=int, default=1366)
    ap.add_argument("--height", type=int, default=900)
    args = ap.parse_args(argv)
    exe = find_chromium()
    if exe is None:
        print("no chromium on PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp, Chromium(exe, Path(tmp) / "profile") as browser:
        visit = browser.open_page(
            args.report.resolve().as_uri(),
            screenshot=args.png,
            full_page=args.full_page,
            width=args.width,
            height=args.height,
        )
    print(f"{args.png}: console errors {len(visit.errors)}, requests {len(visit.requests)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
