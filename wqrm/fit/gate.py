"""Which metrics enter the composite: the fit leaves out a metric whose goodness orders its
preference pairs against the people who made them.

A component S_i is the mean goodness of its metrics, so every metric in it pulls the reward its
own way. The weight fit chooses α over components; without this gate it cannot see that one metric
inside a component contradicts the pairs while the others carry the signal (issue 18: `sd1`'s
reference band preferred AI text, `creativity_prob` the unedited draft).

For each metric m with a component, on the pairs given:

    credit_p = 1 if g_m(preferred) > g_m(other), ½ on a tie, 0 otherwise

(g_m: the goodness the metric enters its component with; pairs where m is undefined on either
side are left out). Per source group k (`wqrm.fit.data.source_group`) with at least `MIN_PAIRS`
pairs: a_k = mean credit, se_k = its standard error. The group-balanced agreement and its error

    A = (1/K) Σ_k a_k,    SE = √(Σ_k se_k²) / K

count each source once, whatever its size (5,000 derived negatives do not outvote 285 LAMP pairs);
mode `pooled` takes the mean credit over the pairs themselves instead (a source counts by its size).
Verdict: `disagrees` when A + 1.96·SE < 0.5 (the metric prefers the rejected text beyond noise),
`agrees` when A − 1.96·SE > 0.5, else `unclear`; `undefined` with no group of `MIN_PAIRS`. The gate
excludes the metrics that disagree. Nothing is turned around: a declared direction the pairs
contradict is reported and dropped, not reversed, since a reversed direction is a new claim about
writing that these pairs alone (editors' fixes of AI drafts, AI text of one era) cannot carry.

Whether to gate at all, and how, is the fit's choice: `wqrm fit-weights --select loso` compares
no gate, `pooled` and `balanced` like any other setting (`FitSetting.gate`), the gate decided
again inside every held-out fold from the other sources' pairs only, so the held-out figures the
choice rests on stay honest. On the development data it chose no gate: leaving out the metrics
that disagree did not raise any held-out source (docs/design-decisions.md, "Metric validity").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from wqrm.fit.data import source_group
from wqrm.fit.evaluate import pair_credit

__all__ = ["MIN_PAIRS", "MODES", "CreditTable", "FoldGate", "Z", "credit_table", "excluded", "metric_gate"]

#: Fewest pairs with the metric defined for a source group to count.
MIN_PAIRS = 20
#: Two-sided 95% normal quantile.
Z = 1.959963984540054


@dataclass(frozen=True)
class CreditTable:
    """Per pair and metric: `credit` (n, m) as in the module docstring (NaN = undefined on a side),
    `group` (n,) each pair's source group, `names` (m,) the metrics."""

    names: list[str]
    credit: np.ndarray
    group: np.ndarray


def credit_table(table: Any) -> CreditTable:
    """The credit of every pair of a `wqrm.fit.pairs.PairTable` (built with its goodness) and metric."""
    if table.GA is None or table.GB is None:
        raise ValueError("the pair table holds no per-metric goodness")
    ga, gb = table.GA, table.GB
    credit = np.where(np.isnan(ga) | np.isnan(gb), np.nan, pair_credit(ga, gb))
    return CreditTable(list(table.metric_names), credit, np.array([source_group(s) for s in table.source]))


MODES = ("pooled", "balanced")


def metric_gate(
    ct: CreditTable, mask: np.ndarray | None = None, mode: str = "balanced"
) -> dict[str, dict[str, Any]]:
    """Per metric over the pairs in `mask` (default: all): `agreement`, its `se`, `ci95`,
    `by_group` ({group: [agreement, n]}) and `verdict`. `mode` "balanced": the group-balanced mean
    of the module docstring; "pooled": the mean credit over the pairs themselves (a source counts
    by its size), se = sd/√n."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    mask = np.ones(len(ct.group), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    groups = sorted(set(ct.group[mask]))
    report: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(ct.names):
        col = ct.credit[:, j]
        by_group: dict[str, list[float]] = {}
        means, variances = [], []
        for g in groups:
            c = col[mask & (ct.group == g) & ~np.isnan(col)]
            if c.size < MIN_PAIRS:
                continue
            by_group[g] = [float(c.mean()), int(c.size)]
            means.append(c.mean())
            variances.append(c.var(ddof=1) / c.size)
        every = col[mask & ~np.isnan(col)]
        if not means:
            a = se = None
        elif mode == "balanced":
            a, se = float(np.mean(means)), float(np.sqrt(np.sum(variances)) / len(means))
        else:
            a, se = float(every.mean()), float(every.std(ddof=1) / np.sqrt(every.size))
        if a is None or se is None:
            report[name] = {
                "agreement": None,
                "se": None,
                "ci95": None,
                "by_group": by_group,
                "verdict": "undefined",
            }
            continue
        lo, hi = a - Z * se, a + Z * se
        verdict = "disagrees" if hi < 0.5 else "agrees" if lo > 0.5 else "unclear"
        report[name] = {"agreement": a, "se": se, "ci95": [lo, hi], "by_group": by_group, "verdict": verdict}
    return report


def excluded(report: dict[str, dict[str, Any]], components: Mapping[str, str | None]) -> dict[str, str]:
    """The metrics `report` says disagree (name → reason). A component keeps its metrics when every
    one of them that the pairs define disagrees (the component would vanish from every text; its α
    is the fit's to lower)."""
    out = {}
    for name, r in report.items():
        if r["verdict"] == "disagrees":
            groups = ", ".join(f"{g} {a:.2f}" for g, (a, _n) in sorted(r["by_group"].items()))
            out[name] = (
                f"its goodness agrees with the fit's preference pairs in {r['agreement']:.3f} of them "
                f"(95% CI up to {r['ci95'][1]:.3f}; by source: {groups})"
            )
    for c in {components.get(n) for n in out}:
        members = [
            n
            for n, comp in components.items()
            if comp == c and report.get(n, {}).get("verdict") != "undefined"
        ]
        if members and all(n in out for n in members):
            for n in members:
                out.pop(n)
    return out


class FoldGate:
    """The gate decided on a training mask and the pair table rebuilt without what it excludes,
    once per distinct mask (LOSO compares many settings on the same folds)."""

    def __init__(self, table: Any, mode: str = "balanced", credit: CreditTable | None = None):
        self.table = table
        self.mode = mode
        self.credit = credit if credit is not None else credit_table(table)
        self._cache: dict[bytes, tuple[Any, dict[str, str]]] = {}

    def table_for(self, train: np.ndarray) -> tuple[Any, dict[str, str]]:
        """(the table with the metrics excluded on `train`'s pairs left out, those metrics)."""
        key = hashlib.sha1(np.packbits(np.asarray(train, dtype=bool)).tobytes()).digest()
        if key not in self._cache:
            out = excluded(metric_gate(self.credit, train, self.mode), self.table.metric_components)
            self._cache[key] = (self.table.with_excluded(out), out)
        return self._cache[key]
