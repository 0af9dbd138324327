import numpy as np
import pytest
from wqrm.metrics import compute
from wqrm.metrics.coherence import branching_mean, dep_depth_mean, parse_validity, sc, syn

import wqrm


@pytest.fixture
def three_sentences(tree):
    # "Anna was very tall ." / "Run !" / "In town ."
    return tree(
        ["Anna", "was", "very", "tall", ".", "Run", "!", "In", "town", "."],
        [1, 1, 3, 1, 1, 5, 5, 7, 7, 7],
        ["nsubj", "ROOT", "advmod", "acomp", "punct", "ROOT", "punct", "ROOT", "pobj", "punct"],
        ["PROPN", "AUX", "ADV", "ADJ", "PUNCT", "VERB", "PUNCT", "ADP", "NOUN", "PUNCT"],
        ["NNP", "VBD", "RB", "JJ", ".", "VB", ".", "IN", "NN", "."],
    )


def test_tree_shapes_golden(three_sentences):
    a = three_sentences
    assert [s.text for s in a.sentences] == ["Anna was very tall .", "Run !", "In town ."]
    # depths: 2 (was→tall→very), 0, 1; branching: (2 + 1)/2 = 1.5, 0, 1
    assert dep_depth_mean(a) == pytest.approx((2 + 0 + 1) / 3)
    assert branching_mean(a) == pytest.approx((1.5 + 0 + 1) / 3)
    assert syn(a) == pytest.approx(0.6 * 1.0 + 0.4 * (2.5 / 3))


def test_parse_validity_golden(three_sentences):
    # clause with subject: valid; imperative (VB root): valid; verbless fragment: not valid
    assert parse_validity(three_sentences) == pytest.approx(2 / 3)


def test_sc_golden_with_known_embeddings():
    a = wqrm.analyze("One. Two. Three.")
    assert len(a.sentences) == 3
    a._embeddings = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    assert sc(a) == pytest.approx((0.6 + 0.8) / 2)


def test_sc_real_encoder_bounds(encoder):
    same = compute("The harbour was quiet. The harbour was quiet.", names=["sc"])["sc"]
    assert same == pytest.approx(1.0, abs=1e-5)
    mixed = compute("The harbour was quiet at dawn. Quarterly tax filings are due in April.", names=["sc"])
    assert -1 <= mixed["sc"] < 0.5


def test_sc_single_sentence_is_none():
    mv = compute("Only one sentence here.", names=["sc"])
    assert mv["sc"] is None and "one sentence" in mv.reasons["sc"]
