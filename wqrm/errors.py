"""Errors every part of wqrm raises and callers catch."""

from __future__ import annotations

__all__ = ["ResourceMissingError"]


class ResourceMissingError(RuntimeError):
    """A model or lexicon is not installed. The message names it and the command that installs it."""
