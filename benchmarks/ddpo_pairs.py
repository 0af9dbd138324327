"""`wqrm pairs` on realistic candidates, the length guard, and what balancing costs in accuracy.

1. Candidates: `human_vs_ai/slop_score.jsonl` (60 prompts × ~21 model outputs; grouped by
   `meta.prompt_index`, prompt = `meta.prompt`) is converted into a candidates JSONL in a temporary
   directory (no data is written into the repository) and run through `wqrm.pairs.pairs_jsonl` —
   the code behind `wqrm pairs` — once, without balancing. Reported: time, texts/s, pairs, the
   share of pairs whose chosen text is the longer one, the same share after `--balance-length`
   (the balancer decides pair by pair in file order from the pairs kept so far, so applying it to
   the unbalanced file keeps exactly the pairs a `--balance-length` run writes), the DDPO weights,
   and how often the chosen text (best composite *with* S8) is also the best composite without S8.
2. Accuracy cost of balancing: the development pairs of the shipped weights (`dev_ids` in the
   weights JSON: LAMP pair files and linked `lamp_R_train` pairs; all four LAMP pair files when the
   weights carry no `dev_ids`) are scored one text at a time (no group). The composite "chooses" the
   text it scores higher; accuracy = share of pairs where that is the human-preferred text. Then the
   composite's pairs are balanced with the same `LengthBalancer` (in 20 seeded random orders) and
   the accuracy of the pairs kept is reported next to the accuracy of all pairs.

    nice -n 10 python benchmarks/ddpo_pairs.py [--prompts N] [--mode all|best-worst] [--margin M]
        [--weights W.json] [--dev-pairs N | --skip-dev] [--keep DIR [--resume]] [--out results.md]

Prints a Markdown report (and writes it to --out). Everything it needs is in this file and in the
`wqrm` package; rerun it unchanged after the reward model changes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from wqrm.ddpo import LengthBalancer
from wqrm.pairs import default_log_path, pairs_jsonl
from wqrm.weights import default_weights_path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))
LAMP_FILES = {  # file → (better field, worse field)
    "edit_pairs/lamp_reannotation.jsonl": ("edited", "original"),
    "edit_pairs/lamp_llm_edited.jsonl": ("edited", "original"),
    "edit_pairs/lamp_P_editor_val.jsonl": ("edited", "original"),
    "pairs/lamp_S_val_silver.jsonl": ("chosen", "rejected"),
}


def slop_candidates(path: Path, out: Path, prompts: int | None) -> tuple[int, int]:
    """Write {id, prompt, candidates} rows grouped by meta.prompt_index; (groups, texts)."""
    groups: dict[int, dict] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            k = r["meta"]["prompt_index"]
            g = groups.setdefault(k, {"id": f"prompt-{k}", "prompt": r["meta"]["prompt"], "candidates": []})
            g["candidates"].append(r["text"])
    chosen = sorted(groups)[:prompts] if prompts else sorted(groups)
    with out.open("w", encoding="utf-8") as fh:
        for k in chosen:
            fh.write(json.dumps(groups[k], ensure_ascii=False) + "\n")
    return len(chosen), sum(len(groups[k]["candidates"]) for k in chosen)


def dev_pairs(weights_path: Path | None) -> tuple[list[tuple[str, str]], str]:
    """(better, worse) texts of the development pairs, and a line saying which pairs they are."""
    meta = json.loads(Path(weights_path or default_weights_path()).read_text(encoding="utf-8"))
    dev = set(meta.get("dev_ids") or ())
    pairs: list[tuple[str, str]] = []
    for name, (better, worse) in LAMP_FILES.items():
        with (DATA / name).open(encoding="utf-8") as fh:
            for line in fh:
                r = json.loads(line)
                if not dev or r["id"] in dev:
                    pairs.append((r[better], r[worse]))
    if not dev:
        return pairs, f"all {len(pairs)} pairs of the four LAMP pair files (the weights carry no dev_ids)"
    scored = {}
    with (DATA / "scored" / "lamp_R_train.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            scored[r["id"]] = r
    linked = 0
    for pid in sorted(dev):
        a, sep, b = pid.partition(">")
        if sep and a in scored and b in scored and a.startswith("lamp_R_train"):
            ra, rb = scored[a], scored[b]
            if ra["score"] != rb["score"]:
                hi, lo = (ra, rb) if ra["score"] > rb["score"] else (rb, ra)
                pairs.append((hi["text"], lo["text"]))
                linked += 1
    n_files = len(pairs) - linked
    return pairs, (
        f"{len(pairs)} LAMP dev pairs of the shipped weights "
        f"({n_files} from pair files, {linked} linked lamp_R)"
    )


def balance_cost(pairs, results, seeds: int = 20) -> dict:
    picks = []  # (composite pick correct?, words of the picked text, words of the other)
    for i in range(len(pairs)):
        rb, rw = results[2 * i], results[2 * i + 1]  # (better, worse) texts of pair i
        if rb.score is None or rw.score is None or rb.score == rw.score:
            continue
        correct = rb.score > rw.score
        pick, other = (rb, rw) if correct else (rw, rb)
        picks.append((correct, pick.n_words, other.n_words))
    acc_all = sum(c for c, _, _ in picks) / len(picks)
    all_balancer = LengthBalancer()
    for _, a, b in picks:
        all_balancer.add({"n_words_chosen": a, "n_words_rejected": b})
    kept_acc, kept_n, kept_share = [], [], []
    for seed in range(seeds):
        order = picks[:]
        random.Random(seed).shuffle(order)
        bal = LengthBalancer()
        kept = [c for c, a, b in order if bal.accept({"n_words_chosen": a, "n_words_rejected": b})]
        kept_acc.append(sum(kept) / len(kept))
        kept_n.append(len(kept))
        kept_share.append(bal.share)
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    return {
        "n": len(picks),
        "ties_or_errors": len(pairs) - len(picks),
        "acc_all": acc_all,
        "share_all": all_balancer.share,
        "acc_kept": mean(kept_acc),
        "acc_kept_range": (min(kept_acc), max(kept_acc)),
        "n_kept": mean(kept_n),
        "share_kept": mean(kept_share),
        "seeds": seeds,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=None, help="Only the first N prompts (development).")
    ap.add_argument("--mode", default="all", choices=["all", "best-worst"])
    ap.add_argument("--margin", type=float, default=0.0)
    ap.add_argument("--weights", type=Path, default=None, help="Weights JSON (default: shipped).")
    ap.add_argument("--skip-dev", action="store_true", help="Skip the accuracy cost on the dev pairs.")
    ap.add_argument(
        "--dev-pairs", type=int, default=None, help="A seeded sample of N dev pairs (default all)."
    )
    ap.add_argument("--keep", type=Path, default=None, help="Keep the candidates / pairs files in DIR.")
    ap.add_argument("--resume", action="store_true", help="With --keep: continue the pairs run kept there.")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.resume and args.keep is None:
        ap.error("--resume needs --keep DIR")

    import wqrm

    lines = ["# `wqrm pairs` benchmark", "", f"`{shlex.join(['python', *sys.argv])}`", ""]
    t0 = time.perf_counter()
    scorer = wqrm.load(weights=str(args.weights) if args.weights else None)
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        cands, out = work / "candidates.jsonl", work / "pairs.jsonl"
        if not args.resume:
            for f in (out, default_log_path(out)):
                f.unlink(missing_ok=True)
        n_groups, n_texts = slop_candidates(DATA / "human_vs_ai" / "slop_score.jsonl", cands, args.prompts)
        words = [
            len(c.split()) for line in cands.open(encoding="utf-8") for c in json.loads(line)["candidates"]
        ]
        pairs_jsonl(cands, out, scorer, mode=args.mode, margin=args.margin)
        pairs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
        log = [json.loads(x) for x in default_log_path(out).read_text(encoding="utf-8").splitlines()]
    # from the group log, so that a resumed run reports the whole run
    seconds = sum(r["seconds"] for r in log)
    texts = sum(r.get("n_unique", 0) for r in log)
    built = LengthBalancer()
    for p in pairs:
        built.add(p)
    bal = LengthBalancer()
    kept = [p for p in pairs if bal.accept(p)]
    ok = [r for r in log if r.get("chosen_index") is not None]
    agree = sum(r["chosen_index"] == r["best_without_s8_index"] for r in ok)
    weights = [p["weight"] for p in pairs]
    per_group = defaultdict(int)
    for p in pairs:
        per_group[p["group"]] += 1

    def f3(x):
        return "—" if x is None else f"{x:.3f}"

    lines += [
        f"Candidates: `slop_score.jsonl`, {n_groups} prompts, {n_texts} texts of "
        f"{sum(words) / len(words):.0f} words on average; mode `{args.mode}`, margin {args.margin:g}; "
        f"weights `{scorer.weights.name}`.",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| scorer load | {load_s:.1f} s |",
        f"| `wqrm pairs` time (scoring + pairs, sum over groups) | {seconds:.1f} s |",
        f"| texts scored | {texts} |",
        f"| texts/s (words/s) | {texts / seconds:.3f} ({sum(words) / seconds:.0f}) |",
        f"| groups with pairs / without | {len(per_group)} / {len(log) - len(per_group)} |",
        f"| pairs | {len(pairs)} ({len(pairs) / max(1, len(per_group)):.1f} per group) |",
        f"| share of pairs with the longer text chosen | {f3(built.share)} |",
        f"| … after `--balance-length` (pairs kept) | {f3(bal.share)} ({len(kept)} of {len(pairs)}) |",
        f"| chosen = best composite without S8 | {agree}/{len(ok)} groups ({agree / max(1, len(ok)):.3f}) |",
        f"| weight δ_w: mean / min / max | {f3(sum(weights) / max(1, len(weights)))} / "
        f"{f3(min(weights, default=None))} / {f3(max(weights, default=None))} |",
        f"| pairs with weight 0 | {sum(w == 0 for w in weights)} |",
        "",
    ]
    print("\n".join(lines), flush=True)
    if not args.skip_dev:
        pairs_dev, which = dev_pairs(args.weights)
        if args.dev_pairs is not None and args.dev_pairs < len(pairs_dev):
            pairs_dev = random.Random(0).sample(pairs_dev, args.dev_pairs)
            which += f", a seeded sample of {args.dev_pairs}"
        t1 = time.perf_counter()
        flat = [t for pair in pairs_dev for t in pair]
        results = []
        for i in range(0, len(flat), 16):
            results += scorer.score_batch(flat[i : i + 16])
            print(f"dev: {len(results)}/{len(flat)} texts scored", file=sys.stderr, flush=True)
        dev_s = time.perf_counter() - t1
        c = balance_cost(pairs_dev, results)
        lo, hi = c["acc_kept_range"]
        dev_lines = [
            f"Accuracy cost of balancing, on {which}; composite picks the higher score "
            f"({c['ties_or_errors']} ties/errors left out; scored in {dev_s:.0f} s):",
            "",
            "| pairs | n | longer picked | accuracy vs human preference |",
            "|---|---:|---:|---:|",
            f"| all composite picks | {c['n']} | {c['share_all']:.3f} | {c['acc_all']:.3f} |",
            f"| kept by `--balance-length` (mean of {c['seeds']} orders) | {c['n_kept']:.1f} | "
            f"{c['share_kept']:.3f} | {c['acc_kept']:.3f} ({lo:.3f}–{hi:.3f}) |",
            "",
            f"Accuracy cost of balancing: {c['acc_all'] - c['acc_kept']:+.3f} (all − kept).",
            "",
        ]
        print("\n".join(dev_lines), flush=True)
        lines += dev_lines
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
