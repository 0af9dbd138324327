"""Edit quality (component S1): the learned edit model's reward and its edit-trace spans.

The edit model is a resource (`edit_model`), loaded once per process from the package
(`wqrm/data/edit/model`) unless `WQRM_EDIT_MODEL` (or `wqrm score --model DIR`) points elsewhere;
`WQRM_EDIT_BACKEND` (or `wqrm score --edit-backend`) runs its paragraph encoder with ONNX Runtime
instead of the exact float64 torch default (`wqrm.edit.onnx_backend`).
A batch preparer runs it once over every text of a batch — one forward pass gives the reward and
the spans — and stores the results on each analysis (`Analysis.edit_reward`,
`Analysis.edit_spans`); the metric functions read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import numpy as np

from wqrm import resources
from wqrm.analysis import Analysis
from wqrm.metrics.registry import MetricUndefined, metric, register_preparer

__all__ = ["edit_degeneracy", "edit_flag_rate", "edit_reward", "edit_spans", "shipped_dir"]


def shipped_dir() -> Path:
    """Directory of the shipped S1 edit model."""
    return Path(str(files("wqrm") / "data" / "edit" / "model"))


def _load_edit_model(source: str | None):
    from wqrm.edit.model import load_reward_model  # torch: loaded with the model, not on import
    from wqrm.edit.onnx_backend import selected_backend, with_backend  # loads onnxruntime only if chosen

    path = Path(source) if source else shipped_dir()
    if not path.exists():
        raise resources.ResourceMissingError(
            f"wqrm resource 'edit_model': no edit model at {path}. Train one with `wqrm train-edit`, "
            "or set WQRM_EDIT_MODEL / pass --model DIR."
        )
    return with_backend(load_reward_model(path), selected_backend())


resources.register(
    resources.Resource(
        name="edit_model",
        loader=_load_edit_model,
        env_var="WQRM_EDIT_MODEL",
        licence="trained by wqrm on LAMP (BSD-3-Clause) and other development data; encoder Apache-2.0",
        install_hint="reinstall wqrm (the default ships in wqrm/data/edit/model) or `wqrm train-edit`",
        description="edit-quality model (S1): reward and edit-trace spans",
        languages=("en",),  # trained on English edits, English encoder
    )
)


def prepare_edit(analyses: Sequence[Analysis]) -> None:
    """Run the edit model once over the texts not yet scored: reward and spans per analysis."""
    todo = [a for a in analyses if a.edit_reward is None]
    if not todo:
        return
    model = resources.get("edit_model")
    for a, o in zip(todo, model.run([a.text for a in todo]), strict=True):
        a.edit_reward = float(o.reward)
        a.edit_spans = o.spans
        a.edit_degeneracy = o.degeneracy


register_preparer("edit_model", prepare_edit)


@metric(
    "edit_reward",
    component="S1",
    direction="higher",
    reference="WQRM (Chakrabarty et al. 2025, 'AI-Slop to AI-Polish'); Bradley–Terry reward on human edits",
    valid_range=(-float("inf"), float("inf")),
    resources=("spacy", "edit_model"),
)
def edit_reward(a: Analysis) -> float:
    """Pointwise reward of the edit model (trained with −log σ(r(better) − r(worse)) on human edits
    and expert-vs-AI pairs, with systematic negatives for its degeneracy head).

    The shipped frozen-encoder model (`wqrm.edit.frozen.EmbeddingHeadReward`): r = q(x) −
    c·max(0, (σ(g(x, s)) − o)/(1 − o)), x the mean of the text's paragraph embeddings, s its
    surface counts (`wqrm.edit.surface`), o = 0.8 and c = 6 sd(q) chosen on dev: a clean text is
    scored by the quality head q alone; one the degeneracy head g finds degraded loses up to c. A
    fine-tuned model (`lora`/`full`) reads the text in windows of its maximum length and averages
    their rewards. Unbounded real; only differences are meaningful. For S1 it is mapped to [0, 1]
    as its percentile among the texts editors worked on (the profile's `metric_references`).
    """
    prepare_edit([a])  # a no-op when the batch preparer already ran
    return a.edit_reward


@metric(
    "edit_degeneracy",
    component=None,
    direction="lower",
    reference="S1 degeneracy head (wqrm.fit.degeneracy): systematic negatives of the source system's recipe",
    valid_range=(0.0, 1.0),
    resources=("spacy", "edit_model"),
)
def edit_degeneracy(a: Analysis) -> float:
    """Probability σ(g(x, s)) ∈ [0, 1] that the text is a degraded one (truncated, repeated,
    shuffled, padded with filler, a keyword list), by the S1 edit model's degeneracy head on its
    embedding x and surface counts s (`wqrm.edit.surface`). Descriptive: it explains `edit_reward`,
    which already pays for it (past the onset o the model's config gives, 0.8 for the shipped
    model: r = q − c·max(0, (σ − o)/(1 − o))). Undefined when the model has no degeneracy head.
    """
    prepare_edit([a])  # a no-op when the batch preparer already ran
    if a.edit_degeneracy is None:
        raise MetricUndefined("the edit model has no degeneracy head")
    return a.edit_degeneracy


def edit_spans(a: Analysis) -> list | None:
    """Flagged spans of the edit model's token head (None when the model has none)."""
    prepare_edit([a])  # a no-op when the batch preparer already ran
    return a.edit_spans


@metric(
    "edit_flag_rate",
    component="S1",
    direction="lower",
    reference="WQRM edit-trace analyser; LAMP span categories (Chakrabarty et al. 2025)",
    valid_range=(0.0, 1.0),
    resources=("spacy", "edit_model"),
)
def edit_flag_rate(a: Analysis) -> float:
    """Share of words inside spans the edit-trace tagger flags: flagged words / words. Range [0, 1]."""
    if not a.words:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")
    spans = edit_spans(a)
    if spans is None:
        raise MetricUndefined("the edit model has no edit-trace tagger (a frozen-encoder model)")
    if not spans:
        return 0.0
    starts = np.array([s.start for s in spans])
    ends = np.array([s.end for s in spans])
    pos = a.word_starts
    k = np.searchsorted(starts, pos, side="right") - 1  # the last span starting at or before each word
    inside = (k >= 0) & (pos < ends[np.maximum(k, 0)])
    return float(inside.sum()) / len(a.words)
