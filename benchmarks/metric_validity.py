"""The evidence behind every metric: does it separate human from AI text, does it agree with human
editors, and does it merely measure length?

For every catalogued metric, on development data that neither the shipped weights nor the metric
itself were fitted on (where a metric was, it says so and uses its own hold-out):

* **AUC human > AI**: human_vs_ai/fast_detect_gpt.jsonl, domain creative_writing, the prompts in
  the *dev* side of the shipped weights' split (`wqrm.fit.data.is_dev` of the prompt group, with the
  weights' seed and dev share; the weights' fit saw none of them). Every AI continuation of such a
  prompt is paired with its human text; the prefix they share (`meta.shared_prefix_chars`) is cut
  from both, so only what each wrote is compared (`wqrm.fit.data.load_human_vs_ai_pairs`, the fit's
  own reader). Balanced: one human and one AI text per pair. AUC = P(g(human) > g(AI)) + ½ P(tie)
  (Mann-Whitney) with g the metric's goodness in [0, 1] against the shipped profile (its declared
  direction, or closeness to its reference band): 0.5 = no signal, below 0.5 = the metric prefers
  the AI text. *raw AUC* compares the values themselves (which way they go); *instr.* is the AUC
  against the instruction-era models only (davinci, GPT-3.5, GPT-4).
* **LAMP accuracy**: the LAMP pairs (editor's edit ≻ AI draft, and the other LAMP sources) in the
  dev side of the shipped weights' split (`wqrm.fit.dataset.build_dataset` with the weights'
  files, seed and dev share; every one must be in the weights' recorded `dev_ids`, and pairs the
  S1 edit model trained on are dropped): the share whose preferred text has the higher goodness,
  ties half, pairs with an undefined side left out.
* **ρ words**: Spearman's ρ between the value and the word count over every distinct text above;
  **defined**: the share of those texts with a value; **mode**: the share of the defined values
  equal to the most common one.
* 95% intervals: percentile bootstrap (1,000 resamples) over prompts (human/AI) and item groups
  (LAMP), since the pairs of one prompt or one paragraph are not independent.
* **verdict**, one word, in this order: `untested` (never defined here: the metric needs context —
  persona, task, candidate group — or a model the shipped build lacks), `sparse` (defined on
  under half of the texts, or one value on at least 80% of those), `length` (|ρ words| ≥ 0.7),
  then from the two intervals: `supported` (both above 0.5),
  `partial` (one above, the other across 0.5 or missing), `conflicting` (one above, one below),
  `inverted` (one or both below, none above), `uninformative` (both across 0.5).

Metric values come from the metric cache that `make weights` and the composite benchmark share
(`runs/metric_cache.jsonl`, keyed by sha1(text); a metric's values from another
`MetricSpec.version` of its code are recomputed): texts missing from it are computed and appended
(about 0.4 s a text on 2 CPU cores), and `--verify` texts already in it are recomputed first and
compared (values differing by more than 1e-5 stop the run: a metric whose code changed its values
without a new `version`). Metrics fitted on part of this data are marked in the table
(`fit_notes`); `gpp` is measured on its own hold-out.

    python benchmarks/metric_validity.py [--cache runs/metric_cache.jsonl] [--verify 12]
        [--out benchmarks/results/metric_validity.md] [--json wqrm/data/metric_validity.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata, spearmanr

import wqrm.metrics as M
from wqrm.analysis import analyze_batch
from wqrm.benchmarks.metric_validity_table import evidence_json, findings, fit_notes, render
from wqrm.build.sources import file_sha256, hash_percent
from wqrm.fit.data import INSTRUCTION_ERA, Pair, is_dev, load_human_vs_ai_pairs, read_jsonl
from wqrm.fit.dataset import build_dataset
from wqrm.fit.weights import MetricCache, collect_metrics, metric_scorer
from wqrm.metrics.edit import shipped_dir
from wqrm.metrics.registry import compute_batch
from wqrm.profile import default_profile
from wqrm.weights import LearnedWeights, default_weights_path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))
HUMAN_VS_AI = "human_vs_ai/fast_detect_gpt.jsonl"
CORPUS_MANIFEST = ROOT / "wqrm" / "data" / "profiles" / "default" / "corpus" / "manifest.json"
LENGTH_RHO = 0.7
SPARSE_SHARE = 0.5
MODE_SHARE = 0.8
MIN_PER_SIDE = 10
VERIFY_TOLERANCE = 1e-5  # sentence-encoder values move ~1e-7 with the batch they are embedded in
# ---- data ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HumanAI:
    """One AI continuation and its human text, the shared prompt prefix cut from both."""

    id: str  # the AI row's id
    prompt: str  # the prompt group, "hva:<meta.group>" as in the weights' split
    human: str
    ai: str
    model: str


def human_ai_pairs(path: Path, domain: str = "creative_writing") -> list[HumanAI]:
    """Every (human, AI) pair of `domain` in a human_vs_ai file, read as the weights' fit reads it
    (`load_human_vs_ai_pairs` without its cap)."""
    models = {r["id"]: r.get("model") or "" for r in read_jsonl(path) if r.get("label") == "ai"}
    pairs = load_human_vs_ai_pairs(path, domain=domain, max_pairs=sys.maxsize)
    return [HumanAI(p.id, p.group, p.better, p.worse, models[p.id]) for p in pairs]


def weights_dev(pairs: Sequence[HumanAI], split: dict) -> list[HumanAI]:
    """The pairs whose prompt is on the dev side of the weights' split (`split`: seed, dev_percent)."""
    return [p for p in pairs if is_dev(p.prompt, split["dev_percent"], split["seed"])]


def phrase_holdout(pairs: Sequence[HumanAI], file_name: str, seed: int, percent: int) -> list[HumanAI]:
    """The pairs whose prompt the generic-phrase build held apart (`wqrm.build.sources.ai_body_rows`:
    sha1("<seed>|<file>:<group>") mod 100 < percent)."""
    return [p for p in pairs if hash_percent(f"{seed}|{file_name}:{p.prompt.removeprefix('hva:')}") < percent]


def check_files(meta: dict, data_dir: Path) -> None:
    """Stop when a file the weights were fitted on has changed (its split would not reproduce)."""
    files = [*meta["pair_files"], *meta["scored_files"]]
    if meta.get("human_vs_ai"):
        files.append({**meta["human_vs_ai"], "file": HUMAN_VS_AI})
    for f in files:
        if file_sha256(data_dir / f["file"]) != f["sha256"]:
            raise SystemExit(f"{f['file']} differs from the file the shipped weights were fitted on")


def lamp_dev_pairs(meta: dict, data_dir: Path, edit_record: dict) -> tuple[list[Pair], int]:
    """(LAMP pairs on the dev side of the weights' split that the S1 edit model did not train on,
    how many of the dev side's LAMP pairs S1 trained on). Every one must be in the weights'
    recorded dev_ids: the split is rebuilt here, and a mismatch means it did not reproduce."""
    ds = build_dataset(
        [data_dir / f["file"] for f in meta["pair_files"]],
        [data_dir / f["file"] for f in meta["scored_files"]],
        weights=meta.get("source_weights") or None,
        dev_percent=meta["split"]["dev_percent"],
        seed=meta["split"]["seed"],
    )
    lamp = [p for p in ds.dev if p.source.startswith("lamp")]
    recorded = set(meta["dev_ids"])
    stray = [p.id for p in lamp if p.id not in recorded]
    if stray:
        raise SystemExit(
            f"{len(stray)} rebuilt LAMP dev pairs are not in the weights' dev_ids, e.g. {stray[0]}"
        )
    s1_sources = {s for s, n in edit_record["data"]["train_pairs"].items() if n}
    s1_dev = set(edit_record.get("dev_ids", []))
    unseen = [p for p in lamp if p.source not in s1_sources or p.id in s1_dev]
    return unseen, len(lamp) - len(unseen)


# ---- statistics ------------------------------------------------------------------------------


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """P(pos > neg) + ½ P(pos = neg), the Mann-Whitney AUC, from mid-ranks."""
    ranks = rankdata(np.concatenate([pos, neg]))
    return float((ranks[: pos.size].sum() - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size))


def cluster_bootstrap(
    stat: Callable[[np.ndarray], float | None],
    clusters: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> tuple[float, float] | None:
    """95% percentile interval of `stat(indices)` over resamples of whole clusters (with
    replacement); None when fewer than half of the resamples give a value (or `n_boot` < 1)."""
    if n_boot < 1:
        return None
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(clusters):
        groups.setdefault(c, []).append(i)
    members = [np.array(ix) for ix in groups.values()]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(members), len(members))
        v = stat(np.concatenate([members[j] for j in pick]))
        if v is not None:
            values.append(v)
    if len(values) < n_boot / 2:
        return None
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


