import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wqrm
from wqrm import resources
from wqrm.metrics import aesthetics as A
from wqrm.metrics import compute
from wqrm.metrics.aesthetics import w2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I saw three owls.", (1 + 3 + 5 + 4) / 4),
        ("Owls!", 4.0),
        ("Tea, then sleep.\n\nMore tea.", (3 + 4 + 5 + 4 + 3) / 5),  # word-weighted over paragraphs
    ],
)
def test_w2_golden(text, expected):
    assert w2(wqrm.analyze(text)) == pytest.approx(expected, abs=1e-12)


# ---- W1, T1, T2, SENT, SD1, SD2, POS (issue 5) ----------------------------------------------


def naive_pair_sum(xs, f):
    """The definition, O(N^2): sum_{i<j} f(x_i, x_j) / (j - i)."""
    total = 0.0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            total += f(xs[i], xs[j]) / (j - i)
    return total


def naive_feature(xs, f):
    n = len(xs)
    return 2.0 * naive_pair_sum(xs, f) / (n * (n - 1))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 6), min_size=0, max_size=150))
def test_pair_sum_equal_matches_naive(codes):
    fast = A.pair_sum_equal(np.array(codes, dtype=np.int64))
    slow = naive_pair_sum(codes, lambda a, b: float(a == b))
    assert fast == pytest.approx(slow, rel=1e-12, abs=1e-12)
    if len(codes) >= 2:
        assert A.proximity_mean(fast, len(codes)) == pytest.approx(
            naive_feature(codes, lambda a, b: float(a == b)), abs=1e-12
        )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=2, max_size=150))
def test_mismatch_sum_matches_naive(codes):
    # T1's pair sum: total minus the same-type sum
    n = len(codes)
    fast = A.pair_sum_total(n) - A.pair_sum_equal(np.array(codes))
    assert A.proximity_mean(fast, n) == pytest.approx(
        naive_feature(codes, lambda a, b: float(a != b)), abs=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1, 1, allow_nan=False), min_size=0, max_size=300))
def test_pair_sum_absdiff_matches_naive(xs):
    # up to 300 values: crosses the 256-row block boundary of the vectorised sum
    fast = A.pair_sum_absdiff(np.array(xs))
    slow = naive_pair_sum(xs, lambda a, b: abs(a - b))
    assert fast == pytest.approx(slow, rel=1e-12, abs=1e-12)
    if len(xs) >= 2:
        assert A.proximity_mean(fast, len(xs)) == pytest.approx(
            naive_feature(xs, lambda a, b: abs(a - b)), abs=1e-12
        )


def test_pair_sums_on_long_random_sequences():
    rng = np.random.default_rng(0)
    x = rng.normal(size=700)
    codes = rng.integers(0, 40, size=700)
    i, j = np.triu_indices(700, k=1)
    assert A.pair_sum_absdiff(x) == pytest.approx(np.sum(np.abs(x[i] - x[j]) / (j - i)), rel=1e-12)
    assert A.pair_sum_equal(codes) == pytest.approx(np.sum((codes[i] == codes[j]) / (j - i)), rel=1e-12)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # go stop go: one equal pair at distance 2 → S = 1/2; 2/(3·2) · 1/2 = 1/6
        ("Go stop go.", 1 / 6),
        ("Red, blue.", 0.0),
        ("Never never.", 1.0),  # N = 2, one equal pair at distance 1: 2/(2·1) · 1 = 1
        # paragraph 1 as above (N=3, 1/6); paragraph 2 "sun rain wind snow sun" (N=5): S = 1/4 →
        # 2/20 · 1/4 = 1/40; word-weighted: (3 · 1/6 + 5 · 1/40) / 8 = 0.078125
        ("Go stop go.\n\nSun rain wind snow sun.", (3 / 6 + 5 / 40) / 8),
    ],
)
def test_w1_golden(text, expected):
    assert A.w1(wqrm.analyze(text)) == pytest.approx(expected, abs=1e-12)


def test_w1_equals_naive_on_real_text():
    text = (
        "The rain came down on the roof and the rain would not stop, so the children stayed in.\n\n"
        "Nobody spoke. The kettle sang and sang, and the window fogged, and nobody spoke again."
    )
    a = wqrm.analyze(text)
    sizes = [len(p.words) for p in a.paragraphs]
    values = [naive_feature(p.words, lambda x, y: float(x == y)) for p in a.paragraphs]
    assert A.w1(a) == pytest.approx(np.dot(sizes, values) / sum(sizes), abs=1e-12)


