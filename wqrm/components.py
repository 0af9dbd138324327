"""The eight components of the composite, in order, with their names (DESIGN.md)."""

from __future__ import annotations

__all__ = ["COMPONENTS", "COMPONENT_NAMES"]

COMPONENT_NAMES: dict[str, str] = {
    "S1": "edit quality",
    "S2": "style / persona",
    "S3": "anti-slop",
    "S4": "coherence",
    "S5": "task",
    "S6": "linguistic patterns",
    "S7": "creativity & aesthetics",
    "S8": "diversity",
}
COMPONENTS: tuple[str, ...] = tuple(COMPONENT_NAMES)
