"""From per-text scores to the tables of a benchmark (`results.json`, schema in docs/bench.md).

Pure numpy/scipy over the rows of `per_text.jsonl`: nothing here scores a text, so the whole
analysis can be recomputed from a run directory. Groups are systems (`kind` "system"), systems
marked as baselines ("baseline") and reference corpora ("reference"); the shipped profile is a
reference without texts (quantiles only).

* Per group: composite (learned α), composite under uniform α (a baseline scorer applied to the
  same stored components), S1..S8 — means with bootstrap CIs over prompts (when every text has a
  prompt id) or texts.
* Per metric and reference: the group's median and IQR, the share of its texts inside the
  reference's inter-quartile band, and W1(group, reference) / scale_ref (scale: the reference IQR,
  its standard deviation where the IQR is 0) with a percentile CI. A corpus reference is split
  into seeded halves; W1(half A, half B) is its noise floor. The profile's distribution is its
  quantile function interpolated linearly between the 9 stored quantiles (flat beyond the 1st
  and 99th percentiles), represented by 200 equally spaced quantile points.
* Per pair of groups: the win rate of A over B by composite (ties ½) over pairs of texts — within
  shared prompts when both groups have prompt ids and share at least two, else over all pairs —
  with the same win rate under uniform α and under shorter-wins; which components drive the
  composite difference; and the length check: the win rate over the pairs whose word counts are
  within ±tolerance (|n_a − n_b| ≤ tol · max(n_a, n_b)).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from wqrm.benchmarks import stats
from wqrm.components import COMPONENTS
from wqrm.profile import QUANTILE_LEVELS

__all__ = ["BenchConfig", "GroupData", "analyse", "group_data"]

PROFILE_POINTS = 200


@dataclass(frozen=True)
class BenchConfig:
    seed: int = 0
    n_resamples: int = 2000
    confidence: float = 0.95
    length_tolerance: float = 0.10
    min_values: int = 5  # fewer defined values of a metric: no distance
    min_matched_pairs: int = 10  # fewer length-matched pairs: no length verdict
    n_examples: int = 3

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class GroupData:
    """The scored texts (errors excluded) of one group, as arrays."""

    name: str
    kind: str
    rows: list[dict[str, Any]]
    n_errors: int = 0
    score: np.ndarray = field(init=False)
    uniform: np.ndarray = field(init=False)
    words: np.ndarray = field(init=False)
    comps: np.ndarray = field(init=False)
    prompts: list[str] | None = field(init=False)

    def __post_init__(self) -> None:
        self.score = _floats(r["score"] for r in self.rows)
        self.uniform = _floats(r["score_uniform"] for r in self.rows)
        self.words = _floats(r["n_words"] for r in self.rows)
        self.comps = np.array(
            [[_nan(r["components"].get(c)) for c in COMPONENTS] for r in self.rows], dtype=np.float64
        ).reshape(len(self.rows), len(COMPONENTS))
        pids = [r.get("prompt_id") for r in self.rows]
        self.prompts = None if not pids or any(p is None for p in pids) else [str(p) for p in pids]

    def metric(self, name: str) -> np.ndarray:
        return _floats(r["metrics"].get(name) for r in self.rows)

    def subset(self, mask: np.ndarray, name: str) -> GroupData:
        return GroupData(name, self.kind, [r for r, m in zip(self.rows, mask, strict=True) if m])

    @property
    def unit(self) -> str:
        return "prompt" if self.prompts is not None else "text"


def _nan(v: Any) -> float:
    return np.nan if v is None else float(v)


def _floats(values: Any) -> np.ndarray:
    return np.array([_nan(v) for v in values], dtype=np.float64)


def group_data(rows: Sequence[dict[str, Any]], name: str, kind: str) -> GroupData:
    ok = [r for r in rows if r.get("error") is None and r.get("score") is not None]
    return GroupData(name, kind, ok, n_errors=len(rows) - len(ok))


# ---- per group ---------------------------------------------------------------------------------------


def _units(g: GroupData) -> np.ndarray:
    """Unit index of every text: its prompt's index, or its own index."""
    if g.prompts is None:
        return np.arange(len(g.rows))
    index = {p: k for k, p in enumerate(dict.fromkeys(g.prompts))}
    return np.array([index[p] for p in g.prompts], dtype=int)


