import functools
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import wqrm
from wqrm import persona as P
from wqrm.cli import app
from wqrm.metrics import compute
from wqrm.metrics.registry import MetricContext

DOCS = [
    "The harbour was quiet at dawn. Gulls argued over the nets.\n\nI walked to the end of the pier and back.",
    "My grandmother kept bees. She spoke to them every morning, softly, as if to old friends.",
    "Rain again. The gutters sang all night and the cat refused to go out.",
    "We argued about the map for an hour. In the end the river decided for us.",
]
TEXT = "The gulls were quiet this morning. I walked to the end of the pier and watched the rain come in."
S2_CONTEXT = ["pva", "nsm", "ttr_consistency", "sld_kl", "formality_gap"]


@pytest.fixture(scope="module")
def persona(encoder):
    return P.build(DOCS)


def test_build_summarises_the_documents(persona):
    assert persona.n_paragraphs == 5  # the first document has two paragraphs
    assert persona.paragraph_embeddings.shape == (5, 384)
    assert np.allclose(np.linalg.norm(persona.paragraph_embeddings, axis=1), 1.0)
    assert "the harbour" in persona.ngrams[2] and "the end of the pier" in persona.ngrams[5]
    assert persona.sentence_length_counts.sum() == 9  # sentences in the five paragraphs
    assert persona.n_words == sum(len(a.words) for a in wqrm.analyze_batch(DOCS))  # all distinct
    longest = 16  # words in the longest paragraphs (DOCS[1], DOCS[3]); no window crosses paragraphs
    assert np.isfinite(persona.mattr[:longest]).all() and np.isnan(persona.mattr[longest:]).all()
    assert persona.mattr[0] == 1.0  # a 1-word window: TTR 1
    assert 0 < persona.formality < 100


def test_duplicate_paragraphs_are_kept_once(encoder):
    once = P.build(DOCS[:2])
    twice = P.build([DOCS[0], DOCS[1], DOCS[0] + "\n\n" + DOCS[1].replace(" ", "  ")])
    assert twice.n_paragraphs == once.n_paragraphs == 3
    assert np.allclose(twice.paragraph_embeddings, once.paragraph_embeddings)


def test_attention_weighted_vector_golden():
    p = P.Persona(
        paragraph_embeddings=np.array([[1.0, 0.0], [0.0, 1.0]]),
        ngrams={},
        mattr=np.full(50, np.nan),
        sentence_length_counts=np.zeros(13, dtype=np.int64),
        formality=50.0,
        n_words=0,
    )
    assert p.vector_for(np.array([1.0, 0.0])).tolist() == [0.5, 0.5]  # plain mean
    # τ = 1: weights softmax(cos / τ) = softmax(1, 0) = (e, 1)/(e + 1)
    e = math.e
    assert p.vector_for(np.array([1.0, 0.0]), tau=1.0) == pytest.approx([e / (e + 1), 1 / (e + 1)])
    p.tau = 0.01  # a sharp temperature picks the nearest paragraph
    assert p.vector_for(np.array([0.0, 1.0])) == pytest.approx([0.0, 1.0], abs=1e-12)
    with pytest.raises(ValueError, match="tau"):
        p.vector_for(np.array([1.0, 0.0]), tau=0.0)


def test_save_load_roundtrip_json_and_npz(tmp_path, persona):
    persona.save(tmp_path / "me")
    assert sorted(f.name for f in (tmp_path / "me").iterdir()) == ["persona.json", "persona.npz"]
    doc = json.loads((tmp_path / "me" / "persona.json").read_text())
    assert doc["format"] == "wqrm-persona/1" and sorted(doc["ngrams"]) == ["2", "3", "4", "5"]
    back = P.Persona.load(tmp_path / "me")
    assert back.ngrams == persona.ngrams and back.formality == persona.formality
    assert np.allclose(back.paragraph_embeddings, persona.paragraph_embeddings, atol=1e-7)
    assert np.array_equal(back.sentence_length_counts, persona.sentence_length_counts)
    assert np.array_equal(back.mattr, persona.mattr, equal_nan=True)
    a_ctx, b_ctx = MetricContext(persona=persona), MetricContext(persona=back)
    va, vb = compute(TEXT, names=S2_CONTEXT, context=a_ctx), compute(TEXT, names=S2_CONTEXT, context=b_ctx)
    for name in S2_CONTEXT:
        assert vb[name] == pytest.approx(va[name], abs=1e-6), name


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no persona"):
        P.Persona.load(tmp_path)
    (tmp_path / "persona.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a wqrm persona"):
        P.Persona.load(tmp_path)


