import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

import wqrm
import wqrm.metrics as M
from wqrm.metrics.linguistic import (
    dep_dist_mean,
    dep_label_js,
    emotion_counts,
    emotion_entropy,
    emotion_js,
    emotion_transition_rate,
    gender_balance,
    js_divergence,
    left_arc_ratio,
    omega,
    omega_projective,
    pos_js,
    sentiment_arc_std,
    word_trees,
)
from wqrm.metrics.registry import MetricContext
from wqrm.profile import Profile

# ---- Ω, dependency distance, arc direction on a hand-drawn parse -----------------------------


@pytest.fixture
def old_man(tree):
    # "The old man saw her quickly in town ." + "Run !" (one word: skipped by Ω)
    return tree(
        ["The", "old", "man", "saw", "her", "quickly", "in", "town", ".", "Run", "!"],
        [2, 2, 3, 3, 3, 3, 3, 6, 3, 9, 9],
        ["det", "amod", "nsubj", "ROOT", "dobj", "advmod", "prep", "pobj", "punct", "ROOT", "punct"],
        ["DET", "ADJ", "NOUN", "VERB", "PRON", "ADV", "ADP", "NOUN", "PUNCT", "VERB", "PUNCT"],
    )


def test_omega_golden(old_man):
    # first sentence, n = 8 words (the full stop is dropped), positions 0..7:
    # D = |0−2| + |1−2| + |2−3| + |4−3| + |5−3| + |6−3| + |7−6| = 2+1+1+1+2+3+1 = 11
    # D_rla = (8² − 1)/3 = 21
    # D_min: saw's child subtrees {The old man} 3, {in town} 2, {her} 1, {quickly} 1 alternate
    # sides, smallest nearest: "The man old her saw quickly in town" = 1+1+3+1+1+2+1 = 10
    # Ω = (21 − 11)/(21 − 10) = 10/11; "Run !" has one word and is skipped
    assert omega(old_man) == pytest.approx(10 / 11)


def _sentence(tree, head):
    """A one-sentence analysis whose words w0, w1, … have the given heads (root: itself)."""
    n = len(head)
    deps = ["ROOT" if h == i else "dep" for i, h in enumerate(head)]
    return tree([f"w{i}" for i in range(n)], list(head), deps, ["NOUN"] * n)


def test_omega_uses_the_unconstrained_minimum(tree):
    # the tree, in text order: D = 6 is the unconstrained minimum (the projective one is
    # 7, since the root 2 would have to sit at an end): Ω = 1, while against the projective minimum
    # Ω = (35/3 − 6)/(35/3 − 7) = 17/14 > 1
    a = _sentence(tree, [1, 3, 2, 2, 3, 4])
    assert omega(a) == 1.0
    assert omega_projective(a) == pytest.approx(17 / 14)
    mv = M.compute(a, names=["omega", "omega_projective"])
    assert mv["omega"] == 1.0 and mv["omega_projective"] == pytest.approx(17 / 14)


@st.composite
def random_trees(draw):
    n = draw(st.integers(3, 14))
    order = draw(st.permutations(range(n)))
    head = [0] * n
    head[order[0]] = order[0]
    for i, v in enumerate(order[1:], start=1):
        head[v] = order[draw(st.integers(0, i - 1))]
    return head


@settings(max_examples=150, deadline=None)
@given(random_trees())
def test_omega_is_at_most_one_on_every_tree(tree, head):
    a = _sentence(tree, head)
    assert omega(a) <= 1.0
    assert M.compute(a, names=["omega"])["omega"] is not None  # inside the declared valid range


def test_dep_dist_and_left_arcs_golden(old_man):
    # 7 arcs in the first sentence (the one-word sentence has none): D = 11
    assert dep_dist_mean(old_man) == pytest.approx(11 / 7)
    # dependents before their head: The, old, man → 3 of 7
    assert left_arc_ratio(old_man) == pytest.approx(3 / 7)


def test_word_trees_reattach_words_below_punctuation(tree):
    # "Hi — there ." with "there" attached to the dash: it is re-attached to "Hi"
    a = tree(
        ["Hi", "—", "there", "."],
        [0, 0, 1, 0],
        ["ROOT", "punct", "npadvmod", "punct"],
        ["INTJ", "PUNCT", "ADV", "PUNCT"],
    )
    trees = word_trees(a)
    assert list(trees.head) == [0, 0]
    assert trees.single_tree.tolist() == [True]
    assert trees.pos_counts == {"INTJ": 1, "ADV": 1}


