"""wqrm.metrics: the rigid metrics, one family per module, all registered in `registry`.

>>> import wqrm.metrics as M
>>> M.compute("The cat sat on the mat. The dog slept.", names=["ttr", "nns"])
{'ttr': 0.777..., 'nns': ...}
>>> M.catalogue()   # pandas DataFrame of every metric's component, direction and reference
"""

from wqrm.metrics import (  # noqa: F401  (registration)
    aesthetics,
    coherence,
    creativity,
    diversity,
    edit,
    fluency,
    lexical,
    linguistic,
    sentence_tfidf,
    slop,
    style,
    task,
)
from wqrm.metrics.registry import (
    COMPONENTS,
    MetricContext,
    MetricSpec,
    MetricUndefined,
    MetricValues,
    catalogue,
    compute,
    compute_analysis,
    compute_batch,
    get_spec,
    metric,
    resolve_names,
    specs,
)

__all__ = [
    "COMPONENTS",
    "MetricContext",
    "MetricSpec",
    "MetricUndefined",
    "MetricValues",
    "catalogue",
    "compute",
    "compute_analysis",
    "compute_batch",
    "get_spec",
    "metric",
    "resolve_names",
    "specs",
]
