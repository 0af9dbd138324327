import numpy as np
import pytest

import wqrm
from wqrm import analysis
from wqrm.analysis import analyze, analyze_batch, embed_sentences

TEXT = "The rain stopped. A door slammed twice!\n\n  \n\nShe waited, then left.\n"


def test_words_sentences_paragraphs():
    a = analyze(TEXT)
    assert a.words == [
        "the",
        "rain",
        "stopped",
        "a",
        "door",
        "slammed",
        "twice",
        "she",
        "waited",
        "then",
        "left",
    ]
    assert [p.text for p in a.paragraphs] == [
        "The rain stopped. A door slammed twice!",
        "She waited, then left.",
    ]
    assert [s.text for s in a.sentences] == [
        "The rain stopped.",
        "A door slammed twice!",
        "She waited, then left.",
    ]
    assert [s.words for s in a.paragraphs[1].sentences] == [["she", "waited", "then", "left"]]
    assert a.paragraphs[1].words == ["she", "waited", "then", "left"]
    for s in a.sentences:  # offsets point into the full text
        assert TEXT[s.start_char : s.end_char] == s.text
    for p in a.paragraphs:
        assert TEXT[p.start_char : p.end_char] == p.text
    assert a.sentence_lengths.tolist() == [3, 4, 4]


def test_doc_merges_paragraph_docs():
    a = analyze(TEXT)
    assert len(a.docs) == 2
    assert [t.text for t in a.doc if not t.is_space][:3] == ["The", "rain", "stopped"]
    assert [t.lower_ for t in a.word_tokens] == a.words


def test_batch_equals_single():
    texts = [TEXT, "One more text. With two sentences."]
    batch = analyze_batch(texts)
    for t, a in zip(texts, batch, strict=True):
        assert a.words == analyze(t).words
        assert [s.text for s in a.sentences] == [s.text for s in analyze(t).sentences]


def test_long_paragraph_is_cut_at_sentence_ends(monkeypatch):
    monkeypatch.setattr(analysis, "CHUNK_CHARS", 200)
    text = " ".join(f"Sentence number {i} ends here." for i in range(60))  # one 1.8k-char paragraph
    a = analyze(text)
    assert len(a.paragraphs) == 1 and len(a.paragraphs[0].docs) > 5
    assert len(a.words) == 60 * 5
    assert all(text[s.start_char : s.end_char] == s.text for s in a.sentences)
    assert all(len(d.text) <= 200 for d in a.docs)


def test_split_long_without_sentence_ends():
    text = "word " * 100
    pieces = analysis._split_long(text, 64)
    assert "".join(text[a:b] for a, b in pieces) == text
    assert all(b - a <= 64 for a, b in pieces)


@pytest.mark.parametrize("bad", ["", "   \n\t ", "abc\x00def", None, b"bytes"])
def test_invalid_text(bad):
    with pytest.raises(wqrm.InvalidTextError):
        analyze(bad)


def test_embeddings_cached_and_batched(encoder):
    a, b = analyze_batch(["First sentence. Second one.", "Only this."])
    embed_sentences([a, b])
    assert a.sentence_embeddings.shape == (2, 384) and b.sentence_embeddings.shape == (1, 384)
    assert np.allclose(np.linalg.norm(a.sentence_embeddings, axis=1), 1.0)
    first = a.sentence_embeddings
    embed_sentences([a])  # already cached: not recomputed
    assert a.sentence_embeddings is first
    alone = analyze("First sentence. Second one.").sentence_embeddings
    assert np.allclose(alone, first, atol=1e-5)  # batch composition does not change embeddings


def test_word_starts_point_into_full_text():
    a = analyze(TEXT)
    assert [TEXT[s : s + len(w)].lower() for s, w in zip(a.word_starts, a.words, strict=True)] == a.words
    assert a.doc_offset(a.docs[1]) == TEXT.index("She")
