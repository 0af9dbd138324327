"""Edit-trace tagger: which tokens of a text a human editor would delete or replace.

This module predicts; `wqrm.fit.tagger` trains. Training labels come from two places:
* LAMP span annotations (`spans/lamp_train_detection.jsonl`): character spans with a category
  (Cliche, Purple Prose, Awkward Word Choice and Phrasing, Unnecessary Exposition, …);
* diffs of edit pairs: the words of an original that its edit deleted or replaced
  (difflib over words; category "Edited").

Model: the frozen encoder's last hidden states (the packaged all-MiniLM-L6-v2 transformer by default)
feed a linear token head with 1 + C outputs: a flag logit and C category logits (categories are
trained on annotated flagged tokens only). Texts are cut into paragraphs and paragraphs into
non-overlapping windows of `max_length` tokens, so every token is predicted exactly once.
Predicted flagged tokens (p ≥ threshold, the threshold chosen on dev for F1) are merged into
character spans with a category and a mean probability.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wqrm.analysis import paragraph_spans
from wqrm.edit.model import resolve_base

__all__ = ["EDITED", "EditTagger", "Span"]

EDITED = "Edited"
CONFIG_FILE = "wqrm_edit_tagger.json"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    probability: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "probability": round(self.probability, 4),
        }


class EditTagger:
    """Token flag + category head on a frozen transformer encoder."""

    def __init__(
        self, encoder, tokenizer, head: torch.nn.Linear, categories: list[str], config: dict[str, Any]
    ):
        self.encoder = encoder.eval()
        self.tokenizer = tokenizer
        self.head = head.eval()
        self.categories = categories
        self.config = config
        self.max_length = int(config.get("max_length", 256))
        self.threshold = float(config.get("threshold", 0.5))

    # ---- construction / io ------------------------------------------------------------------

    @staticmethod
    def load_encoder(base: str = "minilm"):
        from transformers import AutoModel, AutoTokenizer  # heavy: loaded with the model

        path = resolve_base(base)
        return AutoModel.from_pretrained(path, local_files_only=True), AutoTokenizer.from_pretrained(
            path, local_files_only=True
        )

    @classmethod
    def new(
        cls, categories: list[str], base: str = "minilm", max_length: int = 256, seed: int = 0
    ) -> EditTagger:
        encoder, tokenizer = cls.load_encoder(base)
        torch.manual_seed(seed)
        head = torch.nn.Linear(encoder.config.hidden_size, 1 + len(categories))
        return cls(encoder, tokenizer, head, categories, {"base": base, "max_length": max_length})

    def save(self, out_dir: str | Path) -> Path:
        from safetensors.torch import save_file

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: v.contiguous() for k, v in self.head.state_dict().items()},
            str(out / "tagger_head.safetensors"),
        )
        cfg = {**self.config, "categories": self.categories, "threshold": self.threshold}
        (out / CONFIG_FILE).write_text(json.dumps(cfg, indent=1) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path, encoder=None, tokenizer=None) -> EditTagger:
        from safetensors.torch import load_file

        p = Path(path)
        cfg = json.loads((p / CONFIG_FILE).read_text())
        if encoder is None or tokenizer is None:
            encoder, tokenizer = cls.load_encoder(cfg.get("base", "minilm"))
        head = torch.nn.Linear(encoder.config.hidden_size, 1 + len(cfg["categories"]))
        head.load_state_dict(load_file(str(p / "tagger_head.safetensors")))
        return cls(encoder, tokenizer, head, list(cfg["categories"]), cfg)

    # ---- encoding -----------------------------------------------------------------------------

    def windows(self, text: str) -> list[tuple[dict[str, torch.Tensor], np.ndarray]]:
        """Token windows of `text`: (model inputs, char offsets into `text`) per window."""
        out = []
        for ps, pe in paragraph_spans(text) or [(0, len(text))]:
            enc = self.tokenizer(
                text[ps:pe],
                truncation=True,
                max_length=self.max_length,
                return_overflowing_tokens=True,
                stride=0,
                return_offsets_mapping=True,
                return_tensors="pt",
                padding=True,
            )
            enc.pop("overflow_to_sample_mapping", None)
            offsets = enc.pop("offset_mapping").numpy() + ps
            for w in range(enc["input_ids"].shape[0]):
                mask = enc["attention_mask"][w].bool()
                special = (offsets[w, :, 1] - offsets[w, :, 0]) == 0
                keep = mask.numpy() & ~special
                out.append(
                    (
                        {k: v[w : w + 1, : int(mask.sum())] for k, v in enc.items()},
                        np.where(keep[:, None], offsets[w], -1)[: int(mask.sum())],
                    )
                )
        return out

    def hidden(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        with torch.no_grad():
            return self.encoder(**inputs).last_hidden_state[0]

    @staticmethod
    def token_labels(
        offsets: np.ndarray, spans: Sequence[Span], categories: list[str]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(flag 0/1, category index or −1) for each token; special tokens get flag −1 (ignored)."""
        flag = np.where(offsets[:, 0] < 0, -1, 0)
        cat = np.full(len(offsets), -1)
        for s in spans:
            inside = (offsets[:, 0] >= 0) & (offsets[:, 0] < s.end) & (offsets[:, 1] > s.start)
            flag[inside] = 1
            if s.label in categories:
                cat[inside] = categories.index(s.label)
        return flag, cat

    # ---- prediction ---------------------------------------------------------------------------

    def token_probabilities(self, text: str) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Per window: (char offsets, flag probability, category probabilities) of real tokens."""
        out = []
        for inputs, offsets in self.windows(text):
            with torch.no_grad():
                logits = self.head(self.hidden(inputs))
            keep = offsets[:, 0] >= 0
            flag = torch.sigmoid(logits[:, 0]).numpy()[keep]
            cats = (
                torch.softmax(logits[:, 1:], dim=-1).numpy()[keep]
                if self.categories
                else np.zeros((keep.sum(), 0))
            )
            out.append((offsets[keep], flag, cats))
        return out

    def predict(self, text: str, threshold: float | None = None) -> list[Span]:
        """Flagged character spans: adjacent flagged tokens merged, with category and mean probability."""
        thr = self.threshold if threshold is None else threshold
        spans: list[Span] = []
        for offsets, flag, cats in self.token_probabilities(text):
            run: list[int] = []
            for i in [*range(len(flag)), None]:
                if i is not None and flag[i] >= thr:
                    run.append(i)
                    continue
                if run:
                    label = (
                        self.categories[int(cats[run].mean(axis=0).argmax())] if self.categories else EDITED
                    )
                    spans.append(
                        Span(
                            int(offsets[run[0], 0]), int(offsets[run[-1], 1]), label, float(flag[run].mean())
                        )
                    )
                    run = []
        # merge spans separated only by whitespace
        merged: list[Span] = []
        for s in spans:
            if merged and not text[merged[-1].end : s.start].strip() and merged[-1].label == s.label:
                m = merged.pop()
                s = Span(m.start, s.end, s.label, (m.probability + s.probability) / 2)
            merged.append(s)
        return merged
