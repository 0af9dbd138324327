"""The S1 edit model: a pointwise reward for writing quality and, from the same forward pass, the
edit-trace spans an editor would change. Trained pairwise (Bradley–Terry) by `wqrm.fit.train_edit`.

Two kinds, saved as safetensors + JSON (no pickle) and loaded with `load_reward_model(dir)`:

* `lora` / `full` (`TransformerEditModel`): an encoder (any local encoder: the
  design's `microsoft/deberta-v3-small` where its weights are available, the packaged
  all-MiniLM-L6-v2 offline) fine-tuned with LoRA adapters (`lora`: only adapters and heads are
  stored, on top of the packaged base) or entirely (`full`), with two heads on its last hidden
  states: a reward MLP on the mean-pooled states and a token head over "not flagged" + the LAMP
  edit categories. One forward pass gives both the reward and the spans.
* `frozen` (`EmbeddingHeadReward`, the shipped kind): MLP heads on the frozen sentence encoder's
  mean-pooled, unit-length paragraph embeddings (a long paragraph read as the config's `reading`
  says: first 256 tokens, sentence-bounded chunks, or both; `wqrm.edit.pieces`); no spans.

A text is read in consecutive windows of `max_length` tokens (a paragraph shorter than a window
shares it with what follows, so repetition across paragraphs stays visible); its reward is the
mean of its windows' rewards. Windows are sorted by length and batched with attention masks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wqrm import resources
from wqrm.analysis import paragraph_spans
from wqrm.edit.base import CONFIG_FILE, HEAD_FILE, EditOutput, RewardHead, RewardModel
from wqrm.edit.frozen import EmbeddingHeadReward
from wqrm.edit.pieces import CHUNK_TOKENS, READINGS, chunk_cuts, paragraphs_of, text_pieces
from wqrm.edit.tagger import spans_from_tokens
from wqrm.resources import ResourceMissingError

__all__ = [
    "CHUNK_TOKENS",
    "DEFAULT_BASE",
    "READINGS",
    "EditModel",
    "EditOutput",
    "EmbeddingHeadReward",
    "RewardModel",
    "TransformerEditModel",
    "Window",
    "chunk_cuts",
    "load_reward_model",
    "paragraphs_of",
    "resolve_base",
    "text_pieces",
]

DEFAULT_BASE = "microsoft/deberta-v3-small"
MINILM_ALIASES = ("minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")


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
# fine-tuned encoder with a reward head and a token head
# --------------------------------------------------------------------------------------------

#: Attention projections LoRA adapts, by model type.
LORA_TARGETS = {"bert": ["query", "value"], "deberta-v2": ["query_proj", "value_proj"]}
WEIGHTS_FILE = "edit_model.safetensors"


class EditModel(torch.nn.Module):
    """Encoder + reward head on the mean-pooled last hidden states + token head.

    `forward(input_ids, attention_mask)` returns (rewards (B,), token logits (B, L, 1 + C)): logit
    0 of the token head is the token's flag (sigmoid: an editor would change it), logits 1..C rank
    the edit categories `labels` (softmax) of a flagged token. With `normalize` the pooled state is
    scaled to unit length before the reward head, which makes the model at initialisation exactly
    the sentence encoder's embedding (mean pooling, unit length) fed to a head — so a head trained
    on frozen embeddings (`EmbeddingHeadReward`) is a warm start."""

    def __init__(
        self,
        encoder,
        labels: Sequence[str],
        head_hidden: int = 256,
        dropout: float = 0.1,
        normalize: bool = True,
    ):
        super().__init__()
        self.encoder = encoder
        dim = encoder.config.hidden_size
        self.labels = list(labels)
        self.normalize = normalize
        self.reward_head = RewardHead(dim, head_hidden, dropout)
        self.token_head = torch.nn.Linear(dim, 1 + len(self.labels))

    def encode(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(pooled state the reward head reads (B, d), last hidden states the token head reads (B, L, d))."""
        h = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(h.dtype)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return pooled, h

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, **_: Any):
        pooled, h = self.encode(input_ids, attention_mask)
        return self.reward_head(pooled), self.token_head(h)


@dataclass
class Window:
    """Consecutive tokens of one text, at most `max_length` of them."""

    text: int  # index of the text
    ids: list[int]
    offsets: np.ndarray  # (len(ids), 2) character offsets in the text; (-1, -1) for special tokens


def _lora_config(model_type: str, r: int, alpha: int, layers: Sequence[int] | None):
    from peft import LoraConfig  # heavy: only for LoRA models

    targets = LORA_TARGETS.get(model_type)
    if targets is None:
        raise ValueError(f"no LoRA target modules known for model type {model_type!r}")
    return LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=0.1,
        target_modules=targets,
        layers_to_transform=list(layers) if layers else None,
    )


