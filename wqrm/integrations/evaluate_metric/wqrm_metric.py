"""wqrm: writing-quality reward model (composite score and components S1..S8) as an `evaluate` metric.

Load it from the installed package, offline:

    import evaluate
    from wqrm.integrations.evaluate_metric import METRIC_PATH

    wqrm_metric = evaluate.load(METRIC_PATH)
    wqrm_metric.compute(predictions=texts)                       # each text alone
    wqrm_metric.compute(predictions=candidates, prompt=p, group=True)   # candidates: adds S8
    wqrm_metric.compute(predictions=texts, task="continue", prompt=p, reference_texts=[ref])

Returns per prediction: `scores` (the composite in [0, 1], None for a text that cannot be scored),
`components` ({"S1".."S8": float | None}), `errors` (None, or why the text was refused); and
`mean_score` (over the scored predictions, None when none was scored) and `weights` (the name of the
composite's weights). The wqrm scorer is loaded once per metric object, on the first `compute`.
"""

from __future__ import annotations

import datasets
import evaluate

import wqrm

_CITATION = """\
@misc{wqrm,
  title = {wqrm: a writing-quality reward model and evaluation toolkit},
  note = {edit classifier (S1) + rigid metrics (S2..S8) + learned composite},
}
"""

_DESCRIPTION = """\
The wqrm composite: 66 metrics over one parse of each text, mapped to goodness against a profile
of human reference prose, averaged into eight components (S1 edit quality … S8 diversity) and
combined with weights learned on human preferences. Higher is better writing.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): the texts to score.
    task (`str`, optional): "continue", "rephrase" or "storygen" (component S5).
    prompt (`str`, optional): the prompt or source text (S5; S8's prompt adherence).
    reference_texts (`list` of `str`, optional): reference texts for S5.
    group (`bool`, optional): the predictions are candidates for one prompt: adds S8 (diversity).
Returns:
    scores (`list` of `float` or None), components (`list` of dicts S1..S8), errors (`list` of
    `str` or None), mean_score (`float` or None), weights (`str`).
Examples:
    >>> wqrm_metric = evaluate.load(METRIC_PATH)
    >>> wqrm_metric.compute(predictions=["The rain had stopped. A door slammed twice."])["scores"]
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class WQRM(evaluate.Metric):
    """The wqrm composite and components of each prediction."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            module_type="metric",
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string")}),
            reference_urls=[],
        )

    def _compute(
        self,
        predictions: list[str],
        task: str | None = None,
        prompt: str | None = None,
        reference_texts: list[str] | None = None,
        group: bool = False,
    ) -> dict:
        if getattr(self, "_scorer", None) is None:
            self._scorer = wqrm.load()
        results = self._scorer.score_batch(
            list(predictions), task=task, prompt=prompt, references=reference_texts, group=group
        )
        scores = [r.score for r in results]
        defined = [s for s in scores if s is not None]
        return {
            "scores": scores,
            "components": [dict(r.components) for r in results],
            "errors": [r.error for r in results],
            "mean_score": sum(defined) / len(defined) if defined else None,
            "weights": self._scorer.weights.name,
        }