def mean_interval(values: np.ndarray, units: np.ndarray, key: str, cfg: BenchConfig) -> stats.Interval:
    """Mean of the defined values with a BCa interval resampling units (a cluster bootstrap)."""
    ok = np.isfinite(values)
    if not ok.any():
        return stats.Interval(None, note="undefined for every text")
    n_units = int(units.max()) + 1 if units.size else 0
    num = np.bincount(units[ok], weights=values[ok], minlength=n_units)
    den = np.bincount(units[ok], minlength=n_units).astype(np.float64)
    return stats.ratio_interval(num, den, key=key, **_boot(cfg))


def _boot(cfg: BenchConfig) -> dict[str, Any]:
    return {"seed": cfg.seed, "n_resamples": cfg.n_resamples, "confidence": cfg.confidence}


def group_summary(g: GroupData, cfg: BenchConfig, source: str | None = None) -> dict[str, Any]:
    units = _units(g)
    comps = {}
    for j, c in enumerate(COMPONENTS):
        comps[c] = mean_interval(g.comps[:, j], units, f"{g.name}|{c}", cfg).as_dict()
    return {
        "name": g.name,
        "kind": g.kind,
        "source": source,
        "n_texts": len(g.rows) + g.n_errors,
        "n_scored": len(g.rows),
        "n_errors": g.n_errors,
        "unit": g.unit,
        "n_prompts": None if g.prompts is None else len(set(g.prompts)),
        "words": {
            "mean": float(np.mean(g.words)) if len(g.rows) else None,
            "median": float(np.median(g.words)) if len(g.rows) else None,
        },
        "composite": mean_interval(g.score, units, f"{g.name}|composite", cfg).as_dict(),
        "composite_uniform": mean_interval(g.uniform, units, f"{g.name}|uniform", cfg).as_dict(),
        "components": comps,
    }


# ---- per metric ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """A distribution to compare with: a corpus (values per text) or the profile (quantiles)."""

    name: str
    kind: str  # "corpus" | "profile"
    values: Mapping[str, np.ndarray]  # metric → defined values (profile: pseudo-sample)
    quartiles: Mapping[str, tuple[float, float, float]]
    scales: Mapping[str, tuple[float | None, str]]
    halves: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def corpus_reference(g: GroupData, metric_names: Sequence[str]) -> Reference:
    """A corpus reference from a reference group; its texts are split into seeded halves."""
    half = np.array([r.get("half", 0) for r in g.rows])
    values, quartiles, scales, halves = {}, {}, {}, {}
    for m in metric_names:
        v = g.metric(m)
        ok = np.isfinite(v)
        values[m] = v[ok]
        if ok.sum() >= 1:
            q = np.percentile(v[ok], [25, 50, 75])
            quartiles[m] = (float(q[0]), float(q[1]), float(q[2]))
        scales[m] = stats.scale_of(v[ok])
        halves[m] = (v[ok & (half == 0)], v[ok & (half == 1)])
    return Reference(g.name, "corpus", values, quartiles, scales, halves)


def profile_reference(profile: Any, metric_names: Sequence[str]) -> Reference:
    """The profile as a reference: for each metric it holds, its quantile function on 200 points."""
    levels = (np.arange(PROFILE_POINTS) + 0.5) / PROFILE_POINTS
    values, quartiles, scales = {}, {}, {}
    for m in metric_names:
        mq = profile.metrics.get(m)
        if mq is None or mq.n == 0:
            continue
        q = np.asarray(mq.quantiles, dtype=np.float64)
        values[m] = np.interp(levels, QUANTILE_LEVELS, q)
        quartiles[m] = (mq.at(0.25), mq.at(0.5), mq.at(0.75))
        iqr = mq.at(0.75) - mq.at(0.25)
        scales[m] = (iqr, "iqr") if iqr > 0 else ((mq.std, "std") if mq.std > 0 else (None, "constant"))
    return Reference(f"profile:{profile.name}", "profile", values, quartiles, scales)


def _describe(v: np.ndarray) -> dict[str, Any]:
    q = np.percentile(v, [25, 50, 75])
    return {"n": int(v.size), "q25": float(q[0]), "median": float(q[1]), "q75": float(q[2])}


