"""Throughput of the Russian analysis next to the English parse, in the same run.

Takes the first paragraphs of one Russian and one English book (`reference/books/{ru,en}/` of the
development data) until each holds about --words words, then times, each the best of --rounds:

  * `analyze_batch(…, lang="en")` over the English paragraphs (spaCy en_core_web_sm);
  * `analyze_batch(…, lang="ru")` over the Russian paragraphs (razdel + slovnet morphology, syntax
    and NER on navec + pymorphy3 lemmas, built into spaCy Docs), and the share of that time in
    each Russian stage (segmentation, slovnet, lemmas and Doc building);
  * `compute_batch` of every parse-only metric on each, for the whole rigid path.

Models are loaded before timing. Words follow DESIGN.md (non-punctuation, non-space tokens).
Rates are given per second of wall-clock time and per second of this process's CPU time (user +
system): on a shared machine the CPU rate is the stable figure, and both languages are timed in
the same run, so their ratio holds either way.

    python benchmarks/perf/russian_throughput.py [--words 5000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))


def paragraphs(path: Path, words: int) -> list[str]:
    """Leading paragraphs of `path` (at least 20 words each) until `words` words."""
    out, total = [], 0
    for p in path.read_text(encoding="utf-8").split("\n\n"):
        n = len(p.split())
        if n >= 20:
            out.append(p.strip())
            total += n
        if total >= words:
            break
    return out


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def best_of(rounds: int, fn):
    """(best wall seconds, best CPU seconds, result) over `rounds` calls."""
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), _cpu()
        result = fn()
        best = min(best, time.perf_counter() - t0)
        best_cpu = min(best_cpu, _cpu() - c0)
    return best, best_cpu, result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--ru", default="tolstoy_anna_karenina.txt")
    ap.add_argument("--en", default="austen_emma.txt")
    ap.add_argument("--words", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args(argv)
    books = args.data / "reference" / "books"
    if not (books / "ru" / args.ru).exists() or not (books / "en" / args.en).exists():
        print(f"no books under {books}: pass --data or set WQRM_DATA_DIR", file=sys.stderr)
        return 2

    from wqrm import resources  # deferred: --help loads no model
    from wqrm.analysis import analyze_batch
    from wqrm.metrics import compute_batch

    texts = {
        "en": paragraphs(books / "en" / args.en, args.words),
        "ru": paragraphs(books / "ru" / args.ru, args.words),
    }
    resources.get("spacy")
    ru = resources.get("russian")
    analyze_batch(["Прогрев."], lang="ru")
    analyze_batch(["Warm-up."], lang="en")
    print(f"cores: {os.cpu_count()}, load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rates = {}
    for lang in ("en", "ru"):
        t_parse, c_parse, analyses = best_of(
            args.rounds, lambda lang=lang: analyze_batch(texts[lang], lang=lang)
        )
        n = sum(len(a.words) for a in analyses)
        _, c_metrics, _ = best_of(args.rounds, lambda analyses=analyses: compute_batch(analyses))
        rates[lang] = n / c_parse
        print(
            f"{lang}: {n} words in {len(texts[lang])} paragraphs; parse {n / t_parse:,.0f} words/s wall, "
            f"{n / c_parse:,.0f} words/CPU-s; parse-only metrics {n / c_metrics:,.0f} words/CPU-s; "
            f"parse + metrics {n / (c_parse + c_metrics):,.0f} words/CPU-s"
        )
    print(f"Russian analysis / English parse (CPU rates): {rates['ru'] / rates['en']:.2f}")
    # where the Russian CPU time goes
    sentences = [s for t in texts["ru"] for s in ru.segment(t)]
    tokens = sorted(([tok[2] for tok in s] for s in sentences), key=len)  # as the pipe sorts them
    _, c_seg, _ = best_of(args.rounds, lambda: [ru.segment(t) for t in texts["ru"]])
    _, c_morph, _ = best_of(args.rounds, lambda: list(ru.morph_tagger.map(tokens)))
    _, c_syntax, _ = best_of(args.rounds, lambda: list(ru.syntax_parser.map(tokens)))
    _, c_all, _ = best_of(args.rounds, lambda: list(ru.pipe(texts["ru"])))
    n_tok = sum(len(s) for s in tokens)
    print(
        f"ru stages over {n_tok} tokens (CPU s): razdel {c_seg:.2f}, slovnet morphology {c_morph:.2f}, "
        f"slovnet syntax {c_syntax:.2f}, whole pipe {c_all:.2f} "
        f"(NER, lemmas and Doc building: {max(0.0, c_all - c_seg - c_morph - c_syntax):.2f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