def auc_evidence(
    human: np.ndarray, ai: np.ndarray, clusters: Sequence[str], n_boot: int = 1000
) -> dict[str, Any]:
    """AUC of paired goodness arrays (NaN = undefined, left out on its side), its cluster
    bootstrap interval and the defined counts; AUC None under MIN_PER_SIDE values a side."""

    def stat(ix: np.ndarray) -> float | None:
        h, a = human[ix], ai[ix]
        h, a = h[~np.isnan(h)], a[~np.isnan(a)]
        return auc(h, a) if min(h.size, a.size) >= MIN_PER_SIDE else None

    every = np.arange(human.size)
    value = stat(every)
    return {
        "auc": value,
        "ci95": None if value is None else cluster_bootstrap(stat, clusters, n_boot),
        "n_human": int((~np.isnan(human)).sum()),
        "n_ai": int((~np.isnan(ai)).sum()),
    }


def accuracy_evidence(
    better: np.ndarray, worse: np.ndarray, clusters: Sequence[str], n_boot: int = 1000
) -> dict[str, Any]:
    """Share of pairs whose preferred side has the higher goodness (ties half), over pairs defined
    on both sides; its cluster bootstrap interval; None under MIN_PER_SIDE such pairs."""
    credit = np.where(better > worse, 1.0, np.where(better == worse, 0.5, 0.0))
    credit[np.isnan(better) | np.isnan(worse)] = np.nan

    def stat(ix: np.ndarray) -> float | None:
        c = credit[ix]
        c = c[~np.isnan(c)]
        return float(c.mean()) if c.size >= MIN_PER_SIDE else None

    value = stat(np.arange(credit.size))
    return {
        "accuracy": value,
        "ci95": None if value is None else cluster_bootstrap(stat, clusters, n_boot),
        "n": int((~np.isnan(credit)).sum()),
    }


def side(ci: tuple[float, float] | None) -> str:
    """'+' when a 95% interval lies above 0.5, '-' below, '0' across it or missing."""
    if ci is None:
        return "0"
    return "+" if ci[0] > 0.5 else "-" if ci[1] < 0.5 else "0"


def verdict(
    auc_ci: tuple[float, float] | None,
    acc_ci: tuple[float, float] | None,
    rho_words: float | None,
    defined_share: float,
    mode_share: float | None = None,
) -> str:
    """The one-word verdict (module docstring): context and coverage first, then length, then the
    two signals."""
    if defined_share == 0:
        return "untested"
    if defined_share < SPARSE_SHARE or (mode_share is not None and mode_share >= MODE_SHARE):
        return "sparse"
    if rho_words is not None and abs(rho_words) >= LENGTH_RHO:
        return "length"
    signals = {side(auc_ci), side(acc_ci)}
    if signals == {"+"}:
        return "supported"
    if signals == {"+", "0"}:
        return "partial"
    if signals == {"+", "-"}:
        return "conflicting"
    if "-" in signals:
        return "inverted"
    return "uninformative"


# ---- metric values ---------------------------------------------------------------------------


def cached_value(cache: MetricCache, text: str, name: str) -> float | None:
    row = cache.get(text)
    if row is None:
        raise KeyError("a text is missing from the metric cache: collect it first")
    return row["metrics"].get(name)


def verify_cache(cache: MetricCache, texts: Sequence[str], k: int, seed: int = 0) -> dict[str, Counter]:
    """Recompute `k` seeded texts of `texts` (already cached) and stop when a value differs from
    the cache's by more than VERIFY_TOLERANCE (or one side is undefined; a metric the cached row
    does not hold yet is left to `collect_metrics`); returns, per metric, the
    reasons it was undefined on those texts."""
    sample = random.Random(seed).sample(sorted(texts), min(k, len(texts)))
    reasons: dict[str, Counter] = {}
    if not sample:
        return reasons
    stale = []
    for text, r in zip(sample, metric_scorer().score_batch(sample), strict=True):
        old = cache.get(text)["metrics"]
        for name, v in r.metrics.items():
            if name not in old:  # registered after the row was cached: collect_metrics adds it
                continue
            o = old[name]
            if (v is None) != (o is None) or (v is not None and abs(v - o) > VERIFY_TOLERANCE):
                stale.append(f"{name}: cached {o}, now {v}")
            if v is None and name in r.reasons:
                reasons.setdefault(name, Counter())[r.reasons[name]] += 1
    if stale:
        raise SystemExit(
            f"the metric cache is stale ({len(stale)} values differ on {len(sample)} recomputed texts, "
            f"e.g. {stale[0]}): delete it and run again"
        )
    return reasons