def test_short_sentences_make_omega_undefined():
    mv = M.compute("Stop. Go home.", names=["omega", "dep_dist_mean"])
    assert mv["omega"] is None and "at least 3 words" in mv.reasons["omega"]
    assert mv["dep_dist_mean"] == pytest.approx(1.0)  # "go home": one arc of length 1


def test_omega_on_prose_is_in_the_usual_range():
    a = wqrm.analyze(
        "The keeper climbed the stairs slowly, counting each step aloud. At the top he found the lamp "
        "cold and the glass cracked from edge to edge."
    )
    assert 0.3 < omega(a) <= 1.0


# ---- divergences from the reference distributions --------------------------------------------


@pytest.mark.parametrize(
    ("p", "q", "expected"),
    [
        ({"a": 1}, {"b": 1}, 1.0),  # disjoint supports
        ({"a": 3, "b": 1}, {"a": 6, "b": 2}, 0.0),  # same distribution, different totals
        # P = (½, ½), Q = (1, 0), M = (¾, ¼):
        # KL(P‖M) = ½ log₂(⅔) + ½ log₂ 2 = 0.2075187; KL(Q‖M) = log₂(4/3) = 0.4150375; JS = mean
        ({"a": 1, "b": 1}, {"a": 1}, (0.5 * math.log2(2 / 3) + 0.5 + math.log2(4 / 3)) / 2),
    ],
)
def test_js_golden(p, q, expected):
    assert js_divergence(p, q) == pytest.approx(expected, abs=1e-12)


COUNTS = st.dictionaries(st.sampled_from("abcdef"), st.integers(1, 50), min_size=1)


@settings(max_examples=60, deadline=None)
@given(COUNTS, COUNTS)
def test_js_symmetric_and_bounded(p, q):
    d = js_divergence(p, q)
    assert d == pytest.approx(js_divergence(q, p), abs=1e-12)
    assert 0.0 <= d <= 1.0
    assert js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)


def _ctx(**distributions):
    return MetricContext(profile=Profile(metrics={}, meta={"name": "t"}, distributions=distributions))


def test_pos_and_dep_label_js_against_the_profile(old_man):
    # words' POS: DET ADJ NOUN VERB PRON ADV ADP NOUN VERB (9 words, "Run" included)
    text_pos = {"DET": 1, "ADJ": 1, "NOUN": 2, "VERB": 2, "PRON": 1, "ADV": 1, "ADP": 1}
    assert pos_js(old_man, _ctx(pos={"counts": text_pos})) == 0.0
    # P_text vs a reference of nouns only: P = NOUN 2/9 …; JS by the formula with M = (P + Q)/2
    p = np.array([1, 1, 2, 2, 1, 1, 1]) / 9  # DET ADJ NOUN VERB PRON ADV ADP
    q = np.array([0, 0, 1, 0, 0, 0, 0.0])
    m = (p + q) / 2
    kl_pm = sum(pi * math.log2(pi / mi) for pi, mi in zip(p, m, strict=True) if pi > 0)
    kl_qm = math.log2(1 / m[2])
    assert pos_js(old_man, _ctx(pos={"counts": {"NOUN": 5}})) == pytest.approx((kl_pm + kl_qm) / 2)
    labels = {"det": 1, "amod": 1, "nsubj": 1, "ROOT": 2, "dobj": 1, "advmod": 1, "prep": 1, "pobj": 1}
    assert dep_label_js(old_man, _ctx(dep_label={"counts": labels})) == 0.0


def test_js_metrics_need_profile_distributions():
    bare = MetricContext(profile=Profile(metrics={}, meta={"name": "bare"}))
    mv = M.compute("The storm came.", names=["pos_js", "dep_label_js", "emotion_js"], context=bare)
    for name, key in (("pos_js", "pos"), ("dep_label_js", "dep_label"), ("emotion_js", "emotion")):
        assert mv[name] is None and f"no {key} distribution" in mv.reasons[name]


# ---- emotions and sentiment ------------------------------------------------------------------