def test_w1_undefined_and_range():
    mv = compute("Hello.", names=["w1"])
    assert mv["w1"] is None and "two or more words" in mv.reasons["w1"]
    assert 0 <= compute("the the the cat the", names=["w1"])["w1"] <= 1


def exact_by_distance(x, f) -> float:
    """sum_{i<j} f(x_i, x_j) / (j - i) summed by distance d = j - i (numpy per d): exact, O(N^2),
    independent of the implementation under test."""
    x = np.asarray(x)
    return float(sum(np.sum(f(x[:-d], x[d:])) / d for d in range(1, x.size)))


LONG_TEXT = (
    "The keeper climbed the stairs of the old lighthouse and counted every step aloud, as his "
    "father had done before him, while the sea below beat against the rocks and the gulls cried "
    "over the harbour where the boats lay still in the grey morning light"
)


def test_a_long_paragraph_counts_every_pair():
    # one paragraph of ~4,000 words (no blank line): every pair counts, however far apart. The
    # former rule cut it into 2,000-word blocks and dropped the pairs across blocks (W1 of a
    # 3,953-word paragraph was 0.00694 against the exact 0.00382).
    rng = np.random.default_rng(0)
    words = LONG_TEXT.split()
    text = " ".join(words[i] for i in rng.integers(0, len(words), size=4000)) + "."
    a = wqrm.analyze(text)
    assert len(a.paragraphs) == 1 and len(a.words) == 4000
    n = len(a.words)
    _, codes = np.unique(a.words, return_inverse=True)
    w1_exact = 2 * exact_by_distance(codes, lambda u, v: u == v) / (n * (n - 1))
    assert A.w1(a) == pytest.approx(w1_exact, rel=1e-12)
    s = A.valence(a.words)
    sent_exact = 2 * exact_by_distance(s, lambda u, v: np.abs(u - v)) / (n * (n - 1))
    assert A.sent(a) == pytest.approx(sent_exact, rel=1e-10)
    z, _ = a.cached("lda_topics", lambda: resources.get("corpus").topics(a.words))
    z = z[z >= 0]
    m = z.size
    t1_exact = 2 * exact_by_distance(z, lambda u, v: u != v) / (m * (m - 1))
    assert A.t1(a) == pytest.approx(t1_exact, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=0, max_size=200))
def test_pair_sum_equal_fft_path_matches_naive(codes):
    # every type with more than 8 occurrences goes through the FFT autocorrelation
    old = A.FFT_MIN_OCCURRENCES
    A.FFT_MIN_OCCURRENCES = 8
    try:
        fast = A.pair_sum_equal(np.array(codes, dtype=np.int64))
    finally:
        A.FFT_MIN_OCCURRENCES = old
    assert fast == pytest.approx(naive_pair_sum(codes, lambda a, b: float(a == b)), rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([-1.0, -0.625, -0.25, 0.0, 0.0, 0.0, 0.475, 0.8]), min_size=0, max_size=200))
def test_pair_sum_absdiff_level_path_matches_naive(xs):
    # the threshold decomposition (one FFT per distinct value) on every sequence of >= 2 values
    old = A.ABSDIFF_MIN_LENGTH, A.ABSDIFF_LEVEL_RATIO
    A.ABSDIFF_MIN_LENGTH, A.ABSDIFF_LEVEL_RATIO = 2, 0
    try:
        fast = A.pair_sum_absdiff(np.array(xs))
    finally:
        A.ABSDIFF_MIN_LENGTH, A.ABSDIFF_LEVEL_RATIO = old
    assert fast == pytest.approx(naive_pair_sum(xs, lambda a, b: abs(a - b)), rel=1e-10, abs=1e-10)


def test_t1_and_t2_golden_with_given_topics():
    # topics hand-set on the analysis cache: z = [0, 1, -, 0] (the third word has no topic)
    a = wqrm.analyze("Apples, rivers, of apples.")
    assert a.words == ["apples", "rivers", "of", "apples"]
    a._cache["lda_topics"] = (np.array([0, 1, -1, 0]), np.array([0.5, 0.9, np.nan, 0.5]))
    # topical sequence z = 0 1 0: mismatching pairs (1,2) d=1 and (2,3) d=1 → S = 2; 2/(3·2) · 2 = 2/3
    assert A.t1(a) == pytest.approx(2 / 3, abs=1e-12)
    assert A.t2(a) == pytest.approx((0.5 + 0.9 + 0.5) / 3, abs=1e-12)


