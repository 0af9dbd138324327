"""Ablations of the learned composite on the development pairs (dev split by item, as fitted).

Rebuilds the training table exactly as `wqrm fit-weights` did (files, source weights, split, l2 and
cross-fitted S1 all read from the weights JSON), checks that a refit reproduces the shipped α, then
reports pairwise dev accuracy (ties half) per source for:

* the fitted composite; the composite refitted without each S_i; each S_i alone;
* uniform weights; shorter-wins (fewer words) and TTR baselines;

plus the length-adversarial subset, the per-metric direction check on the training pairs, and
Spearman's ρ of the composite (and each component) with `lamp_R_train` dev scores and ArgRewrite
draft scores.

    python benchmarks/composite_ablation.py [--weights W.json] [--cache runs/metric_cache.jsonl]
        [--features-cache runs/features_minilm.npz] [--out benchmarks/results/composite.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from wqrm.baselines import uniform_scorer
from wqrm.components import COMPONENTS
from wqrm.fit.data import load_scored
from wqrm.fit.dataset import build_dataset
from wqrm.fit.pairs import prepare_pair_table
from wqrm.fit.weights import MetricCache, accuracy, collect_metrics, direction_check, fit_weights, text_key
from wqrm.weights import LearnedWeights, composite_scores, default_weights_path, pair_margins

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))


def _f(x, digits=3):
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "metric_cache.jsonl")
    ap.add_argument("--features-cache", type=Path, default=ROOT / "runs" / "features_minilm.npz")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    wpath = args.weights or default_weights_path()
    shipped = LearnedWeights.load(wpath)
    meta = shipped.meta
    pair_files = [DATA / f["file"] for f in meta["pair_files"]]
    scored_files = [DATA / f["file"] for f in meta["scored_files"]]
    split = meta["split"]
    split_kw = {"seed": split["seed"], "dev_percent": split["dev_percent"]}
    table, _ = prepare_pair_table(
        pair_files,
        scored_files,
        meta["source_weights"],
        split["seed"],
        split["dev_percent"],
        args.cache,
        meta.get("cross_fit_edit") is not None,
        args.features_cache,
    )  # the profile's edit_reward reference was already rewritten by the fit (not redone here)
    l2 = meta["l2"]
    train, dev = table.subset(~table.dev), table.subset(table.dev)
    refit = fit_weights(train.A, train.B, train.weight, l2=l2)
    max_diff = max(abs(refit.alpha[c] - shipped.alpha()[c]) for c in COMPONENTS)
    lines = [
        "# Learned composite: ablations on the development pairs",
        "",
        f"Weights `{shipped.name}` ({wpath.name}); refit from the same cache and settings: "
        f"max |Δα| = {max_diff:.2e}. Split by item group (seed {split['seed']}, "
        f"{split['dev_percent']}% dev); S1 of the edit model's own training texts is out-of-fold "
        f"(5 folds). Accuracy with ties counted half; n = dev pairs where the scorer is defined.",
        "",
        "α: " + ", ".join(f"{c} {a:.3f}" for c, a in shipped.alpha().items()) + f"; τ = {shipped.tau:.2f}; "
        f"L2 = {l2:g}; source weights: {json.dumps(meta['source_weights']) or '{}'}",
        "",
    ]

    # ---- scorers as margins on pairs ------------------------------------------------------------
    seen = refit.components_seen
    scorers: dict[str, callable] = {}
    scorers["composite (fitted)"] = lambda t: pair_margins(t.A, t.B, shipped.alpha())
    for c in seen:
        rest = [x for x in seen if x != c]
        fit_c = fit_weights(train.A, train.B, train.weight, l2=l2, components=rest)
        scorers[f"composite without {c}"] = lambda t, a=fit_c.alpha: pair_margins(t.A, t.B, a)
    for c in seen:
        onehot = {x: float(x == c) for x in COMPONENTS}
        scorers[f"{c} alone"] = lambda t, a=onehot: pair_margins(t.A, t.B, a)
    uniform = dict.fromkeys(COMPONENTS, 1 / len(COMPONENTS))
    scorers["uniform weights"] = lambda t: pair_margins(t.A, t.B, uniform)
    scorers["shorter wins"] = lambda t: (t.n_words[:, 1] - t.n_words[:, 0]).astype(float)

    def raw_margin(t, name):
        return np.array(
            [
                np.nan if b.get(name) is None or w.get(name) is None else b[name] - w[name]
                for b, w in zip(t.better_metrics, t.worse_metrics, strict=True)
            ]
        )

    scorers["edit model alone (raw edit_reward)"] = lambda t: raw_margin(t, "edit_reward")
    scorers["TTR"] = lambda t: raw_margin(t, "ttr")

    sources = sorted(set(dev.source.tolist()), key=lambda s: (not s.startswith("lamp"), s))
    lamp = np.array([s.startswith("lamp") for s in dev.source])
    groups = [("all dev", np.ones(len(dev.source), bool)), ("LAMP (all lamp_*)", lamp)]
    groups += [(s, dev.source == s) for s in sources]
    header = "| scorer | " + " | ".join(f"{g} (n={int(m.sum())})" for g, m in groups)
    n_adv, n_adv_lamp = int(dev.length_adversarial.sum()), int((dev.length_adversarial & lamp).sum())
    header += f" | length-adv all (n={n_adv}) | length-adv LAMP (n={n_adv_lamp}) |"
    lines += ["## Dev accuracy by source", "", header, "|" + "---|" * (len(groups) + 3)]
    for name, fn in scorers.items():
        m = fn(dev)
        cells = [_f(accuracy(m[mask])) for _, mask in groups]
        adv = dev.length_adversarial
        cells += [_f(accuracy(m[adv])), _f(accuracy(m[adv & lamp]))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print(lines[-1], file=sys.stderr)

    # ---- direction check --------------------------------------------------------------------------
    checks = direction_check(train.better_metrics, train.worse_metrics)
    lamp_tr = np.array([s.startswith("lamp") for s in train.source])
    checks_lamp = direction_check(
        [m for m, k in zip(train.better_metrics, lamp_tr, strict=True) if k],
        [m for m, k in zip(train.worse_metrics, lamp_tr, strict=True) if k],
    )
    lines += [
        "",
        "## Direction check (training pairs)",
        "",
        "Share of training pairs where a metric, read in its declared direction, prefers the human-"
        "preferred text (band metrics: by goodness). `disagrees` = 95% bootstrap interval below 0.5. "
        "Reported, not flipped.",
        "",
        "| metric | component | declared | all: agreement (n) | verdict | LAMP: agreement (n) | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for k, v in sorted(checks.items(), key=lambda kv: (kv[1]["component"], kv[0])):
        lv = checks_lamp[k]
        lines.append(
            f"| {k} | {v['component']} | {v['declared']} | {_f(v['agreement'])} ({v['n']}) | {v['verdict']} "
            f"| {_f(lv['agreement'])} ({lv['n']}) | {lv['verdict']} |"
        )

    # ---- scored paragraphs --------------------------------------------------------------------------
    mc = MetricCache(args.cache)
    ds = build_dataset(pair_files, scored_files, weights=meta["source_weights"], **split_kw)
    lamp_dev = ds.scored_dev  # scored rows of dev item groups, grouped exactly as in the fit
    drafts = load_scored([DATA / "scored" / "argrewrite_drafts.jsonl"])
    collect_metrics([s.text for s in [*lamp_dev, *drafts]], mc)
    train_keys = {text_key(t) for p in train.pairs for t in (p.better, p.worse)}
    lines += [
        "",
        "## Spearman ρ with human scores",
        "",
        "`lamp_R_train` dev: the scored rows of dev item groups (never in a training pair). ArgRewrite "
        "drafts: every draft; drafts also present in a training pair are counted in brackets.",
        "",
        "| scorer | lamp_R dev ρ (n) | ArgRewrite drafts ρ (n) |",
        "|---|---|---|",
    ]

    metric_scorer = uniform_scorer()  # profile goodness only; its weights are not used

    def comps(items):
        rows = [mc.rows[text_key(s.text)]["metrics"] for s in items]
        return metric_scorer.component_matrix(rows), np.array([s.score for s in items])

    Cl, yl = comps(lamp_dev)
    Cd, yd = comps(drafts)
    n_overlap = sum(text_key(s.text) in train_keys for s in drafts)
    words_l = np.array([mc.rows[text_key(s.text)]["n_words"] for s in lamp_dev], float)
    words_d = np.array([mc.rows[text_key(s.text)]["n_words"] for s in drafts], float)

    def rho(x, y):
        ok = ~np.isnan(x)
        if ok.sum() < 3:
            return None, int(ok.sum())
        return float(spearmanr(x[ok], y[ok]).statistic), int(ok.sum())

    rows = [
        ("composite (fitted)", composite_scores(Cl, shipped.alpha()), composite_scores(Cd, shipped.alpha()))
    ]
    rows.append(("uniform weights", composite_scores(Cl, uniform), composite_scores(Cd, uniform)))
    rows += [(f"{c} alone", Cl[:, i], Cd[:, i]) for i, c in enumerate(COMPONENTS) if c in seen]
    raw_l = np.array([mc.rows[text_key(s.text)]["metrics"]["edit_reward"] for s in lamp_dev], float)
    raw_d = np.array([mc.rows[text_key(s.text)]["metrics"]["edit_reward"] for s in drafts], float)
    rows.append(("edit model alone (raw edit_reward)", raw_l, raw_d))
    rows.append(("shorter wins", -words_l, -words_d))
    for name, xl, xd in rows:
        (rl, nl), (rd, nd) = rho(xl, yl), rho(xd, yd)
        lines.append(f"| {name} | {_f(rl)} ({nl}) | {_f(rd)} ({nd}; {n_overlap} in training pairs) |")

    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
