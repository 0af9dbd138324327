"""How the frozen edit model reads a text: paragraphs, and long paragraphs in chunks (wqrm.edit.model)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wqrm.edit.model import CHUNK_TOKENS, EmbeddingHeadReward, RewardHead, chunk_cuts, text_pieces
from wqrm.edit.pieces import sentence_pieces
from wqrm.fit.dataset import FeatureCache

SENTENCE = "The keeper climbed the stairs each evening and counted the steps aloud. "


class WordTokenizer:
    """One token per whitespace-separated word, with HF-style character offsets."""

    def __call__(self, texts, add_special_tokens=False, return_offsets_mapping=True, verbose=False):
        offsets = []
        for t in texts:
            spans, pos = [], 0
            for w in t.split():
                start = t.index(w, pos)
                spans.append((start, start + len(w)))
                pos = start + len(w)
            offsets.append(spans)
        return {"offset_mapping": offsets}


def _starts(text: str) -> list[int]:
    return [a for a, _ in WordTokenizer()([text])["offset_mapping"][0]]


@pytest.mark.parametrize(
    ("text", "limit", "cuts"),
    [
        ("One two three. Four five.", 10, []),  # fits: no cut
        ("One two three. Four five six.", 4, [3]),  # the sentence end
        ("a b c d e f g h", 4, [4]),  # no sentence end: the even split
        ("a b c d e f g h i", 4, [3, 6]),  # three chunks of three
        ("A b. C d e f g h i j.", 6, [2, 6]),  # the only sentence end in range, then the even split
    ],
)
def test_chunk_cuts_golden(text, limit, cuts):
    assert chunk_cuts(text, _starts(text), limit) == cuts


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.sampled_from(["a", "bb", "ccc.", "dd!", "e,"]), min_size=1, max_size=80),
    limit=st.integers(min_value=1, max_value=20),
)
def test_chunks_cover_the_paragraph_within_the_limit(words, limit):
    text = " ".join(words)
    starts = _starts(text)
    cuts = chunk_cuts(text, starts, limit)
    bounds = [0, *cuts, len(starts)]
    assert all(0 < b - a <= limit for a, b in itertools.pairwise(bounds))
    assert cuts == sorted(set(cuts))


def test_text_pieces_reads_every_word_once_and_weights_paragraphs_equally():
    long = (SENTENCE * 6).strip()
    pieces, owner, weight = text_pieces([long + "\n\nA short one.", "Alone."], WordTokenizer(), 2 + 40)
    assert " ".join(pieces[:-2]).split() == long.split()  # nothing dropped, nothing repeated
    assert all(len(p.split()) <= 40 for p in pieces)
    assert owner.tolist() == [0] * (len(pieces) - 1) + [1]
    assert np.isclose(weight[owner == 0].sum(), 2.0) and weight[-1] == 1.0


def test_without_chunking_a_paragraph_is_one_piece():
    long = (SENTENCE * 40).strip()
    pieces, owner, weight = text_pieces([long], WordTokenizer(), None)
    assert pieces == [long] and owner.tolist() == [0] and weight.tolist() == [1.0]


def test_text_pieces_with_the_real_tokenizer(encoder):
    tok = encoder.tokenizer
    long = (SENTENCE * 30).strip() + " Then he slept."
    pieces, _, _ = text_pieces([long], tok, CHUNK_TOKENS)
    lengths = [len(tok(p, add_special_tokens=False)["input_ids"]) for p in pieces]
    assert len(pieces) == 2 and max(lengths) <= CHUNK_TOKENS - 2
    assert pieces[-1].endswith("Then he slept.")  # the tail a 256-token window would not read


def test_frozen_model_sees_text_past_the_encoders_window(encoder):
    """A sentence appended to a paragraph longer than 256 tokens moves the features of a model
    that reads chunks; one trained before chunking reads the same first 256 tokens either way."""
    long = (SENTENCE * 30).strip()
    texts = [long, long + " It was a testament to the enduring power of the human spirit."]
    chunked = EmbeddingHeadReward(RewardHead(384, 0), {"reading": "chunks"}, encoder=encoder)
    legacy = EmbeddingHeadReward(RewardHead(384, 0), {}, encoder=encoder)
    a, b = chunked.features(texts)
    assert np.linalg.norm(a - b) > 1e-3
    c, d = legacy.features(texts)
    assert np.allclose(c, d, atol=1e-9)


def test_reading_both_is_first_and_chunks_side_by_side(encoder):
    long = (SENTENCE * 30).strip()
    texts = [long + " It was a testament to the enduring power of the human spirit.", "Short. Text."]

    def model(config):
        return EmbeddingHeadReward(RewardHead(384, 0), config, encoder=encoder)

    both = model({"reading": "both", "chunk_tokens": CHUNK_TOKENS}).features(texts)
    first = model({}).features(texts)  # a model trained before session 28: no reading, no chunks
    chunks = model({"reading": "chunks", "chunk_tokens": CHUNK_TOKENS}).features(texts)
    assert both.shape == (2, 768)
    # the shared float32 encoder: a piece's embedding moves by ~1e-8 with the batch it runs in
    assert np.allclose(both[:, :384], first, atol=1e-6) and np.allclose(both[:, 384:], chunks, atol=1e-6)
    assert np.array_equal(both[1, :384], both[1, 384:])  # a paragraph that fits reads the same
    with pytest.raises(ValueError, match="unknown reading"):
        model({"reading": "all"}).features(texts)


def test_sentence_pieces_share_their_paragraphs_weight():
    text = "The tide turned. Gulls rose over the pier!\n\nShe waited. Then she left? No"
    pieces, owner, weight = sentence_pieces([text, "one line without an end mark"])
    assert pieces == [
        "The tide turned.",
        "Gulls rose over the pier!",
        "She waited.",
        "Then she left?",
        "No",
        "one line without an end mark",
    ]
    assert owner.tolist() == [0, 0, 0, 0, 0, 1]
    assert np.allclose(weight, [1 / 2, 1 / 2, 1 / 3, 1 / 3, 1 / 3, 1])


def test_reading_sentences_does_not_depend_on_sentence_order(encoder):
    """Sentences trading places (the red team's swap, a shuffle) leave S1's input as it was; a
    changed word moves it; the mean is unit length, as a paragraph's embedding is."""
    model = EmbeddingHeadReward(RewardHead(384, 0), {"reading": "sentences"}, encoder=encoder)
    a = "The keeper climbed the stairs. He counted each step aloud. The lamp was cold."
    b = "He counted each step aloud. The lamp was cold. The keeper climbed the stairs."
    c = "The keeper climbed the stairs. He counted each step aloud. The lamp was warm."
    fa, fb, fc = model.features([a, b, c])
    assert fa.shape == (384,)
    assert np.allclose(fa, fb, atol=1e-12)
    assert np.linalg.norm(fa - fc) > 1e-3
    assert np.isclose(np.linalg.norm(fa), 1.0)


def test_feature_cache_keys_depend_on_the_recipe(tmp_path):
    calls = []

    def featurise(texts):
        calls.append(list(texts))
        return np.ones((len(texts), 2))

    path = tmp_path / "f.npz"
    FeatureCache(path, featurise, tag="chunk256")(["x", "y"])
    FeatureCache(path, featurise, tag="chunk256")(["x"])  # read back: no new call
    first = FeatureCache(path, featurise)  # another recipe: computed again
    first(["x"])
    assert calls == [["x", "y"], ["x"]]
    chunked = FeatureCache(path, featurise, tag="chunk256")  # two caches on one file, as for "both"
    stale = FeatureCache(path, featurise)
    chunked(["z"])
    stale(["w"])  # writes after `chunked`: must keep what `chunked` wrote
    calls.clear()
    FeatureCache(path, featurise, tag="chunk256")(["x", "y", "z"])
    FeatureCache(path, featurise)(["x", "w"])
    assert calls == []


@pytest.mark.parametrize(
    ("q", "q_s", "weight", "expected"),
    [
        # m_p 2, s_p 1, m_s 20, s_s 10: standardised both are (−1, 1), so any w gives q back
        ([1.0, 3.0], [10.0, 30.0], 0.5, [1.0, 3.0]),
        # q flat at its median: w = 0.5 moves it by half the sentence head's z, on q's scale
        ([2.0, 2.0], [10.0, 40.0], 0.5, [1.5, 3.0]),
        ([2.0, 2.0], [10.0, 40.0], 0.25, [1.75, 2.5]),
        ([5.0, -1.0], [0.0, 99.0], 0.0, [5.0, -1.0]),  # w = 0: the paragraph head alone
        ([5.0, -1.0], [0.0, 40.0], 1.0, [0.0, 4.0]),  # w = 1: the sentence head on q's scale
    ],
)
def test_blend_quality_golden(q, q_s, weight, expected):
    from wqrm.edit.frozen import blend_quality

    blend = {"weight": weight, "paragraph_median": 2.0, "paragraph_sd": 1.0,
             "sentences_median": 20.0, "sentences_sd": 10.0}  # fmt: skip
    assert blend_quality(np.array(q), np.array(q_s), blend) == pytest.approx(expected)
