"""The `wqrm` command line: one Typer app, every command registered here explicitly.

Each command family lives in its own module and defines plain functions; this module is the only
place that puts them on the app (so no command module imports another, and nothing imports this
one but the console script).

    wqrm score FILE… [--json]                       score, components S1..S8, every metric
    wqrm score --input texts.jsonl --output out.jsonl   streaming, resumable batch scoring
    wqrm score --engine ray --workers N --input F --output F   the same on Ray actors (JSONL/Parquet)
    wqrm metrics FILE… [--json | --csv] [--models]  rigid metrics only
    wqrm catalogue [--json]                         every metric with its metadata
    wqrm eval-pairs FILE… --scorer S                pairwise accuracy of a scorer on preference pairs
    wqrm red-team FILE… | --input F [--steps 4]     how far edits that cannot improve a text raise its score
    wqrm snapshot OUTPUTS.jsonl -o S.wqrm.json      metric-profile snapshot for regression checks
    wqrm bench --system N=F… [--reference N=F…] --out RUN   benchmark systems against references
    wqrm report RUN [-o report.html]                self-contained HTML report of a benchmark run
    wqrm build-profile CORPUS… --out DIR            reference profile (metric quantiles)
    wqrm build-corpus --out DIR                     corpus statistics (LDA, ESA, n-gram LM, phrases)
    wqrm build-pos-lm --out DIR                     part-of-speech 4-gram model (pos_ngram_surprisal)
    wqrm build-sentence-order --out DIR             next-sentence model (next_sentence_gain)
    wqrm fit-weights --pairs F… --out weights.json  fit the composite's α on preference pairs
    wqrm train-edit --pairs F… --spans F… --out DIR  train the S1 edit model and its span tagger
    wqrm pairs --input cands.jsonl --output pairs.jsonl   DDPO preference pairs (streaming, resumable)
    wqrm rerank --input cands.jsonl                 best-of-N: the best candidate per prompt
    wqrm serve [--port 8000]                        HTTP reward server (OpenRLHF /get_reward, /score)
"""

from __future__ import annotations

from typing import Annotated

import typer

from wqrm import __version__
from wqrm.cli import bench, build, ddpo, edit, evaluate, fit, metrics, redteam, score, snapshot

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="wqrm: writing-quality reward model and evaluation toolkit.",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"wqrm {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """wqrm: writing-quality reward model and evaluation toolkit."""


# run time: scoring and inspection
app.command("score")(score.score)
app.command("metrics")(metrics.metrics)
app.command("catalogue")(metrics.catalogue)
app.command("eval-pairs")(evaluate.eval_pairs)
app.command("red-team")(redteam.red_team)
app.command("snapshot")(snapshot.snapshot)
# benchmarks: systems against reference corpora, and their HTML report
app.command("bench")(bench.bench)
app.command("report")(bench.report)
# DDPO / RL: preference pairs, best-of-N, the reward server
app.command("pairs")(ddpo.pairs)
app.command("rerank")(ddpo.rerank)
app.command("serve")(ddpo.serve)
# build time: reference profile and corpus statistics
app.command("build-profile")(build.build_profile_cmd)
app.command("build-corpus")(build.build_corpus_cmd)
app.command("build-pos-lm")(build.build_pos_lm_cmd)
app.command("build-sentence-order")(build.build_sentence_order_cmd)
# fit time: composite weights, the S1 edit model (with its tagger)
app.command("fit-weights")(fit.fit_weights_command)
app.command("train-edit")(edit.train_edit)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