def values_of(texts: Sequence[str], name: str, *, chunk: int = 32) -> dict[str, float | None]:
    """One metric's values, computed directly (no cache)."""
    out: dict[str, float | None] = {}
    distinct = list(dict.fromkeys(texts))
    for start in range(0, len(distinct), chunk):
        part = distinct[start : start + chunk]
        for t, mv in zip(part, compute_batch(analyze_batch(part), [name]), strict=True):
            out[t] = mv[name]
    return out


# ---- the table -------------------------------------------------------------------------------


def metric_row(
    spec,
    profile,
    value: Callable[[str], float | None],
    pairs: Sequence[HumanAI],
    lamp: Sequence[Pair],
    texts: Sequence[str],
    n_words: Sequence[int],
    *,
    n_boot: int = 1000,
) -> dict[str, Any]:
    """Every figure of one metric's row; `value(text)` gives its raw value. `pairs` are the
    human/AI pairs for its AUC, `texts` (with `n_words`) every distinct text for ρ and coverage."""

    def goodness(ts: Sequence[str]) -> np.ndarray:
        raw = np.array([np.nan if (v := value(t)) is None else v for t in ts], dtype=np.float64)
        return spec.goodness_values(profile, raw)

    prompts = [p.prompt for p in pairs]
    h_good, a_good = goodness([p.human for p in pairs]), goodness([p.ai for p in pairs])
    hva = auc_evidence(h_good, a_good, prompts, n_boot)
    era = np.array([p.model in INSTRUCTION_ERA for p in pairs])
    era_auc = auc_evidence(h_good[era], a_good[era], [c for c, e in zip(prompts, era, strict=True) if e], 0)
    h_raw = np.array([np.nan if (v := value(p.human)) is None else v for p in pairs])
    a_raw = np.array([np.nan if (v := value(p.ai)) is None else v for p in pairs])
    h_raw, a_raw = h_raw[~np.isnan(h_raw)], a_raw[~np.isnan(a_raw)]
    raw = auc(h_raw, a_raw) if min(h_raw.size, a_raw.size) >= MIN_PER_SIDE else None
    acc = accuracy_evidence(
        goodness([p.better for p in lamp]), goodness([p.worse for p in lamp]), [p.group for p in lamp], n_boot
    )

    vals = [value(t) for t in texts]
    defined = [(v, w) for v, w in zip(vals, n_words, strict=True) if v is not None]
    rho = None
    if len(defined) >= 3 and len({v for v, _ in defined}) > 1:
        rho = float(spearmanr([v for v, _ in defined], [w for _, w in defined])[0])
    share = len(defined) / len(texts) if texts else 0.0
    mode = Counter(v for v, _ in defined).most_common(1)[0][1] / len(defined) if defined else None
    return {
        "component": spec.component,
        "direction": spec.direction,
        "auc_human_ai": hva["auc"],
        "auc_ci95": hva["ci95"],
        "auc_instruction_era": era_auc["auc"],
        "raw_auc_human_ai": raw,
        "n_pairs": len(pairs),
        "n_human": hva["n_human"],
        "n_ai": hva["n_ai"],
        "lamp_accuracy": acc["accuracy"],
        "lamp_ci95": acc["ci95"],
        "n_lamp": acc["n"],
        "rho_words": rho,
        "defined_share": share,
        "mode_share": mode,
        "verdict": verdict(hva["ci95"], acc["ci95"], rho, share, mode),
    }


