"""Pointwise reward models for edit quality (S1), trained pairwise (Bradley–Terry).

Two kinds, both saved as safetensors + JSON (no pickle) and loaded with `load_reward_model(dir)`:

* `frozen` (`EmbeddingHeadReward`): a small MLP head on the frozen sentence encoder's mean-pooled,
  unit-length embedding (all-MiniLM-L6-v2 by default). Cheap to train: features are computed once.
* `full` / `lora` (`TransformerReward`): `AutoModelForSequenceClassification` with one output on
  any encoder (default base `microsoft/deberta-v3-small`; the packaged MiniLM offline). `lora`
  stores only the PEFT adapter and the trained head/pooler; `full` stores the whole model.

Long texts are scored paragraph by paragraph (blank-line paragraphs, each truncated at the model's
maximum length) and the paragraph rewards are averaged, as the WQRM model card does. Inputs are
sorted by length and batched with attention masks, so a text's reward does not depend on the batch
it is in.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from wqrm import resources
from wqrm.analysis import encode_unit, paragraph_spans
from wqrm.resources import ResourceMissingError

__all__ = [
    "DEFAULT_BASE",
    "EmbeddingHeadReward",
    "RewardModel",
    "TransformerReward",
    "load_reward_model",
    "paragraphs_of",
    "resolve_base",
]

DEFAULT_BASE = "microsoft/deberta-v3-small"
CONFIG_FILE = "wqrm_edit_model.json"
MINILM_ALIASES = ("minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


class RewardModel(Protocol):
    """Anything that maps texts to one scalar reward each (higher = better writing)."""

    def score(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray: ...

    def save(self, out_dir: str | Path) -> Path: ...


def paragraphs_of(text: str) -> list[str]:
    """Blank-line paragraphs of `text` (the whole stripped text when there is no break)."""
    paras = [text[a:b] for a, b in paragraph_spans(text)]
    return paras or [text.strip()]


def _flatten(texts: Sequence[str]) -> tuple[list[str], np.ndarray]:
    pieces, owner = [], []
    for i, t in enumerate(texts):
        for p in paragraphs_of(t):
            pieces.append(p)
            owner.append(i)
    return pieces, np.asarray(owner, dtype=np.int64)


def _average(values: np.ndarray, owner: np.ndarray, n: int) -> np.ndarray:
    sums = np.bincount(owner, weights=values, minlength=n)
    counts = np.bincount(owner, minlength=n)
    return sums / np.maximum(counts, 1)


def resolve_base(base: str) -> str:
    """A local directory for `base`: an existing path, the packaged MiniLM, or a cached hub copy.

    Raises `ResourceMissingError` with the fix when the weights are not available offline.
    """
    if base in MINILM_ALIASES:
        return str(resources.minilm_path())
    if Path(base).exists():
        return str(base)
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(base, local_files_only=True)
    except Exception as exc:
        raise ResourceMissingError(
            f"encoder {base!r} is not available offline (wqrm never downloads at run time). Fix: pass "
            f"--base PATH to a local copy of {base}, or --base minilm for the packaged all-MiniLM-L6-v2."
        ) from exc


# --------------------------------------------------------------------------------------------
# frozen encoder + head
# --------------------------------------------------------------------------------------------


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


class EmbeddingHeadReward:
    """Reward = head(mean over paragraphs of the frozen encoder's unit-length embedding)."""

    kind = "frozen"

    def __init__(self, head: RewardHead, config: dict[str, Any], encoder=None):
        self.head = head.eval()
        self.config = config
        self._encoder = encoder

    @property
    def encoder(self):
        if self._encoder is None:
            src = self.config.get("encoder_path")
            if src:
                from sentence_transformers import SentenceTransformer

                self._encoder = SentenceTransformer(src, device="cpu", local_files_only=True)
            else:
                self._encoder = resources.get("sentence_encoder")
        return self._encoder

    def features(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        pieces, owner = _flatten(texts)
        emb = encode_unit(pieces, encoder=self.encoder, batch_size=batch_size)
        out = np.zeros((len(texts), emb.shape[1]))
        np.add.at(out, owner, emb)
        out /= np.maximum(np.bincount(owner, minlength=len(texts)), 1)[:, None]
        return out.astype(np.float32)

    def score_features(self, feats: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return self.head(torch.from_numpy(np.asarray(feats, dtype=np.float32))).double().numpy()

    def score(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.score_features(self.features(texts, batch_size))

    def save(self, out_dir: str | Path) -> Path:
        from safetensors.torch import save_file

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        save_file(
            {k: v.contiguous() for k, v in self.head.state_dict().items()}, str(out / "head.safetensors")
        )
        (out / CONFIG_FILE).write_text(json.dumps({**self.config, "kind": self.kind}, indent=1) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path, config: dict[str, Any]) -> EmbeddingHeadReward:
        from safetensors.torch import load_file

        head = RewardHead(config["input_dim"], config.get("hidden", 256), config.get("dropout", 0.1))
        head.load_state_dict(load_file(str(Path(path) / "head.safetensors")))
        return cls(head, config)


# --------------------------------------------------------------------------------------------
# transformer reward (AutoModelForSequenceClassification, optionally LoRA)
# --------------------------------------------------------------------------------------------

LORA_TARGETS = {"bert": ["query", "value"], "deberta-v2": ["query_proj", "value_proj"]}


class TransformerReward:
    """`AutoModelForSequenceClassification` (num_labels=1) reward, full or LoRA-adapted."""

    def __init__(self, model, tokenizer, config: dict[str, Any]):
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.kind = config.get("kind", "full")
        self.max_length = int(config.get("max_length", 256))

    @classmethod
    def from_base(
        cls,
        base: str,
        *,
        lora: bool = False,
        max_length: int = 256,
        seed: int = 0,
        lora_r: int = 8,
        lora_alpha: int = 16,
    ) -> TransformerReward:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = resolve_base(base)
        torch.manual_seed(seed)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1, local_files_only=True)
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        config: dict[str, Any] = {"kind": "lora" if lora else "full", "base": base, "max_length": max_length}
        if lora:
            model = _add_lora(model, lora_r, lora_alpha)
            config.update(lora_r=lora_r, lora_alpha=lora_alpha)
        return cls(model, tokenizer, config)

    def encode(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        return self.tokenizer(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )

    def forward(self, texts: Sequence[str]) -> torch.Tensor:
        """Rewards with gradients (training): one reward per text, no paragraph averaging."""
        enc = self.encode(texts)
        return self.model(**enc).logits.squeeze(-1)

    def score(self, texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        pieces, owner = _flatten(texts)
        lengths = [len(self.tokenizer.tokenize(p)) for p in pieces]
        order = np.argsort(lengths, kind="stable")
        values = np.zeros(len(pieces))
        self.model.eval()
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                values[idx] = self.forward([pieces[i] for i in idx]).double().numpy()
        return _average(values, owner, len(texts))

    def save(self, out_dir: str | Path) -> Path:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        if self.kind == "lora":
            self.model.save_pretrained(str(out))  # adapter_model.safetensors + adapter_config.json
        else:
            self.model.save_pretrained(str(out), safe_serialization=True)
            self.tokenizer.save_pretrained(str(out))
        (out / CONFIG_FILE).write_text(json.dumps(self.config, indent=1) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path, config: dict[str, Any]) -> TransformerReward:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        path = Path(path)
        if config["kind"] == "lora":
            from peft import PeftModel

            base = resolve_base(config["base"])
            tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(
                base, num_labels=1, local_files_only=True
            )
            if model.config.pad_token_id is None:
                model.config.pad_token_id = tokenizer.pad_token_id
            model = PeftModel.from_pretrained(model, str(path))
        else:
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(str(path), local_files_only=True)
        model.eval()
        return cls(model, tokenizer, config)


def _add_lora(model, r: int, alpha: int):
    from peft import LoraConfig, get_peft_model

    targets = LORA_TARGETS.get(model.config.model_type)
    if targets is None:
        raise ValueError(f"no LoRA target modules known for model type {model.config.model_type!r}")
    cfg = LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=0.1,
        target_modules=targets,
        modules_to_save=["classifier", "pooler"],
        task_type="SEQ_CLS",
    )
    return get_peft_model(model, cfg)


def load_reward_model(path: str | Path) -> EmbeddingHeadReward | TransformerReward:
    """Load a reward model directory written by `wqrm train-edit` (any kind)."""
    p = Path(path)
    cfg_path = p / CONFIG_FILE
    if not cfg_path.exists():
        raise FileNotFoundError(
            f"{p}: not a wqrm edit model (no {CONFIG_FILE}); train one with `wqrm train-edit`"
        )
    config = json.loads(cfg_path.read_text())
    if config["kind"] == "frozen":
        return EmbeddingHeadReward.load(p, config)
    if config["kind"] in ("full", "lora"):
        return TransformerReward.load(p, config)
    raise ValueError(f"{p}: unknown edit model kind {config['kind']!r}")
