"""Where the time of a full `score` goes, against the floor set by the models it needs.

Over the same texts (default: the first 400 paragraphs of `scored/lamp_R_train.jsonl`), in one run:

* **stages of a full score**, each timed on its own: language detection + spaCy parse
  (`analyze_batch`), the sentence-encoder pass (`embed_sentences`: every sentence, one batched
  call), the edit-model pass (S1's reward: every paragraph), every metric (one row per metric,
  summed over the texts, model metrics marked), and goodness + components + composite;
* **full score**: `Scorer.score_batch` on fresh texts, end to end (what `wqrm score` runs);
* **model floor**: the model passes the result needs, run alone back to back on the same texts —
  the spaCy pipeline (`nlp.pipe` over the paragraphs), the sentence encoder (every sentence) and
  the edit model (every paragraph) — and the ratio full ÷ floor in throughput (acceptance ≥ 0.8).
  The spaCy pipeline counts as a model: it is a neural tagger/parser, and no metric can be computed
  without its parse;
* **whole-process times** (cold processes): `python -c "import wqrm"`, `wqrm --help`,
  `wqrm catalogue`, and `wqrm.load()` + scoring one paragraph, and `wqrm score` on a one-line file,
  alone and through a running `wqrm serve` (`--server`: table and `--json`), whose models are
  loaded before the timing starts.

The first line names the machine (CPU, cores, torch threads, load average).

    python benchmarks/perf/score_path.py [--n 400] [--file texts.jsonl] [--no-process | --process-only]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import DEFAULT_DATA, load_texts, machine

ROOT = Path(__file__).resolve().parents[2]
ONE_PARAGRAPH = (
    "The lighthouse keeper kept a ledger of ships. He wrote their names in pencil, and when the "
    "lamp failed he read them aloud, one after another, as if they could hear him."
)


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def _process_time(args: list[str], cwd: Path) -> float:
    """Wall time of a cold process (best of two)."""
    best = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)
        elapsed = time.perf_counter() - t
        if done.returncode != 0:
            raise RuntimeError(f"{args} failed: {done.stderr[-1000:]}")
        best = min(best, elapsed)
    return best


def whole_process(py: str) -> list[tuple[str, float]]:
    """Cold-process wall times of the entry points a user meets first."""
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one.txt"
        one.write_text(ONE_PARAGRAPH + "\n", encoding="utf-8")
        score_one = f"import wqrm; s = wqrm.load(); s.score({ONE_PARAGRAPH!r})"
        return [
            ("python -c 'import wqrm'", _process_time([py, "-c", "import wqrm"], ROOT)),
            ("wqrm --help", _process_time([py, "-m", "wqrm.cli", "--help"], ROOT)),
            ("wqrm catalogue", _process_time([py, "-m", "wqrm.cli", "catalogue"], ROOT)),
            ("wqrm.load() + score one paragraph", _process_time([py, "-c", score_one], ROOT)),
            ("wqrm score one-line.txt", _process_time([py, "-m", "wqrm.cli", "score", str(one)], ROOT)),
            *server_client(py, one),
        ]


def server_client(py: str, one: Path) -> list[tuple[str, float]]:
    """Cold `wqrm score --server` processes against a server that has its models loaded."""
    from wqrm.client import local_server  # standard library only

    with local_server(python=py, cwd=ROOT) as (url, _):
        return [
            (
                "wqrm score --server … one-line.txt",
                _process_time([py, "-m", "wqrm.cli", "score", "--server", url, str(one)], ROOT),
            ),
            (
                "wqrm score --server … --json one-line.txt",
                _process_time([py, "-m", "wqrm.cli", "score", "--server", url, "--json", str(one)], ROOT),
            ),
        ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--file", type=Path, default=DEFAULT_DATA / "scored" / "lamp_R_train.jsonl")
    ap.add_argument("--no-process", action="store_true", help="skip the whole-process timings")
    ap.add_argument("--process-only", action="store_true", help="only the whole-process timings")
    args = ap.parse_args(argv)
    if args.process_only:
        print(f"machine: {machine()}")
        print("whole-process wall times (cold, best of 2):")
        for label, sec in whole_process(sys.executable):
            print(f"  {label:<44} {sec:8.2f} s")
        return 0
    if not args.file.exists():
        print(f"no input at {args.file}: pass --file or set WQRM_DATA_DIR", file=sys.stderr)
        return 2
    texts = load_texts(args.file, args.n)

    import wqrm
    from wqrm import resources
    from wqrm.analysis import analyze_batch, embed_sentences, encode_unit
    from wqrm.edit.model import paragraphs_of
    from wqrm.metrics.edit import prepare_edit
    from wqrm.metrics.registry import compute_analysis, get_spec
    from wqrm.scoring import MetricContext

    print(f"machine: {machine()}")
    scorer = wqrm.load()
    nlp = resources.get("spacy")
    encoder = resources.get("sentence_encoder")
    edit_model = resources.get("edit_model")
    scorer.score_batch(texts[:4])  # warm every lazy resource (lexicons, corpus tables, heads)

    # -- stages ---------------------------------------------------------------------------------
    t_parse, analyses = _timed(lambda: analyze_batch(texts))
    words = sum(len(a.words) for a in analyses)
    sentences = sum(len(a.sentences) for a in analyses)
    paragraphs = sum(len(paragraphs_of(t)) for t in texts)
    counts = f"{words} words, {sentences} sentences, {paragraphs} paragraphs"
    print(f"texts: {len(texts)} from {args.file.name}; {counts}")
    t_embed, _ = _timed(lambda: embed_sentences(analyses))
    t_edit, _ = _timed(lambda: prepare_edit(analyses))
    ctx = MetricContext(profile=scorer.profile)
    per_metric: dict[str, float] = {}
    for name in scorer.metric_names:
        t = time.perf_counter()
        for a in analyses:
            compute_analysis(a, [name], ctx)
        per_metric[name] = time.perf_counter() - t
    t_metrics = sum(per_metric.values())
    mvs = [compute_analysis(a, scorer.metric_names, ctx) for a in analyses]
    t_assemble, _ = _timed(lambda: [scorer._assemble(a, mv) for a, mv in zip(analyses, mvs, strict=True)])

    # -- full score and floor -------------------------------------------------------------------
    fresh = [t + " " for t in texts]  # new strings: nothing cached on an analysis
    t_full, _ = _timed(lambda: scorer.score_batch(fresh))
    all_paras = [p for t in texts for p in paragraphs_of(t)]
    all_sents = [s.text for a in analyses for s in a.sentences]
    t_floor_parse, _ = _timed(lambda: list(nlp.pipe(all_paras, batch_size=64)))
    t_floor_sent, _ = _timed(lambda: encode_unit(all_sents, encoder=encoder))
    t_floor_edit, _ = _timed(lambda: edit_model.score(texts))
    t_floor = t_floor_parse + t_floor_sent + t_floor_edit

    def row(label: str, seconds: float) -> None:
        rate = f"{words / seconds:9.0f} words/s  {len(texts) / seconds:7.2f} texts/s"
        print(f"  {label:<44} {seconds:8.2f} s  {rate}")

    print("stages of a full score (each on its own):")
    row("detect language + spaCy parse", t_parse)
    row("sentence encoder pass (sentences)", t_embed)
    row("edit model pass (paragraphs, S1)", t_edit)
    row(f"{len(per_metric)} metrics (sum)", t_metrics)
    row("goodness + components + composite", t_assemble)
    print("slowest metrics:")
    model_metrics = {n for n in per_metric if set(get_spec(n).resources) - {"spacy"}}
    for name, sec in sorted(per_metric.items(), key=lambda kv: -kv[1])[:12]:
        tag = (
            " (model/resource: " + ",".join(sorted(set(get_spec(name).resources) - {"spacy"})) + ")"
            if name in model_metrics
            else ""
        )
        print(f"  {name:<24} {sec:7.3f} s{tag}")
    print("end to end:")
    row("full score (Scorer.score_batch)", t_full)
    row("model floor: spaCy pipe", t_floor_parse)
    row("model floor: sentence encoder", t_floor_sent)
    row("model floor: edit model", t_floor_edit)
    row("model floor (sum)", t_floor)
    print(f"ratio full / floor (throughput)  {t_floor / t_full:.3f}")
    print(f"share of the full score outside the models  {1 - t_floor / t_full:.1%}")

    if not args.no_process:
        print("whole-process wall times (cold, best of 2):")
        for label, sec in whole_process(sys.executable):
            print(f"  {label:<44} {sec:8.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
