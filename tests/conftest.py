"""Shared fixtures: models are loaded once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from wqrm import resources
from wqrm.analysis import from_doc

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("WQRM_DATA_DIR", ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def nlp():
    return resources.get("spacy")


@pytest.fixture(scope="session")
def encoder():
    return resources.get("sentence_encoder")


@pytest.fixture(scope="session")
def scorer():
    import wqrm

    return wqrm.load()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not (DATA_DIR / "README.md").exists():
        pytest.skip(f"development data not found at {DATA_DIR} (set WQRM_DATA_DIR)")
    return DATA_DIR


@pytest.fixture(scope="session")
def tree(nlp):
    """Build an `Analysis` from a hand-drawn parse: tree(words, heads, deps, pos, tags=None).

    `heads` are absolute token indices (a root points at itself); sentences follow the trees.
    """
    from spacy.tokens import Doc

    def build(words, heads, deps, pos, tags=None):
        doc = Doc(nlp.vocab, words=words, heads=heads, deps=deps, pos=pos, tags=tags)
        return from_doc(doc)

    return build
