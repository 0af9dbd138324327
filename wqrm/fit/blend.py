"""S1's second quality head: q_s on the ``sentences`` reading, blended with the paragraph head's q.

The paragraph head q reads the mean of a text's paragraph embeddings: good at an editor's
improvement of a whole paragraph, and moved (by noise) when two sentences trade places. A head
q_s fitted the same way (Bradley–Terry on the same human pairs, same seed and schedule) on the
unit-length mean of the text's *sentence* embeddings reads wording only, whatever the order. Each
is standardised by its median and standard deviation over the texts of the training pairs and
mixed with weight w on q_s (`wqrm.edit.frozen.blend_quality`), on q's scale, so the degeneracy
head's penalty and onset (fitted before, on q) keep their meaning.

w is not fitted on the pairs the heads were trained on: it was chosen in session 32 (w = 0.25) by
the red team's appended-cliché channel and leave-one-source-out accuracy, neither of which the
heads saw (benchmarks/results/robustness.md, docs/design-decisions.md "S1 edit model").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from wqrm.edit.frozen import EmbeddingHeadReward
from wqrm.fit.data import Pair
from wqrm.fit.degeneracy import deciding_dev
from wqrm.fit.train_edit import dev_accuracy

__all__ = ["add_sentence_head"]


def add_sentence_head(
    model: EmbeddingHeadReward,
    sentence_model: EmbeddingHeadReward,
    human: Sequence[Pair],
    dev: Sequence[Pair],
    features: Callable[[list[str]], np.ndarray],
    sentence_features: Callable[[list[str]], np.ndarray],
    weight: float,
) -> dict[str, float]:
    """Attach `sentence_model`'s quality head to `model` (in place) with blend weight `weight`,
    standardised over the texts of the `human` training pairs (no negatives); `features` and
    `sentence_features` give each model's embeddings (without surface counts). Returns the config
    entry plus the dev accuracy of the full reward before and after the blend (on
    `deciding_dev(dev)`, as the degeneracy fit)."""
    if not 0.0 < weight <= 1.0:
        raise ValueError(f"the blend weight must be in (0, 1], not {weight}")
    if sentence_model.reading != "sentences":
        raise ValueError(f"the second head must read sentences, not {sentence_model.reading!r}")
    calibration = list(dict.fromkeys(t for p in human for t in (p.better, p.worse)))
    q = model.quality_features(np.asarray(features(calibration), dtype=np.float64))
    q_s = sentence_model.quality_features(np.asarray(sentence_features(calibration), dtype=np.float64))
    lamp_dev = deciding_dev(dev)
    dev_texts = list(dict.fromkeys(t for p in lamp_dev for t in (p.better, p.worse)))
    x_dev = np.asarray(features(dev_texts), dtype=np.float64)
    x_dev_sentences = np.asarray(sentence_features(dev_texts), dtype=np.float64)

    def dev_reward() -> float:
        r = model.score_features(model.heads_input(dev_texts, x_dev, x_dev_sentences))
        return dev_accuracy({t: float(v) for t, v in zip(dev_texts, r, strict=True)}, lamp_dev)

    before = dev_reward() if lamp_dev else float("nan")
    model.sentence_head = sentence_model.head.eval()
    model.config["sentence_blend"] = {
        "weight": float(weight),
        "input_dim": int(sentence_model.config["input_dim"]),
        "hidden": int(sentence_model.config.get("hidden", 256)),
        "dropout": float(sentence_model.config.get("dropout", 0.1)),
        "reading": "sentences",
        "paragraph_median": float(np.median(q)),
        "paragraph_sd": float(np.std(q)),
        "sentences_median": float(np.median(q_s)),
        "sentences_sd": float(np.std(q_s)),
        "calibration_texts": len(calibration),
    }
    after = dev_reward() if lamp_dev else float("nan")
    return {
        **model.config["sentence_blend"],
        "lamp_dev_accuracy_before": before,
        "lamp_dev_accuracy_after": after,
    }
