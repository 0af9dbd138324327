import numpy as np
import pytest
import torch

from wqrm.edit.tagger import EDITED, EditTagger, Span
from wqrm.fit.tagger import TaggedText, dev_scores, diff_spans, featurise, fit_tagger, token_prf


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
    flag, cat = EditTagger.token_labels(offsets, [Span(4, 12, "Cliche")], ["Cliche", "Purple Prose"])
    assert flag.tolist() == [-1, 0, 1, 1, -1] and cat.tolist() == [-1, -1, 0, 0, -1]


@pytest.fixture(scope="module")
def tiny_tagger(tiny_deberta_dir):
    from transformers import AutoModel, AutoTokenizer

    encoder = AutoModel.from_pretrained(str(tiny_deberta_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_deberta_dir))
    torch.manual_seed(0)
    head = torch.nn.Linear(encoder.config.hidden_size, 2)
    return EditTagger(encoder, tokenizer, head, ["Cliche"], {"base": str(tiny_deberta_dir), "max_length": 16})


def test_windows_cover_every_character_once(tiny_tagger):
    text = "the rain fell on the quiet town and the river rose\n\nshe wrote a short letter to her brother"
    seen = []
    for _inputs, offsets in tiny_tagger.windows(text):
        seen.extend(tuple(o) for o in offsets if o[0] >= 0)
    assert len(seen) == len(set(seen))  # no token predicted twice
    covered = np.zeros(len(text), dtype=bool)
    for a, b in seen:
        assert not covered[a:b].any()  # windows do not overlap
        covered[a:b] = True
    assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace())  # every character is tagged


def test_tagger_learns_and_roundtrips(tiny_tagger, tmp_path):
    texts = [
        "the old man mended the very net",
        "she wrote a very short letter",
        "the very rain fell on the town",
    ]
    items = [TaggedText(t, [Span(t.index("very"), t.index("very") + 4, "Cliche")]) for t in texts]
    feats = featurise(tiny_tagger, items)
    fit_tagger(tiny_tagger, feats, feats, epochs=60, seed=0)
    p, g = dev_scores(tiny_tagger, feats)
    assert token_prf(p >= tiny_tagger.threshold, g)["f1"] > 0.6
    spans = tiny_tagger.predict("the old man mended the very net")
    assert all(0 <= s.start < s.end <= 31 and 0 <= s.probability <= 1 for s in spans)
    tiny_tagger.save(tmp_path / "tagger")
    again = EditTagger.load(tmp_path / "tagger", tiny_tagger.encoder, tiny_tagger.tokenizer)
    assert again.predict(texts[0]) == tiny_tagger.predict(texts[0])
