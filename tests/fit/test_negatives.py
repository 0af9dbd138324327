"""Systematic negatives: every transformation really degrades, deterministically, in its family."""

from collections import Counter

import pytest

from wqrm.fit.negatives import FAMILIES, GENERIC_FILLER, TRANSFORMATIONS, finished, negatives, sentences

TEXT = (
    "The ferry left at dawn, its horn flat against the fog. Marta counted the gulls on the rail: "
    "seven, then nine, then none. Nobody on deck spoke about the letter in her coat. The island "
    "came up grey and low, a smudge that hardened into rock. She had promised her brother she would "
    "read it before they landed."
)
OTHER = "Rain fell on the market. The fish sellers covered their stalls. A dog slept under a cart."


def test_families_are_disjoint_and_complete():
    assert set(FAMILIES["train"]).isdisjoint(FAMILIES["heldout"])
    assert set(FAMILIES["train"]) | set(FAMILIES["heldout"]) == set(TRANSFORMATIONS)
    assert len(FAMILIES["train"]) >= 6 and len(FAMILIES["heldout"]) >= 6


def test_sentences_split_golden():
    assert sentences("One. Two!  Three?\n\nFour") == ["One.", "Two!", "Three?", "Four"]


@pytest.mark.parametrize("name", sorted(TRANSFORMATIONS))
def test_each_transformation_changes_the_text_deterministically(name):
    a = negatives([TEXT, OTHER], names=[name], seed=3)
    b = negatives([TEXT, OTHER], names=[name], seed=3)
    assert [p.worse for p in a] == [p.worse for p in b]
    mine = [p for p in a if p.better == TEXT]
    assert mine, f"{name} did not apply to a five-sentence paragraph"
    assert mine[0].worse.strip() and mine[0].worse != TEXT
    assert mine[0].source == f"negative:{name}"


def test_transformations_golden_properties():
    def one(name):
        return next(p.worse for p in negatives([TEXT, OTHER], names=[name], seed=0) if p.better == TEXT)

    assert 2 <= len(one("few_words").split()) <= 6
    assert one("one_sentence") in sentences(TEXT)
    assert Counter(one("shuffle_words").split()) == Counter(TEXT.split())
    assert sorted(sentences(one("shuffle_sentences"))) == sorted(sentences(TEXT))
    assert one("repeat_text").count(TEXT) >= 2
    assert one("generic_filler").startswith(TEXT) and any(f in one("generic_filler") for f in GENERIC_FILLER)
    assert "the" not in one("keyword_list").split(", ")
    assert len(set(sentences(one("repeat_sentence")))) == 1
    assert "the" not in [w.lower().strip(".,:") for w in one("drop_function_words").split()]
    assert one("stutter").split()[:2] == ["the", "The"]
    assert one("no_punctuation") == one("no_punctuation").lower() and "," not in one("no_punctuation")
    assert len(one("cut_mid_sentence").split()) < 0.55 * len(TEXT.split())
    spliced = one("splice_other")
    assert any(s in spliced for s in sentences(OTHER)) and sentences(TEXT)[0] in spliced
    swapped, original = one("rare_word_swap").split(), TEXT.split()
    assert len(swapped) == len(original) and sum(a != b for a, b in zip(swapped, original, strict=True)) > 0
    truncated = sentences(one("truncate_sentences"))
    assert len(truncated) == len(sentences(TEXT))
    assert all(len(t.split()) < len(s.split()) for t, s in zip(truncated, sentences(TEXT), strict=True))


def test_per_text_and_weight():
    pairs = negatives([TEXT], per_text=3, seed=0, weight=0.25)
    assert len(pairs) == 3 and len({p.source for p in pairs}) == 3
    assert all(p.weight == 0.25 and p.better == TEXT for p in pairs)
    assert all(p.source.split(":")[1] in FAMILIES["train"] for p in pairs)
    assert negatives([TEXT], per_text=0) == []  # `wqrm train-edit --negatives 0`: none (made one before)


def test_unknown_transformation_is_refused():
    with pytest.raises(KeyError, match="unknown transformation"):
        negatives([TEXT], names=["no_such"])


def test_shuffles_do_not_apply_to_texts_with_one_distinct_item():
    same_words = "again " * 30
    same_sentences = "It rained. " * 5
    assert negatives([same_words], names=["shuffle_words"]) == []  # no reordering exists
    assert negatives([same_sentences], names=["shuffle_sentences"]) == []
    shuffled = negatives(["one two three four five six seven eight"], names=["shuffle_words"])
    assert len(shuffled) == 1 and sorted(shuffled[0].worse.split()) == sorted(shuffled[0].better.split())


def test_negatives_take_the_split_of_their_original():
    from wqrm.fit.data import Pair
    from wqrm.fit.pairs import negatives_split

    pairs = [Pair("train text", "x", "lamp"), Pair("dev text", "y", "lamp"), Pair("both", "z", "a")]
    pairs.append(Pair("both", "w", "b"))
    dev = [False, True, False, True]
    negs = [Pair(t, t[::-1], "negative:shuffle") for t in ("dev text", "train text", "both")]
    # a dev pair's preferred text never becomes a training pair (it used to: every negative was train)
    assert negatives_split(pairs, dev, negs) == [True, False, True]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He went. She ran", "He went."),
        ("He went. She ran.  ", "He went. She ran."),
        ('He said, "Go." Then the', 'He said, "Go."'),
        ("Ends with an ellipsis…", "Ends with an ellipsis…"),
        ("It was 3.5 miles and", None),  # a decimal point is not a sentence end
        ("no end at all", None),
    ],
)
def test_finished_cuts_back_to_the_last_finished_sentence(text, expected):
    assert finished(text) == expected


def test_negatives_start_from_the_finished_original():
    """A corpus text cut mid-sentence is cut back first, so appended filler or one picked sentence
    does not win by ending properly where the original did not; a text with no finished sentence
    is kept whole."""
    cut = TEXT + " And then the"
    unpunctuated = "no sentence ends here at all and not one of them stops where it should "
    pairs = negatives([cut, unpunctuated], names=["generic_filler"])
    assert [p.better for p in pairs] == [TEXT, unpunctuated.strip()]
    assert pairs[0].worse.startswith(TEXT + " ")
    as_given = negatives([cut], names=["generic_filler"], finish=False)
    assert [p.better for p in as_given] == [cut] and as_given[0].worse.startswith(cut + " ")
