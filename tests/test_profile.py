import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wqrm.build.profile import build_profile, passages_from_file
from wqrm.metrics.registry import get_spec
from wqrm.profile import (
    QUANTILE_LEVELS,
    MetricQuantiles,
    Profile,
    band_goodness,
)


def goodness(profile, name, value):
    """`Profile.goodness` with the metric's registered direction and band (what the scorer passes)."""
    return get_spec(name).goodness(profile, value)


LEVEL_QUANTILES = tuple(100 * level for level in QUANTILE_LEVELS)  # q_p = 100·p: 1, 5, …, 99


@pytest.fixture
def profile():
    mq = MetricQuantiles(LEVEL_QUANTILES, mean=50.0, std=20.0, n=100)
    return Profile(metrics={"ttr": mq, "cbq": mq, "formality": mq}, meta={"name": "test"})


TAIL_SCALE = 4 / math.log(5)  # (q05 − q01) / ln(0.05 / 0.01) with q_p = 100·p


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (50, 0.5),
        (17.5, 0.175),
        (95, 0.95),
        (1, 0.01),  # the tails meet the interpolation at q01 and q99
        (99, 0.99),
        (0.5, 0.01 * math.exp(-0.5 / TAIL_SCALE)),  # 0.008177
        (-3, 0.002),  # 0.01·exp(−4/s) = 0.01/5: one (q05 − q01) step below q01 divides by 5
        (99.5, 1 - 0.01 * math.exp(-0.5 / TAIL_SCALE)),
        (103, 0.998),
    ],
)
def test_percentile_golden(value, expected):
    assert MetricQuantiles(LEVEL_QUANTILES, 50, 20, 100).percentile(value) == pytest.approx(expected)


def test_percentile_tails_keep_order_outside_the_reference_range():
    mq = MetricQuantiles(LEVEL_QUANTILES, 50, 20, 100)
    values = [-40, -20, -5, 0, 0.9, 99.1, 100, 110, 140]
    ps = [mq.percentile(v) for v in values]
    assert all(0 < p < 1 for p in ps)
    assert ps == sorted(ps) and len(set(ps)) == len(ps)


def test_percentile_with_tied_quantiles():
    mq = MetricQuantiles((0, 0, 0, 0, 1, 1, 1, 1, 1), 0.5, 0.5, 10)
    assert 0 <= mq.percentile(0.5) <= 1
    assert 0 < mq.percentile(-2) < mq.percentile(-1) < mq.percentile(0)
    assert mq.percentile(1) < mq.percentile(2) < mq.percentile(3) < 1


def test_goodness_directions(profile):
    assert goodness(profile, "ttr", 17.5) == pytest.approx(0.175)  # higher: percentile
    # band (cbq): 1 inside [q25, q75] = [25, 75]; linear to 0 at q01 = 1 and q99 = 99
    assert goodness(profile, "cbq", 40) == 1.0
    assert goodness(profile, "cbq", 13) == pytest.approx(1 - 12 / 24)
    assert goodness(profile, "cbq", 87) == pytest.approx(1 - 12 / 24)
    assert goodness(profile, "cbq", 500) == 0.0
    assert goodness(profile, "ttr", None) is None


def test_band_fallback_to_literature_band(profile):
    # sc is not in this profile: its registry band 0.3-0.7 applies, falling to 0 one width outside
    assert goodness(profile, "sc", 0.5) == 1.0
    assert goodness(profile, "sc", 0.1) == pytest.approx(0.5)
    assert goodness(profile, "nns", 0.9) is None  # `higher` metric absent from the profile


def test_band_goodness_degenerate():
    assert band_goodness(5, 5, 5, 5, 5) == 1.0
    assert band_goodness(4, 5, 5, 5, 5) == 0.0


def test_save_load_roundtrip(tmp_path, profile):
    path = profile.save(tmp_path)
    loaded = Profile.load(tmp_path)
    assert loaded.metrics == profile.metrics and loaded.meta == profile.meta
    data = json.loads(path.read_text())
    assert data["quantile_levels"] == list(QUANTILE_LEVELS)


def test_load_rejects_other_files(tmp_path):
    (tmp_path / "profile.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a wqrm profile"):
        Profile.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="build-profile"):
        Profile.load(tmp_path / "nowhere")


def test_passages_from_txt_and_jsonl(tmp_path):
    txt = tmp_path / "book.txt"
    txt.write_text("One two three.\n\nFour five six seven.\n\nEight.\n\nNine ten eleven twelve.\n")
    assert passages_from_file(txt, passage_words=5) == [
        "One two three.\n\nFour five six seven.",
        "Eight.\n\nNine ten eleven twelve.",
    ]
    jl = tmp_path / "rows.jsonl"
    jl.write_text('{"text": "Human one.", "label": "human"}\n{"text": "Bot.", "label": "ai"}\n\n')
    assert passages_from_file(jl, jsonl_where={"label": "human"}) == ["Human one."]
    sample = passages_from_file(txt, passage_words=1, max_passages=2, seed=3)
    assert len(sample) == 2 and sample == passages_from_file(txt, passage_words=1, max_passages=2, seed=3)


def test_build_profile_small(tmp_path):
    txt = tmp_path / "book.txt"
    paras = [f"Paragraph {i} tells of the sea and the wind, and the sea again number {i}." for i in range(32)]
    paras[:3] = ["The gulls rose. The tide turned. The boats came home.", "Rain fell. It stopped.", "Snow."]
    txt.write_text("\n\n".join(paras))
    prof = build_profile([txt], names=["ttr", "nns", "sentence_length_std"], passage_words=1)
    assert prof.meta["n_passages"] == 32
    mq = prof.metrics["ttr"]
    assert mq.n == 32 and list(mq.quantiles) == sorted(mq.quantiles)
    # sentence_length_std: two of the passages have two or more sentences. Its quantiles would be
    # read off two values, so the profile does not hold it (not imputed either)
    assert "sentence_length_std" not in prof.metrics
    assert prof.meta["corpora"][0]["passages"] == 32


def test_too_few_reference_values_fall_back_to_the_registry_band():
    """EC: reference prose rarely states an attribute twice; its goodness is then its value."""
    import wqrm
    from wqrm.build.profile import MIN_REFERENCE_VALUES, distribution_stats, profile_from_passages

    rows = [{"ec": 0.5}] * (MIN_REFERENCE_VALUES - 1) + [{"ec": None}] * 10
    stats = [distribution_stats(wqrm.analyze("The gulls rose. The tide turned."))] * len(rows)
    metrics, _ = profile_from_passages(rows, stats, ["ec"])
    assert "ec" not in metrics
    rows[-1] = {"ec": 1.0}
    assert profile_from_passages(rows, stats, ["ec"])[0]["ec"].n == MIN_REFERENCE_VALUES
    spec = get_spec("ec")
    assert "ec" not in Profile.default().metrics
    assert spec.goodness(Profile.default(), 0.25) == 0.25 and spec.goodness(Profile.default(), 1.0) == 1.0


def test_shipped_default_profile():
    prof = Profile.default()
    assert prof.meta["name"] == "default"
    assert prof.meta["command"].startswith("wqrm build-profile")
    for name in ("ttr", "mtld", "nns", "cbq", "w2", "formality", "sc", "syn", "parse_validity"):
        mq = prof.metrics[name]
        assert mq.n >= 1000, name
        assert list(mq.quantiles) == sorted(mq.quantiles), name


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("gender_balance", 1.0, 0.99),  # perfect balance: the top of the scale (was 0.00 as a band)
        ("ne_count", 0.0, 1.0),  # a text without named entities is not at fault
        ("gpp", 0.0, 1.0),  # no generic phrase: the top of the scale
        ("slop_pattern_rate", 0.0, 1.0),
    ],
)
def test_goodness_mappings_a_writer_agrees_with(name, value, expected):
    from wqrm.profile import default_profile

    assert goodness(default_profile(), name, value) >= expected


def test_more_generic_phrases_is_never_better():
    from wqrm.profile import default_profile

    g = [goodness(default_profile(), "gpp", v) for v in (0.0, 0.5, 1.0, 2.0, 5.0, 20.0)]
    assert g == sorted(g, reverse=True) and g[0] == 1.0 and g[-1] < 0.1


def test_band_include_widens_the_reference_band(profile):
    from wqrm.metrics.registry import MetricSpec

    spec = MetricSpec("cbq", lambda a: 0.0, None, "band", "test", (0, 1000), band_include=(0.0,))
    # the reference band [25, 75] is widened to [0, 75]: 10 is good now, 87 still is not
    assert spec.goodness(profile, 10.0) == 1.0
    assert spec.goodness(profile, 87.0) == pytest.approx(1 - 12 / 24)


