"""Book-vs-book sanity of the Russian reference profile: held-apart passages inside its bands.

Reads the per-passage metric values `wqrm build-profile --lang ru --passages-out FILE` wrote
(`make profile-ru` writes runs/profile_ru_passages.jsonl) and holds each book apart in turn: the
profile is rebuilt from the other books' passages (`wqrm.build.profile.profile_from_passages`,
the builder's own code, reference-distribution metrics recomputed against the other books' pooled
distributions), and every passage of the held-apart book is placed against it. Per metric:

  * `in 1–99%`: share of held-apart passages inside the rebuilt profile's [q01, q99] (≈ 0.98 when
    a book is like the others);
  * `in IQR`: share inside [q25, q75], the band of `band` metrics (≈ 0.50 when alike);
  * `goodness`: mean goodness of the held-apart passages under the metric's direction;
  * `in English 1–99%`: for contrast, the share of all Russian passages inside the shipped
    English profile's [q01, q99] (what judging Russian against English prose would do).

    python benchmarks/russian_profile_check.py [--passages runs/profile_ru_passages.jsonl]
                                               [--out benchmarks/results/russian_profile.md]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from wqrm.build.profile import profile_from_passages, read_passages, reference_metric_formulas
from wqrm.metrics import MetricUndefined, specs
from wqrm.profile import Profile, default_profile

ROOT = Path(__file__).resolve().parents[1]


def _formula_value(formula, stats, distributions) -> float | None:
    try:
        return float(formula(stats, distributions))
    except (MetricUndefined, KeyError):
        return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--passages", type=Path, default=ROOT / "runs" / "profile_ru_passages.jsonl")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    if not args.passages.exists():
        print(f"no passages at {args.passages}: run `make profile-ru` first", file=sys.stderr)
        return 2

    records = read_passages(args.passages)
    books = sorted({r["file"] for r in records})
    formulas = reference_metric_formulas()
    names = [n for n in specs() if n in formulas or any(r["values"].get(n) is not None for r in records)]
    inside: dict[str, list[float]] = {n: [] for n in names}
    in_iqr: dict[str, list[float]] = {n: [] for n in names}
    good: dict[str, list[float]] = {n: [] for n in names}
    per_book: dict[str, list[float]] = {b: [] for b in books}
    english = default_profile("en")
    in_english: dict[str, float] = {}
    for n in names:
        mq = english.metrics.get(n)
        vals = np.array([r["values"][n] for r in records if r["values"].get(n) is not None], dtype=np.float64)
        if mq is not None and vals.size:
            in_english[n] = float(((vals >= mq.at(0.01)) & (vals <= mq.at(0.99))).mean())
    for book in books:
        rest = [r for r in records if r["file"] != book]
        held = [r for r in records if r["file"] == book]
        metrics, distributions = profile_from_passages(
            [r["values"] for r in rest], [r["stats"] for r in rest], names
        )
        prof = Profile(metrics=metrics, distributions=distributions)
        for n in names:
            if n not in metrics:
                continue
            mq = metrics[n]
            if n in formulas:
                vals = [_formula_value(formulas[n], r["stats"], distributions) for r in held]
            else:
                vals = [r["values"].get(n) for r in held]
            v = np.array([x for x in vals if x is not None], dtype=np.float64)
            if v.size == 0:
                continue
            q01, q25, q75, q99 = (mq.at(x) for x in (0.01, 0.25, 0.75, 0.99))
            share = ((v >= q01) & (v <= q99)).tolist()
            inside[n].extend(share)
            in_iqr[n].extend(((v >= q25) & (v <= q75)).tolist())
            spec = specs()[n]
            if spec.component is not None:
                good[n].extend(prof.goodness_values(n, v, spec.direction, spec.band).tolist())
            per_book[book].extend(share)

    lines = [
        "# Russian profile: held-apart books inside its bands",
        "",
        f"Leave-one-book-out over {len(books)} books, {len(records)} passages (`{args.passages.name}`; "
        "`python benchmarks/russian_profile_check.py`).",
        "",
        "| metric | passages | in 1–99% | in IQR | mean goodness | in English 1–99% |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for n in names:
        if not inside[n]:
            continue
        g = f"{np.mean(good[n]):.3f}" if good[n] else "—"
        share, iqr = np.mean(inside[n]), np.mean(in_iqr[n])
        en = f"{in_english[n]:.3f}" if n in in_english else "—"
        lines.append(f"| `{n}` | {len(inside[n])} | {share:.3f} | {iqr:.3f} | {g} | {en} |")
    all_inside = [x for n in names for x in inside[n]]
    all_iqr = [x for n in names for x in in_iqr[n]]
    lines += [
        "",
        f"All metrics: {np.mean(all_inside):.3f} of held-apart values inside 1–99% (expected ≈ 0.98), "
        f"{np.mean(all_iqr):.3f} inside the IQR (expected ≈ 0.50).",
        "",
        "| held-apart book | in 1–99% (all metrics) |",
        "|---|---:|",
        *(f"| {b} | {np.mean(per_book[b]):.3f} |" for b in books),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
