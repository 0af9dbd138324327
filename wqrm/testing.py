"""Metric regression checks: compare a set of outputs with a snapshot and explain what drifted.

    from wqrm.testing import assert_profile
    assert_profile(new_outputs, "snapshots/my_model.wqrm.json")            # raises on drift
    assert_profile(new_outputs, snap, tolerance={"S1": 0.02, "gpp": "10%"}, allow="improve")

Every quantity of the snapshot (`score`, `S1`..`S8`, each metric, `error_rate`; see
`wqrm.snapshot`) is checked by one statistic, the mean by default (`statistic="median"` for the
median). It *drifted* when |after − before| exceeds its allowed change:

* default: `DEFAULT_NOISE` (4) times the resampling noise, √(se_before² + se_after²), where each
  se is the bootstrap standard error of the statistic over its set of outputs. Two random halves of
  one set of outputs differ by about one such unit, so a drift of the size resampling produces never
  fails (`benchmarks/regression_noise.py`: 0 false alarms in 20 splits of 200 texts into halves,
  60 quantities each, while a drift in 30% of the texts was caught in 19 of 20);
* `error_rate` (the share of outputs that cannot be scored): by default any change fails;
* `tolerance=`: one spec for everything, or a mapping whose keys are quantity names (`"mtld"`,
  `"S3"`, `"score"`), component names (`"S3"` also covers every S3 metric) and `"*"` (the rest);
  the most specific key wins. A spec is a number (absolute change), `"10%"` (relative to the
  snapshot's value), `"3sigma"` (a multiple of the resampling noise) or a `Tolerance` combining
  them (the largest part applies).

`allow="improve"` lets a quantity move in its good direction without limit: up for `higher`
metrics, components and the composite, down for `lower` ones, and for `band` metrics closer to the
reference band (the profile's inter-quartile range recorded in the snapshot) or within it.

A snapshot made with other weights or another profile (name or SHA-256) or another scoring context
is not comparable: `assert_profile` raises `SnapshotVersionError` saying what changed, or, with
`allow_version_change=True`, warns (`WqrmVersionWarning`) and compares anyway.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wqrm.components import COMPONENT_NAMES
from wqrm.snapshot import COMPOSITE, Snapshot, Summary, build_snapshot

__all__ = [
    "DEFAULT_NOISE",
    "DriftReport",
    "DriftRow",
    "ProfileDriftError",
    "SnapshotVersionError",
    "Tolerance",
    "WqrmVersionWarning",
    "assert_profile",
    "check_versions",
    "compare",
    "md_escape",
    "version_changes",
]

DEFAULT_NOISE = 4.0
#: Changes below this (relative to max(1, |before|)) are float noise, never drift.
FLOAT_EPS = 1e-9
ALLOW = ("any", "improve")


class ProfileDriftError(AssertionError):
    """The outputs' metric profile drifted from the snapshot; `.report` holds every row."""

    def __init__(self, message: str, report: DriftReport):
        super().__init__(message)
        self.report = report


class SnapshotVersionError(AssertionError):
    """The snapshot was made with other weights, another profile or another scoring context."""


class WqrmVersionWarning(UserWarning):
    """A snapshot made with other weights/profile was compared anyway (allow_version_change)."""


