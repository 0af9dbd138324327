"""How the proximity-weighted aesthetics features scale with text length (issue 5).

    python benchmarks/perf/aesthetics_scaling.py [--sizes 1000,10000,100000] [--paragraph-words 150]
                                                 [--single-paragraph]

Builds texts of the given word counts from paragraphs of the reference books in the development
data (falling back to a fixed built-in passage when the data is absent), each paragraph cut to
about --paragraph-words words, parses each text once, and times `w1`, `t1`, `sent`, `sd1` and
`sd2` on the parsed text (best of --repeat runs; the analysis cache is cleared before each run so
that every run pays for its own lookups; resources are loaded before timing). With a fixed
paragraph size the cost should grow linearly with the number of words: the table reports the time
per 1,000 words, which should stay roughly flat. `--single-paragraph` joins the paragraphs of each
text into one (a text without blank lines): the worst case of a per-paragraph pair sum.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))
METRICS = ("w1", "t1", "sent", "sd1", "sd2")
FALLBACK = (
    "The harbour was quiet at dawn, and the fishing boats rocked against the pier while gulls argued "
    "over the nets. Old Tomas walked the length of the wall, counting the hulls the storm had spared, "
    "and when he reached the lighthouse he sat down on the cold stone and watched the grey water turn "
    "to silver. Nobody else was awake. The bakery at the corner would not open for another hour, and "
    "the church bell, cracked since the winter, had stopped marking the time. He thought of his "
    "daughter in the city, of the letters he had never answered, and of the boat he had promised to "
    "paint before the summer came."
)


def paragraphs(paragraph_words: int) -> list[str]:
    books = sorted((DATA / "reference" / "books" / "en").glob("*.txt"))
    out = []
    for book in books:
        for para in book.read_text(encoding="utf-8").split("\n\n"):
            words = para.split()
            if len(words) >= paragraph_words // 2:
                out.append(" ".join(words[:paragraph_words]))
    return out or [" ".join(FALLBACK.split()[:paragraph_words])]


def make_text(n_words: int, pool: list[str], single_paragraph: bool = False) -> str:
    parts, count, i = [], 0, 0
    while count < n_words:
        p = pool[i % len(pool)]
        parts.append(p)
        count += len(p.split())
        i += 1
    return (" " if single_paragraph else "\n\n").join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--paragraph-words", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--single-paragraph", action="store_true", help="each text is one paragraph")
    ap.add_argument("--out", type=Path, default=None, help="also write the markdown table here")
    args = ap.parse_args(argv)

    import wqrm
    import wqrm.metrics as M

    sizes = [int(s) for s in args.sizes.split(",")]
    pool = paragraphs(args.paragraph_words)
    warm = wqrm.analyze(pool[0])
    for name in METRICS:  # load the lexicon, corpus resources and GloVe before timing
        M.get_spec(name).func(warm)

    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        a = wqrm.analyze(make_text(n, pool, args.single_paragraph))
        parse_s = time.perf_counter() - t0
        row = {"words": len(a.words), "paragraphs": len(a.paragraphs), "parse_s": parse_s}
        for name in METRICS:
            func = M.get_spec(name).func
            best = float("inf")
            for _ in range(args.repeat):
                a._cache.clear()
                t0 = time.perf_counter()
                func(a)
                best = min(best, time.perf_counter() - t0)
            row[name] = best
        rows.append(row)
        print(f"{row['words']} words done", file=sys.stderr)

    shape = f"paragraphs of ~{args.paragraph_words} words"
    if args.single_paragraph:
        shape = "one paragraph per text"
    lines = [
        f"Aesthetics pair-sum features, {shape}, best of {args.repeat} "
        "(seconds; in brackets: milliseconds per 1,000 words).",
        "",
        "| words | paragraphs | parse (s) | " + " | ".join(METRICS) + " |",
        "|---:|---:|---:|" + "---:|" * len(METRICS),
    ]
    for r in rows:
        cells = [f"{r[m]:.4f} ({1000 * r[m] / r['words'] * 1000:.2f})" for m in METRICS]
        lines.append(f"| {r['words']} | {r['paragraphs']} | {r['parse_s']:.1f} | " + " | ".join(cells) + " |")
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = last["words"] / first["words"]
        ratios = ", ".join(f"{m} x{last[m] / first[m]:.0f}" for m in METRICS)
        lines += ["", f"Growth from {first['words']} to {last['words']} words (x{growth:.0f}): {ratios}."]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