def test_from_dir_reads_txt_and_md(tmp_path, encoder):
    (tmp_path / "a.txt").write_text(DOCS[0], encoding="utf-8")
    sub = tmp_path / "notes"
    sub.mkdir()
    (sub / "b.md").write_text(
        "# A heading that is not prose\n\n" + DOCS[1] + "\n\n```\ncode = 1\n```\n", encoding="utf-8"
    )
    (tmp_path / "ignored.csv").write_text("x,y\n1,2\n")
    p = P.Persona.from_dir(tmp_path)
    assert p.n_paragraphs == 3 and p.meta["sources"] == ["a.txt", "b.md"]
    assert not any("heading" in g or "code" in g for g in p.ngrams[2])
    assert P.resolve(tmp_path).n_paragraphs == 3  # a directory of documents is built
    p.save(tmp_path / "saved")
    assert isinstance(P.resolve(tmp_path / "saved"), P.Persona)  # a saved persona is loaded
    assert P.resolve(p) is p and P.resolve(None) is None
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"no \.txt or \.md"):
        P.Persona.from_dir(empty)


def test_strings_are_texts_unless_they_name_a_file(tmp_path, encoder):
    long_line = "A single line of prose that is far too long to be a file name. " * 8
    assert P.build([long_line]).n_paragraphs == 1
    with pytest.raises(wqrm.InvalidTextError, match="NUL"):  # not a file name; read as (invalid) text
        P.build(["a/b\x00c is not a path either."])
    f = tmp_path / "mine.txt"
    f.write_text(DOCS[1], encoding="utf-8")
    assert P.build([str(f)]).meta["sources"] == ["mine.txt"]


def test_build_rejects_empty_documents():
    with pytest.raises(ValueError, match="no text"):
        P.build(["   ", "\n\n"])


@functools.cache
def _build(docs: tuple[str, ...]) -> P.Persona:
    return P.build(list(docs))


@pytest.fixture(scope="module")
def text_analysis(encoder):
    a = wqrm.analyze(TEXT)
    wqrm.analysis.embed_sentences([a])
    return a


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.sampled_from(range(len(DOCS))), min_size=1, max_size=3, unique=True),
    st.integers(0, 10),
    st.integers(0, 10),
)
def test_context_metrics_invariant_to_duplicate_documents(text_analysis, chosen, which, where):
    docs = [DOCS[i] for i in chosen]
    duplicated = [*docs]
    duplicated.insert(where % (len(docs) + 1), docs[which % len(docs)])
    base = compute(text_analysis, names=S2_CONTEXT, context=MetricContext(persona=_build(tuple(docs))))
    dup = compute(text_analysis, names=S2_CONTEXT, context=MetricContext(persona=_build(tuple(duplicated))))
    for name in S2_CONTEXT:
        assert dup[name] == pytest.approx(base[name], abs=1e-6), name


def test_scorer_and_cli_with_a_persona(tmp_path, scorer, persona):
    plain = scorer.score(TEXT)
    assert plain.metrics["pva"] is None and plain.reasons["pva"] == "no persona"
    r = scorer.score(TEXT, persona=persona)
    for name in S2_CONTEXT:
        assert r.metrics[name] is not None, (name, r.reasons.get(name))
    assert -1 <= r.metrics["pva"] <= 1 and r.components["S2"] is not None
    docs = tmp_path / "docs"
    docs.mkdir()
    for i, d in enumerate(DOCS):
        (docs / f"{i}.txt").write_text(d, encoding="utf-8")
    text = tmp_path / "t.txt"
    text.write_text(TEXT, encoding="utf-8")
    result = CliRunner().invoke(app, ["score", "--json", "--persona", str(docs), str(text)])
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["metrics"]["pva"] == pytest.approx(r.metrics["pva"], abs=1e-6)
