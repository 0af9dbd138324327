"""benchmarks/tagger_features.py: gold words by hand, the word table's layout on hand-made
paragraphs, and the evaluation on a table whose answer is known."""

import numpy as np
import pytest

from wqrm.benchmarks import tagger_features as T

TEXT = "The old man sat. He waited."


@pytest.mark.parametrize(
    ("start", "end", "gold"),
    [
        (4, 11, [False, True, True, False, False]),  # "old man"
        (4, 6, [False, True, False, False, False]),  # "ol": 2 of 3 characters of "old"
        (4, 5, [False, False, False, False, False]),  # "o": 1 of 3
        (0, 16, [True, True, True, True, True]),
    ],
)
def test_gold_flags_by_hand(start, end, gold):
    starts, ends = [0, 4, 8, 12, 15], [3, 7, 11, 15, 16]  # The old man sat .
    flags = T.gold_flags(TEXT, [{"start": start, "end": end, "label": "Cliche"}], starts, ends)
    assert flags.tolist() == gold


def test_word_table_layout(nlp, encoder):
    rows = [
        {"text": TEXT, "spans": [{"start": 4, "end": 11, "label": "Cliche"}]},
        {"text": "Rain fell on the tin roof all night.", "spans": []},
    ]
    table = T.word_table(rows, nlp, encoder)
    n_words = [len([t for t in nlp(r["text"]) if not t.is_space]) for r in rows]
    assert table.X.shape[0] == sum(n_words) == len(table.gold) == len(table.paragraph)
    assert table.paragraph.tolist() == [0] * n_words[0] + [1] * n_words[1]
    assert table.gold.tolist()[: n_words[0]] == [False, True, True, False, False, False, False, False]
    assert not table.gold[n_words[0] :].any()
    dim = encoder[0].auto_model.config.hidden_size
    assert table.blocks["word vectors"].stop - table.blocks["word vectors"].start == dim
    assert table.blocks["sentence vector"].stop == table.X.shape[1]
    # one part of speech and one dependency label per word (a one-hot each)
    cat = table.X[:, : table.blocks["surface"].stop - len(T.SURFACE)]
    assert np.all(cat.sum(axis=1) <= 2) and np.all(cat.sum(axis=1) >= 1)
    # the sentence vector is shared by the words of a sentence, the word vectors are not
    sentence = table.X[:, table.blocks["sentence vector"]]
    words = table.X[:, table.blocks["word vectors"]]
    assert np.allclose(sentence[0], sentence[3]) and not np.allclose(sentence[0], sentence[5])
    assert not np.allclose(words[0], words[1])


def _table(signal: float, n: int = 600, seed: int = 0) -> T.WordTable:
    rng = np.random.default_rng(seed)
    gold = rng.random(n) < 0.35
    X = rng.normal(size=(n, 4))
    X[:, 0] += signal * gold
    return T.WordTable(X, gold, np.arange(n) // 10, {"surface": slice(0, 4)})


@pytest.mark.parametrize("kind", ["logistic", "boosting"])
def test_evaluate_finds_a_signal_and_not_noise(kind):
    settings = [("surface", ("surface",), kind)]
    dev = set(range(0, 60, 3))
    strong = T.evaluate(_table(4.0), dev, settings)[0]
    none = T.evaluate(_table(0.0), dev, settings)[0]
    assert strong["auc"] > 0.95 and strong["precision"] >= 0.6
    assert 0.35 < none["auc"] < 0.65
    md = T.to_markdown([strong], 60, len(dev), _table(4.0))
    assert f"| surface | {kind} | {strong['auc']:.3f} |" in md


def test_editor_agreement_by_hand():
    def row(text, *spans):
        return {"text": text, "spans": [{"start": a, "end": b, "label": "Cliche"} for a, b in spans]}

    rows = [
        row("one two three four", (0, 7)),  # editor 1: one two
        row("red blue", (0, 3)),  # editor 1: red
        row("annotated once", (0, 9)),  # one editor only: left out
        row("one two three four", (4, 13)),  # editor 2: two three
        row("red blue", (0, 3)),  # editor 2: red
    ]
    # words: one two three four red blue -> editor 1 [1 1 0 0 1 0], editor 2 [0 1 1 0 1 0]
    got = T.editor_agreement(rows)
    assert got["paragraphs"] == 2 and got["words"] == 6
    assert got["agreement"] == pytest.approx(4 / 6)
    assert got["kappa"] == pytest.approx((4 / 6 - 0.5) / 0.5)  # both flag half the words: chance 0.5
    assert got["auc_first_for_second"] == pytest.approx(6 / 9)
    assert got["auc_second_for_first"] == pytest.approx(6 / 9)
    assert T.editor_agreement(rows[2:3]) is None


def test_word_vectors_batched_as_alone(encoder):
    """One padded pass over a paragraph's sentences gives each sentence what encoding it alone
    gives (to float32 rounding), and a word's vector is the mean of its pieces."""
    model = encoder[0].auto_model.eval()
    sentences = [
        ["The", "lamp", "went", "out", "."],
        ["Fog", "."],
        ["He", "read", "unpronounceable", "names", "."],
    ]
    together = T.word_vectors(sentences, encoder.tokenizer, model)
    for words, (vectors, sentence) in zip(sentences, together, strict=True):
        (alone_vectors, alone_sentence) = T.word_vectors([words], encoder.tokenizer, model)[0]
        assert vectors.shape == (len(words), model.config.hidden_size)
        assert np.allclose(vectors, alone_vectors, atol=1e-5) and np.allclose(
            sentence, alone_sentence, atol=1e-5
        )
    # the case the piece averaging is for: one word, several pieces
    pieces = encoder.tokenizer(sentences[2], is_split_into_words=True).word_ids()
    assert pieces.count(2) > 1  # "unpronounceable" is several pieces