def metric_table(
    groups: Sequence[GroupData], refs: Sequence[Reference], metric_names: Sequence[str], cfg: BenchConfig
) -> dict[str, Any]:
    """{metric: {"references": {ref: {quartiles, scale, noise_floor, groups: {g: cell}}}}}."""
    boot = {**_boot(cfg), "n_resamples": min(cfg.n_resamples, 1000)}
    table: dict[str, Any] = {}
    for m in metric_names:
        entry: dict[str, Any] = {}
        group_values = {g.name: g.metric(m) for g in groups}
        for ref in refs:
            y = ref.values.get(m)
            scale, scale_kind = ref.scales.get(m, (None, "metric not in reference"))
            if y is None or y.size < cfg.min_values or scale is None:
                why = (
                    "not in this reference"
                    if y is None
                    else f"{y.size} reference values (fewer than {cfg.min_values})"
                    if y.size < cfg.min_values
                    else scale_kind
                )
                entry[ref.name] = {"note": f"no reference distribution: {why}"}
                continue
            q25, med, q75 = ref.quartiles[m]
            cell: dict[str, Any] = {
                "q25": q25,
                "median": med,
                "q75": q75,
                "scale": scale,
                "scale_kind": scale_kind,
            }
            if ref.kind == "corpus":
                a, b = ref.halves[m]
                cell["noise_floor"] = (
                    stats.wasserstein1_interval(a, b, scale, key=f"{ref.name}|halves|{m}", **boot).as_dict()
                    if min(a.size, b.size) >= cfg.min_values
                    else None
                )
            cells = {}
            for g in groups:
                if g.name == ref.name:
                    continue
                x = group_values[g.name]
                x = x[np.isfinite(x)]
                if x.size < cfg.min_values:
                    cells[g.name] = {"n": int(x.size), "note": f"fewer than {cfg.min_values} defined values"}
                    continue
                d = stats.wasserstein1_interval(
                    x,
                    y,
                    scale,
                    key=f"{g.name}|{ref.name}|{m}",
                    resample_reference=ref.kind == "corpus",
                    **boot,
                )
                cells[g.name] = {
                    **_describe(x),
                    "inside_band": float(np.mean((x >= q25) & (x <= q75))),
                    "distance": d.as_dict(),
                }
            cell["groups"] = cells
            entry[ref.name] = cell
        table[m] = entry
    return table


def distance_summary(table: Mapping[str, Any], groups: Sequence[str], refs: Sequence[str]) -> dict[str, Any]:
    """Median over metrics of each group's distance to each reference (and of the noise floor)."""
    out: dict[str, Any] = {}
    for ref in refs:
        per_group: dict[str, Any] = {}
        for g in groups:
            d = [
                e[ref]["groups"][g]["distance"]["value"]
                for e in table.values()
                if g in e.get(ref, {}).get("groups", {})
                and "distance" in e[ref]["groups"][g]
                and e[ref]["groups"][g]["distance"]["value"] is not None
            ]
            per_group[g] = {"median": float(np.median(d)) if d else None, "n_metrics": len(d)}
        floors = [
            e[ref]["noise_floor"]["value"]
            for e in table.values()
            if (e.get(ref, {}).get("noise_floor") or {}).get("value") is not None
        ]
        out[ref] = {
            "groups": per_group,
            "noise_floor": {"median": float(np.median(floors)) if floors else None, "n_metrics": len(floors)},
        }
    return out


# ---- pairs of groups -------------------------------------------------------------------------------


def _pairing(a: GroupData, b: GroupData) -> str:
    if a.prompts is not None and b.prompts is not None and len(set(a.prompts) & set(b.prompts)) >= 2:
        return "prompt"
    return "unpaired"


