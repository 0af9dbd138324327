"""Shared fixtures: models are loaded once per test session."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from wqrm import resources
from wqrm.analysis import from_doc

# `evaluate` / `datasets` copy modules and write caches under ~/.cache: keep the tests' copies apart
_HF_CACHES = tempfile.mkdtemp(prefix="wqrm-tests-hf-")
atexit.register(shutil.rmtree, _HF_CACHES, ignore_errors=True)
os.environ.setdefault("HF_EVALUATE_CACHE", os.path.join(_HF_CACHES, "evaluate"))
os.environ.setdefault("HF_METRICS_CACHE", os.path.join(_HF_CACHES, "metrics"))
os.environ.setdefault("HF_MODULES_CACHE", os.path.join(_HF_CACHES, "modules"))
os.environ.setdefault("HF_DATASETS_CACHE", os.path.join(_HF_CACHES, "datasets"))

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


TOY_SENTENCES = [
    "the rain fell on the quiet town and the river rose",
    "she wrote a short letter to her brother in the city",
    "a very very very bland and generic and boring sentence",
    "the old man mended the net while gulls circled the harbour",
    "it is important to note that the journey is a tapestry",
    "he counted the boats twice and then he went home",
]


@pytest.fixture(scope="session")
def tiny_deberta_dir(tmp_path_factory) -> Path:
    """A tiny randomly initialised DeBERTa-v2 classifier with a locally trained sentencepiece
    tokenizer, saved like a hub checkpoint (the DeBERTa-v3 code path, nothing downloaded)."""
    import sentencepiece as spm
    import torch
    from transformers import AutoModelForSequenceClassification, DebertaV2Config, DebertaV2Tokenizer

    d = tmp_path_factory.mktemp("tiny_deberta")
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TOY_SENTENCES * 10),
        model_prefix=str(d / "spm"),
        vocab_size=120,
        model_type="unigram",
        pad_id=0,
        unk_id=1,
        bos_id=2,
        eos_id=3,
        pad_piece="[PAD]",
        unk_piece="[UNK]",
        bos_piece="[CLS]",
        eos_piece="[SEP]",
        user_defined_symbols=["[MASK]"],
        hard_vocab_limit=False,
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=str(d / "spm.model"))
    vocab = [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())]
    tok = DebertaV2Tokenizer(vocab=vocab, unk_id=1)
    torch.manual_seed(0)
    cfg = DebertaV2Config(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
        num_labels=1,
        pad_token_id=0,
        relative_attention=True,
        pos_att_type=["p2c", "c2p"],
        position_biased_input=False,
        max_relative_positions=64,
    )
    model = AutoModelForSequenceClassification.from_config(cfg)
    out = d / "model"
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def bench_run(scorer, tmp_path_factory) -> Path:
    """A small real `wqrm bench` run directory (tests/benchmarks/sample_run.py), scored once."""
    from tests.benchmarks.sample_run import make_run

    return make_run(scorer, tmp_path_factory.mktemp("bench") / "run")