def test_rebuilding_a_profile_keeps_references_that_are_not_the_corpus():
    from wqrm.build.profile import carry_metric_references
    from wqrm.profile import MetricQuantiles

    edit = MetricQuantiles(tuple(float(x) for x in range(9)), 4.0, 2.0, 1537)
    ref = {"edit_reward": {"texts": "the edit model's training texts", "n": 1537}}
    previous = Profile(metrics={"edit_reward": edit, "ttr": edit}, meta={"metric_references": ref})
    fresh = Profile(metrics={"ttr": MetricQuantiles((0.5,) * 9, 0.5, 0.0, 10)}, meta={"name": "new"})
    assert carry_metric_references(fresh, previous) == ["edit_reward"]
    assert fresh.metrics["edit_reward"] == edit and fresh.meta["metric_references"] == ref
    assert fresh.metrics["ttr"].n == 10  # corpus metrics are the new ones
    assert carry_metric_references(fresh, Profile(metrics={})) == []


@pytest.mark.parametrize(
    ("value", "expected"), [(0.0, 1.0), (99.0, math.exp(-1)), (198.0, math.exp(-2)), (-5.0, 1.0)]
)
def test_decay_falls_exponentially_on_the_99th_percentile_scale(profile, value, expected):
    """`decay` (a `lower` metric with a best value): g = exp(−(v − best)/(q99 − best)); the test
    profile's q99 is 99, best 0."""
    from wqrm.metrics.registry import MetricSpec

    spec = MetricSpec("cbq", lambda a: 0.0, "S3", "lower", "test", (0, 1000), best=0.0, decay=True)
    assert spec.goodness(profile, value) == pytest.approx(expected)


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 50), st.floats(0.001, 50))
def test_every_generic_phrase_added_costs(value, more):
    """Unlike the percentile (flat past the reference's tail), gpp's decaying goodness keeps
    falling: more generic phrases per 100 words is always strictly worse, while there is any."""
    from wqrm.profile import default_profile

    p = default_profile()
    g0, g1 = goodness(p, "gpp", value), goodness(p, "gpp", value + more)
    assert g1 < g0 or g0 < 1e-300


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, 1.0), (50.0, 1.0), (99.0, 1.0), (99.0 + TAIL_SCALE, math.exp(-1)), (103.0, 0.2)],
)
def test_tail_is_one_up_to_the_99th_percentile_then_its_upper_tail(profile, value, expected):
    """`tail` (a `lower` guard): 1 up to q99 = 99, then (1 − percentile)/0.01 = exp(−(v − q99)/s),
    s = (q99 − q95)/ln 5 = TAIL_SCALE on the test profile (q_p = 100·p)."""
    from wqrm.metrics.registry import MetricSpec

    spec = MetricSpec("cbq", lambda a: 0.0, "S4", "lower", "test", (0, 1000), guard=True, tail=True)
    assert spec.goodness(profile, value) == pytest.approx(expected)


@settings(max_examples=50, deadline=None)
@given(st.floats(0, 500), st.floats(0.001, 50))
def test_tail_goodness_never_rises_with_the_value(value, more):
    from wqrm.profile import default_profile

    p = default_profile()
    g0, g1 = goodness(p, "rare_word_rate", value / 1000), goodness(p, "rare_word_rate", (value + more) / 1000)
    assert g1 <= g0 and 0.0 <= g1 <= 1.0
    if (value + more) / 1000 <= p.metrics["rare_word_rate"].at(0.99):
        assert g1 == 1.0


def test_tail_needs_a_lower_guard():
    from wqrm.metrics.registry import metric

    with pytest.raises(ValueError, match="must be a guard with direction 'lower'"):
        metric("x_tail", component="S4", direction="lower", reference="-", valid_range=(0, 1), tail=True)
    with pytest.raises(ValueError, match="must be a guard with direction 'lower'"):
        metric(
            "x_tail",
            component="S4",
            direction="band",
            reference="-",
            valid_range=(0, 1),
            guard=True,
            tail=True,
        )
    assert get_spec("rare_word_rate").tail and get_spec("rare_word_rate").guard


def test_decay_needs_a_lower_metric_with_a_best_value():
    from wqrm.metrics.registry import metric

    with pytest.raises(ValueError, match="needs direction 'lower' and a best value"):
        metric("x_decay", component="S3", direction="lower", reference="-", valid_range=(0, 1), decay=True)
    assert get_spec("gpp").decay and not get_spec("slop_pattern_rate").decay
