"""Fitting the composite weights: Bradley–Terry on component differences of preference pairs.

Fitting (`fit_weights`) maximises the weighted Bradley–Terry log-likelihood of preference pairs

    P(a ≻ b) = σ(τ · Σ_{i∈A(a)∩A(b)} α_i (S_i(a) − S_i(b)) / Σ_{i∈A(a)∩A(b)} α_i)

(A(x): the components text x has, so a pair is compared on the components both texts have), with
a learned temperature τ = exp(ρ) and an L2 pull of θ toward 0 (uniform α):

    loss(θ, ρ) = Σ_p w_p softplus(−margin_p) / Σ_p w_p + λ ‖θ‖²

The objective is smooth and the optimiser (L-BFGS from θ = 0, ρ = log 5) has no randomness, so a
refit on the same data gives the same weights. A component that no training pair has (S5 without a
task, S8 without a candidate group) gets no gradient from the data; its θ stays at the prior 0.

Metric values for the training texts are expensive (parse, encoder, edit model, tagger), so
`collect_metrics` computes them once per distinct text and appends them to a JSONL cache keyed by
sha1(text); the fit, the ablations and the metric gate all read that cache. Each row records a
digest of the built artefacts its values came from (`artefact_stamps`: the corpus resources and
the S1 model); when one is rebuilt, the metrics that read it are recomputed for every row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.components import COMPONENTS
from wqrm.fit.evaluate import pair_credit
from wqrm.jsonl import repair_tail
from wqrm.profile import QUANTILE_LEVELS
from wqrm.scoring import Scorer
from wqrm.weights import UniformWeights, pair_margins

__all__ = [
    "STAMPED_RESOURCES",
    "FitResult",
    "MetricCache",
    "accuracy",
    "artefact_stamps",
    "cacheable",
    "collect_metrics",
    "directory_digest",
    "edit_reward_reference",
    "fit_weights",
    "metric_scorer",
    "metric_versions",
    "missing_metrics",
    "stale_resources",
    "text_key",
]

log = logging.getLogger(__name__)


def metric_scorer() -> Scorer:
    """A scorer for metric values and goodness only (its weights are never used)."""
    return Scorer(weights=UniformWeights())


# ---- metric cache --------------------------------------------------------------------------------


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


#: Resources built by wqrm whose files a cached metric value depends on (`artefact_stamps`).
STAMPED_RESOURCES = ("corpus", "edit_model")


def directory_digest(directory: str | Path) -> str:
    """sha1 over the relative paths and contents of every file under `directory` (sorted); "" when
    it does not exist."""
    root = Path(directory)
    if not root.is_dir():
        return ""
    h = hashlib.sha1()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(f.relative_to(root).as_posix().encode("utf-8") + b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()


def artefact_stamps() -> dict[str, str]:
    """Digest of the files of each of `STAMPED_RESOURCES` where they load from now (an override or
    environment variable, else the shipped directory)."""
    from wqrm import resources  # deferred: as in _extended_rows
    from wqrm.corpus import default_corpus_dir  # deferred: as above
    from wqrm.metrics.edit import shipped_dir  # deferred: as above

    defaults = {"corpus": default_corpus_dir(), "edit_model": shipped_dir()}
    return {name: directory_digest(resources.source(name) or defaults[name]) for name in STAMPED_RESOURCES}


class MetricCache:
    """Metric values per text (`{"key", "n_words", "metrics", "error", "stamps", "versions"}` rows
    in a JSONL file; `versions`: `metric_versions` of the metrics computed). `stamps` are the
    `artefact_stamps` a row's values were computed with; rows written
    before stamps existed take the cache's `default_stamps` (the ``.stamps.json`` file next to it,
    written with the artefacts of the first run that read the cache after stamps were added)."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        self.rows: dict[str, dict[str, Any]] = {}
        self.default_stamps: dict[str, str] | None = None
        if self.path and self._stamps_path.exists():
            self.default_stamps = json.loads(self._stamps_path.read_text(encoding="utf-8"))
        if self.path and self.path.exists():
            repair_tail(self.path)
            with self.path.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        row = json.loads(line)
                        self.rows[row["key"]] = row

    @property
    def _stamps_path(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".stamps.json")

    def stamps_of(self, row: dict[str, Any]) -> dict[str, str]:
        """The artefact stamps `row`'s values were computed with ({} when unknown)."""
        return row.get("stamps") or self.default_stamps or {}

    def adopt_default_stamps(self, stamps: dict[str, str]) -> None:
        """Take `stamps` for the rows that have none, once (they are trusted to match the
        artefacts of the first run that reads them), and keep them next to the cache file."""
        if self.default_stamps is not None:
            return
        self.default_stamps = dict(stamps)
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._stamps_path.write_text(json.dumps(self.default_stamps, indent=1) + "\n", encoding="utf-8")

    def __contains__(self, text: str) -> bool:
        return text_key(text) in self.rows

    def get(self, text: str) -> dict[str, Any] | None:
        return self.rows.get(text_key(text))

    def add(self, rows: Iterable[dict[str, Any]], stamps: dict[str, str] | None = None) -> None:
        """Add `rows` (the last row of a key wins), each marked with the artefact `stamps` it was
        computed with when given, and append them to the file."""
        rows = [r if stamps is None else {**r, "stamps": stamps} for r in rows]
        for row in rows:
            self.rows[row["key"]] = row
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row) + "\n")
                fh.flush()