def _prompt_pairs(a: GroupData, b: GroupData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(index in a, index in b, prompt unit) of every pair of texts on a shared prompt."""
    shared = sorted(set(a.prompts) & set(b.prompts))
    unit = {p: k for k, p in enumerate(shared)}
    by_b: dict[str, list[int]] = {}
    for j, p in enumerate(b.prompts):
        by_b.setdefault(p, []).append(j)
    ia, ib, u = [], [], []
    for i, p in enumerate(a.prompts):
        for j in by_b.get(p, []) if p in unit else []:
            ia.append(i)
            ib.append(j)
            u.append(unit[p])
    return np.array(ia, dtype=int), np.array(ib, dtype=int), np.array(u, dtype=int)


def _length_match(wa: np.ndarray, wb: np.ndarray, tol: float) -> np.ndarray:
    return np.abs(wa - wb) <= tol * np.maximum(wa, wb)


def _win_interval(
    sa: np.ndarray,
    sb: np.ndarray,
    a: GroupData,
    b: GroupData,
    pairing: str,
    key: str,
    cfg: BenchConfig,
    mask=None,
) -> stats.Interval:
    if pairing == "prompt":
        ia, ib, u = _prompt_pairs(a, b)
        x, y = sa[ia], sb[ib]
        w = np.where(np.isnan(x) | np.isnan(y), np.nan, (x > y) + 0.5 * (x == y))
        keep = np.isfinite(w) if mask is None else (np.isfinite(w) & mask)
        n_units = int(u.max()) + 1 if u.size else 0
        num = np.bincount(u[keep], weights=w[keep], minlength=n_units)
        den = np.bincount(u[keep], minlength=n_units).astype(np.float64)
        return stats.ratio_interval(num, den, key=key, **_boot(cfg))
    return stats.two_sample_pair_interval(stats.pairwise_wins(sa, sb), mask, key=key, **_boot(cfg))


def _pair_chunks(
    a: GroupData, b: GroupData, pairing: str, chunk: int = 256
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Index arrays of the compared pairs, in chunks (all pairs of two unpaired groups can be many)."""
    if pairing == "prompt":
        ia, ib, _ = _prompt_pairs(a, b)
        yield ia, ib
        return
    nb = len(b.rows)
    for start in range(0, len(a.rows), chunk):
        rows = np.arange(start, min(start + chunk, len(a.rows)))
        yield np.repeat(rows, nb), np.tile(np.arange(nb), rows.size)


def component_drivers(a: GroupData, b: GroupData, pairing: str, alpha: Mapping[str, float]) -> dict[str, Any]:
    """Mean difference of each component over the compared pairs and its share of the mean
    composite margin: contribution_i = mean over pairs of α_i (A_i − B_i) / Σ_shared α; the
    contributions sum to the mean margin Σ_shared α_i (A_i − B_i) / Σ_shared α_i."""
    al = np.array([alpha.get(c, 0.0) for c in COMPONENTS], dtype=np.float64)
    diff_sum = np.zeros(len(COMPONENTS))
    diff_n = np.zeros(len(COMPONENTS))
    contrib = np.zeros(len(COMPONENTS))
    n_pairs = 0
    for ia, ib in _pair_chunks(a, b, pairing):
        A, B = a.comps[ia], b.comps[ib]
        shared = np.isfinite(A) & np.isfinite(B)
        D = np.where(shared, np.nan_to_num(A) - np.nan_to_num(B), 0.0)
        diff_sum += D.sum(axis=0)
        diff_n += shared.sum(axis=0)
        den = np.where(shared, al, 0.0).sum(axis=1)
        ok = den > 0
        contrib += (D[ok] * al / den[ok, None]).sum(axis=0)
        n_pairs += int(ok.sum())
    out = {}
    for j, c in enumerate(COMPONENTS):
        if diff_n[j] == 0:
            continue
        out[c] = {
            "difference": float(diff_sum[j] / diff_n[j]),
            "contribution": float(contrib[j] / n_pairs) if n_pairs else None,
        }
    return out


def compare(
    a: GroupData, b: GroupData, alpha: Mapping[str, float], cfg: BenchConfig, kind: str = "groups"
) -> dict[str, Any]:
    """Win rates of A over B (composite, uniform α, shorter wins), drivers and the length check."""
    pairing = _pairing(a, b)
    key = f"{a.name}|{b.name}"
    if pairing == "prompt":
        ia, ib, u = _prompt_pairs(a, b)
        matched = _length_match(a.words[ia], b.words[ib], cfg.length_tolerance)
        n_pairs, n_units, n_matched = int(ia.size), int(np.unique(u).size), int(matched.sum())
    else:
        matched = _length_match(a.words[:, None], b.words[None, :], cfg.length_tolerance)
        n_pairs, n_units, n_matched = (
            len(a.rows) * len(b.rows),
            min(len(a.rows), len(b.rows)),
            int(matched.sum()),
        )
    win = _win_interval(a.score, b.score, a, b, pairing, key, cfg)
    result: dict[str, Any] = {
        "a": a.name,
        "b": b.name,
        "kind": kind,
        "pairing": pairing,
        "n_pairs": n_pairs,
        "n_units": n_units,
        "win_rate": win.as_dict(),
        "win_rate_uniform": _win_interval(
            a.uniform, b.uniform, a, b, pairing, key + "|uniform", cfg
        ).as_dict(),
        "win_rate_shorter": _win_interval(-a.words, -b.words, a, b, pairing, key + "|shorter", cfg).as_dict(),
        "components": component_drivers(a, b, pairing, alpha),
    }
    drivers = sorted(
        ((c, v["contribution"]) for c, v in result["components"].items() if v["contribution"] is not None),
        key=lambda cv: -abs(cv[1]),
    )
    result["drivers"] = [c for c, v in drivers[:3] if v != 0]
    result["length"] = _length_check(a, b, pairing, matched, n_matched, win, key, cfg)
    return result


def _length_check(
    a, b, pairing, matched, n_matched, win: stats.Interval, key: str, cfg: BenchConfig
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tolerance": cfg.length_tolerance,
        "n_matched_pairs": n_matched,
        "mean_words": [float(a.words.mean()), float(b.words.mean())],
        "win_rate": None,
        "flag": None,
    }
    if n_matched:
        out["win_rate"] = _win_interval(
            a.score, b.score, a, b, pairing, key + "|matched", cfg, mask=matched
        ).as_dict()
    if win.low is None or (win.low <= 0.5 <= win.high):
        out["verdict"] = "no significant lead"
        return out
    leader = a.name if win.low > 0.5 else b.name
    out["leader"] = leader
    if n_matched < cfg.min_matched_pairs:
        out["verdict"] = f"too few length-matched pairs ({n_matched} < {cfg.min_matched_pairs})"
        return out
    m = stats.Interval.from_dict(out["win_rate"])
    holds = (m.low is not None and m.low > 0.5) if leader == a.name else (m.high is not None and m.high < 0.5)
    out["flag"] = not holds
    out["verdict"] = (
        f"{leader}'s lead holds on length-matched pairs"
        if holds
        else f"{leader}'s lead is mostly length: it disappears on length-matched pairs"
    )
    return out


# ---- examples ----------------------------------------------------------------------------------


def examples(g: GroupData, n: int, specs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The n best and n worst texts by composite, each with its 3 weakest and 3 strongest metrics
    (by goodness against the profile)."""
    order = np.argsort(-g.score, kind="stable")

    def describe(i: int) -> dict[str, Any]:
        r = g.rows[i]
        scored = [(m, v) for m, v in (r.get("goodness") or {}).items() if v is not None]
        scored.sort(key=lambda mv: mv[1])

        def item(m: str, good: float) -> dict[str, Any]:
            return {
                "metric": m,
                "value": r["metrics"].get(m),
                "goodness": good,
                "component": (specs.get(m) or {}).get("component"),
                "direction": (specs.get(m) or {}).get("direction"),
            }

        return {
            "id": r["id"],
            "key": r["key"],
            "score": r["score"],
            "n_words": r["n_words"],
            "weakest": [item(m, v) for m, v in scored[:3]],
            "strongest": [item(m, v) for m, v in scored[::-1][:3]],
        }

    top = [int(i) for i in order[:n]]
    bottom = [int(i) for i in order[::-1] if int(i) not in top][:n]  # worst first, never a best one
    return {"best": [describe(i) for i in top], "worst": [describe(i) for i in bottom]}


# ---- everything --------------------------------------------------------------------------------


def analyse(
    rows: Sequence[dict[str, Any]],
    groups: Sequence[dict[str, Any]],
    *,
    alpha: Mapping[str, float],
    cfg: BenchConfig,
    profile: Any = None,
    specs: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The analysis sections of results.json from per-text rows; `groups` lists {name, kind,
    source} in display order; `specs` {metric: {component, direction, description}}."""
    specs = specs or {}
    by_group: dict[str, list[dict[str, Any]]] = {g["name"]: [] for g in groups}
    for r in rows:
        by_group[r["group"]].append(r)
    data = [group_data(by_group[g["name"]], g["name"], g["kind"]) for g in groups]
    metric_names = sorted({m for r in rows for m, v in (r.get("metrics") or {}).items() if v is not None})
    refs = [corpus_reference(g, metric_names) for g in data if g.kind == "reference"]
    if profile is not None:
        refs.append(profile_reference(profile, metric_names))
    table = metric_table(data, refs, metric_names, cfg)
    comparisons = [compare(a, b, alpha, cfg) for i, a in enumerate(data) for b in data[i + 1 :]]
    for g in data:
        if g.kind == "reference":
            half = np.array([r.get("half", 0) for r in g.rows])
            ha, hb = g.subset(half == 0, f"{g.name} (half A)"), g.subset(half == 1, f"{g.name} (half B)")
            if ha.rows and hb.rows:
                comparisons.append(compare(ha, hb, alpha, cfg, kind="noise_floor"))
    return {
        "groups": [group_summary(g, cfg, src.get("source")) for g, src in zip(data, groups, strict=True)],
        "references": [
            {
                "name": r.name,
                "kind": r.kind,
                "n_texts": None
                if r.kind == "profile"
                else len(next(g for g in data if g.name == r.name).rows),
            }
            for r in refs
        ],
        "metrics": {
            m: {
                **{k: (specs.get(m) or {}).get(k) for k in ("component", "direction", "description")},
                "references": table[m],
            }
            for m in metric_names
        },
        "distance_summary": distance_summary(table, [g.name for g in data], [r.name for r in refs]),
        "comparisons": comparisons,
        "examples": {
            g.name: examples(g, cfg.n_examples, specs) for g in data if g.kind in ("system", "baseline")
        },
    }
