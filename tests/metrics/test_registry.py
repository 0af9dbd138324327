import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wqrm
import wqrm.metrics as M
from wqrm.lang import UnsupportedLanguageError, detect
from wqrm.metrics.registry import MetricUndefined, metric, specs

FIRST_METRICS = {
    "ttr",
    "mtld",
    "word_entropy",
    "nns",
    "cbq",
    "w2",
    "formality",
    "sc",
    "syn",
    "parse_validity",
    "sentence_length_mean",
    "sentence_length_std",
}


def test_catalogue_lists_every_metric_with_metadata():
    df = M.catalogue()
    assert set(df.index) >= FIRST_METRICS
    assert set(df.index) == set(specs())
    for name, row in df.iterrows():
        assert row["direction"] in ("higher", "lower", "band"), name
        assert row["reference"], name
        assert row["component"] in (*M.COMPONENTS, "-"), name
        assert row["description"], name
        assert row["verdict"], name  # benchmarks/metric_validity.py's evidence, shipped as JSON


def test_default_compute_needs_no_model():
    values = M.compute("The cat sat. The dog ran home.")
    assert "sc" not in values  # needs the sentence encoder: only with models=True or by name
    assert set(values) == {n for n, s in specs().items() if not s.needs_models}


def test_unknown_metric_name():
    with pytest.raises(KeyError, match="unknown metric"):
        M.compute("Text.", names=["nope"])


def test_metric_error_is_contained(monkeypatch):
    @metric("_broken", component=None, direction="higher", reference="test", valid_range=(0, 1))
    def _broken(a):
        raise ZeroDivisionError("boom")

    @metric("_nan", component=None, direction="higher", reference="test", valid_range=(0, 1))
    def _nan(a):
        return float("nan")

    try:
        mv = M.compute("Some text here.", names=["_broken", "_nan", "ttr"])
        assert mv["_broken"] is None and "ZeroDivisionError" in mv.reasons["_broken"]
        assert mv["_nan"] is None and "non-finite" in mv.reasons["_nan"]
        assert mv["ttr"] == 1.0
    finally:
        M.registry._SPECS.pop("_broken")
        M.registry._SPECS.pop("_nan")


@pytest.mark.parametrize(
    ("value", "kept"),
    [(-0.5, False), (0.0, True), (1.0, True), (1.25, False), (1.0 + 1e-6, False), (-1e-7, False)],
)
def test_valid_range_is_enforced_not_clipped(value, kept):
    @metric("_ranged", component=None, direction="higher", reference="test", valid_range=(0.0, 1.0))
    def _ranged(a):
        return value

    try:
        mv = M.compute("Some text here.", names=["_ranged"])
        if kept:
            assert mv["_ranged"] == value and "_ranged" not in mv.reasons
        else:
            assert mv["_ranged"] is None
            assert mv.reasons["_ranged"] == f"value {value!r} outside the metric's valid range [0.0, 1.0]"
    finally:
        M.registry._SPECS.pop("_ranged")


def test_rounding_at_a_bound_reads_as_the_bound():
    @metric("_cos", component=None, direction="higher", reference="test", valid_range=(-1.0, 1.0))
    def _cos(a):
        return 1.0000000000000002

    try:
        mv = M.compute("Some text here.", names=["_cos"])
        assert mv["_cos"] == 1.0 and "_cos" not in mv.reasons
    finally:
        M.registry._SPECS.pop("_cos")


def test_metric_undefined_carries_reason():
    assert MetricUndefined("why").reason == "why"


@pytest.mark.parametrize(
    "text",
    [
        "word",
        "no punctuation at all in this line of text",
        "🙂🙂 🎉",
        "...",
        "A" * 5000,
        "line one\nline two\n\n\n\nparagraph two",
    ],
)
def test_odd_inputs_give_values_or_reasons(text):
    mv = M.compute(text, models=True)
    for name, value in mv.items():
        if value is None:
            assert mv.reasons[name], name
        else:
            assert math.isfinite(value), name
            lo, hi = specs()[name].valid_range
            assert lo - 1e-9 <= value <= hi + 1e-9, (name, value)


def test_unsupported_language_is_refused_not_scored():
    with pytest.raises(UnsupportedLanguageError, match="Japanese"):
        M.compute("東京は雨でした。私は家にいました。", models=True)


@settings(max_examples=15, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=200)
)
def test_deterministic_and_total(text):
    if not text.strip():
        return
    if not detect(text).supported:  # refused, always the same way (never English numbers)
        for _ in range(2):
            with pytest.raises(UnsupportedLanguageError):
                M.compute(text)
        return
    first = M.compute(text)
    second = M.compute(text)
    assert first == second
    assert all(v is None or math.isfinite(v) for v in first.values())


def test_compute_accepts_analysis_and_batch():
    a = wqrm.analyze("The cat sat. The dog ran home.")
    assert M.compute(a, names=["ttr"]) == M.compute("The cat sat. The dog ran home.", names=["ttr"])
    batch = M.compute_batch(["One two three.", "Four five."], names=["ttr"])
    assert [b["ttr"] for b in batch] == [1.0, 1.0]