@dataclass(frozen=True)
class Tolerance:
    """Allowed change of a statistic: the largest of `absolute`, `relative` × |before| and
    `noise` × √(se_before² + se_after²) among the parts given."""

    absolute: float | None = None
    relative: float | None = None
    noise: float | None = None

    def __post_init__(self):
        parts = (self.absolute, self.relative, self.noise)
        if all(p is None for p in parts):
            raise ValueError("a Tolerance needs at least one of absolute, relative, noise")
        if any(p is not None and not p >= 0 for p in parts):
            raise ValueError(f"tolerances must be ≥ 0, got {self}")

    def allowed(self, before: float, noise_se: float) -> float:
        parts = []
        if self.absolute is not None:
            parts.append(self.absolute)
        if self.relative is not None:
            parts.append(self.relative * abs(before))
        if self.noise is not None:
            parts.append(self.noise * noise_se)
        return max(max(parts), FLOAT_EPS * max(1.0, abs(before)))

    def __str__(self) -> str:
        parts = []
        if self.absolute is not None:
            parts.append(f"±{self.absolute:g}")
        if self.relative is not None:
            parts.append(f"±{100 * self.relative:g}%")
        if self.noise is not None:
            parts.append(f"±{self.noise:g}σ")
        return " or ".join(parts)

    @classmethod
    def parse(cls, spec: Any) -> Tolerance:
        """A `Tolerance` from a number (absolute), "10%" (relative), "3sigma" / "3σ" (noise)."""
        if isinstance(spec, Tolerance):
            return spec
        if isinstance(spec, bool):
            raise TypeError(f"tolerance {spec!r}: expected a number, '10%', '3sigma' or a Tolerance")
        if isinstance(spec, (int, float)):
            return cls(absolute=float(spec))
        if isinstance(spec, str):
            m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%|sigma|σ|se)?\s*", spec)
            if m:
                value, unit = float(m.group(1)), m.group(2)
                if unit == "%":
                    return cls(relative=value / 100)
                if unit in ("sigma", "σ", "se"):
                    return cls(noise=value)
                return cls(absolute=value)
        raise ValueError(f"tolerance {spec!r}: expected a number, '10%', '3sigma' or a Tolerance")


DEFAULT_TOLERANCE = Tolerance(noise=DEFAULT_NOISE)
#: Outputs that cannot be scored are rare events the bootstrap cannot size (a snapshot without
#: errors has no spread): by default any change in their share fails.
ERRORS_TOLERANCE = Tolerance(absolute=0.0)


def _tolerance_for(name: str, summary: Summary, tolerance: Any) -> Tolerance:
    default = ERRORS_TOLERANCE if summary.kind == "errors" else DEFAULT_TOLERANCE
    if tolerance is None:
        return default
    if not isinstance(tolerance, Mapping):
        return Tolerance.parse(tolerance)
    aliases = {name, "composite"} if name == COMPOSITE else {name}
    for key in aliases:
        if key in tolerance:
            return Tolerance.parse(tolerance[key])
    if summary.kind == "metric" and summary.component in tolerance:
        return Tolerance.parse(tolerance[summary.component])
    return Tolerance.parse(tolerance["*"]) if "*" in tolerance else default


def _check_tolerance_keys(tolerance: Any, known: set[str]) -> None:
    if isinstance(tolerance, Mapping):
        unknown = set(tolerance) - known - set(COMPONENT_NAMES) - {"*", "composite"}
        if unknown:
            raise KeyError(
                f"tolerance for unknown quantities {sorted(unknown)}; known: score, S1..S8, metrics"
            )
        for spec in tolerance.values():
            Tolerance.parse(spec)


# ---- directions and plain-language meaning ------------------------------------------------------


def _distance_to_band(x: float, band: tuple[float, float]) -> float:
    return max(band[0] - x, 0.0, x - band[1])


def _effect(summary: Summary, before: float, after: float) -> str:
    """The effect of a move: "better", "worse", "none" (no change), "within band" (a band metric
    moving inside its band) or "unknown" (a band metric without a band)."""
    if after == before:
        return "none"
    if summary.direction == "higher":
        return "better" if after > before else "worse"
    if summary.direction == "lower":
        return "better" if after < before else "worse"
    if summary.band is None:
        return "unknown"
    db, da = _distance_to_band(before, summary.band), _distance_to_band(after, summary.band)
    if da == db == 0.0:
        return "within band"
    return "better" if da < db else "worse"


def _short_description(text: str) -> str:
    """The catalogue description up to its first colon, parenthesis or sentence end."""
    text = text.replace("`", "")
    head = re.split(r":|\s\(|\.\s|\.$", text, maxsplit=1)[0].strip()
    if len(head) > 40 and ", " in head:
        head = head.split(", ", 1)[0]
    return head if len(head) >= 4 else text.strip()


def _direction_rule(summary: Summary) -> str:
    if summary.kind == "metric" and summary.component is None:
        return "descriptive, not scored"
    if summary.direction == "band":
        if summary.band is None:
            return "best inside a reference band"
        return f"best inside the human reference band {summary.band[0]:.3g}–{summary.band[1]:.3g}"
    return f"{summary.direction} is better"


