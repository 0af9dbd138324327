"""The degeneracy floor: its five rules, hand-worked caps, and real prose passing."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wqrm
from wqrm.metrics.style import mattr
from wqrm.substance import FLOOR, SubstanceRules, check_substance
from wqrm.words import moving_average_ttr

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
    # pseudo-Latin is also not spelt as English words ("dolor", "amet", "adipiscing")
    assert s.failed.keys() == {"english", "spelling"} and s.english < 0.6 and s.unknown_words > 0.15
    assert s.cap == pytest.approx(FLOOR * min(s.english / 0.6, (1 - s.unknown_words) / 0.85))


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
    assert moving_average_ttr(words, window) == pytest.approx(expected, abs=1e-12)


def test_scorer_caps_a_degenerate_text_with_a_reason(scorer):
    r = scorer.score("ok fine.")
    assert r.substance.degenerate and r.score == pytest.approx(FLOOR * 2 / 20)
    assert "degenerate text" in r.reasons["score"] and r.uncapped_score is not None
    assert r.to_dict()["substance"]["failed"] == {"words": "2 words < 20"}
    good = scorer.score(PROSE)
    assert good.substance is not None and not good.substance.degenerate and good.score == good.uncapped_score
    assert sum(good.contributions.values()) == pytest.approx(good.score)


def test_letter_salad_fails_spelling_with_its_golden_cap():
    typos = (
        "The frery left at dwan, its hron falt agsinst the fgo. Marta cuonted the gluls on the rial: "
        "sveen, tehn nnie, tehn noen. Nobody on dcek spkoe aobut the lteetr in her caot."
    )
    s = check_substance(wqrm.analyze(typos))
    assert "spelling" in s.failed and s.unknown_words > 0.15
    ratios = [(1 - s.unknown_words) / (1 - 0.15)]
    if "english" in s.failed:
        ratios.append(s.english / 0.6)
    assert s.failed.keys() <= {"spelling", "english"}
    assert s.cap == pytest.approx(FLOOR * min(ratios))


def test_spelling_rule_reads_the_metric_and_is_configurable():
    from wqrm.metrics.fluency import unknown_word_rate

    prose = wqrm.analyze(PROSE)
    assert check_substance(prose).unknown_words == unknown_word_rate(prose) == 0.0
    text = PROSE.replace("gulls", "gluls").replace("letter", "lteetr").replace("counted", "cuonted")
    s_loose = check_substance(wqrm.analyze(text))
    # 30 checkable words ("The", "Marta", "Nobody" are capitalised; "at" and "on" count), 3 misspelt
    assert s_loose.unknown_words == pytest.approx(3 / 30) and not s_loose.degenerate
    strict = check_substance(wqrm.analyze(text), SubstanceRules(max_unknown_words=0.05))
    assert strict.failed.keys() == {"spelling"}
    assert strict.cap == pytest.approx(FLOOR * (1 - strict.unknown_words) / 0.95)


def test_spelling_rule_reads_a_value_the_scorer_computed(scorer):
    a = wqrm.analyze(PROSE)
    given = check_substance(a, computed={"unknown_word_rate": 0.5})  # used as given, not recomputed
    assert given.unknown_words == 0.5 and given.failed.keys() == {"spelling"}
    assert check_substance(a, computed={}).unknown_words == 0.0  # absent: computed here
    r = scorer.score(PROSE)
    assert r.substance.unknown_words == r.metrics["unknown_word_rate"] == 0.0
