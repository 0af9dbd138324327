"""Edit quality (component S1): the learned edit-reward model and the edit-trace tagger.

Both models are resources (`edit_model`, `edit_tagger`), loaded once per process from the package
(`wqrm/data/edit/…`) unless `WQRM_EDIT_MODEL` / `WQRM_EDIT_TAGGER` (or `wqrm score --model DIR`)
point elsewhere. A batch preparer scores every text of a batch with one model call and stores the
results on each analysis (`Analysis.edit_reward`, `Analysis.edit_spans`); the metric functions
read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from wqrm import resources
from wqrm.analysis import Analysis
from wqrm.metrics.registry import MetricUndefined, metric, register_preparer

__all__ = ["edit_flag_rate", "edit_reward", "edit_spans"]


def shipped_dir(name: str) -> Path:
    """Directory of a shipped S1 artefact: "reward" (edit model) or "tagger"."""
    from importlib.resources import files

    return Path(str(files("wqrm") / "data" / "edit" / name))


def _load_edit_model(source: str | None):
    from wqrm.edit.model import load_reward_model  # torch: loaded with the model, not on import

    path = Path(source) if source else shipped_dir("reward")
    if not path.exists():
        raise resources.ResourceMissingError(
            f"wqrm resource 'edit_model': no edit model at {path}. Train one with `wqrm train-edit`, "
            "or set WQRM_EDIT_MODEL / pass --model DIR."
        )
    return load_reward_model(path)


def _load_edit_tagger(source: str | None):
    from wqrm.edit.tagger import EditTagger  # torch: loaded with the model, not on import

    path = Path(source) if source else shipped_dir("tagger")
    if not path.exists():
        raise resources.ResourceMissingError(
            f"wqrm resource 'edit_tagger': no tagger at {path}. Train one with `wqrm train-tagger`, "
            "or set WQRM_EDIT_TAGGER."
        )
    return EditTagger.load(path)


resources.register(
    resources.Resource(
        name="edit_model",
        loader=_load_edit_model,
        env_var="WQRM_EDIT_MODEL",
        licence="trained by wqrm on LAMP (BSD-3-Clause) and other development data; encoder Apache-2.0",
        install_hint="reinstall wqrm (the default ships in wqrm/data/edit/reward) or `wqrm train-edit`",
        description="edit-quality reward model (S1)",
        languages=("en",),  # trained on English edits, English encoder
    )
)
resources.register(
    resources.Resource(
        name="edit_tagger",
        loader=_load_edit_tagger,
        env_var="WQRM_EDIT_TAGGER",
        licence="trained by wqrm on LAMP span annotations and edit diffs; encoder Apache-2.0",
        install_hint="reinstall wqrm (the default ships in wqrm/data/edit/tagger) or `wqrm train-tagger`",
        description="edit-trace span tagger (S1)",
        languages=("en",),
    )
)


def prepare_rewards(analyses: Sequence[Analysis]) -> None:
    todo = [a for a in analyses if a.edit_reward is None]
    if not todo:
        return
    model = resources.get("edit_model")
    for a, r in zip(todo, model.score([a.text for a in todo]), strict=True):
        a.edit_reward = float(r)


def prepare_spans(analyses: Sequence[Analysis]) -> None:
    todo = [a for a in analyses if a.edit_spans is None]
    if not todo:
        return
    tagger = resources.get("edit_tagger")
    for a in todo:
        a.edit_spans = tagger.predict(a.text)


register_preparer("edit_model", prepare_rewards)
register_preparer("edit_tagger", prepare_spans)


@metric(
    "edit_reward",
    component="S1",
    direction="higher",
    reference="WQRM (Chakrabarty et al. 2025, 'AI-Slop to AI-Polish'); Bradley–Terry reward on human edits",
    valid_range=(-float("inf"), float("inf")),
    resources=("spacy", "edit_model"),
)
def edit_reward(a: Analysis) -> float:
    """Pointwise reward of the edit-quality model (trained with −log σ(r(edited) − r(original))).

    Unbounded real; only differences are meaningful. Long texts: mean of the paragraph rewards.
    For S1 it is mapped to [0, 1] as its percentile among human reference passages.
    """
    prepare_rewards([a])  # a no-op when the batch preparer already scored this text
    return a.edit_reward


def edit_spans(a: Analysis) -> list:
    """Flagged spans of the edit-trace tagger (cached per analysis)."""
    prepare_spans([a])  # a no-op when the batch preparer already tagged this text
    return a.edit_spans


@metric(
    "edit_flag_rate",
    component="S1",
    direction="lower",
    reference="WQRM edit-trace analyser; LAMP span categories (Chakrabarty et al. 2025)",
    valid_range=(0.0, 1.0),
    resources=("spacy", "edit_tagger"),
)
def edit_flag_rate(a: Analysis) -> float:
    """Share of words inside spans the edit-trace tagger flags: flagged words / words. Range [0, 1]."""
    if not a.words:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")
    spans = edit_spans(a)
    if not spans:
        return 0.0
    starts = np.array([s.start for s in spans])
    ends = np.array([s.end for s in spans])
    pos = a.word_starts
    k = np.searchsorted(starts, pos, side="right") - 1  # the last span starting at or before each word
    inside = (k >= 0) & (pos < ends[np.maximum(k, 0)])
    return float(inside.sum()) / len(a.words)
