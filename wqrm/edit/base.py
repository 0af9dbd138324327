"""What every S1 edit model shares: its output record, its protocol, the MLP head and file names."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from wqrm.edit.tagger import Span

__all__ = [
    "CONFIG_FILE",
    "DEGENERACY_FILE",
    "HEAD_FILE",
    "SENTENCE_HEAD_FILE",
    "EditOutput",
    "RewardHead",
    "RewardModel",
    "head_float64",
]

CONFIG_FILE = "wqrm_edit_model.json"
DEGENERACY_FILE = "degeneracy.safetensors"
HEAD_FILE = "head.safetensors"  # the frozen kind's quality head
SENTENCE_HEAD_FILE = "sentence_head.safetensors"


@dataclass
class EditOutput:
    """What the edit model says about one text: its reward; when the model has a trained token
    head, the flagged spans; when it has a degeneracy head, the probability σ(g) that the text is
    degraded (None otherwise)."""

    reward: float
    spans: list[Span] | None = None
    degeneracy: float | None = None


class RewardModel(Protocol):
    """Anything that maps texts to one scalar reward each (higher = better writing)."""

    def score(self, texts: Sequence[str], batch_size: int = 1) -> np.ndarray: ...

    def run(self, texts: Sequence[str], batch_size: int = 1) -> list[EditOutput]: ...

    def save(self, out_dir: str | Path) -> Path: ...


class RewardHead(torch.nn.Module):
    """MLP on a fixed embedding: Linear(d, h) → tanh → dropout → Linear(h, 1) (h = 0: Linear(d, 1))."""

    def __init__(self, dim: int, hidden: int = 256, dropout: float = 0.1):
        super().__init__()
        if hidden > 0:
            self.net = torch.nn.Sequential(
                torch.nn.Linear(dim, hidden),
                torch.nn.Tanh(),
                torch.nn.Dropout(dropout),
                torch.nn.Linear(hidden, 1),
            )
        else:
            self.net = torch.nn.Sequential(torch.nn.Dropout(dropout), torch.nn.Linear(dim, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(-1)


def head_float64(head: torch.nn.Module, feats: np.ndarray) -> np.ndarray:
    """`head`'s outputs on `feats`, computed in float64 by a copy of the head: a float32 matrix
    product's rows move by ~1e-7 with the number of rows, so a float32 head would make a text's
    reward depend on how many texts are scored with it."""
    with torch.no_grad():
        h64 = copy.deepcopy(head).double().eval()
        return h64(torch.from_numpy(np.asarray(feats, dtype=np.float64))).numpy()
