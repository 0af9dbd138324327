"""Build-time commands: `wqrm build-profile` (metric quantiles over reference prose),
`wqrm build-corpus` (corpus statistics: co-occurrence, LDA, ESA, n-gram LM, generic phrases),
`wqrm build-pos-lm` (the part-of-speech n-gram model of `pos_ngram_surprisal`) and
`wqrm build-sentence-order` (the next-sentence model of `next_sentence_gain`).

    wqrm build-corpus --data ../shared/data --out wqrm/data/profiles/default/corpus --seed 0
    wqrm build-pos-lm --data ../shared/data --out wqrm/data/profiles/default/corpus/pos_lm
    wqrm build-sentence-order --data ../shared/data --out wqrm/data/profiles/default/corpus/sentence_order
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

from wqrm.cli.common import Feedback, ProgressOption, check_files, err, progress_mode, usage_error
from wqrm.lang import SUPPORTED

__all__ = ["build_corpus_cmd", "build_pos_lm_cmd", "build_profile_cmd", "build_sentence_order_cmd"]


def _default_data() -> Path:
    return Path(
        os.environ.get("WQRM_DATA_DIR", Path(__file__).resolve().parent.parent.parent / "shared" / "data")
    )


def build_profile_cmd(
    corpora: Annotated[list[Path], typer.Argument(help="Corpus files: .txt (prose) or .jsonl (text field).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write profile.json to.")],
    passage_words: Annotated[
        int, typer.Option(min=1, help="Join .txt paragraphs into passages of ≥ N words.")
    ] = 150,
    max_passages_per_file: Annotated[
        int, typer.Option(min=0, help="Seeded sample of passages per file (0: all).")
    ] = 120,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    where: Annotated[
        list[str] | None,
        typer.Option(help="Keep .jsonl rows where KEY=VALUE (repeatable), e.g. label=human."),
    ] = None,
    name: Annotated[str, typer.Option(help="Profile name recorded in its metadata.")] = "custom",
    lang: Annotated[
        str, typer.Option(help="Language of the corpora (en, ru): which pipeline parses them.")
    ] = "en",
    passages_out: Annotated[
        Path | None,
        typer.Option(help="Also write every passage's metric values and stats here (JSON lines)."),
    ] = None,
    progress: ProgressOption = None,
) -> None:
    """Build a reference profile: per-metric quantiles over passages of human reference prose.

    Metrics the existing profile in --out records under `metric_references` (their reference is
    not the corpus: `edit_reward`'s comes from `wqrm fit-weights --edit-reference`) are carried
    over unchanged rather than recomputed over the corpus."""
    if lang not in SUPPORTED:
        raise usage_error(f"--lang must be one of {', '.join(SUPPORTED)}, got {lang!r}")
    check_files(corpora, "corpus file")
    bad = [w for w in where or [] if "=" not in w or not w.split("=", 1)[0]]
    if bad:
        raise usage_error(f"--where {bad[0]!r}: expected KEY=VALUE")
    conditions = dict(w.split("=", 1) for w in (where or []))
    from wqrm.build import profile as builder  # deferred: arguments are checked first
    from wqrm.metrics.registry import specs  # deferred: arguments are checked first
    from wqrm.profile import PROFILE_FILE, Profile  # deferred: arguments are checked first

    previous = Profile.load(out_dir) if (out_dir / PROFILE_FILE).exists() else None
    kept = set((previous.meta.get("metric_references") or {}) if previous else ())
    command = "wqrm build-profile " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    with Feedback("profiling", None, progress_mode(progress), unit="passages") as feedback:
        prof = builder.build_profile(
            corpora,
            names=[n for n in specs() if n not in kept],
            passage_words=passage_words,
            max_passages_per_file=max_passages_per_file or None,
            seed=seed,
            jsonl_where=conditions or None,
            command=command,
            name=name,
            progress=feedback.update,
            lang=lang,
            passages_out=passages_out,
        )
    if previous is not None:
        for n in builder.carry_metric_references(prof, previous):
            source = previous.meta["metric_references"][n].get("texts", "")
            err.print(f"kept {n}'s reference from the previous profile ({source})")
    path = prof.save(out_dir)
    err.print(f"wrote {path}: {len(prof.metrics)} metrics over {prof.meta['n_passages']} passages")


def build_corpus_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the corpus resources to.")],
    data: Annotated[
        Path | None,
        typer.Option(help="Development-data directory (reference/, human_vs_ai/, edit_pairs/, spans/)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of every sample, split and model.")] = 0,
    classifier: Annotated[
        bool, typer.Option("--classifier/--no-classifier", help="Also train the creativity classifier.")
    ] = True,
    lda_topics: Annotated[int, typer.Option(min=1, help="LDA topics.")] = 40,
    vocab_size: Annotated[int, typer.Option(min=1, help="Content-word vocabulary cap.")] = 20_000,
    lm_order: Annotated[int, typer.Option(min=1, help="Order of the Kneser-Ney n-gram model.")] = 3,
    only_phrases: Annotated[
        bool, typer.Option("--only-phrases", help="Rebuild only the generic-phrase database in OUT.")
    ] = False,
    progress: ProgressOption = None,
) -> None:
    """Build the corpus resources: co-occurrence, LDA, ESA, n-gram LM, generic phrases, classifier."""
    import time

    data_dir = data or _default_data()
    if not data_dir.is_dir():
        err.print(f"[red]error:[/red] no data directory at {data_dir} (give --data or set WQRM_DATA_DIR)")
        raise typer.Exit(1)
    from wqrm.build.corpus import build_corpus_resources  # deferred: arguments are checked first
    from wqrm.build.sources import BuildOptions, CorpusSources  # deferred: arguments are checked first

    sources = CorpusSources.from_data_dir(data_dir)
    if not (sources.reference_books or sources.reference_rows):
        err.print(f"[red]error:[/red] {data_dir} holds no reference prose (reference/books/en/*.txt)")
        raise typer.Exit(1)
    options = BuildOptions(lda_topics=lda_topics, vocab_size=vocab_size, lm_order=lm_order)

    command = "wqrm build-corpus " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    t0 = time.perf_counter()
    manifest = build_corpus_resources(
        sources,
        out_dir,
        seed=seed,
        options=options,
        command=command,
        classifier=classifier,
        only_phrases=only_phrases,
        progress=_say(progress),
    )
    err.print(
        f"wrote {out_dir}: {manifest['total_bytes'] / 1e6:.2f} MB in {time.perf_counter() - t0:.0f} s; "
        f"{manifest['gpp']['phrases']} generic phrases, vocabulary {manifest['vocab_size']}"
    )


def _s1_books(data: Path | None, profile_passages: int, seed: int) -> tuple[list[Path], list[str]]:
    """(the S1 training books `POS_LM_BOOKS` under `data`, the passages `make profile` samples from
    them, to leave out); exits with a message when a book is missing."""
    from wqrm.build.pos_lm import POS_LM_BOOKS  # deferred: arguments are checked first
    from wqrm.build.profile import passages_from_file  # deferred: as above

    data_dir = data or _default_data()
    books = [data_dir / "reference" / "books" / "en" / f"{b}.txt" for b in POS_LM_BOOKS]
    missing = [b for b in books if not b.is_file()]
    if missing:
        err.print(f"[red]error:[/red] missing reference books: {', '.join(str(b) for b in missing)}")
        raise typer.Exit(1)
    exclude = (
        [p for b in books for p in passages_from_file(b, max_passages=profile_passages or None, seed=seed)]
        if profile_passages
        else []
    )
    return books, exclude


def _say(progress: bool | None):
    """One plain dim line per build step (the feedback of a long build), unless --no-progress."""

    def say(message: str) -> None:
        if progress is not False:
            err.print(message, style="dim", markup=False, highlight=False)

    return say


_DataOption = Annotated[
    Path | None, typer.Option(help="Development-data directory (reference/books/en/*.txt).")
]
_ProfilePassagesOption = Annotated[
    int, typer.Option(min=0, help="Leave out the passages `make profile` samples per book (its count).")
]
_ProfileSeedOption = Annotated[
    int, typer.Option(help="The profile's sampling seed (to leave its passages out).")
]


def build_pos_lm_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the model to.")],
    data: _DataOption = None,
    profile_passages: _ProfilePassagesOption = 60,
    seed: _ProfileSeedOption = 0,
    progress: ProgressOption = None,
) -> None:
    """Build the part-of-speech 4-gram model of `pos_ngram_surprisal` from the S1 training books."""
    from wqrm.build.pos_lm import build_pos_lm  # deferred: arguments are checked first

    books, exclude = _s1_books(data, profile_passages, seed)
    command = "wqrm build-pos-lm " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    manifest = build_pos_lm(books, out_dir, exclude=exclude, command=command, progress=_say(progress))
    err.print(
        f"wrote {out_dir}: {manifest['sentences']} sentences, {manifest['tokens']} tokens; held-out "
        f"surprisal {manifest['heldout_surprisal_bits']} bits per token ({manifest['seconds']:.0f} s)"
    )


def build_sentence_order_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the model to.")],
    data: _DataOption = None,
    profile_passages: _ProfilePassagesOption = 60,
    seed: _ProfileSeedOption = 0,
    hidden: Annotated[int, typer.Option(min=1, help="Width of the hidden layer.")] = 256,
    progress: ProgressOption = None,
) -> None:
    """Train the next-sentence model of `next_sentence_gain` on the S1 training books."""
    from wqrm.build.sentence_order import build_sentence_order  # deferred: arguments are checked first

    books, exclude = _s1_books(data, profile_passages, seed)
    command = "wqrm build-sentence-order " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    manifest = build_sentence_order(
        books, out_dir, exclude=exclude, hidden=hidden, seed=seed, command=command, progress=_say(progress)
    )
    err.print(
        f"wrote {out_dir}: {manifest['sentences']['train']} training sentences; best epoch "
        f"{manifest['best_epoch']}, dev pair AUC {manifest['dev_auc']} ({manifest['seconds']:.0f} s)"
    )
