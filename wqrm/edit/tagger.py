"""Edit-trace tagger: which tokens of a text a human editor would delete or replace.

Training labels come from two places:
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
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wqrm.edit.data import Pair, read_jsonl

__all__ = ["EditTagger", "Span", "TaggedText", "diff_spans", "load_span_file", "token_prf"]

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


@dataclass
class TaggedText:
    text: str
    spans: list[Span]
    source: str = ""
    group: str = ""


def load_span_file(path: str | Path) -> list[TaggedText]:
    """Rows of the spans schema as `TaggedText` (spans given as char offsets with a label)."""
    out = []
    for row in read_jsonl(path):
        spans = row.get("spans") or []
        if isinstance(spans, str):  # tolerate a repr'd list
            import ast

            spans = ast.literal_eval(spans)
        out.append(
            TaggedText(
                row["text"],
                [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in spans],
                row.get("source", "spans"),
            )
        )
    return out


def _word_offsets(text: str) -> list[tuple[int, int]]:
    import re

    return [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]


def diff_spans(original: str, edited: str) -> list[Span]:
    """Character spans of `original`'s words that the edit deleted or replaced (label "Edited")."""
    offs = _word_offsets(original)
    a = [original[s:e] for s, e in offs]
    b = edited.split()
    spans = []
    for tag, i1, i2, _j1, _j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag in ("replace", "delete") and i2 > i1:
            spans.append(Span(offs[i1][0], offs[i2 - 1][1], EDITED))
    return spans


def tagged_from_pairs(pairs: Sequence[Pair]) -> list[TaggedText]:
    """Edit-pair originals with their diff spans."""
    return [TaggedText(p.worse, diff_spans(p.worse, p.better), p.source, p.group) for p in pairs]


def token_prf(pred: np.ndarray, gold: np.ndarray) -> dict[str, float | None]:
    """Token-level precision, recall and F1 of boolean predictions (None where undefined)."""
    tp = float(np.sum(pred & gold))
    fp = float(np.sum(pred & ~gold))
    fn = float(np.sum(~pred & gold))
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f = 2 * p * r / (p + r) if p and r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tokens": int(pred.size), "gold_rate": float(gold.mean())}


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
        from transformers import AutoModel, AutoTokenizer

        from wqrm.edit.model import resolve_base

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
        from wqrm.analysis import _paragraph_spans

        out = []
        for ps, pe in _paragraph_spans(text) or [(0, len(text))]:
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

    # ---- training -----------------------------------------------------------------------------

    def featurise(self, items: Sequence[TaggedText]) -> list[tuple[torch.Tensor, np.ndarray, np.ndarray]]:
        """Hidden states and token labels for every window of every item (encoder run once)."""
        feats = []
        for it in items:
            for inputs, offsets in self.windows(it.text):
                flag, cat = self.token_labels(offsets, it.spans, self.categories)
                feats.append((self.hidden(inputs), flag, cat))
        return feats

    def fit(
        self,
        train_feats,
        dev_feats,
        *,
        epochs: int = 8,
        lr: float = 1e-3,
        seed: int = 0,
        pos_weight: float | None = None,
    ) -> list[dict]:
        """Train the head on cached features; keep the epoch with the best dev F1 and its threshold."""
        torch.manual_seed(seed)
        X = torch.cat([h for h, _, _ in train_feats])
        F = torch.from_numpy(np.concatenate([f for _, f, _ in train_feats]))
        C = torch.from_numpy(np.concatenate([c for _, _, c in train_feats]))
        keep = F >= 0
        X, F, C = X[keep], F[keep].float(), C[keep]
        if pos_weight is None:
            pos_weight = float((F == 0).sum() / max(1, (F == 1).sum()))
        self.head.train()
        opt = torch.optim.AdamW(self.head.parameters(), lr=lr, weight_decay=0.01)
        bce = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pos_weight))
        gen = torch.Generator().manual_seed(seed)
        best, best_state, history = -1.0, None, []
        for epoch in range(epochs):
            perm = torch.randperm(len(X), generator=gen)
            for start in range(0, len(perm), 512):
                idx = perm[start : start + 512]
                logits = self.head(X[idx])
                loss = bce(logits[:, 0], F[idx])
                has_cat = C[idx] >= 0
                if self.categories and has_cat.any():
                    loss = loss + torch.nn.functional.cross_entropy(logits[has_cat, 1:], C[idx][has_cat])
                opt.zero_grad()
                loss.backward()
                opt.step()
            self.head.eval()
            thr, prf = self.best_threshold(dev_feats)
            history.append({"epoch": epoch + 1, "dev_f1": prf["f1"], "threshold": thr})
            if prf["f1"] > best:
                best, self.threshold = prf["f1"], thr
                best_state = {k: v.clone() for k, v in self.head.state_dict().items()}
            self.head.train()
        self.head.load_state_dict(best_state)
        self.head.eval()
        return history

    def dev_scores(self, feats) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            probs = [torch.sigmoid(self.head(h)[:, 0]).numpy() for h, _, _ in feats]
        p = np.concatenate(probs)
        g = np.concatenate([f for _, f, _ in feats])
        keep = g >= 0
        return p[keep], g[keep].astype(bool)

    def best_threshold(self, feats) -> tuple[float, dict]:
        p, g = self.dev_scores(feats)
        best = (0.5, token_prf(p >= 0.5, g))
        for thr in np.linspace(0.05, 0.95, 19):
            prf = token_prf(p >= thr, g)
            if prf["f1"] > best[1]["f1"]:
                best = (float(thr), prf)
        return best
