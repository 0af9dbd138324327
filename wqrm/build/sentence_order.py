"""The next-sentence model of `next_sentence_gain`: does this sentence follow that one?

A small two-layer network over the all-MiniLM-L6-v2 embeddings (a, b) of two sentences, fed
[a, b, a⊙b, b − a], that gives the probability that b is the sentence written right after a.
Positives are the adjacent sentence pairs of human reference prose; negatives, resampled every
epoch, are the same pair in reverse order, a pair from the same passage two or more sentences
apart, and a sentence followed by one drawn from any other passage (next-sentence prediction,
Devlin et al. 2019; sentence-order discrimination, Barzilay & Lapata 2008; a pairwise model on
sentence vectors as in Chen, Qiu & Huang 2016). Class-balanced binary cross-entropy, AdamW,
early stopping on the loss of books kept apart for development.

Built from the books S1's training and the part-of-speech model read (`POS_LM_BOOKS`; the
robustness suite draws its book originals from the other twelve), leaving out the passages the
default profile samples from them, so the profile's quantiles are measured on text the model
never saw::

    wqrm build-sentence-order --data ../shared/data --out wqrm/data/profiles/default/corpus/sentence_order

Files: ``model.safetensors`` (float32 weights, `SentenceOrderModel`) and ``manifest.json``
(command, sources with sha256, sizes, the curve of dev loss and ROC AUC by epoch, seconds).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.build.sources import file_sha256
from wqrm.sentence_order import MODEL_FILE, SentenceOrderModel, pair_features

__all__ = ["DEV_BOOKS", "build_sentence_order", "order_examples"]

#: The books held out of training for early stopping (two of `POS_LM_BOOKS`).
DEV_BOOKS = ("twain_tom_sawyer", "wilde_dorian_gray")


def order_examples(
    passages: Sequence[np.ndarray], rng: random.Random
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(first, second, label) for every adjacent sentence pair of every passage's embeddings:
    the pair itself (label 1); and, labelled 0, the pair reversed, the first sentence followed by a
    sentence of its passage at least two sentences away (when there is one) and by a sentence
    drawn from all passages."""
    pool = np.concatenate([p for p in passages if len(p)])
    first: list[np.ndarray] = []
    second: list[np.ndarray] = []
    label: list[int] = []

    def add(a: np.ndarray, b: np.ndarray, y: int) -> None:
        first.append(a)
        second.append(b)
        label.append(y)

    for e in passages:
        n = len(e)
        for i in range(n - 1):
            add(e[i], e[i + 1], 1)
            add(e[i + 1], e[i], 0)
            far = [k for k in range(n) if k != i and k != i + 1]
            if far:
                add(e[i], e[rng.choice(far)], 0)
            add(e[i], pool[rng.randrange(len(pool))], 0)
    return np.asarray(first), np.asarray(second), np.asarray(label, dtype=np.float32)


def _embedded_passages(passages: Sequence[str], say) -> list[np.ndarray]:
    """The spaCy sentences of each passage as unit MiniLM embeddings (float32), as the metric
    sees them; passages of fewer than two sentences are dropped."""
    from wqrm.analysis import analyze_batch, embed_sentences  # deferred: spaCy and the encoder

    out: list[np.ndarray] = []
    t0 = time.perf_counter()
    for start in range(0, len(passages), 256):
        batch = analyze_batch(passages[start : start + 256], lang="en")
        embed_sentences(batch)
        out.extend(a.sentence_embeddings.astype(np.float32) for a in batch if len(a.sentences) >= 2)
        say(f"sentence-order: embedded {min(start + 256, len(passages))}/{len(passages)} passages "
            f"({time.perf_counter() - t0:.0f} s)")  # fmt: skip
    return out


