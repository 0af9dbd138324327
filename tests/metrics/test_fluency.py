import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wqrm
from wqrm.fit.negatives import TRANSFORMATIONS
from wqrm.metrics import compute
from wqrm.metrics import fluency as F

PROSE = (
    "The ferry left at six, and by seven the harbour lights had gone under the rain. Mara stood at "
    "the rail with her coat buttoned to the chin. She did not look back at the town. Somewhere "
    "below, an engine knocked like a tired heart, and the gulls gave up following us."
)

# ---- unknown_word_rate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # checkable: dog qzxv over the wlkqd fence (6); qzxv and wlkqd are not words → 2/6
        ("The dog qzxv over the wlkqd fence.", 2 / 6),
        # "Zyxwv" is capitalised (a name?) and "I" one letter: only "ran" and "home" are checked
        ("Zyxwv ran home. I", 0.0),
        # contractions and numbers are not checked: "ca", "n't" (not alphabetic) … "do", "it", "now"
        ("We can't do it now, 1999 or 2001.", 0.0),
        ("the lgiht on the wtaer", 2 / 5),
    ],
)
def test_unknown_word_rate_golden(text, expected):
    assert F.unknown_word_rate(wqrm.analyze(text)) == pytest.approx(expected)


def test_unknown_word_rate_undefined_without_checkable_words():
    mv = compute("Anna. Boris. 42!", names=["unknown_word_rate"])
    assert mv["unknown_word_rate"] is None and "lower-case" in mv.reasons["unknown_word_rate"]


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_typos_raise_unknown_word_rate(seed):
    """Swapped letters count exactly as far as they leave wordfreq's list: "rain" → "rian" does,
    "tired" → "tried" and "rail" → "rial" (real words) do not. Checked against a regex split of the
    text (PROSE has no contractions or numbers, so both tokenisations check the same words)."""
    worse = TRANSFORMATIONS["typos"].apply(PROSE, random.Random(seed))
    assert F.unknown_word_rate(wqrm.analyze(PROSE)) == 0.0
    checkable = [w for w in re.findall(r"\b[a-z]+\b", worse) if len(w) > 1]
    expected = sum(w not in F.word_frequencies("en") for w in checkable) / len(checkable)
    assert F.unknown_word_rate(wqrm.analyze(worse)) == pytest.approx(expected, abs=1e-12)


def test_typos_of_the_golden_seed():
    worse = TRANSFORMATIONS["typos"].apply(PROSE, random.Random(0))
    assert F.unknown_word_rate(wqrm.analyze(worse)) == pytest.approx(7 / 47)  # 7 of 47 words garbled


# ---- pos_ngram_surprisal -------------------------------------------------------------------


def test_pos_ngram_surprisal_is_the_models_bits_per_token():
    from wqrm import resources
    from wqrm.metrics.fluency import sentence_tags

    a = wqrm.analyze(PROSE)
    tags = sentence_tags(a)
    assert tags[2] == ["PRON", "AUX", "PART", "VERB", "ADV", "ADP", "DET", "NOUN", "PUNCT"]
    lm = resources.get("corpus").pos_lm
    assert F.pos_ngram_surprisal(a) == pytest.approx(lm.surprisal_bits(tags))
    assert 1.5 < F.pos_ngram_surprisal(a) < 3.5


@pytest.mark.parametrize("damage", ["shuffle_words", "reverse_words", "keyword_list", "cut_mid_sentence"])
def test_damaged_word_order_costs_bits(damage):
    clean = F.pos_ngram_surprisal(wqrm.analyze(PROSE))
    for seed in range(3):
        worse = TRANSFORMATIONS[damage].apply(PROSE, random.Random(seed))
        assert F.pos_ngram_surprisal(wqrm.analyze(worse)) > clean + 0.2, (damage, seed)


def test_pos_ngram_surprisal_does_not_charge_rare_words():
    # the same syntax with rare words: the tags, hence the value, barely move
    plain = "The dog ran to the old house and the cat slept on the warm mat."
    rare = "The wyvern loped to the crepuscular manse and the ocelot drowsed on the tessellated plinth."
    assert F.pos_ngram_surprisal(wqrm.analyze(rare)) == pytest.approx(
        F.pos_ngram_surprisal(wqrm.analyze(plain)), abs=0.3
    )


# ---- rare_word_rate ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # checkable: dog qzxv over the wlkqd fence; the two non-words count as rare → 2/6
        ("The dog qzxv over the wlkqd fence.", 2 / 6),
        # lugubrious (Zipf 2.02) and gloaming (1.97) are rarer than once per million words → 2/4
        ("the lugubrious gloaming fell", 2 / 4),
        ("The dog ran home to the old house.", 0.0),
    ],
)
def test_rare_word_rate_golden(text, expected):
    assert F.rare_word_rate(wqrm.analyze(text)) == pytest.approx(expected)


def test_rare_word_rate_agrees_with_wordfreq_zipf():
    from wordfreq import zipf_frequency

    a = wqrm.analyze(PROSE + " The crepuscular manse held a tessellated plinth and an ocelot.")
    words = F.checkable_words(a)
    expected = sum(zipf_frequency(w, "en") < 3.0 for w in words) / len(words)
    assert F.rare_word_rate(a) == pytest.approx(expected)
    assert F.rare_word_rate(a) > 0


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000))
def test_rare_word_stuffing_raises_rare_word_rate(seed):
    clean = F.rare_word_rate(wqrm.analyze(PROSE))
    worse = TRANSFORMATIONS["rare_word_swap"].apply(PROSE, random.Random(seed))
    assert F.rare_word_rate(wqrm.analyze(worse)) > clean