def test_t1_matches_naive_with_shipped_lda():
    a = wqrm.analyze(
        "The ship sailed across the grey sea while the captain studied his charts by lamplight.\n\n"
        "In the garden my mother planted roses, and the children ran between the flower beds."
    )
    z, _ = A._topics(a)
    start, values, sizes = 0, [], []
    for p in a.paragraphs:
        seq = [t for t in z[start : start + len(p.words)] if t >= 0]
        start += len(p.words)
        values.append(naive_feature(seq, lambda x, y: float(x != y)))
        sizes.append(len(seq))
    assert A.t1(a) == pytest.approx(np.dot(values, sizes) / sum(sizes), abs=1e-12)
    assert 0 < A.t2(a) <= 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # VADER: good 1.9 → 0.475, bad −2.5 → −0.625; N = 2: |0.475 + 0.625| / 1 · 2/(2·1) = 1.1
        ("Good bad.", 1.1),
        # good day bad: s = 0.475, 0, −0.625; S = 0.475 + 0.625 + 1.1/2 = 1.65; 2/(3·2) · 1.65 = 0.55
        ("Good day bad.", 0.55),
        ("Tables and chairs.", 0.0),  # no word in the lexicon
    ],
)
def test_sent_golden(text, expected):
    assert A.sent(wqrm.analyze(text)) == pytest.approx(expected, abs=1e-12)


def test_sent_equals_naive_per_paragraph():
    text = "I love the calm sea but hate the cruel war.\n\nHappy days, sad nights, and peace at last."
    a = wqrm.analyze(text)
    sizes, values = [], []
    for p in a.paragraphs:
        s = A.valence(p.words)
        sizes.append(len(p.words))
        values.append(naive_feature(list(s), lambda x, y: abs(x - y)))
    assert A.sent(a) == pytest.approx(np.dot(sizes, values) / sum(sizes), abs=1e-12)
    assert 0 <= A.sent(a) <= 2


def test_sd2_equals_naive_and_repetition_is_zero():
    a = wqrm.analyze("The violin sang over the quiet harbour while gulls circled the boats.")
    glove = A.glove_vectors()
    words = [w for w in a.words if A.is_content_word(w)]
    vecs, _found = glove.lookup(words)
    c = vecs.mean(axis=0)
    cos = vecs @ c / (np.linalg.norm(vecs, axis=1) * np.linalg.norm(c))
    assert A.sd2(a) == pytest.approx(naive_feature(list(cos), lambda x, y: abs(x - y)), abs=1e-12)
    assert A.sd2(wqrm.analyze("Harbour harbour harbour.")) == pytest.approx(0.0, abs=1e-12)


def test_sd1_equals_naive_with_shipped_counts():
    from wqrm import resources

    corpus = resources.get("corpus")
    a = wqrm.analyze("The old captain walked along the narrow harbour wall and watched the grey ships sail.")
    words = [w for w in a.words if A.is_content_word(w)]
    ids = corpus.ids(words)
    ds = []
    for i in range(len(ids)):
        vals = []
        for j in range(max(0, i - corpus.window), min(len(ids), i + corpus.window + 1)):
            if j != i and ids[i] >= 0 and ids[j] >= 0 and ids[i] != ids[j]:
                pmi = corpus.pmi(np.array([ids[i]]), np.array([ids[j]]))[0]
                vals.append(max(pmi, 0.0) if np.isfinite(pmi) else 0.0)
        if vals:
            ds.append(sum(vals) / len(vals))
    assert len(ds) >= 2
    assert A.sd1(a) == pytest.approx(naive_feature(ds, lambda x, y: abs(x - y)), abs=1e-12)


def test_pos_richness_golden(tree):
    a = tree(
        ["Anna", "was", "very", "tall", "."],
        [1, 1, 3, 1, 1],
        ["nsubj", "ROOT", "advmod", "acomp", "punct"],
        ["PROPN", "AUX", "ADV", "ADJ", "PUNCT"],
    )
    assert A.pos_richness(a) == pytest.approx(2 / 4)  # very (ADV) + tall (ADJ) over 4 words
