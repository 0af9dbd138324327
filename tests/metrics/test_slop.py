import lzma

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wqrm
from wqrm import resources
from wqrm.corpus import PhraseDB
from wqrm.metrics import compute
from wqrm.metrics import slop as S
from wqrm.metrics.slop import cbq, lzma_raw_size, nns


def test_nns_golden_alternating():
    # go stop ×3: 2-grams 2/5, 3-grams 2/4, 4-grams 2/3, 5-grams 2/2
    a = wqrm.analyze("Go stop go stop go stop.")
    assert nns(a) == pytest.approx((2 / 5 + 2 / 4 + 2 / 3 + 2 / 2) / 4, abs=1e-12)


def test_nns_short_text_uses_available_orders():
    # three distinct words: 2-grams 2/2, 3-grams 1/1, no 4- or 5-grams
    assert nns(wqrm.analyze("Birds sing loudly.")) == 1.0


def test_nns_one_word_is_undefined():
    mv = compute("Hello.", names=["nns"])
    assert mv["nns"] is None and "2 words" in mv.reasons["nns"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["red", "blue", "green", "the", "a"]), min_size=2, max_size=50))
def test_nns_in_unit_interval(words):
    assert 0 < compute(" ".join(words) + ".", names=["nns"])["nns"] <= 1


def test_lzma_raw_size_equals_uncapped_preset9():
    data = ("The tide came in twice a day and took whatever was left on the lowest step. " * 7).encode()
    full = lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9}])
    assert lzma_raw_size(data) == len(full)


def test_cbq_golden_and_redundancy():
    text = "Nothing had sunk. He never told her whether he believed the reading had helped."
    data = text.encode("utf-8")
    expected = len(data) / len(
        lzma.compress(data, format=lzma.FORMAT_RAW, filters=[{"id": lzma.FILTER_LZMA2, "preset": 9}])
    )
    assert cbq(wqrm.analyze(text)) == pytest.approx(expected, abs=1e-12)
    repetitive = " ".join([text] * 10)
    assert cbq(wqrm.analyze(repetitive)) > 3 * cbq(wqrm.analyze(text))


# ---- gpp -----------------------------------------------------------------------------------


@pytest.fixture
def toy_phrases(monkeypatch):
    corpus = resources.get("corpus")
    db = PhraseDB(
        [
            {"tokens": ["a", "testament", "to"], "weight": 2.0},
            {"tokens": ["testament", "to"], "weight": 1.0},
            {"tokens": ["of", "light"], "weight": 0.5},
            {"tokens": ["did", "n't", "care"], "weight": 1.5},
        ]
    )
    monkeypatch.setattr(corpus, "phrases", db)
    return db


def test_gpp_golden_with_a_toy_database(toy_phrases):
    # words: it was a testament to love of light (8); matches: "a testament to" (2.0, longest first),
    # "of light" (0.5); GPP = 100 · 2.5 / 8 = 31.25
    a = wqrm.analyze("It was a testament to love, of light.")
    assert S.gpp(a) == pytest.approx(31.25)
    # a phrase never spans punctuation: "testament, to" does not match
    assert S.gpp(wqrm.analyze("A testament, to be sure.")) == 0.0
    # curly and straight apostrophes match alike: did n't care (1.5) over 3 words → 50
    assert S.gpp(wqrm.analyze("Didn’t care.")) == pytest.approx(50.0)
    assert S.gpp(wqrm.analyze("Didn't care.")) == pytest.approx(50.0)


def test_generic_phrase_matches_give_offsets(toy_phrases):
    text = "First line.\n\nIt was a testament to love, of light."
    found = S.generic_phrase_matches(wqrm.analyze(text))
    assert [(text[m["start"] : m["end"]], m["weight"]) for m in found] == [
        ("a testament to", 2.0),
        ("of light", 0.5),
    ]


def test_gpp_shipped_database_separates_slop_from_austen():
    slop = (
        "The air was thick with the scent of rain, a testament to the storm that had washed over the city. "
        "It was a tapestry of light and shadow, a symphony of whispers, a reminder that the world still held "
        "a flicker of hope."
    )
    austen = (
        "Emma Woodhouse, handsome, clever, and rich, with a comfortable home and happy disposition, "
        "seemed to unite some of the best blessings of existence; and had lived nearly twenty-one years "
        "in the world with very little to distress or vex her."
    )
    values = compute(slop, names=["gpp"])["gpp"], compute(austen, names=["gpp"])["gpp"]
    assert values[0] > 5 * max(values[1], 0.1)
    assert len(S.generic_phrase_matches(wqrm.analyze(slop))) >= 6
    assert len(S.generic_phrase_matches(wqrm.analyze(austen))) <= 1
    assert compute("...", names=["gpp"])["gpp"] is None


# ---- ppl_div -------------------------------------------------------------------------------


def test_ppl_div_is_the_cv_of_kneser_ney_sentence_perplexities():
    text = "The sea was calm. A gull cried over the water and the boats rocked. Night came."
    a = wqrm.analyze(text)
    lm = resources.get("corpus").lm
    ppl = lm.sentence_perplexities([s.words for s in a.sentences])
    assert S.ppl_div(a) == pytest.approx(ppl.std() / ppl.mean(), abs=1e-12)
    mv = compute("One sentence only.", names=["ppl_div"])
    assert mv["ppl_div"] is None and "two sentences" in mv.reasons["ppl_div"]


