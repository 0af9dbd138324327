"""wqrm inside other libraries' frameworks.

* `wqrm.integrations.evaluate_metric`: wqrm as a local Hugging Face `evaluate` metric module.
"""