def _roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """ROC AUC by the rank-sum (Mann-Whitney) formula, ties averaged."""
    from scipy.stats import rankdata  # deferred: scipy loads only for the build

    r = rankdata(s)
    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def build_sentence_order(
    books: Sequence[Path],
    out_dir: str | Path,
    *,
    exclude: Iterable[str] = (),
    dev_books: Sequence[str] = DEV_BOOKS,
    hidden: int = 256,
    epochs: int = 60,
    patience: int = 5,
    lr: float = 1e-3,
    batch_size: int = 256,
    seed: int = 0,
    command: str = "",
    progress=None,
) -> dict[str, Any]:
    """Train the model on the passages of `books` (not those in `exclude`), stopping on the loss of
    the `dev_books`; write it to `out_dir` and return the manifest."""
    import torch  # deferred: torch loads only for the build

    from wqrm.build.profile import passages_from_file  # deferred: as above

    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    skip = set(exclude)
    parts: dict[str, list[str]] = {"train": [], "dev": []}
    for b in books:
        part = "dev" if b.stem in dev_books else "train"
        parts[part].extend(p for p in passages_from_file(b) if p not in skip)
    say(f"sentence-order: {len(parts['train'])} training and {len(parts['dev'])} dev passages")
    emb = {name: _embedded_passages(ps, say) for name, ps in parts.items()}
    for name, part in emb.items():
        if not part:
            raise ValueError(f"sentence-order: no {name} passage of two or more sentences (dev books: "
                             f"{', '.join(dev_books)})")  # fmt: skip

    rng = random.Random(seed)
    torch.manual_seed(seed)
    dim = emb["train"][0].shape[1]
    net = SentenceOrderModel.network(dim, hidden)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.01)
    da, db, dy = order_examples(emb["dev"], random.Random(seed + 1))
    dev_x = torch.from_numpy(pair_features(da, db))
    dev_y = torch.from_numpy(dy)
    dev_weight = torch.tensor((1 - dy.mean()) / dy.mean())
    best_loss, best_state, best_epoch = float("inf"), None, -1
    curve: list[dict[str, float]] = []
    n_train = 0
    for epoch in range(epochs):
        ta, tb, ty = order_examples(emb["train"], rng)
        n_train = len(ty)
        x, y = torch.from_numpy(pair_features(ta, tb)), torch.from_numpy(ty)
        weight = torch.tensor((1 - ty.mean()) / ty.mean())
        net.train()
        order = torch.randperm(len(x))
        total = 0.0
        for start in range(0, len(x), batch_size):
            idx = order[start : start + batch_size]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                net(x[idx]).squeeze(1), y[idx], pos_weight=weight
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        net.eval()
        with torch.no_grad():
            logits = net(dev_x).squeeze(1)
            dev_loss = float(
                torch.nn.functional.binary_cross_entropy_with_logits(logits, dev_y, pos_weight=dev_weight)
            )
        auc = _roc_auc(dy, logits.numpy())
        curve.append({"epoch": epoch + 1, "train_loss": round(total / len(x), 4),
                      "dev_loss": round(dev_loss, 4), "dev_auc": round(auc, 4)})  # fmt: skip
        say(f"sentence-order: epoch {epoch + 1} train {total / len(x):.4f} dev {dev_loss:.4f} AUC {auc:.4f}")
        if dev_loss < best_loss - 1e-4:
            best_loss, best_epoch = dev_loss, epoch + 1
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        elif epoch + 1 - best_epoch >= patience:
            break
    assert best_state is not None
    net.load_state_dict(best_state)
    model = SentenceOrderModel.from_network(net)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.save(out)
    dev_scores = model.pair_logits(da, db)
    manifest = {
        "format": "wqrm-sentence-order/1",
        "command": command,
        "encoder": "all-MiniLM-L6-v2 (unit sentence embeddings, as `Analysis.sentence_embeddings`)",
        "hidden": hidden,
        "sources": [{"file": b.name, "sha256": file_sha256(b)} for b in books],
        "dev_books": list(dev_books),
        "excluded_passages": len(skip),
        "passages": {k: len(v) for k, v in emb.items()},
        "sentences": {k: int(sum(len(e) for e in v)) for k, v in emb.items()},
        "train_examples_per_epoch": n_train,
        "dev_examples": len(dy),
        "best_epoch": best_epoch,
        "dev_loss": round(best_loss, 4),
        "dev_auc": round(_roc_auc(dy, dev_scores), 4),
        "curve": curve,
        "bytes": (out / MODEL_FILE).stat().st_size,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