@pytest.fixture(scope="module")
def tiny_causal_lm(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    words = [
        "<unk>",
        "<|endoftext|>",
        "the",
        "sea",
        "was",
        "calm",
        ".",
        "a",
        "gull",
        "cried",
        "over",
        "water",
        "and",
        "boats",
        "rocked",
        "night",
        "came",
    ]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", eos_token="<|endoftext|>")
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(words), n_positions=64, n_embd=16, n_layer=1, n_head=2))
    d = tmp_path_factory.mktemp("tiny_gpt2")
    fast.save_pretrained(d)
    model.save_pretrained(d, safe_serialization=True)
    return d


def test_ppl_div_with_a_local_causal_lm_is_batch_invariant(tiny_causal_lm, monkeypatch):
    import torch

    monkeypatch.setenv("WQRM_CAUSAL_LM", str(tiny_causal_lm))
    resources.set_override("causal_lm", None)
    try:
        tokenizer, model = resources.get("causal_lm")
        a = wqrm.analyze("the sea was calm . a gull cried over the water and the boats rocked . night came .")
        sentences = [s.text for s in a.sentences if s.words]
        assert len(sentences) == 3
        expected = []
        for s in sentences:  # one at a time, no padding
            ids = torch.tensor([[tokenizer.eos_token_id, *tokenizer(s)["input_ids"]]])
            with torch.no_grad():
                loss = model(input_ids=ids, labels=ids).loss
            expected.append(float(torch.exp(loss)))
        np.testing.assert_allclose(S.sentence_perplexities(a), expected, rtol=1e-5)
        expected = np.array(expected)
        assert S.ppl_div(a) == pytest.approx(expected.std() / expected.mean(), rel=1e-5)
    finally:
        resources.set_override("causal_lm", None)


# ---- slop_pattern_rate ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("not_x_but_y", "It was not a house but a prison."),
        ("not_x_but_y", "They came not to mourn, but to celebrate."),
        ("not_x_but_y", "He was not tall but strong."),
        ("not_just_x_its_y", "It's not just a house, it's a home."),
        ("not_just_x_its_y", "This isn't about money. It's about trust."),
        ("not_just_x_its_y", "The old road wasn't just quiet; it was dead."),
        ("adjective_triad", "The night was cold, dark, and silent."),
        ("adjective_triad", "Her voice was soft, low and steady."),
        ("no_x_no_y_just_z", "No warning, no sound, just silence."),
        ("no_x_no_y_just_z", "No map. No compass. Only the stars."),
    ],
)
def test_slop_patterns_match(pattern, text):
    found = S.slop_pattern_matches(wqrm.analyze(text))
    assert [m["pattern"] for m in found] == [pattern], found


@pytest.mark.parametrize(
    "text",
    [
        "I was not hungry, but I ate anyway.",  # "not … but" without parallel heads
        "It is not raining.",
        "The cold and dark night ended.",  # two adjectives, no triad
        "No one came, so we left.",
        "She said it was not just.",
    ],
)
def test_slop_patterns_leave_plain_prose_alone(text):
    assert S.slop_pattern_matches(wqrm.analyze(text)) == []


def test_slop_pattern_rate_golden_and_offsets():
    text = "It's not just a house, it's a home."
    a = wqrm.analyze(text)
    # words: it 's not just a house it 's a home (10); one construction → 100 · 1 / 10
    assert S.slop_pattern_rate(a) == pytest.approx(10.0)
    (m,) = S.slop_pattern_matches(a)
    assert text[m["start"] : m["end"]] == m["text"] == "'s not just a house, it's"


WINDOW_TEXT = (
    "It was not a house but a prison. She waited; nothing moved. It's not just a road, it's a "
    "promise. The wind was cold, dark, and silent, and the boat was small, grey, and tired.\n\n"
    "No warning, no sound, just silence. He was not tall but strong, and this isn't about money. "
    "It's about trust. The ledger lay open on the table by the lamp."
)


def test_slop_matches_in_candidate_windows_equal_the_whole_doc(monkeypatch):
    # the Matcher reads only the windows that can open a match: the same matches as reading all
    a = wqrm.analyze(WINDOW_TEXT)
    windowed = S.slop_pattern_matches(a)
    monkeypatch.setattr(S, "_candidate_windows", lambda doc: [(0, len(doc))])
    assert windowed == S.slop_pattern_matches(wqrm.analyze(WINDOW_TEXT))
    assert {m["pattern"] for m in windowed} == set(S.SLOP_PATTERNS)  # every pattern is exercised


def test_candidate_windows_merge_overlaps_and_skip_plain_prose():
    doc = wqrm.analyze("The boat was not small. It was not, but it was.").docs[0]
    # "was" (be) + "not" open at 2 and 3, "not" again at 9 (and "was" + "not" at 8): one window
    assert S._candidate_windows(doc) == [(2, len(doc))]
    assert S._candidate_windows(wqrm.analyze("The ledger lay on the table.").docs[0]) == []
