"""The degeneracy floor: its four rules, hand-worked caps, and real prose passing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wqrm
from wqrm.metrics.style import mattr
from wqrm.substance import FLOOR, SubstanceRules, _mattr, check_substance

PROSE = (
    "The ferry left at dawn, its horn flat against the fog. Marta counted the gulls on the rail: "
    "seven, then nine, then none. Nobody on deck spoke about the letter in her coat."
)


def test_real_prose_passes():
    s = check_substance(wqrm.analyze(PROSE))
    assert not s.degenerate and s.cap is None
    assert s.words == 33 and s.repeated_sentences == 0.0 and s.english > 0.9


def test_few_words_golden_cap():
    s = check_substance(wqrm.analyze("The end."))
    assert s.failed.keys() == {"words"}
    assert s.cap == pytest.approx(FLOOR * 2 / 20)  # 2 words of the 20 required


def test_repeated_sentence_is_degenerate():
    s = check_substance(wqrm.analyze(" ".join(["The sea was calm and grey."] * 12)))
    assert {"distinct", "repeated_sentences"} <= s.failed.keys()
    assert s.repeated_sentences == pytest.approx(11 / 12)
    assert s.cap < FLOOR


def test_pseudo_latin_is_not_english():
    lorem = (
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut "
        "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco."
    )
    s = check_substance(wqrm.analyze(lorem))
    assert s.failed.keys() == {"english"} and s.english < 0.6


def test_rules_are_configurable():
    s = check_substance(wqrm.analyze("The end."), SubstanceRules(min_words=1))
    assert not s.degenerate


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "sea", "fog", "rail", "gull", "dawn"]), min_size=1, max_size=200)
)
def test_moving_ttr_equals_the_metric_implementation(words):
    window = 50
    expected = mattr(words, min(window, len(words)))
    assert _mattr(words, window) == pytest.approx(expected, abs=1e-12)


def test_scorer_caps_a_degenerate_text_with_a_reason(scorer):
    r = scorer.score("ok fine.")
    assert r.substance.degenerate and r.score == pytest.approx(FLOOR * 2 / 20)
    assert "degenerate text" in r.reasons["score"] and r.uncapped_score is not None
    assert r.to_dict()["substance"]["failed"] == {"words": "2 words < 20"}
    good = scorer.score(PROSE)
    assert good.substance is not None and not good.substance.degenerate and good.score == good.uncapped_score
    assert sum(good.contributions.values()) == pytest.approx(good.score)