class TransformerEditModel:
    """The `lora` / `full` edit model: tokenizer, `EditModel` and its configuration.

    `run(texts)` gives each text's reward and spans from one forward pass per window."""

    def __init__(self, model: EditModel, tokenizer, config: dict[str, Any]):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.kind = config["kind"]
        self.max_length = int(config.get("max_length", 384))
        self.threshold = float(config.get("threshold", 0.5))
        self.has_tagger = bool(config.get("tagger", False))

    @property
    def labels(self) -> list[str]:
        return self.model.labels

    # ---- construction / io -------------------------------------------------------------------

    @classmethod
    def new(
        cls,
        base: str,
        *,
        kind: str = "lora",
        labels: Sequence[str] = (),
        max_length: int = 384,
        lora_r: int = 8,
        lora_alpha: int = 16,
        lora_layers: Sequence[int] | None = None,
        head_hidden: int = 256,
        dropout: float = 0.1,
        normalize: bool = True,
        init_reward_head: str | Path | None = None,
        seed: int = 0,
    ) -> TransformerEditModel:
        """A new model on `base` (a local path or "minilm"); `lora_layers`: the encoder layers that
        get adapters (None: all); `init_reward_head`: a frozen-encoder model directory whose head
        (same encoder, same head size) starts the reward head."""
        from transformers import AutoModel, AutoTokenizer  # heavy: loaded with the model

        if kind not in ("lora", "full"):
            raise ValueError(f"kind must be lora or full, not {kind!r}")
        resources.quiet_transformers()
        path = resolve_base(base)
        torch.manual_seed(seed)
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        encoder = AutoModel.from_pretrained(path, local_files_only=True)
        config: dict[str, Any] = {
            "kind": kind,
            "base": base,
            "model_type": encoder.config.model_type,
            "max_length": max_length,
            "head_hidden": head_hidden,
            "dropout": dropout,
            "normalize": normalize,
        }
        if kind == "lora":
            from peft import get_peft_model  # heavy: only for LoRA models

            layers = list(lora_layers) if lora_layers is not None else None
            encoder = get_peft_model(
                encoder, _lora_config(encoder.config.model_type, lora_r, lora_alpha, layers)
            )
            config["lora"] = {"r": lora_r, "alpha": lora_alpha, "layers": layers}
        model = EditModel(encoder, labels, head_hidden, dropout, normalize)
        if init_reward_head is not None:
            from safetensors.torch import load_file

            model.reward_head.load_state_dict(load_file(str(Path(init_reward_head) / HEAD_FILE)))
            config["init_reward_head"] = Path(init_reward_head).name
        return cls(model, tokenizer, config)

    def trainable_state(self) -> dict[str, torch.Tensor]:
        """What `save` stores: LoRA adapters and heads (`lora`), or every weight (`full`)."""
        state = self.model.state_dict()
        if self.kind == "lora":
            state = {k: v for k, v in state.items() if "lora_" in k or not k.startswith("encoder.")}
        return {k: v.detach().contiguous() for k, v in state.items()}

    def save(self, out_dir: str | Path) -> Path:
        from safetensors.torch import save_file

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        save_file(self.trainable_state(), str(out / WEIGHTS_FILE))
        if self.kind == "full":
            self.tokenizer.save_pretrained(str(out))
            self.model.encoder.config.save_pretrained(str(out))
        config = {
            **self.config,
            "labels": self.labels,
            "threshold": self.threshold,
            "tagger": self.has_tagger,
        }
        (out / CONFIG_FILE).write_text(json.dumps(config, indent=1) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path, config: dict[str, Any]) -> TransformerEditModel:
        from safetensors.torch import load_file
        from transformers import AutoConfig, AutoModel, AutoTokenizer  # heavy: loaded with the model

        path = Path(path)
        resources.quiet_transformers()
        if config["kind"] == "lora":
            base = resolve_base(config["base"])
            tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
            encoder = AutoModel.from_pretrained(base, local_files_only=True)
            from peft import get_peft_model  # heavy: only for LoRA models

            lora = config["lora"]
            encoder = get_peft_model(
                encoder, _lora_config(encoder.config.model_type, lora["r"], lora["alpha"], lora["layers"])
            )
        else:
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            encoder = AutoModel.from_config(AutoConfig.from_pretrained(str(path), local_files_only=True))
        model = EditModel(
            encoder,
            config.get("labels", []),
            config.get("head_hidden", 256),
            config.get("dropout", 0.1),
            config.get("normalize", False),
        )
        state = load_file(str(path / WEIGHTS_FILE))
        missing = set(state) - set(model.state_dict())
        if missing:
            raise ValueError(f"{path}: weights that fit no parameter of the model: {sorted(missing)[:5]}")
        model.load_state_dict(state, strict=config["kind"] == "full")
        return cls(model, tokenizer, config)

    # ---- inference -----------------------------------------------------------------------------

    def windows(self, texts: Sequence[str]) -> list[Window]:
        """Consecutive windows of at most `max_length` tokens over each whole text."""
        enc = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.max_length,
            return_overflowing_tokens=True,
            stride=0,
            return_offsets_mapping=True,
        )
        owners = enc.get("overflow_to_sample_mapping", list(range(len(texts))))
        out = []
        for ids, offsets, owner in zip(enc["input_ids"], enc["offset_mapping"], owners, strict=True):
            off = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
            special = off[:, 1] <= off[:, 0]
            off[special] = -1
            out.append(Window(int(owner), list(ids), off))
        return out

    def _batches(self, windows: Sequence[Window], batch_size: int):
        """(window indices, input ids, attention mask) per batch of windows of similar length."""
        pad = self.tokenizer.pad_token_id or 0
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            width = max(len(windows[i].ids) for i in idx)
            ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):
                n = len(windows[i].ids)
                ids[r, :n] = torch.tensor(windows[i].ids)
                mask[r, :n] = 1
            yield idx, ids, mask

    def forward_windows(
        self, windows: Sequence[Window], batch_size: int = 16
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """(reward per window, per-token probabilities per window), batched by length: column 0
        the flag probability, columns 1.. the category probabilities of a flagged token."""
        rewards = np.zeros(len(windows))
        probs: list[np.ndarray] = [np.zeros((0, 0))] * len(windows)
        self.model.eval()
        with torch.no_grad():
            for idx, ids, mask in self._batches(windows, batch_size):
                reward, logits = self.model(input_ids=ids, attention_mask=mask)
                logits = logits.double()
                p = torch.cat(
                    [torch.sigmoid(logits[..., :1]), torch.softmax(logits[..., 1:], -1)], -1
                ).numpy()
                for r, i in enumerate(idx):
                    rewards[i] = float(reward[r])
                    probs[i] = p[r, : len(windows[i].ids)]
        return rewards, probs

    def encode_windows(
        self, windows: Sequence[Window], batch_size: int = 16, hidden: bool = False
    ) -> tuple[np.ndarray, list[np.ndarray] | None]:
        """The heads' inputs per window: pooled states (n, d) and, with `hidden`, each window's last
        hidden states (L, d) — what `wqrm.fit.heads.retrain_heads` trains heads on."""
        pooled = np.zeros((len(windows), self.model.encoder.config.hidden_size), dtype=np.float32)
        states: list[np.ndarray] | None = [np.zeros((0, 0))] * len(windows) if hidden else None
        self.model.eval()
        with torch.no_grad():
            for idx, ids, mask in self._batches(windows, batch_size):
                p, h = self.model.encode(ids, mask)
                pooled[idx] = p.numpy()
                if states is not None:
                    for r, i in enumerate(idx):
                        states[i] = h[r, : len(windows[i].ids)].numpy()
        return pooled, states

    def run(self, texts: Sequence[str], batch_size: int = 1) -> list[EditOutput]:
        """Reward (mean over the text's windows) and, with a trained token head, spans.

        Windows run one at a time by default, so a text's outputs do not depend on what else is
        scored with it (see `EmbeddingHeadReward.features`); training code batches."""
        if not texts:
            return []
        windows = self.windows(texts)
        rewards, probs = self.forward_windows(windows, batch_size)
        out = []
        for t, text in enumerate(texts):
            mine = [i for i, w in enumerate(windows) if w.text == t]
            reward = float(np.mean(rewards[mine])) if mine else float("nan")
            spans = None
            if self.has_tagger:
                offsets = np.concatenate([windows[i].offsets for i in mine]) if mine else np.zeros((0, 2))
                p = np.concatenate([probs[i] for i in mine]) if mine else np.zeros((0, 1 + len(self.labels)))
                real = offsets[:, 0] >= 0
                offsets, p = offsets[real], p[real]
                spans = spans_from_tokens(
                    text,
                    offsets,
                    p[:, 0],
                    p[:, 1:],
                    self.labels,
                    self.threshold,
                    paragraphs=paragraph_spans(text),
                )
            out.append(EditOutput(reward, spans))
        return out

    def score(self, texts: Sequence[str], batch_size: int = 1) -> np.ndarray:
        return np.array([o.reward for o in self.run(texts, batch_size)], dtype=np.float64)


def load_reward_model(path: str | Path) -> EmbeddingHeadReward | TransformerEditModel:
    """Load an edit model directory written by `wqrm train-edit` (any kind)."""
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
        return TransformerEditModel.load(p, config)
    raise ValueError(f"{p}: unknown edit model kind {config['kind']!r}")
