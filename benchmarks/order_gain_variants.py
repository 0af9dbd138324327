"""Which baseline should the order gains compare a text's adjacent sentences with?

    python benchmarks/order_gain_variants.py [--data ../shared/data] [--per-source 40] [--out FILE.md]

`next_sentence_gain` and `adjacent_similarity_gain` read a pair matrix F over a text's sentences
(F_ij = f(e_i, e_j), the next-sentence model's logit, or cos(e_i, e_j)) as G = mean F_i,i+1 −
baseline. Each baseline below keeps E[G] = 0 for shuffled sentences (a uniform permutation puts
every ordered sentence pair at every ordered position pair equally often), and they differ in which
pairs the adjacent ones are compared with:

* ``all`` (sessions 33-34): every ordered pair, each sentence weighted by the adjacent
  pairs it belongs to;
* ``rows`` (measured in session 34, shipped since session 35): each row centred on its
  adjacency-weighted mean before the adjacent mean is taken;
* ``window k``: the ordered pairs at most k sentences apart (both directions): is the next sentence
  a better successor than its close neighbours? The hope: content with no order of its own
  (appended filler) adds pairs whose G is about 0 and dilutes the text's, where the ``all``
  baseline *falls* by the many cross pairs between two blocks that each fit together, and the
  gain rises. (Measured: it does not, because generic closing sentences do read as ordered after
  anything; and it costs LAMP and shuffles. See benchmarks/results/robustness.md, session 35.)

Each metric alone, share of pairs where the preferred text scores higher (ties half; pairs where
either is undefined left out): the robustness suite's shuffled, filler and splice pairs on its
originals (`benchmarks/robustness_suite.py`), "foreign" (each original with one sentence of another
original appended, the red team's `append_foreign`), LAMP (the three LAMP edit files) and human ≻ AI
(dev pairs of `load_human_vs_ai_pairs`) with three sentences or more on both sides.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from robustness_suite import originals  # noqa: E402

from wqrm import resources  # noqa: E402
from wqrm.analysis import analyze_batch, embed_sentences  # noqa: E402
from wqrm.edit.surface import sentences  # noqa: E402
from wqrm.fit.data import is_dev, load_human_vs_ai_pairs, load_pairs  # noqa: E402
from wqrm.fit.negatives import negatives  # noqa: E402
from wqrm.sentence_order import adjacency_weights  # noqa: E402

LAMP_FILES = ("lamp_reannotation.jsonl", "lamp_llm_edited.jsonl", "lamp_P_editor_val.jsonl")
SUITE = ("shuffle_sentences", "generic_filler", "splice_other")


def gain_all(F: np.ndarray) -> float:
    """Sessions 33-34: adjacent mean − adjacency-weighted mean over every ordered pair i ≠ j."""
    n = len(F)
    w = adjacency_weights(n)
    W = np.outer(w, w)
    np.fill_diagonal(W, 0.0)
    return float(np.diagonal(F, 1).mean() - (W * F).sum() / W.sum())


def gain_rows(F: np.ndarray) -> float:
    """Row-centred: F_ij − Σ_{k≠i} w_k F_ik / Σ_{k≠i} w_k, then the adjacent mean."""
    n = len(F)
    w = np.tile(adjacency_weights(n), (n, 1))
    np.fill_diagonal(w, 0.0)
    centred = F - ((w * F).sum(1) / w.sum(1))[:, None]
    return float(np.diagonal(centred, 1).mean())


def gain_window(k: int) -> Callable[[np.ndarray], float]:
    """Adjacent mean − mean over the ordered pairs 1 ≤ |i − j| ≤ k."""

    def g(F: np.ndarray) -> float:
        n = len(F)
        d = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
        near = (d >= 1) & (d <= k)
        return float(np.diagonal(F, 1).mean() - F[near].mean())

    g.__name__ = f"window {k}"
    return g


VARIANTS: dict[str, Callable[[np.ndarray], float]] = {
    "all (session 33)": gain_all,
    "rows (shipped)": gain_rows,
    "window 1": gain_window(1),
    "window 2": gain_window(2),
    "window 3": gain_window(3),
}


def matrices(texts: Sequence[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """text -> (logit matrix, cosine matrix) for texts of three sentences or more."""
    model = resources.get("corpus").sentence_order
    analyses = analyze_batch(list(texts), lang="en")
    embed_sentences(analyses)
    out = {}
    for t, a in zip(texts, analyses, strict=True):
        e = a.sentence_embeddings
        n = len(e)
        if n < 3:
            continue
        i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
        logits = model.pair_logits(e[i.ravel()], e[j.ravel()]).reshape(n, n)
        out[t] = (logits, e @ e.T)
    return out


def foreign_pairs(texts: Sequence[str], seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for t in texts:
        other = rng.choice([u for u in texts if u != t])
        s = sentences(other)
        if s:
            out.append((t, t.rstrip() + " " + rng.choice(s)))
    return out


def pair_sets(data: Path, per_source: int, seed: int) -> dict[str, list[tuple[str, str]]]:
    groups = originals(data, per_source, seed)
    texts = [t for v in groups.values() for t in v]
    sets: dict[str, list[tuple[str, str]]] = {}
    for name in SUITE:
        sets[name] = [(p.better, p.worse) for p in negatives(texts, names=[name], per_text=1, seed=seed)]
    base = list(dict.fromkeys(b for b, _ in sets["shuffle_sentences"]))
    sets["foreign"] = foreign_pairs(base, seed)
    sets["LAMP"] = [(p.better, p.worse) for p in load_pairs([data / "edit_pairs" / f for f in LAMP_FILES])]
    hva = load_human_vs_ai_pairs(data / "human_vs_ai/fast_detect_gpt.jsonl")
    sets["human ≻ AI"] = [(p.better, p.worse) for p in hva if is_dev(p.group or p.id)]
    return sets


def run(data: Path, per_source: int, seed: int) -> dict:
    sets = pair_sets(data, per_source, seed)
    texts = list(dict.fromkeys(t for v in sets.values() for p in v for t in p))
    mats = matrices(texts)
    out: dict[str, dict] = {}
    for which, col in (("next_sentence_gain", 0), ("adjacent_similarity_gain", 1)):
        for vname, g in VARIANTS.items():
            row = {}
            for sname, pairs in sets.items():
                wins = [
                    float(gb > gw) + 0.5 * (gb == gw)
                    for b, w in pairs
                    if b in mats and w in mats
                    for gb, gw in [(g(mats[b][col]), g(mats[w][col]))]
                ]
                row[sname] = (float(np.mean(wins)) if wins else None, len(wins))
            out[f"{which}, {vname}"] = row
    return out


def to_markdown(res: dict) -> str:
    names = list(next(iter(res.values())))
    head = "| metric, baseline | " + " | ".join(f"{n} ({res[next(iter(res))][n][1]})" for n in names) + " |"
    lines = [head, "|---|" + "---:|" * len(names)]
    for key, row in res.items():
        cells = ["–" if row[n][0] is None else f"{row[n][0]:.3f}" for n in names]
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    ap.add_argument("--per-source", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    md = to_markdown(run(args.data, args.per_source, args.seed))
    print(md)
    if args.out:
        args.out.write_text(md)


if __name__ == "__main__":
    main()