def metric_versions(names: Iterable[str]) -> dict[str, int]:
    """The `MetricSpec.version` of each registered metric of `names` that is not at version 1 (a
    cached row records them; a metric it has no version for was computed at version 1)."""
    from wqrm.metrics.registry import specs  # deferred: as in _extended_rows

    registered = specs()
    return {n: registered[n].version for n in names if n in registered and registered[n].version != 1}


#: Reasons for a None value that say nothing about the text: a resource this machine lacks, or a
#: metric that raised (`metrics.registry._evaluate`). Such values are not cached, so the next run
#: that has the resource (or the fix) computes them instead of reading None for ever.
NOT_CACHED_REASONS = ("resource missing:", "error:")


def cacheable(values: Mapping[str, float | None], reasons: Mapping[str, str]) -> dict[str, float | None]:
    """`values` without those that are None for a `NOT_CACHED_REASONS` reason."""
    return {
        n: v
        for n, v in values.items()
        if v is not None or not str(reasons.get(n, "")).startswith(NOT_CACHED_REASONS)
    }


def _metric_rows(texts: Sequence[str], scorer: Scorer) -> list[dict[str, Any]]:
    rows = []
    for t, r in zip(texts, scorer.score_batch(texts), strict=True):
        metrics = cacheable(r.metrics, r.reasons)
        row = {"key": text_key(t), "n_words": r.n_words or 0, "metrics": metrics, "error": r.error}
        if versions := metric_versions(metrics):
            row["versions"] = versions
        rows.append(row)
    return rows


def _extended_rows(
    texts: Sequence[str], rows: Sequence[dict[str, Any]], names: Sequence[str]
) -> list[dict[str, Any]]:
    """`rows` (cached, error-free) with the metrics `names` added: one batched parse of `texts` and
    only those metrics computed (`compute_batch`, the scorer's own metric code)."""
    from wqrm.metrics.registry import compute_batch  # deferred: the registry's models load on use

    out = []
    for row, values in zip(rows, compute_batch(list(texts), names, models=True), strict=True):
        computed = cacheable({n: values[n] for n in names}, values.reasons)
        # a stale value that could not be recomputed (its resource is missing) is dropped, not kept
        kept = {k: v for k, v in row["metrics"].items() if k not in names}
        versions = {k: v for k, v in row.get("versions", {}).items() if k not in names}
        new = {k: v for k, v in row.items() if k != "versions"} | {"metrics": kept | computed}
        if versions := versions | metric_versions(computed):
            new["versions"] = versions
        out.append(new)
    return out


_WORKER_SCORER: Scorer | None = None


def _worker_start() -> None:
    """Process-pool initializer: one model thread per worker process (the workers share the
    cores), and the metric scorer loaded once per process."""
    global _WORKER_SCORER
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)
    _WORKER_SCORER = metric_scorer()


def _worker_rows(texts: list[str]) -> list[dict[str, Any]]:
    assert _WORKER_SCORER is not None
    return _metric_rows(texts, _WORKER_SCORER)


def missing_metrics(row: dict[str, Any], names: Iterable[str], stale: Iterable[str] = ()) -> list[str]:
    """The metrics of `names` an error-free cached row lacks (a metric registered after the row
    was written) or must recompute (it reads one of the `stale` resources, rebuilt since, or the
    row holds its value from another `MetricSpec.version` of its code); [] for a row with an error
    (the text is not scored at all)."""
    if row.get("error"):
        return []
    from wqrm.metrics.registry import specs  # deferred: as in _extended_rows

    registered, stale, versions = specs(), frozenset(stale), row.get("versions", {})

    def outdated(n: str) -> bool:
        spec = registered.get(n)
        if spec is None:
            return False
        return not stale.isdisjoint(spec.resources) or versions.get(n, 1) != spec.version

    return [n for n in names if n not in row["metrics"] or outdated(n)]


