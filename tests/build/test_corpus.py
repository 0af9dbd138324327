"""wqrm.corpus: the builder on a tiny synthetic corpus, the Kneser-Ney model against nltk.lm, and
the shipped default resources."""

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from wqrm.build.corpus import build_corpus_resources
from wqrm.build.sources import BuildOptions, CorpusSources
from wqrm.corpus import CorpusResources, PhraseDB, default_corpus_dir
from wqrm.ngram import KneserNeyLM, count_ngrams
from wqrm.words import clause_segments, is_content_word

# ---- a tiny corpus in the development-data layout --------------------------------------------

NOUNS = [
    "river",
    "boat",
    "lantern",
    "garden",
    "window",
    "kitchen",
    "letter",
    "harbour",
    "meadow",
    "orchard",
    "bridge",
    "candle",
]
ADJS = ["old", "quiet", "narrow", "bright", "cold", "wet", "heavy", "pale"]
VERBS = ["watched", "crossed", "opened", "carried", "found", "mended", "left", "painted"]
PLANTED = "a testament to the human spirit"  # AI slop planted across groups and models
NAME = "Then Elara whispered into the dark"  # a character name (title-case mid-clause)
FICTION = "he said quietly"  # common in the human books too: genre, not slop


def _sentence(rng: random.Random) -> str:
    return (
        f"The {rng.choice(ADJS)} {rng.choice(NOUNS)} {rng.choice(VERBS)} the "
        f"{rng.choice(ADJS)} {rng.choice(NOUNS)} near the {rng.choice(NOUNS)}."
    )


def _paragraph(rng: random.Random, n: int = 4, extra: str = "") -> str:
    return " ".join([_sentence(rng) for _ in range(n)] + ([extra] if extra else []))