# ---- sentence_end_surprisal ----------------------------------------------------------------


def test_sentence_end_surprisal_is_the_models_bits_of_each_ending():
    from wqrm import resources
    from wqrm.metrics.fluency import sentence_tags

    a = wqrm.analyze(PROSE)
    tags = sentence_tags(a)
    lm = resources.get("corpus").pos_lm
    # the third sentence ends "... the town ." : P(PUNCT | ADP DET NOUN) and P(</s> | DET NOUN PUNCT)
    third = (
        lm.score_ids(lm.ids(["ADP", "DET", "NOUN", "PUNCT"])[None, :])[0]
        * lm.score_ids(lm.ids(["DET", "NOUN", "PUNCT", "</s>"])[None, :])[0]
    )
    assert lm.end_surprisals(tags)[2] == pytest.approx(-np.log2(third))
    assert F.sentence_end_surprisal(a) == pytest.approx(lm.end_surprisals(tags).mean())


@pytest.mark.parametrize(
    ("whole", "cut"),
    [
        ("She walked slowly towards the old house.", "She walked slowly towards."),
        ("He gave the letter to his brother.", "He gave the letter to."),
        ("The rain fell on the roof of the barn.", "The rain fell on the roof of."),
        ("They sat by the fire and waited.", "They sat by the fire and"),
    ],
)
def test_a_sentence_cut_off_costs_more_bits_at_its_end(whole, cut):
    assert F.sentence_end_surprisal(wqrm.analyze(cut)) > F.sentence_end_surprisal(wqrm.analyze(whole)) + 2


def test_a_lone_determiner_at_the_end_reads_as_a_pronoun():
    """The known blind spot: spaCy tags a determiner without its noun as a pronoun ("walked into
    the." reads like "walked into it."), so that cut costs little."""
    cut = wqrm.analyze("She opened the door and stepped into the.")
    assert F.sentence_tags(cut)[0][-2] == "PRON"
    whole = wqrm.analyze("She opened the door and stepped into the cold.")
    assert F.sentence_end_surprisal(cut) < F.sentence_end_surprisal(whole) + 1


def test_sentence_end_surprisal_undefined_without_words():
    mv = compute("... !!!", names=["sentence_end_surprisal"])
    assert mv["sentence_end_surprisal"] is None


# ---- incomplete_sentence_rate --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (PROSE, 0.0),
        # "the." and "and." are dangling endings; "It was fine." is not: 2 of 3
        ("He walked into the. She ran and. It was fine.", 2 / 3),
        # the text stops without its full stop: its last sentence counts, 1 of 2
        ("He walked home. She ran", 1 / 2),
        # a full stop inside closing quotes, an ellipsis and a question mark all finish a text
        ('He walked home. She said, "Run."', 0.0),
        ("It trailed off…", 0.0),
        ("Where did it go?", 0.0),
        # one-word questions and names are not dangling: "And?", "Whose?", "Vitamin A."
        ('"And?" he asked. "Whose?" she said. He took vitamin A.', 0.0),
        # both faults at once: a dangling "very." and a text ending on a dash
        ("It was very. Then he said—", 2 / 2),
        # his, her, that and stranded prepositions can end a sentence
        ("The coat was his. I saw her. Nobody knew that. What was it for?", 0.0),
    ],
)
def test_incomplete_sentence_rate_golden(text, expected):
    assert F.incomplete_sentence_rate(wqrm.analyze(text)) == pytest.approx(expected)


def test_incomplete_sentences_names_the_sentences():
    a = wqrm.analyze("He walked into the. She ran home. It was")
    assert [a.sentences[i].text for i in F.incomplete_sentences(a)] == ["He walked into the.", "It was"]


def test_incomplete_sentence_rate_undefined_without_words():
    mv = compute("… !", names=["incomplete_sentence_rate"])
    assert mv["incomplete_sentence_rate"] is None


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_cutting_a_text_mid_sentence_is_incomplete(seed):
    """`cut_mid_sentence` leaves the text without its final full stop: exactly its last sentence
    counts (PROSE has no dangling ending), so the rate is 1 / its sentences."""
    worse = TRANSFORMATIONS["cut_mid_sentence"].apply(PROSE, random.Random(seed))
    a = wqrm.analyze(worse)
    assert F.incomplete_sentences(a) == [len(a.sentences) - 1]
    assert F.incomplete_sentence_rate(a) == pytest.approx(1 / len(a.sentences))


@settings(max_examples=20, deadline=None)
@given(st.lists(st.sampled_from(sorted(F.DANGLING_FINAL_WORDS - {"a"})), min_size=1, max_size=4))
def test_each_dangling_ending_adds_one_sentence(endings):
    """Appending k sentences that close on a dangling word to a finished text gives k / (n + k)
    ("a." is left to the next test: the tokenizer reads it as an abbreviation)."""
    extra = " ".join(f"Then she looked at {w}." for w in endings)
    a = wqrm.analyze(f"{PROSE} {extra}")
    n = len([s for s in a.sentences if s.words])
    assert F.incomplete_sentence_rate(a) == pytest.approx(len(endings) / n)


def test_a_dangling_a_counts_at_the_end_but_reads_as_an_abbreviation_inside():
    """Blind spot: spaCy keeps "a." as one token and does not end the sentence there, so "at a."
    followed by more text is not a sentence end; as the text's last word it is counted."""
    assert F.incomplete_sentence_rate(wqrm.analyze(f"{PROSE} Then she looked at a.")) == pytest.approx(1 / 5)
    inside = wqrm.analyze(f"{PROSE} Then she looked at a. Then she left.")
    assert len(inside.sentences) == 5 and F.incomplete_sentence_rate(inside) == 0.0