def stale_resources(row_stamps: dict[str, str], current: dict[str, str]) -> set[str]:
    """The resources whose artefacts differ from those a row was computed with (a resource the
    row has no stamp for is taken as unchanged)."""
    return {r for r, stamp in current.items() if row_stamps.get(r, stamp) != stamp}


def collect_metrics(
    texts: Sequence[str],
    cache: MetricCache,
    scorer=None,
    *,
    chunk: int = 32,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> MetricCache:
    """Compute every metric of the scorer for each distinct text not yet in `cache` (in chunks of
    `chunk` texts, appended to the cache as they finish, so an interrupted run resumes). A text
    that cannot be scored is cached with its error. A cached row that lacks metrics registered
    since it was written gets only those computed (same parse and metric code as the scorer's) and
    is appended again (the last row of a key wins when the cache is read).

    With `workers` > 1 the chunks are scored in that many processes, each with its own metric
    scorer (`metric_scorer()`: a custom `scorer` cannot be sent to them, so it is refused) and one
    model thread; the rows are the same as in one process, only their order in the file differs."""
    from wqrm.metrics.registry import specs  # deferred: as in _extended_rows

    registered = list(specs())
    current = artefact_stamps()
    cache.adopt_default_stamps(current)
    distinct = list(dict.fromkeys(texts))
    todo = [t for t in distinct if t not in cache]
    stale: dict[tuple[str, ...], list[str]] = {}
    for t in distinct:
        row = cache.get(t)
        if row is None:
            continue
        changed = stale_resources(cache.stamps_of(row), current)
        if missing := missing_metrics(row, registered, changed):
            stale.setdefault(tuple(missing), []).append(t)
    jobs: list[tuple[str, tuple]] = [("rows", (todo[i : i + chunk],)) for i in range(0, len(todo), chunk)]
    for missing, group in stale.items():
        for i in range(0, len(group), chunk):
            part = group[i : i + chunk]
            jobs.append(("extend", (part, [cache.get(t) for t in part], list(missing))))
    total = sum(len(args[0]) for _, args in jobs)
    done = 0
    if workers > 1 and len(jobs) > 1:
        if scorer is not None:
            raise ValueError("collect_metrics: workers > 1 builds its own metric scorers; pass scorer=None")
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")  # no fork of a process holding torch threads
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_worker_start) as pool:
            futures = [
                pool.submit(_worker_rows if kind == "rows" else _extended_rows, *args) for kind, args in jobs
            ]
            for future in as_completed(futures):
                rows = future.result()
                cache.add(rows, stamps=current)
                done += len(rows)
                if progress:
                    progress(done, total)
        return cache
    if any(kind == "rows" for kind, _ in jobs):
        scorer = scorer or metric_scorer()
    for kind, args in jobs:
        rows = _metric_rows(args[0], scorer) if kind == "rows" else _extended_rows(*args)
        cache.add(rows, stamps=current)
        done += len(rows)
        if progress:
            progress(done, total)
    return cache


# ---- components and the fit -----------------------------------------------------------------------


