"""The writing tasks component S5 knows, as a leaf module: the command line validates `--task`
against it before any model or metric is imported."""

from __future__ import annotations

__all__ = ["TASKS"]

#: continue a prompt, rephrase a source text, write a story for a prompt (see `wqrm.metrics.task`).
TASKS: tuple[str, ...] = ("continue", "rephrase", "storygen")