def meaning(name: str, summary: Summary, before: float | None, after: float | None) -> str:
    """A short plain-language line: what the quantity is, which way is good, and what happened."""
    if summary.kind == "composite":
        what = "The composite WQRM score"
    elif summary.kind == "component":
        what = f"{name} {COMPONENT_NAMES.get(name, '')}: mean goodness of its metrics"
    elif summary.kind == "errors":
        what = "Share of outputs that could not be scored"
    else:
        from wqrm.metrics.registry import specs  # deferred: the registry imports every metric family

        spec = specs().get(name)
        what = _short_description(spec.description) if spec and spec.description else name
        if summary.component:
            what += f" ({summary.component} {COMPONENT_NAMES.get(summary.component, '')})"
    rule = _direction_rule(summary)
    if before is None or after is None:
        return f"{what}; {rule}. It is no longer defined for any output."
    verb = "rose" if after > before else "fell" if after < before else "did not move"
    effect = _effect(summary, before, after)
    verdict = {
        "none": "no change",
        "better": "better",
        "worse": "worse",
        "within band": "still inside the band",
        "unknown": "no good direction",
    }[effect]
    return f"{what}; {rule}. It {verb}: {verdict}."


# ---- comparison ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriftRow:
    """One checked quantity: statistic before and after, the allowed change, and the verdict.

    `status`: "ok" (inside tolerance), "drifted" (outside: fails), "improved" (outside in the good
    direction with allow="improve": passes) or "missing" (defined in the snapshot, undefined now:
    fails)."""

    name: str
    kind: str
    before: float | None
    after: float | None
    allowed: float
    noise: float
    tolerance: str
    status: str
    effect: str
    meaning: str
    one_sided: str | None = None  # "up" / "down": with allow="improve", the free direction
    in_band: tuple[float | None, float | None] = (None, None)

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def failed(self) -> bool:
        return self.status in ("drifted", "missing")

    def allowed_text(self) -> str:
        if self.before is None:
            return "—"
        lo, hi = self.before - self.allowed, self.before + self.allowed
        if self.one_sided == "up":
            return f"≥ {lo:.4g}"
        if self.one_sided == "down":
            return f"≤ {hi:.4g}"
        return f"{lo:.4g} … {hi:.4g}"


