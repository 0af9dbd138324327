"""wqrm as a Hugging Face `evaluate` metric, shipped inside the package and loaded offline.

    >>> import evaluate
    >>> from wqrm.integrations.evaluate_metric import METRIC_PATH
    >>> wqrm_metric = evaluate.load(METRIC_PATH)      # a local file: nothing is downloaded
    >>> wqrm_metric.compute(predictions=["The rain had stopped. A door slammed twice."])
    {'scores': [0.61…], 'mean_score': 0.61…, 'components': [{'S1': …, …}], 'errors': [None], …}

The module itself is `wqrm_metric.py` next to this file; `evaluate` copies it into its modules
cache and imports it from there, so it imports wqrm absolutely. This `__init__` imports neither
`evaluate` nor any model.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["METRIC_PATH"]

#: The path to pass to `evaluate.load`.
METRIC_PATH = str(Path(__file__).resolve().parent / "wqrm_metric.py")
