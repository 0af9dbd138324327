"""The frozen-encoder S1 edit model (the shipped kind): MLP heads on the frozen sentence encoder's
mean-pooled, unit-length paragraph embeddings; a degeneracy head that also reads surface counts."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wqrm import resources
from wqrm.edit.base import (
    CONFIG_FILE,
    DEGENERACY_FILE,
    HEAD_FILE,
    SENTENCE_HEAD_FILE,
    EditOutput,
    RewardHead,
    head_float64,
)
from wqrm.edit.pieces import CHUNK_TOKENS, READINGS, encode_pieces, sentence_pieces, text_pieces
from wqrm.edit.surface import SURFACE_FEATURES, surface_features

__all__ = ["EmbeddingHeadReward", "blend_quality", "degeneracy_cost"]


def degeneracy_cost(probability: np.ndarray, onset: float) -> np.ndarray:
    """max(0, (σ − o) / (1 − o)) ∈ [0, 1]: the share of the penalty a degeneracy probability σ
    costs past the onset o ∈ [0, 1) (0 up to o, 1 at σ = 1)."""
    return np.maximum(probability - onset, 0.0) / (1.0 - onset)


def blend_quality(q: np.ndarray, q_sentences: np.ndarray, blend: dict[str, float]) -> np.ndarray:
    """m_p + s_p · [(1 − w)(q − m_p)/s_p + w(q_s − m_s)/s_s]: the paragraph head's q and the
    sentence head's q_s, each standardised by its median m and standard deviation s over the
    texts of the training pairs, mixed with weight w on q_s and put back on q's scale (so the
    degeneracy penalty, a multiple of sd(q), keeps its meaning). w = 0 gives q."""
    w = float(blend["weight"])
    mp, sp = float(blend["paragraph_median"]), float(blend["paragraph_sd"])
    ms, ss = float(blend["sentences_median"]), float(blend["sentences_sd"])
    return mp + sp * ((1.0 - w) * (q - mp) / sp + w * (q_sentences - ms) / ss)


class EmbeddingHeadReward:
    """Reward = q(x) − c·max(0, (σ(g(x, s)) − o) / (1 − o)), x the mean over paragraphs of the
    frozen encoder's unit-length embedding, s the text's surface counts (`wqrm.edit.surface`).

    q is the quality head (Bradley–Terry on human preference pairs); g, when present, the
    degeneracy head: a classifier of systematically degraded text (`wqrm.fit.negatives`) against
    the texts it was derived from. Once its probability σ(g) passes the onset o
    (`config["degeneracy"]["onset"]`: 0.8 for the shipped model; 0 for models before session 29,
    which also read no s) the excess costs up to c reward units (`["penalty"]`; o and c chosen on
    dev so that LAMP accuracy is kept, `wqrm.fit.degeneracy`). Without g the reward is q(x).

    With a sentence head (`config["sentence_blend"]`, the shipped model since session 33), q is
    `blend_quality` of the paragraph head's q(x) and a second quality head's q_s(x_s), x_s the
    unit-length mean of the text's sentence embeddings (the ``sentences`` reading, which no
    sentence order moves; `wqrm.fit.blend`). Range: unbounded real; only differences are
    meaningful."""

    kind = "frozen"
    backend = "torch"  # the paragraph encoder's runtime (`wqrm.edit.onnx_backend.with_backend`)

    def __init__(
        self,
        head: RewardHead,
        config: dict[str, Any],
        encoder=None,
        degeneracy: RewardHead | None = None,
        sentence_head: RewardHead | None = None,
    ):
        self.head = head.eval()
        self.config = config
        self._encoder = encoder
        self.degeneracy_head = degeneracy.eval() if degeneracy is not None else None
        self.sentence_head = sentence_head.eval() if sentence_head is not None else None

    @property
    def penalty(self) -> float:
        """c: the reward units σ(g) = 1 costs (0 without a degeneracy head)."""
        if self.degeneracy_head is None:
            return 0.0
        return float(self.config["degeneracy"]["penalty"])

    @property
    def encoder(self):
        """The encoder in float64 (a copy when it is the shared sentence encoder): in float32 a
        paragraph's embedding moves by ~1e-7 with the width and size of the batch it runs in,
        which the heads amplify to ~1e-5 of reward, so a text's reward would depend on what else
        is scored with it; in float64 it moves by < 1e-15 (tests/test_scoring.py). Costs ~1.7×
        the float32 pass; encoding each paragraph alone in float32 would also be invariant, but
        is 5× slower on a loaded 2-core machine (benchmarks/perf/score_path.py)."""
        if self._encoder is None:
            src = self.config.get("encoder_path")
            if src:
                from sentence_transformers import SentenceTransformer

                self._encoder = SentenceTransformer(src, device="cpu", local_files_only=True).double()
            else:
                self._encoder = copy.deepcopy(resources.get("sentence_encoder")).double()
        return self._encoder

    @property
    def reading(self) -> str:
        """How the model reads a paragraph longer than the encoder's window (`READINGS`): its
        first 256 tokens (``first``: models without the key, trained before session 28), the mean
        of its sentence-bounded chunks, or both side by side; or ``sentences``: the unit-length
        mean of its sentences' embeddings, each sentence encoded alone, the same for any order of
        the sentences (`sentence_pieces`)."""
        return self.config.get("reading", "first")

    def features(self, texts: Sequence[str], batch_size: int = 8) -> np.ndarray:
        """x per text: the mean of its paragraphs' unit-length embeddings (float64 encoder, see
        `encoder`; 8 a call: 32 held ~500 MB of attention, as fast), each distinct piece encoded
        once. By `reading`: a paragraph is its first 256 tokens (``first``), the mean of its
        chunks (``chunks``, `text_pieces`), or x is both means side by side (``both``, 2 × 384
        values; a paragraph that fits reads the same in each half); with ``sentences`` a
        paragraph is the mean of its sentences (`sentence_pieces`) and x is rescaled to unit
        length. With a sentence head, the ``sentences`` reading's x_s follows the surface counts."""
        reading = self.reading
        if reading not in READINGS:
            raise ValueError(f"unknown reading {reading!r}; known: {', '.join(READINGS)}")
        chunk = int(self.config.get("chunk_tokens") or CHUNK_TOKENS)
        views = []  # (pieces, owner text, weight, rescaled to unit length)
        if reading in ("first", "both"):
            views.append((*text_pieces(texts), False))
        if reading in ("chunks", "both"):
            views.append((*text_pieces(texts, self.encoder.tokenizer, chunk), False))
        if reading == "sentences":
            views.append((*sentence_pieces(texts), True))
        blended = self.sentence_head is not None
        if blended:  # x_s, the sentence head's input (pieces shared with other views encode once)
            views.append((*sentence_pieces(texts), True))
        emb = encode_pieces([p for view in views for p in view[0]], self.encoder, batch_size)
        means, start = [], 0
        for pieces, owner, weight, unit in views:
            part = emb[start : start + len(pieces)]
            start += len(pieces)
            x = np.zeros((len(texts), emb.shape[1]))
            np.add.at(x, owner, part * weight[:, None])
            x /= np.maximum(np.bincount(owner, weights=weight, minlength=len(texts)), 1e-12)[:, None]
            if unit:
                # unit length, as a paragraph's embedding is: a mean of diverse sentences is
                # shorter, and the heads would read its length as the number of sentences
                x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
            means.append(x)
        x_sentences = means.pop() if blended else None
        return self.heads_input(texts, np.concatenate(means, axis=1), x_sentences)

    def quality_features(self, feats: np.ndarray) -> np.ndarray:
        """q(x): the quality head alone (on the embedding columns of `feats`); with a sentence
        head, its blend with q_s(x_s) (`blend_quality`, x_s the last columns of `feats`)."""
        q = head_float64(self.head, feats[:, : self.config["input_dim"]])
        if self.sentence_head is None:
            return q
        blend = self.config["sentence_blend"]
        q_sentences = head_float64(self.sentence_head, feats[:, -int(blend["input_dim"]) :])
        return blend_quality(q, q_sentences, blend)

    def degeneracy_features(self, feats: np.ndarray) -> np.ndarray | None:
        """σ(g(x, s)) ∈ [0, 1], the probability that the text is degraded (None without the head)."""
        if self.degeneracy_head is None:
            return None
        width = self.config["input_dim"] + len(self.config["degeneracy"].get("surface") or ())
        return torch.sigmoid(torch.from_numpy(head_float64(self.degeneracy_head, feats[:, :width]))).numpy()

    def heads_input(
        self, texts: Sequence[str], x: np.ndarray, x_sentences: np.ndarray | None = None
    ) -> np.ndarray:
        """The heads' input, columns in the order every head reads them: the embeddings `x` of
        `texts`, their surface counts when g reads them (`with_surface`) and, for a model with a
        sentence head, the ``sentences`` reading's `x_sentences` last."""
        x = self.with_surface(texts, x)
        if self.sentence_head is None:
            return x
        if x_sentences is None:
            raise ValueError("this model has a sentence head: pass the sentences reading's embeddings")
        return np.concatenate([x, x_sentences], axis=1)

    def with_surface(self, texts: Sequence[str], x: np.ndarray) -> np.ndarray:
        """The heads' input: embeddings `x` of `texts`, and their surface counts after them when
        the degeneracy head reads them (`config["degeneracy"]["surface"]`)."""
        wanted = (self.config.get("degeneracy") or {}).get("surface")
        if not wanted:
            return x
        if tuple(wanted) != SURFACE_FEATURES:
            raise ValueError(f"model reads surface features {wanted}; this wqrm computes {SURFACE_FEATURES}")
        return np.concatenate([x, surface_features(texts)], axis=1)

    def _rewards(self, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(reward, σ(g) or None) from one pass of each head."""
        q = self.quality_features(feats)
        d = self.degeneracy_features(feats)
        if d is None:
            return q, None
        return q - self.penalty * degeneracy_cost(d, float(self.config["degeneracy"].get("onset", 0.0))), d

    def score_features(self, feats: np.ndarray) -> np.ndarray:
        return self._rewards(feats)[0]

    def score(self, texts: Sequence[str], batch_size: int = 8) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        return self.score_features(self.features(texts, batch_size))

    def run(self, texts: Sequence[str], batch_size: int = 8) -> list[EditOutput]:
        """Rewards and, with a degeneracy head, σ(g) per text; no spans (no token head)."""
        if not texts:
            return []
        rewards, d = self._rewards(self.features(texts, batch_size))
        probs = [None] * len(texts) if d is None else [float(p) for p in d]
        return [EditOutput(float(r), None, p) for r, p in zip(rewards, probs, strict=True)]

    def save(self, out_dir: str | Path) -> Path:
        from safetensors.torch import save_file

        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        heads = (
            (self.head, HEAD_FILE),
            (self.degeneracy_head, DEGENERACY_FILE),
            (self.sentence_head, SENTENCE_HEAD_FILE),
        )
        for head, name in heads:
            if head is not None:
                save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(out / name))
        (out / CONFIG_FILE).write_text(json.dumps({**self.config, "kind": self.kind}, indent=1) + "\n")
        return out

    @classmethod
    def load(cls, path: str | Path, config: dict[str, Any]) -> EmbeddingHeadReward:
        from safetensors.torch import load_file

        def read(name: str, dim: int, spec: dict[str, Any]) -> RewardHead:
            head = RewardHead(dim, spec.get("hidden", 256), spec.get("dropout", 0.1))
            head.load_state_dict(load_file(str(Path(path) / name)))
            return head

        degeneracy = sentence_head = None
        if d := config.get("degeneracy"):
            degeneracy = read(DEGENERACY_FILE, config["input_dim"] + len(d.get("surface") or ()), d)
        if b := config.get("sentence_blend"):
            sentence_head = read(SENTENCE_HEAD_FILE, b["input_dim"], b)
        head = read(HEAD_FILE, config["input_dim"], config)
        return cls(head, config, degeneracy=degeneracy, sentence_head=sentence_head)
