"""Tagger training helpers (wqrm.fit.tagger): edit-diff spans, token labels, AUC, the threshold."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from wqrm.edit.tagger import EDITED, Span
from wqrm.fit.tagger import choose_threshold, diff_spans, token_auc, token_labels, token_prf


def test_diff_spans_golden():
    original = "The old man slowly walked to the very quiet harbour."
    edited = "The old man walked to the quiet harbour at dawn."
    spans = diff_spans(original, edited)
    # deleted: "slowly", "very"; replaced: "harbour." → "harbour at dawn."
    assert [original[s.start : s.end] for s in spans] == ["slowly", "very", "harbour."]
    assert all(s.label == EDITED for s in spans)
    assert diff_spans("Same text.", "Same text.") == []


def test_token_prf_golden():
    pred = np.array([1, 1, 0, 0, 1], dtype=bool)
    gold = np.array([1, 0, 1, 0, 1], dtype=bool)
    prf = token_prf(pred, gold)  # tp 2, fp 1, fn 1
    assert prf["precision"] == pytest.approx(2 / 3) and prf["recall"] == pytest.approx(2 / 3)
    assert prf["f1"] == pytest.approx(2 / 3) and prf["gold_rate"] == pytest.approx(0.6)
    nothing = token_prf(np.zeros(5, dtype=bool), gold)
    assert nothing["precision"] is None and nothing["recall"] == 0.0 and nothing["f1"] == 0.0


def test_token_labels_from_char_spans():
    offsets = np.array([[-1, -1], [0, 3], [4, 7], [8, 12], [-1, -1]])
    labels = token_labels(offsets, [Span(4, 12, "Purple Prose")], ["Cliche", "Purple Prose"])
    assert labels.tolist() == [-100, 0, 2, 2, -100]
    unknown = token_labels(offsets, [Span(0, 3, "Other")], ["Cliche"])
    assert unknown.tolist() == [-100, 1, 0, 0, -100]  # an unknown label counts as the first


@pytest.mark.parametrize("seed", range(5))
def test_token_auc_equals_sklearn(seed):
    rng = np.random.default_rng(seed)
    gold = rng.random(200) < 0.3
    flag = np.round(rng.random(200) + gold * 0.3, 1)  # rounded: ties count half in both
    assert token_auc(flag, gold) == pytest.approx(roc_auc_score(gold, flag), abs=1e-12)
    assert token_auc(flag, np.zeros(200, dtype=bool)) is None


def test_threshold_is_the_lowest_reaching_the_precision():
    flag = np.array([0.9, 0.8, 0.7, 0.6, 0.3, 0.2])
    gold = np.array([1, 1, 0, 1, 0, 0], dtype=bool)
    thr, prf = choose_threshold(flag, gold, min_precision=0.75)
    # at 0.6 precision is 3/4 (0.9, 0.8, 0.6 right; 0.7 wrong); below it 0.3 joins and it drops
    assert thr == pytest.approx(0.325) and prf["precision"] == pytest.approx(0.75)
    assert prf["recall"] == 1.0
    thr_hi, prf_hi = choose_threshold(flag, gold, min_precision=1.0)
    assert prf_hi["precision"] == 1.0 and thr_hi == pytest.approx(0.725)