def _commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return sha.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=ROOT / "runs" / "metric_cache.jsonl")
    ap.add_argument("--verify", type=int, default=12, help="cached texts recomputed and compared first")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--limit", type=int, default=None, help="at most N pairs a set (a quick check)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "metric_validity.md")
    ap.add_argument("--json", type=Path, default=ROOT / "wqrm" / "data" / "metric_validity.json")
    args = ap.parse_args(argv)
    t0 = time.time()

    def say(message: str) -> None:
        print(f"[{time.time() - t0:5.0f} s] {message}", file=sys.stderr, flush=True)

    specs = M.specs()
    weights = LearnedWeights.load(default_weights_path())
    meta, split = weights.meta, weights.meta["split"]
    check_files(meta, DATA)
    every_pair = human_ai_pairs(DATA / HUMAN_VS_AI)
    pairs = weights_dev(every_pair, split)
    phrases = json.loads(CORPUS_MANIFEST.read_text(encoding="utf-8"))
    gpp_pairs = phrase_holdout(
        every_pair, Path(HUMAN_VS_AI).name, phrases["seed"], phrases["options"]["holdout_percent"]
    )
    edit_record = json.loads((shipped_dir() / "training.json").read_text(encoding="utf-8"))
    lamp, s1_seen = lamp_dev_pairs(meta, DATA, edit_record)
    if args.limit is not None:
        pairs, gpp_pairs, lamp = pairs[: args.limit], gpp_pairs[: args.limit], lamp[: args.limit]
    texts = list(
        dict.fromkeys(
            [t for p in pairs for t in (p.human, p.ai)] + [t for p in lamp for t in (p.better, p.worse)]
        )
    )
    say(f"{len(pairs)} human/AI pairs, {len(lamp)} LAMP pairs, {len(texts)} distinct texts")

    cache = MetricCache(args.cache)
    before = [t for t in texts if t in cache]
    # first the rows an artefact rebuilt since they were cached (their stamps say so) and the
    # missing texts; then a sample of the cached rows is recomputed to catch code that changed
    collect_metrics(texts, cache, progress=lambda d, n: say(f"{d}/{n} texts computed"))
    say(f"{len(before)} texts were cached; verifying {min(args.verify, len(before))} of them")
    reasons = verify_cache(cache, before, args.verify)
    gpp_extra = values_of([t for p in gpp_pairs for t in (p.human, p.ai) if t not in cache], "gpp")
    say(f"gpp on its own hold-out: {len(gpp_pairs)} pairs ({len(gpp_extra)} texts computed for it)")

    profile = default_profile()
    n_words = [cache.get(t)["n_words"] for t in texts]
    table = {}
    for name, spec in specs.items():

        def value(text: str, name: str = name) -> float | None:
            if name == "gpp" and text in gpp_extra:
                return gpp_extra[text]
            return cached_value(cache, text, name)

        table[name] = metric_row(
            spec,
            profile,
            value,
            gpp_pairs if name == "gpp" else pairs,
            lamp,
            texts,
            n_words,
            n_boot=args.n_boot,
        )
    undefined = {n: c.most_common(1)[0][0] for n, c in reasons.items()}
    notes = fit_notes(phrases)

    models = Counter(p.model for p in pairs)
    today = datetime.date.today().isoformat()
    command = "python benchmarks/metric_validity.py" + (f" --limit {args.limit}" if args.limit else "")
    header = [
        "# Metric validity: the evidence behind each metric",
        "",
        f"Generated {today} by `{command}` (`make bench-validity`; every definition is in its "
        f"docstring), code at {_commit()}, weights `{weights.name}`, profile `{profile.name}`. "
        f"This run took {time.time() - t0:.0f} s ({len(texts) - len(before)} texts computed, "
        f"{len(before)} from the metric cache; {len(gpp_extra)} more parsed for `gpp`).",
        "",
        *findings(table, notes),
        "",
        "## Data",
        "",
        f"* Human vs AI: {len(pairs)} pairs ({len({p.prompt for p in pairs})} prompts) of {HUMAN_VS_AI}, "
        f"creative_writing, the prompts on the dev side of the weights' split (seed {split['seed']}, "
        f"{split['dev_percent']}%), each AI continuation with its human text, shared prefix cut. AI models: "
        + ", ".join(f"{m} {c}" for m, c in sorted(models.items()))
        + f"; *instr.* uses the {sum(models[m] for m in INSTRUCTION_ERA)} instruction-era pairs. "
        f"`gpp`: {len(gpp_pairs)} pairs ({len({p.prompt for p in gpp_pairs})} prompts) held apart "
        "from its phrase build.",
        f"* LAMP: {len(lamp)} pairs on the dev side of the weights' split: "
        + ", ".join(f"{s} {c}" for s, c in sorted(Counter(p.source for p in lamp).items()))
        + f" ({s1_seen} more were seen by the S1 edit model and are left out).",
        f"* ρ words, defined, mode: over all {len(texts)} distinct texts.",
        "* AUC and LAMP accuracy compare goodness (the declared direction or band): 0.5 = no signal, "
        "below 0.5 = the metric prefers the AI text / the unedited draft. 95% intervals: bootstrap "
        f"over prompts and item groups ({args.n_boot} resamples); none under {MIN_PER_SIDE} values a side.",
        "",
        "## Table",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(table, header, undefined, notes), encoding="utf-8")
    settings = {
        "generated": today,
        "command": command,
        "weights": weights.name,
        "profile": profile.name,
        "n_pairs": len(pairs),
        "n_prompts": len({p.prompt for p in pairs}),
        "n_lamp": len(lamp),
        "n_texts": len(texts),
        "code": _commit(),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(evidence_json(table, settings), encoding="utf-8")
    say(f"wrote {args.out} and {args.json}")
    print(args.out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