# NRC lexicon (8 emotions): storm → anger; fire → fear; cried (lemma cry) → sadness; love → joy;
# sun → anticipation, joy, surprise, trust; joy → joy; filled (lemma fill) → trust.
STORM = "The storm came. The cat saw the fire. A dog sat here. They cried."
SUN = "I love the sun. Joy filled the room."


def test_emotion_counts_and_entropy_golden():
    a = wqrm.analyze(STORM)
    counts = emotion_counts(a)
    assert {e: c for e, c in counts.items() if c} == {"anger": 1, "fear": 1, "sadness": 1}
    assert emotion_entropy(a) == pytest.approx(math.log2(3))  # three equally frequent emotions
    b = wqrm.analyze(SUN)
    assert {e: c for e, c in emotion_counts(b).items() if c} == {
        "joy": 3,
        "anticipation": 1,
        "surprise": 1,
        "trust": 2,
    }
    p = np.array([3, 1, 1, 2]) / 7
    assert emotion_entropy(b) == pytest.approx(float(-(p * np.log2(p)).sum()))


def test_emotion_transition_rate_golden():
    # STORM: emotion-bearing sentences {anger}, {fear}, {sadness} (the dog sentence has none):
    # two pairs, both with disjoint dominant emotions → 2/2
    assert emotion_transition_rate(wqrm.analyze(STORM)) == 1.0
    # SUN: dominant {joy} (joy 2 vs 1), then {joy, trust} (tie): they share joy → 0/1
    assert emotion_transition_rate(wqrm.analyze(SUN)) == 0.0


def test_emotion_metrics_undefined_without_emotion_words():
    mv = M.compute(
        "The table stood by the door.", names=["emotion_entropy", "emotion_transition_rate", "emotion_js"]
    )
    assert all(v is None for v in mv.values())
    assert "NRC" in mv.reasons["emotion_entropy"]


def test_emotion_js_against_the_profile():
    a = wqrm.analyze(STORM)
    assert emotion_js(a, _ctx(emotion={"counts": {"anger": 2, "fear": 2, "sadness": 2}})) == 0.0
    assert emotion_js(a, _ctx(emotion={"counts": {"joy": 1}})) == 1.0


def test_sentiment_arc_std_matches_vader():
    text = "I love this wonderful day. The report is due on Monday. This is a terrible, awful mess."
    a = wqrm.analyze(text)
    vader = SentimentIntensityAnalyzer()
    scores = [vader.polarity_scores(s.text)["compound"] for s in a.sentences]
    assert len(scores) == 3
    assert sentiment_arc_std(a) == pytest.approx(float(np.std(scores)))
    assert sentiment_arc_std(a) > 0.3
    assert M.compute("Only one sentence.", names=["sentiment_arc_std"])["sentiment_arc_std"] is None


# ---- gender balance --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He saw her. She waved at him. His sister smiled.", 1.0),  # m: he him his; f: her she sister
        ("He told his father and his brother that she left.", 1 - 4 / 6),  # m = 5, f = 1
        ("The woman and the girl met the queen, and she smiled at Mrs. Hale.", 0.0),  # f = 5, m = 0
    ],
)
def test_gender_balance_counted(text, expected):
    assert gender_balance(wqrm.analyze(text)) == pytest.approx(expected)


def test_gender_balance_needs_five_mentions():
    mv = M.compute("He and his brother met her.", names=["gender_balance"])  # 4 mentions
    assert mv["gender_balance"] is None and "fewer than 5" in mv.reasons["gender_balance"]


# ---- ranges ----------------------------------------------------------------------------------

WORDS = st.lists(
    st.sampled_from(["the", "cat", "she", "he", "saw", "a", "storm", "fire", "joy", "ran", "."]),
    min_size=1,
    max_size=40,
)


@settings(max_examples=20, deadline=None)
@given(WORDS)
def test_linguistic_metrics_stay_in_range(words):
    names = [
        "omega",
        "dep_dist_mean",
        "left_arc_ratio",
        "gender_balance",
        "emotion_entropy",
        "emotion_transition_rate",
    ]
    mv = M.compute(" ".join(words), names=names)
    for name, value in mv.items():
        if value is None:
            assert mv.reasons[name]
            continue
        lo, hi = M.get_spec(name).valid_range
        assert lo <= value <= hi, (name, value)
