import random
import re

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
    expected = sum(w not in F.known_words("en") for w in checkable) / len(checkable)
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