def make_tiny_data(root: Path, seed: int = 0) -> Path:
    rng = random.Random(seed)
    books = root / "reference" / "books" / "en"
    books.mkdir(parents=True)
    for b in "abcd":
        paras = [_paragraph(rng, extra=f'"Come in," {FICTION}.' if i % 2 else "") for i in range(24)]
        (books / f"book_{b}.txt").write_text("\n\n".join(paras), encoding="utf-8")
    (root / "reference" / "lamp_human_written.jsonl").write_text(
        "".join(json.dumps({"id": f"h{i}", "text": _paragraph(rng, 5)}) + "\n" for i in range(6)),
        encoding="utf-8",
    )
    rows = []
    for g in range(12):
        rows.append(
            {
                "id": f"hum{g}",
                "domain": "creative_writing" if g % 2 else "news",
                "label": "human",
                "model": None,
            }
        )
        rows[-1]["text"] = _paragraph(rng, 5)
        rows[-1]["meta"] = {"group": f"g{g}"}
        for m in range(3):
            extra = f"It was {PLANTED}. {NAME}. The bell rang, {FICTION}."
            rows.append(
                {
                    "id": f"ai{g}-{m}",
                    "domain": rows[-1 - m]["domain"] if m == 0 else rows[-1]["domain"],
                    "label": "ai",
                    "model": f"m{m}",
                    "text": _paragraph(rng, 3, extra),
                    "meta": {"group": f"g{g}", "paired_human_id": f"hum{g}", "shared_prefix_chars": 0},
                }
            )
    hva = root / "human_vs_ai"
    hva.mkdir()
    (hva / "tiny.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    edits = root / "edit_pairs"
    edits.mkdir()
    lamp = []
    for i in range(4):
        text = f"{_sentence(rng)} It stood as {PLANTED}. {_sentence(rng)}"
        lamp.append(
            {
                "id": f"lamp{i}",
                "original": text,
                "edited": text.replace(f"It stood as {PLANTED}. ", ""),
                "meta": {
                    "fine_grained_edits": [
                        {
                            "categorization": "Cliche",
                            "originalText": f"It stood as {PLANTED}. ",
                            "editedText": "",
                        }
                    ]
                },
            }
        )
    (edits / "lamp_tiny.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lamp), encoding="utf-8")
    spans = root / "spans"
    spans.mkdir()
    text = f"{_sentence(rng)} Truly {PLANTED}."
    start = text.index(PLANTED)
    (spans / "lamp_train_detection.jsonl").write_text(
        json.dumps(
            {
                "id": "s0",
                "text": text,
                "spans": [{"start": start, "end": start + len(PLANTED), "label": "Cliche"}],
            }
        )
        + "\n",
        encoding="utf-8",
    )
    iterater = [
        {
            "id": f"it{i}",
            "original": _paragraph(rng, 3),
            "edited": f"The council approved the budget on Monday. {_paragraph(rng, 3)}",
            "meta": {"domain": "news", "doc_id": f"d{i}"},
        }
        for i in range(6)
    ]
    (edits / "iterater_doc.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in iterater), encoding="utf-8"
    )
    return root


TINY_OPTIONS = BuildOptions(
    passage_words=40,
    vocab_size=500,
    min_df=1,
    lda_topics=3,
    lda_passes=1,
    lda_vocab=30,
    esa_concepts=20,
    esa_terms=10,
    lm_vocab=40,
    holdout_books=0.25,
    gpp_min_ai_count=3,
    gpp_min_groups=2,
    gpp_min_models=2,
    gpp_min_z=1.0,
    clf_per_class=8,
    clf_folds=2,
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = make_tiny_data(tmp_path_factory.mktemp("tiny_data"))
    out = tmp_path_factory.mktemp("tiny_corpus")
    manifest = build_corpus_resources(
        CorpusSources.from_data_dir(root), out, seed=0, options=TINY_OPTIONS, command="test", classifier=True
    )
    return root, out, manifest


def test_builder_writes_every_file_without_pickles(tiny):
    _, out, manifest = tiny
    names = {p.name for p in out.iterdir()}
    assert names == {
        "manifest.json",
        "vocab.json",
        "cooc.npz",
        "lda.npz",
        "esa.npz",
        "ngram_lm.npz",
        "ngram_lm_vocab.json",
        "gpp_phrases.json",
        "creativity_lr.json",
    }
    for p in out.glob("*.npz"):
        with np.load(p, allow_pickle=False) as z:  # raises on any object array
            assert all(z[k].dtype != object for k in z.files)
    assert manifest["format"] == "wqrm-corpus/1" and manifest["seed"] == 0 and manifest["command"] == "test"
    assert manifest["total_bytes"] == sum(
        p.stat().st_size for p in out.iterdir() if p.name != "manifest.json"
    )
    assert {s["file"] for s in manifest["sources"]} >= {"book_a.txt", "tiny.jsonl", "lamp_tiny.jsonl"}


def test_vocabulary_and_cooccurrence_counts(tiny, nlp):
    from wqrm.build.profile import passages_from_file

    root, out, _ = tiny
    res = CorpusResources.load(out)
    assert all(is_content_word(w) for w in res.vocab)
    books = sorted((root / "reference" / "books" / "en").glob("*.txt"))
    passages = [p for b in books for p in passages_from_file(b, passage_words=40)]
    passages += [
        json.loads(line)["text"] for line in (root / "reference" / "lamp_human_written.jsonl").open()
    ]
    assert res.n_passages == len(passages)
    # reference counts by brute force over the passages' content words
    df, freq, near, window = Counter(), Counter(), Counter(), Counter()
    n_tokens = 0
    for p in passages:
        words = [t.lower_ for t in nlp.tokenizer(p) if not (t.is_punct or t.is_space)]
        content = [w for w in words if is_content_word(w)]
        n_tokens += len(content)
        df.update(set(content))
        freq.update(content)
        seen = set()
        for i, x in enumerate(content):
            for y in content[i + 1 : i + 1 + res.window]:
                if x != y:
                    seen.add(tuple(sorted((x, y))))
                    window[tuple(sorted((x, y)))] += 1
        near.update(seen)
    assert [df[w] for w in res.vocab] == res.df.astype(int).tolist()
    assert [freq[w] for w in res.vocab] == res.freq.astype(int).tolist()
    assert res.vocab == sorted(res.vocab, key=lambda w: (-df[w], w))
    for (x, y), f in near.most_common(5):
        a, b = res.ids([x, y])
        assert (
            res.pair_df(np.array([a]), np.array([b]))[0] == f == res.pair_df(np.array([b]), np.array([a]))[0]
        )
        assert res.window_count(np.array([a]), np.array([b]))[0] == window[(x, y)]
    (x, y), f = near.most_common(1)[0]
    a, b = res.ids([x, y])
    # windowed PMI and the passage distance from the same counts, by hand
    pmi = np.log(window[(x, y)] * n_tokens / (2 * res.window * freq[x] * freq[y]))
    assert res.pmi(np.array([a]), np.array([b]))[0] == pytest.approx(pmi)
    m = res.n_passages
    lx, ly = np.log(df[x]), np.log(df[y])
    ngd = (max(lx, ly) - np.log(f)) / (np.log(m) - min(lx, ly))
    assert res.ngd(np.array([a]), np.array([b]))[0] == pytest.approx(ngd)


def test_lda_and_esa_shapes(tiny):
    _, out, _ = tiny
    res = CorpusResources.load(out)
    lda = res._lda
    assert lda["topic_word"].shape == (3, 30)
    np.testing.assert_allclose(lda["topic_word"].sum(axis=1), 1.0, atol=1e-5)
    assert lda["topic_prior"].sum() == pytest.approx(1.0, abs=1e-6)
    z, m = res.topics(["the", res.vocab[0]])
    assert z[0] == -1 and np.isnan(m[0]) and 0 <= z[1] < 3 and 1 / 3 <= m[1] <= 1
    term_concept, _ = res._esa
    norms = np.sqrt(np.asarray(term_concept.multiply(term_concept).sum(axis=0)).ravel())
    assert res.n_concepts == 20
    np.testing.assert_allclose(norms[norms > 0], 1.0, atol=2e-3)  # float16 weights


def test_phrase_database_keeps_slop_and_drops_names_and_fiction(tiny):
    _, out, manifest = tiny
    db = CorpusResources.load(out).phrases
    phrases = {" ".join(r["tokens"]): r for r in db.rows}
    planted = [p for p in phrases if "testament" in p]
    assert planted, sorted(phrases)
    assert not any("elara" in p for p in phrases)  # a name
    assert not any(p in FICTION or FICTION in p for p in phrases)  # as common in the human books
    for key in (
        "delta",
        "z",
        "ai_count",
        "ai_docs",
        "ai_groups",
        "ai_models",
        "human_rows_count",
        "books_count",
    ):
        assert all(key in phrases[p] for p in planted)
    # LAMP editors deleted every occurrence of the planted phrase: the phrase matched in their drafts
    # (leftmost-longest, "a testament to the human") has its weight raised above its log-odds
    edited = [phrases[p] for p in planted if phrases[p]["lamp_count"]]
    assert edited and all(
        r["lamp_edited"] == r["lamp_count"] and r["weight"] > r["delta"] > 0 for r in edited
    )
    assert all(phrases[p]["weight"] == phrases[p]["delta"] for p in planted if not phrases[p]["lamp_count"])
    assert manifest["gpp"]["phrases"] == len(db)
    assert "auc_all_domains" in manifest["gpp"]["evaluation"]


def test_phrase_matching_is_leftmost_longest():
    db = PhraseDB(
        [
            {"tokens": ["a", "testament"], "weight": 1.0},
            {"tokens": ["a", "testament", "to"], "weight": 2.0},
            {"tokens": ["to", "the"], "weight": 0.5},
        ]
    )
    # "a testament to" (longest) is taken first; "to the" would overlap it, so only "the x" remains
    assert db.match([["it", "is", "a", "testament", "to", "the", "x"]]) == [(0, 2, 3, 1)]
    assert db.weighted_count([["to", "the"], ["a", "testament"]]) == (1.5, 2)
    assert db.match([["a"], []]) == []


def test_clause_segments_break_at_punctuation_and_straighten_apostrophes(nlp):
    doc = nlp.tokenizer("It didn’t end, not really. Then\n\nit did")
    assert clause_segments(doc) == [["it", "did", "n't", "end"], ["not", "really"], ["then"], ["it", "did"]]


def test_rebuild_is_deterministic(tiny, tmp_path):
    root, out, _ = tiny
    again = tmp_path / "again"
    build_corpus_resources(
        CorpusSources.from_data_dir(root),
        again,
        seed=0,
        options=TINY_OPTIONS,
        command="test",
        classifier=False,
    )
    for name in ("vocab.json", "cooc.npz", "lda.npz", "esa.npz", "ngram_lm.npz", "gpp_phrases.json"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name


def test_creativity_classifier_is_shipped_as_json(tiny):
    _, out, manifest = tiny
    model = CorpusResources.load(out).creativity_model
    assert model["format"] == "wqrm-creativity-lr/1"
    assert set(model["selected"]) <= set(model["features"]) and model["selected"]
    assert set(model["coef"]) == set(model["selected"])
    assert 0 <= model["cv_accuracy"]["nested_mean"] <= 1
    assert manifest["creativity"]["training"]["conventional"] == 8


def test_cli_build_corpus(tmp_path):
    from typer.testing import CliRunner

    from wqrm.cli import app

    root = make_tiny_data(tmp_path / "data", seed=1)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["build-corpus", "--data", str(root), "--out", str(out), "--no-classifier", "--lda-topics", "2"],
    )
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["lda_topics"] == 2 and "creativity" not in manifest
    missing = CliRunner().invoke(app, ["build-corpus", "--data", str(tmp_path / "nope"), "--out", str(out)])
    assert missing.exit_code == 1


# ---- Kneser-Ney: the vectorised model equals nltk.lm -----------------------------------------

TRAIN = [
    ["the", "cat", "sat", "on", "the", "mat"],
    ["the", "dog", "sat", "on", "the", "log"],
    ["a", "cat", "and", "a", "dog", "sat", "together"],
    ["the", "cat", "saw", "the", "dog"],
    ["on", "the", "mat", "the", "cat", "slept"],
]
TEST = [
    ["the", "cat", "sat", "on", "the", "log"],
    ["a", "zebra", "sat", "on", "the", "mat"],
    ["dog"],
    ["mat", "the", "on"],
]


def _vocab_and_ids(order=3, size=9):
    freq = Counter(w for s in TRAIN for w in s)
    top = sorted(freq, key=lambda w: (-freq[w], w))[:size]
    vocab = ["<s>", "</s>", "<UNK>", *top]
    index = {w: i for i, w in enumerate(vocab)}
    ids = [[index.get(w, 2) for w in s] for s in TRAIN]
    return vocab, ids


@pytest.mark.parametrize("order", [2, 3])
def test_count_ngrams_equals_nltk_padded_everygrams(order):
    from nltk.lm import NgramCounter
    from nltk.lm.preprocessing import padded_everygram_pipeline

    vocab, ids = _vocab_and_ids()
    mapped = [[vocab[i] for i in s] for s in ids]
    train, _ = padded_everygram_pipeline(order, mapped)
    reference = NgramCounter(train)
    ours = count_ngrams(ids, order)
    for k in range(1, order + 1):
        got = {
            tuple(vocab[i] for i in row): c
            for row, c in zip(ours[k][0].tolist(), ours[k][1].tolist(), strict=True)
        }
        if k == 1:
            want = dict(reference.unigrams)
            got = {key[0]: c for key, c in got.items()}
        else:
            want = {(*ctx, w): c for ctx, fd in reference[k].items() for w, c in fd.items()}
        assert got == want


@pytest.mark.parametrize(("order", "discount"), [(2, 0.75), (3, 0.75), (3, 0.1)])
def test_kneser_ney_equals_nltk(order, discount):
    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline
    from nltk.util import ngrams

    vocab, ids = _vocab_and_ids()
    mapped = [[vocab[i] for i in s] for s in ids]
    train, vocab_text = padded_everygram_pipeline(order, mapped)
    reference = KneserNeyInterpolated(order, discount=discount)
    reference.fit(train, vocab_text)
    lm = KneserNeyLM(vocab, count_ngrams(ids, order), discount)
    rebuilt = lm.to_nltk()
    for sentence in TEST + TRAIN:
        grams = list(ngrams(pad_both_ends(sentence, order), order))
        ours = lm.score_ids(np.array([lm.ids(g) for g in grams]))
        want = [reference.score(g[-1], g[:-1]) for g in grams]
        np.testing.assert_allclose(ours, want, rtol=0, atol=1e-12)
        np.testing.assert_allclose([rebuilt.score(g[-1], g[:-1]) for g in grams], want, rtol=0, atol=1e-12)
        assert lm.sentence_perplexities([sentence])[0] == pytest.approx(
            reference.perplexity(grams), rel=1e-12
        )


def test_surprisal_bits_equals_nltk_entropy():
    # nltk's entropy: −mean log2 P over the n-grams of padded text, pooled over sentences
    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline
    from nltk.util import ngrams

    vocab, ids = _vocab_and_ids()
    train, vocab_text = padded_everygram_pipeline(3, [[vocab[i] for i in s] for s in ids])
    reference = KneserNeyInterpolated(3, discount=0.75)
    reference.fit(train, vocab_text)
    lm = KneserNeyLM(vocab, count_ngrams(ids, 3), 0.75)
    grams = [g for s in TEST for g in ngrams(pad_both_ends(s, 3), 3)]
    assert lm.surprisal_bits(TEST) == pytest.approx(reference.entropy(grams), rel=1e-12)
    assert np.isnan(lm.surprisal_bits([]))


@pytest.mark.parametrize("order", [2, 3, 4])
def test_end_surprisals_equal_nltk_logscores_of_the_last_token_and_end(order):
    from nltk.lm import KneserNeyInterpolated
    from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline

    vocab, ids = _vocab_and_ids()
    train, vocab_text = padded_everygram_pipeline(order, [[vocab[i] for i in s] for s in ids])
    reference = KneserNeyInterpolated(order, discount=0.75)
    reference.fit(train, vocab_text)
    lm = KneserNeyLM(vocab, count_ngrams(ids, order), 0.75)
    sentences = [*TEST, [], TRAIN[0][:1]]
    want = []
    for s in sentences:
        padded = list(pad_both_ends(s, order))
        end = len(padded) - (order - 1)  # index of the first </s>
        bits = -reference.logscore(padded[end], padded[end - order + 1 : end])
        if s:
            bits -= reference.logscore(padded[end - 1], padded[end - order : end - 1])
        want.append(bits)
    np.testing.assert_allclose(lm.end_surprisals(sentences), want, rtol=1e-12)
    assert lm.end_surprisals([]).shape == (0,)


def test_kneser_ney_roundtrip_through_npz(tmp_path):
    vocab, ids = _vocab_and_ids()
    lm = KneserNeyLM(vocab, count_ngrams(ids, 3), 0.75)
    lm.save(tmp_path)
    again = KneserNeyLM.load(tmp_path)
    grams, _ = lm.sentence_grams(TEST)
    np.testing.assert_array_equal(lm.score_ids(grams), again.score_ids(grams))


# ---- the shipped default resources ------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return CorpusResources.load(default_corpus_dir())


def test_shipped_resources_load_and_fit_the_budget(shipped):
    m = shipped.manifest
    assert m["format"] == "wqrm-corpus/1" and m["seed"] == 0
    assert m["command"].startswith("wqrm build-corpus") and m["runtime_s"] > 0
    sizes = {p.name: p.stat().st_size for p in default_corpus_dir().iterdir()}
    assert sum(sizes.values()) < 25_000_000
    assert len(shipped.vocab) > 5_000 and shipped.n_passages > 1_000
    assert shipped.n_topics == m["lda"]["topics"] and shipped.lm.order == 3
    assert len(shipped.phrases) > 100 and shipped.creativity_model is not None


def test_shipped_language_model_prefers_prose_word_order(shipped):
    fluent, scrambled = shipped.lm.sentence_perplexities(
        [
            ["she", "opened", "the", "door", "and", "looked", "out", "at", "the", "sea"],
            ["the", "sea", "door", "out", "she", "at", "looked", "and", "opened"],
        ]
    )
    assert np.isfinite(fluent) and fluent < scrambled