@dataclass
class FitResult:
    alpha: dict[str, float]
    tau: float
    theta: list[float]
    loss: float
    train_accuracy: float
    n_pairs: int
    iterations: int
    converged: bool
    l2: float
    components_seen: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fit_weights(
    A: np.ndarray,
    B: np.ndarray,
    sample_weight: np.ndarray | None = None,
    *,
    l2: float = 0.01,
    components: Sequence[str] = COMPONENTS,
    max_iter: int = 500,
) -> FitResult:
    """Fit α = softmax(θ) and τ = exp(ρ) by weighted Bradley–Terry on component differences.

    `A` holds the preferred texts' components, `B` the other texts' ((n, 8), NaN = missing).
    Components outside `components` get α = 0 (for ablations). Deterministic: L-BFGS-B from θ = 0.
    """
    import torch

    if A.shape != B.shape or A.shape[1] != len(COMPONENTS):
        raise ValueError(f"A and B must both be (n, {len(COMPONENTS)})")
    active = np.array([c in components for c in COMPONENTS])
    if not active.any():
        raise ValueError("no component to fit")
    w = np.ones(len(A)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    shared = ~np.isnan(A) & ~np.isnan(B) & active
    keep = shared.any(axis=1) & (w > 0)
    D = torch.from_numpy(np.where(shared, np.nan_to_num(A) - np.nan_to_num(B), 0.0)[keep])
    M = torch.from_numpy(shared[keep].astype(np.float64))
    W = torch.from_numpy(w[keep])
    W = W / W.sum()
    idx = torch.from_numpy(np.flatnonzero(active))
    seen = [c for c, s in zip(COMPONENTS, shared[keep].any(axis=0), strict=True) if s]

    params = torch.zeros(len(idx) + 1, dtype=torch.float64)
    params[-1] = float(np.log(5.0))
    params.requires_grad_(True)

    def objective(p: torch.Tensor) -> torch.Tensor:
        theta, rho = p[:-1], p[-1]
        alpha = torch.zeros(len(COMPONENTS), dtype=torch.float64).index_copy(0, idx, torch.softmax(theta, 0))
        num = (D * alpha).sum(1)
        den = (M * alpha).sum(1)
        margin = torch.exp(rho) * num / den
        return (W * torch.nn.functional.softplus(-margin)).sum() + l2 * (theta**2).sum()

    opt = torch.optim.LBFGS(
        [params],
        lr=1.0,
        max_iter=max_iter,
        tolerance_grad=1e-10,
        tolerance_change=1e-14,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = objective(params)
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state[opt._params[0]]
    iterations = int(state.get("n_iter", 0))
    with torch.no_grad():
        theta = params[:-1].numpy().copy()
        tau = float(np.exp(params[-1].item()))
        loss = float(objective(params))
    a = np.zeros(len(COMPONENTS))
    e = np.exp(theta - theta.max())
    a[active] = e / e.sum()
    a = a / a.sum()
    acc = accuracy(pair_margins(A[keep], B[keep], a), w[keep])
    full_theta = np.full(len(COMPONENTS), -np.inf)
    full_theta[active] = theta
    return FitResult(
        alpha={c: float(x) for c, x in zip(COMPONENTS, a, strict=True)},
        tau=tau,
        theta=[float(x) if np.isfinite(x) else None for x in full_theta],
        loss=loss,
        train_accuracy=float("nan") if acc is None else acc,
        n_pairs=int(keep.sum()),
        iterations=iterations,
        converged=iterations < max_iter,
        l2=l2,
        components_seen=seen,
    )


# ---- accuracy ----------------------------------------------------------------------------------------


def accuracy(margins: np.ndarray, weights: np.ndarray | None = None) -> float | None:
    """Share of pairs with a positive margin (ties half), over pairs with a defined margin."""
    ok = ~np.isnan(margins)
    if not ok.any():
        return None
    credit = pair_credit(margins[ok], np.zeros(int(ok.sum())))
    w = np.ones(ok.sum()) if weights is None else np.asarray(weights)[ok]
    return float((credit * w).sum() / w.sum())


# ---- S1's reference: the texts editors worked on -------------------------------------------------------


def edit_model_training_pairs(train_pairs: Sequence[Any], model_dir: str | Path) -> list[Any]:
    """The pairs of `train_pairs` from the sources the edit model at `model_dir` was trained on."""
    record = json.loads((Path(model_dir) / "training.json").read_text())
    sources = {s for s, n in record["data"]["train_pairs"].items() if n}
    return [p for p in train_pairs if p.source in sources]


def edit_reward_reference(train_pairs: Sequence[Any], model_dir: str | Path, cache: MetricCache) -> dict:
    """Reference quantiles of `edit_reward` over the edit model's training texts (AI drafts and
    their human edits), with provenance; the metric values come from `cache` (collected first).

    Why not human reference prose: the texts S1 must rank are drafts, and nearly all of them lie
    below the human reference's 1st percentile of `edit_reward`, where a percentile has no
    resolution left (see docs/design-decisions.md). Over the texts editors worked on, the same
    percentile spreads drafts and edits across [0, 1]; human prose lands near the top."""
    pairs = edit_model_training_pairs(train_pairs, model_dir)
    texts = list(dict.fromkeys(t for p in pairs for t in (p.better, p.worse)))
    values = [cache.rows[text_key(t)]["metrics"].get("edit_reward") for t in texts]
    v = np.array([x for x in values if x is not None], dtype=np.float64)
    if v.size < 100:
        raise ValueError(f"only {v.size} training texts with an edit_reward: too few for a reference")
    return {
        "quantiles": [round(float(q), 10) for q in np.quantile(v, QUANTILE_LEVELS)],
        "mean": round(float(v.mean()), 10),
        "std": round(float(v.std()), 10),
        "n": int(v.size),
        "n_undefined": len(values) - int(v.size),
    }
