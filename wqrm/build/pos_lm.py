"""The part-of-speech n-gram model of `pos_ngram_surprisal`: how usual a text's word order is.

A Kneser-Ney model (`wqrm.ngram.KneserNeyLM`) over the coarse Universal POS tags of sentences of
human reference prose, punctuation included (where a sentence ends without its full stop, the
end-of-sentence tag is improbable), sentences padded with <s> / </s>. Its vocabulary is the
seventeen UPOS tags, so it measures syntax, not vocabulary: a rare word costs nothing, a word
salad, a sentence read backwards or a list of keywords costs bits per token.

Built from books kept apart from the robustness suite's originals (`POS_LM_BOOKS`, the books S1
training reads), leaving out the passages the default profile samples from them, so the profile's
quantiles of the metric are measured on text the model never counted::

    wqrm build-pos-lm --data ../shared/data --out wqrm/data/profiles/default/corpus/pos_lm

Files: ``ngram_lm.npz`` + ``ngram_lm_vocab.json`` (`KneserNeyLM.save`) and ``manifest.json``
(command, sources with sha256, sizes, order, discount, held-out figures).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from wqrm.build.sources import file_sha256
from wqrm.metrics.fluency import sentence_tags
from wqrm.ngram import BOS, EOS, UNK, KneserNeyLM, count_ngrams

__all__ = [
    "POS_LM_BOOKS",
    "POS_LM_DISCOUNT",
    "POS_LM_ORDER",
    "UPOS_TAGS",
    "build_pos_lm",
]

#: Universal POS tags (Universal Dependencies v2), the model's vocabulary after <s>, </s>, <UNK>.
UPOS_TAGS = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
    "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X",
)  # fmt: skip
#: Order of the model: a tag given the three before it.
POS_LM_ORDER = 4
#: Kneser-Ney absolute discount (nltk's default).
POS_LM_DISCOUNT = 0.75
#: The books the model is counted on: the S1 training books (`make edit-model`'s NEG_BOOKS); the
#: robustness suite draws its book originals from the other twelve.
POS_LM_BOOKS = (
    "austen_emma", "carroll_alice", "cbronte_jane_eyre", "conrad_heart_of_darkness",
    "dickens_great_expectations", "doyle_hound_baskervilles", "eliot_middlemarch",
    "hawthorne_scarlet_letter", "melville_moby_dick", "stevenson_treasure_island",
    "twain_tom_sawyer", "wilde_dorian_gray",
)  # fmt: skip


def _fit(sentences: Iterable[Sequence[str]]) -> KneserNeyLM:
    vocab = [BOS, EOS, UNK, *UPOS_TAGS]
    index = {t: i for i, t in enumerate(vocab)}
    ids = (np.array([index.get(t, 2) for t in s], dtype=np.int64) for s in sentences)
    return KneserNeyLM(vocab, count_ngrams(ids, POS_LM_ORDER, bos=0, eos=1), POS_LM_DISCOUNT)


def build_pos_lm(
    books: Sequence[Path],
    out_dir: str | Path,
    *,
    exclude: Iterable[str] = (),
    dev_share: float = 0.1,
    command: str = "",
    progress=None,
) -> dict[str, Any]:
    """Count the model on the passages of `books` (not those in `exclude`), every tenth passage
    held out to report its per-token surprisal; write it to `out_dir` and return the manifest."""
    from wqrm.analysis import analyze_batch  # deferred: spaCy; `wqrm --help` imports this module
    from wqrm.build.profile import passages_from_file  # deferred: as above

    say = progress or (lambda msg: None)
    t0 = time.perf_counter()
    skip = set(exclude)
    passages = [p for b in books for p in passages_from_file(b) if p not in skip]
    step = max(2, round(1 / dev_share)) if dev_share > 0 else 0
    dev = [p for i, p in enumerate(passages) if step and i % step == step - 1]
    train = [p for i, p in enumerate(passages) if not (step and i % step == step - 1)]
    say(f"pos-lm: {len(train)} training and {len(dev)} held-out passages from {len(books)} books")
    tags: dict[str, list[list[str]]] = {"train": [], "dev": []}
    for name, part in (("train", train), ("dev", dev)):
        for start in range(0, len(part), 256):
            for a in analyze_batch(part[start : start + 256], lang="en"):
                tags[name].extend(sentence_tags(a))
        say(f"pos-lm: tagged {name} ({len(tags[name])} sentences, {time.perf_counter() - t0:.0f} s)")
    # the model of the training part, to report held-out surprisal; then the model of all of it
    held = _fit(tags["train"]).surprisal_bits(tags["dev"]) if tags["dev"] else None
    lm = _fit(tags["train"] + tags["dev"])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lm.save(out)
    manifest = {
        "format": "wqrm-pos-lm/1",
        "command": command,
        "order": POS_LM_ORDER,
        "discount": POS_LM_DISCOUNT,
        "sources": [{"file": b.name, "sha256": file_sha256(b)} for b in books],
        "passages": len(passages),
        "excluded_passages": len(skip),
        "sentences": len(tags["train"]) + len(tags["dev"]),
        "tokens": sum(len(s) for part in tags.values() for s in part),
        "ngrams": {str(k): int(v[1].size) for k, v in lm.counts.items()},
        "heldout_surprisal_bits": None if held is None else round(held, 4),
        "heldout_passages": len(dev),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest
