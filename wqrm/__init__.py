"""wqrm: a writing-quality reward model and evaluation toolkit.

>>> import wqrm
>>> scorer = wqrm.load()
>>> r = scorer.score("The rain had stopped. Somewhere below, a door slammed twice.")
>>> r.score, r.components["S4"], r.metrics["mtld"]
"""

from wqrm.analysis import Analysis, analyze, analyze_batch
from wqrm.textio import InvalidTextError

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "InvalidTextError",
    "ScoreResult",
    "Scorer",
    "__version__",
    "analyze",
    "analyze_batch",
    "load",
]


def __getattr__(name):  # lazy: `import wqrm` stays cheap; scoring pulls in the metrics
    if name in ("Scorer", "ScoreResult", "load"):
        from wqrm import scoring  # deferred: `import wqrm` loads no model and no metric

        return getattr(scoring, name)
    if name == "metrics":
        import importlib

        return importlib.import_module("wqrm.metrics")
    raise AttributeError(f"module 'wqrm' has no attribute {name!r}")