def version_changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What makes two snapshots incomparable: weights, profile or scoring context (one line each)."""
    b, a = before.provenance, after.provenance
    lines = []
    for key in ("weights", "profile"):
        bi, ai = b.get(key) or {}, a.get(key) or {}
        if (bi.get("name"), bi.get("sha256")) != (ai.get("name"), ai.get("sha256")):
            lines.append(
                f"{key}: snapshot {bi.get('name')!r} (sha256 {str(bi.get('sha256'))[:12]}) → "
                f"now {ai.get('name')!r} (sha256 {str(ai.get('sha256'))[:12]})"
            )
    bs, as_ = b.get("scoring") or {}, a.get("scoring") or {}
    if bs != as_:
        diff = {k: (bs.get(k), as_.get(k)) for k in sorted(set(bs) | set(as_)) if bs.get(k) != as_.get(k)}
        lines.append(
            "scoring context: " + ", ".join(f"{k} {old!r} → {new!r}" for k, (old, new) in diff.items())
        )
    return lines


@dataclass
class DriftReport:
    """The comparison of outputs with a snapshot: every checked row, and what to tell people."""

    rows: list[DriftRow]
    statistic: str
    allow: str
    n_before: int
    n_after: int
    snapshot: str | None = None
    version_changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # quantities the snapshot lacks (report only)

    @property
    def failures(self) -> list[DriftRow]:
        return [r for r in self.rows if r.failed]

    @property
    def improvements(self) -> list[DriftRow]:
        return [r for r in self.rows if r.status == "improved"]

    @property
    def passed(self) -> bool:
        return not self.failures

    def header(self) -> str:
        where = f" (snapshot {self.snapshot})" if self.snapshot else ""
        verdict = (
            f"{len(self.failures)} of {len(self.rows)} checked quantities drifted beyond tolerance"
            if self.failures
            else f"all {len(self.rows)} checked quantities within tolerance"
        )
        return (
            f"wqrm: {verdict}{where}; {self.statistic} over {self.n_before} snapshot outputs → "
            f"{self.n_after} outputs now"
        )

    def table(self, rows: Sequence[DriftRow] | None = None) -> str:
        """A fixed-width table: metric, before, after, change, allowed, what this means."""
        rows = self.failures if rows is None else rows
        head = ("metric", "before", "after", "change", "allowed", "what this means")
        body = [
            (
                r.name,
                _num(r.before),
                _num(r.after),
                "—" if r.change is None else f"{r.change:+.4g}",
                r.allowed_text(),
                r.meaning,
            )
            for r in rows
        ]
        widths = [max(len(row[i]) for row in [head, *body]) for i in range(5)]
        lines = []
        for row in [head, *body]:
            cells = [row[i].ljust(widths[i]) if i == 0 else row[i].rjust(widths[i]) for i in range(5)]
            lines.append("  ".join([*cells, row[5]]))
        return "\n".join(lines)

    def message(self) -> str:
        """The failure message: header, version changes and notes, and only the rows that failed."""
        parts = [self.header()]
        parts += [f"  version change (compared anyway): {v}" for v in self.version_changes]
        parts += [f"  note: {n}" for n in self.notes]
        if self.failures:
            parts += ["", self.table(self.failures)]
        parts.append(
            "\nIf the change is intended, accept it: `pytest --wqrm-update` "
            "(or `wqrm snapshot … -o SNAPSHOT`)."
            if self.failures
            else ""
        )
        return "\n".join(p for p in parts if p is not None).rstrip()

    def to_markdown(self, title: str | None = None) -> str:
        """A markdown section: header, the failed rows, the allowed improvements, then every row."""
        out = [f"### {md_escape(title)}" if title else "", md_escape(self.header()), ""]
        out += [f"* version change (compared anyway): {md_escape(v)}" for v in self.version_changes]
        out += [f"* note: {md_escape(n)}" for n in self.notes]
        if self.unchecked:
            out.append(f"* not in the snapshot, not checked: {md_escape(', '.join(self.unchecked))}")
        for label, rows in (
            ("Drifted", self.failures),
            ("Moved in the good direction (allowed)", self.improvements),
        ):
            if rows:
                out += ["", f"**{label}**", "", *_md_table(rows)]
        out += ["", f"<details><summary>all {len(self.rows)} checked quantities</summary>", ""]
        out += [*_md_table(self.rows, status=True), "", "</details>", ""]
        return "\n".join(line for line in out if line is not None)


def _num(x: float | None) -> str:
    return "—" if x is None else f"{x:.4g}"


def md_escape(text: str) -> str:
    """Markdown-safe inline text: pipes, angle brackets and backticks escaped."""
    return (
        str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
    ).replace("`", "\\`")


def _md_table(rows: Sequence[DriftRow], status: bool = False) -> list[str]:
    cols = ["metric", "before", "after", "change", "allowed", "in band (before → after)", "what this means"]
    if status:
        cols.insert(1, "status")
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        ib = "—" if r.in_band == (None, None) else f"{_share(r.in_band[0])} → {_share(r.in_band[1])}"
        cells = [
            f"`{r.name}`",
            _num(r.before),
            _num(r.after),
            "—" if r.change is None else f"{r.change:+.4g}",
            r.allowed_text(),
            ib,
            md_escape(r.meaning),
        ]
        if status:
            cells.insert(1, r.status)
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _share(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.0f}%"


def compare(
    before: Snapshot,
    after: Snapshot,
    tolerance: Any = None,
    allow: str = "any",
    *,
    statistic: str = "mean",
    snapshot_name: str | None = None,
) -> DriftReport:
    """Check every quantity of `before` against `after` (module docstring); never raises on drift."""
    if allow not in ALLOW:
        raise ValueError(f"allow must be one of {ALLOW}, got {allow!r}")
    if statistic not in ("mean", "median"):
        raise ValueError(f"statistic must be 'mean' or 'median', got {statistic!r}")
    _check_tolerance_keys(tolerance, set(before.quantities) | {COMPOSITE})
    rows = []
    for name, sb in before.quantities.items():
        if sb.n == 0:
            continue
        sa = after.quantities.get(name)
        b, se_b = sb.statistic(statistic)
        a, se_a = sa.statistic(statistic) if sa is not None and sa.n > 0 else (None, None)
        noise = ((se_b or 0.0) ** 2 + (se_a or 0.0) ** 2) ** 0.5
        tol = _tolerance_for(name, sb, tolerance)
        allowed = tol.allowed(b, noise)
        in_band = (sb.in_band, sa.in_band if sa is not None else None)
        if a is None:
            status, effect = "missing", "worse"
        else:
            effect = _effect(sb, b, a)
            free = allow == "improve" and effect in ("better", "within band", "none")
            status = "ok" if abs(a - b) <= allowed else ("improved" if free else "drifted")
        rows.append(
            DriftRow(
                name=name,
                kind=sb.kind,
                before=b,
                after=a,
                allowed=allowed,
                noise=noise,
                tolerance=str(tol),
                status=status,
                effect=effect,
                meaning=meaning(name, sb, b, a),
                one_sided={"higher": "up", "lower": "down"}.get(sb.direction) if allow == "improve" else None,
                in_band=in_band,
            )
        )
    report = DriftReport(
        rows=rows,
        statistic=statistic,
        allow=allow,
        n_before=before.n_texts,
        n_after=after.n_texts,
        snapshot=snapshot_name,
        version_changes=version_changes(before, after),
    )
    report.unchecked = [n for n, s in after.quantities.items() if n not in before.quantities and s.n > 0]
    vb, va = before.provenance.get("wqrm_version"), after.provenance.get("wqrm_version")
    if vb != va:
        report.notes.append(f"snapshot made with wqrm {vb}, now wqrm {va}")
    if before.text_sha256 is not None and after.text_sha256 is not None:
        same = len(set(after.text_sha256) & set(before.text_sha256))
        report.notes.append(f"{same} of {after.n_texts} outputs are identical to snapshot outputs")
    return report


def assert_profile(
    outputs: Sequence[Any] | Snapshot,
    snapshot: Snapshot | str | Path,
    tolerance: Any = None,
    allow: str = "any",
    *,
    statistic: str = "mean",
    scorer: Any = None,
    allow_version_change: bool = False,
    **score_kwargs: Any,
) -> DriftReport:
    """Fail (`ProfileDriftError`, an AssertionError) when `outputs` drifted from `snapshot`.

    `outputs`: texts (scored by `scorer`, default `wqrm.load()`, with `score_kwargs`), score
    results, or a `Snapshot`. `snapshot`: a `Snapshot` or the path of a saved one. Returns the
    `DriftReport` when nothing drifted. Raises `SnapshotVersionError` when the snapshot was made with
    other weights, profile or scoring context, unless `allow_version_change` (then a warning)."""
    name = str(snapshot) if isinstance(snapshot, (str, Path)) else None
    before = snapshot if isinstance(snapshot, Snapshot) else Snapshot.load(snapshot)
    if isinstance(outputs, Snapshot):
        after = outputs
    else:
        boot = before.bootstrap
        after = build_snapshot(
            outputs,
            scorer,
            n_resamples=int(boot.get("n_resamples", 1000)),
            seed=int(boot.get("seed", 0)),
            confidence_level=float(boot.get("confidence_level", 0.95)),
            **score_kwargs,
        )
    report = compare(before, after, tolerance, allow, statistic=statistic, snapshot_name=name)
    check_versions(report, allow_version_change)
    if not report.passed:
        raise ProfileDriftError(report.message(), report)
    return report


def check_versions(report: DriftReport, allow_version_change: bool) -> None:
    """Raise `SnapshotVersionError` for a report whose snapshot is not comparable, or warn."""
    if not report.version_changes:
        return
    changes = "\n".join(f"  {v}" for v in report.version_changes)
    if allow_version_change:
        warnings.warn(
            f"wqrm snapshot {report.snapshot or ''} compared across a version change:\n{changes}",
            WqrmVersionWarning,
            stacklevel=3,
        )
        return
    raise SnapshotVersionError(
        f"wqrm snapshot {report.snapshot or ''} was made with other weights, profile or scoring "
        f"context, so its numbers are not comparable:\n{changes}\n"
        "Re-create it (`pytest --wqrm-update` or `wqrm snapshot … -o SNAPSHOT`), or compare anyway "
        "with --wqrm-allow-version-change (allow_version_change=True)."
    )
