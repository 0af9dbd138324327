"""The learned composite on every development source: LOSO, cross-fit, baselines and ablations.

Rebuilds the pair table exactly as `wqrm fit-weights` did (files, source weights, split, human ≻ AI
pairs and negatives, all read from the weights JSON; the metric cache makes this fast), checks that
a refit reproduces the shipped α, then reports (accuracy with ties counted half):

* leave-one-source-out accuracy of the chosen setting, next to each source's shorter-wins baseline;
* the 2-fold cross-fit accuracy of the all-sources fit, and the dev-split accuracy of the shipped α,
  uniform α, S1 alone, the raw edit reward, shorter-wins and TTR;
* ablations: the chosen setting refitted without each component (LOSO worst margin and mean);
* Spearman ρ with lamp_R_train dev scores and ArgRewrite draft grades.

    python benchmarks/composite_ablation.py [--weights W.json] [--cache runs/metric_cache.jsonl]
        [--out benchmarks/results/composite.md]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from wqrm.components import COMPONENTS
from wqrm.fit.data import load_scored
from wqrm.fit.dataset import build_dataset
from wqrm.fit.evaluate import pair_credit
from wqrm.fit.loso import FitSetting, crossfit_report, loso_report, source_group
from wqrm.fit.pairs import prepare_pair_table
from wqrm.fit.weights import MetricCache, accuracy, collect_metrics, fit_weights, metric_scorer, text_key
from wqrm.weights import LearnedWeights, composite_scores, default_weights_path, pair_margins

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))


def _f(x) -> str:
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weights", type=Path, default=None)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "metric_cache.jsonl")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    wpath = args.weights or default_weights_path()
    shipped = LearnedWeights.load(wpath)
    meta = shipped.meta
    split = meta["split"]
    setting = FitSetting(
        meta["setting"]["l2"], meta["setting"]["group_weights"], tuple(meta["setting"]["components"])
    )
    pair_files = [DATA / f["file"] for f in meta["pair_files"]]
    scored_files = [DATA / f["file"] for f in meta["scored_files"]]
    hva = DATA / "human_vs_ai" / meta["human_vs_ai"]["file"] if meta.get("human_vs_ai") else None
    table, _ = prepare_pair_table(
        pair_files,
        scored_files,
        meta["source_weights"],
        split["seed"],
        split["dev_percent"],
        args.cache,
        human_vs_ai=hva,
    )
    groups = np.array([source_group(s) for s in table.source])
    usable = table.subset(table.fit_ok)
    ug = groups[table.fit_ok]
    w = usable.weight * np.array([setting.weight_of(g) for g in ug])
    refit = fit_weights(usable.A, usable.B, w, l2=setting.l2, components=setting.components)
    max_diff = max(abs(refit.alpha[c] - shipped.alpha()[c]) for c in COMPONENTS)
    lines = [
        "# Learned composite: every development source",
        "",
        f"Weights `{shipped.name}` ({wpath.name}); refit from the same cache and setting: max |Δα| = "
        f"{max_diff:.2e}. Setting chosen leave-one-source-out: {json.dumps(setting.as_dict())}. Pairs S1 was "
        f"trained on are excluded from fitting and scoring α ({int((~table.fit_ok).sum())} pairs). "
        "Accuracy with ties counted half.",
        "",
        "α: " + ", ".join(f"{c} {a:.3f}" for c, a in shipped.alpha().items()) + f"; τ = {shipped.tau:.2f}",
        "",
        "## Leave-one-source-out and cross-fit",
        "",
        "LOSO: α fitted without the source, scored on it. Cross-fit: α fitted on every source but one half "
        "(by item group) of this one, scored on that half.",
        "",
        "| source | n | LOSO | shorter wins | LOSO − shorter | LOSO length-adv (n) | cross-fit |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    loso = loso_report(table, setting)
    cross = crossfit_report(table, setting)
    for g, r in loso.items():
        margin = None if r["accuracy"] is None else r["accuracy"] - r["shorter_wins"]
        adv = f"{_f(r['length_adversarial_accuracy'])} ({r['n_length_adversarial']})"
        cf = _f(cross.get(g, {}).get("accuracy"))
        acc, base = _f(r["accuracy"]), _f(r["shorter_wins"])
        lines.append(f"| {g} | {r['n']} | {acc} | {base} | {_f(margin)} | {adv} | {cf} |")
    worst = min(r["accuracy"] - r["shorter_wins"] for r in loso.values())
    lines += ["", f"Worst LOSO margin over shorter-wins: {worst:+.3f}.", ""]

    # ---- dev split: scorers -------------------------------------------------------------------
    dev = table.subset(table.dev & table.fit_ok)
    dg = groups[table.dev & table.fit_ok]
    uniform = dict.fromkeys(COMPONENTS, 1 / len(COMPONENTS))

    def raw_margin(t, name):
        return np.array(
            [
                np.nan if b.get(name) is None or x.get(name) is None else b[name] - x[name]
                for b, x in zip(t.better_metrics, t.worse_metrics, strict=True)
            ]
        )

    scorers = {
        "composite (shipped α)": lambda t: pair_margins(t.A, t.B, shipped.alpha()),
        "uniform α": lambda t: pair_margins(t.A, t.B, uniform),
        "S1 alone": lambda t: pair_margins(t.A, t.B, {c: float(c == "S1") for c in COMPONENTS}),
        "edit model (raw edit_reward)": lambda t: raw_margin(t, "edit_reward"),
        "shorter wins": lambda t: (t.n_words[:, 1] - t.n_words[:, 0]).astype(float),
        "TTR": lambda t: raw_margin(t, "ttr"),
    }
    cols = [g for g in [*loso, "negatives"] if (dg == g).any()]
    lines += [
        "## Dev split (pairs S1 was not trained on)",
        "",
        "S1 never saw these pairs; the shipped α was fitted on every pair S1 did not see, these"
        " included (6 free weights), so the composite's row here is in-sample for α: its held-out"
        " figures are the LOSO and cross-fit columns above.",
        "",
        "| scorer | " + " | ".join(f"{g} (n={int((dg == g).sum())})" for g in cols) + " | LAMP length-adv |",
        "|---|" + "---:|" * (len(cols) + 1),
    ]
    lamp_adv = (dg == "lamp") & dev.length_adversarial
    for name, fn in scorers.items():
        m = fn(dev)
        cells = [_f(accuracy(m[dg == g])) for g in cols] + [_f(accuracy(m[lamp_adv]))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    # ---- ablations ----------------------------------------------------------------------------
    lines += [
        "",
        "## Ablations (chosen setting, LOSO)",
        "",
        "| components | worst LOSO margin | mean LOSO accuracy | " + " | ".join(loso) + " |",
        "|---|---:|---:|" + "---:|" * len(loso),
    ]
    variants = [("as shipped", setting.components)]
    variants += [
        (f"without {c}", tuple(x for x in setting.components if x != c)) for c in refit.components_seen
    ]
    for label, comps in variants:
        rep = loso_report(table, FitSetting(setting.l2, setting.group_weights, comps))
        margins = [r["accuracy"] - r["shorter_wins"] for r in rep.values()]
        accs = [r["accuracy"] for r in rep.values()]
        lines.append(
            f"| {label} | {min(margins):+.3f} | {np.mean(accs):.3f} | "
            + " | ".join(_f(rep[g]["accuracy"]) for g in loso)
            + " |"
        )

    # ---- scored texts -------------------------------------------------------------------------
    mc = MetricCache(args.cache)
    ds = build_dataset(
        pair_files,
        scored_files,
        weights=meta["source_weights"],
        seed=split["seed"],
        dev_percent=split["dev_percent"],
    )
    drafts = load_scored([DATA / "scored" / "argrewrite_drafts.jsonl"])
    collect_metrics([s.text for s in [*ds.scored_dev, *drafts]], mc)
    scorer = metric_scorer()

    def comps_of(items):
        rows = [mc.rows[text_key(s.text)]["metrics"] for s in items]
        return scorer.component_matrix(rows), np.array([s.score for s in items])

    def rho(x, y):
        ok = ~np.isnan(x)
        return (
            (float(spearmanr(x[ok], y[ok]).statistic), int(ok.sum()))
            if ok.sum() >= 3
            else (None, int(ok.sum()))
        )

    Cl, yl = comps_of(ds.scored_dev)
    Cd, yd = comps_of(drafts)
    words = {
        k: np.array([mc.rows[text_key(s.text)]["n_words"] for s in items], float)
        for k, items in (("l", ds.scored_dev), ("d", drafts))
    }
    lines += [
        "",
        "## Spearman ρ with human scores",
        "",
        "| scorer | lamp_R dev ρ (n) | ArgRewrite drafts ρ (n) |",
        "|---|---|---|",
    ]
    for name, xl, xd in [
        (
            "composite (shipped α)",
            composite_scores(Cl, shipped.alpha()),
            composite_scores(Cd, shipped.alpha()),
        ),
        ("uniform α", composite_scores(Cl, uniform), composite_scores(Cd, uniform)),
        ("S1 alone", Cl[:, 0], Cd[:, 0]),
        ("shorter wins", -words["l"], -words["d"]),
    ]:
        (rl, nl), (rd, nd) = rho(xl, yl), rho(xd, yd)
        lines.append(f"| {name} | {_f(rl)} ({nl}) | {_f(rd)} ({nd}) |")
    shorter = pair_credit(usable.n_words[:, 1] - usable.n_words[:, 0], np.zeros(len(usable.pairs)))
    lines += ["", f"Shorter-wins over all fit pairs: {shorter.mean():.3f} (n={len(shorter)})."]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
