"""Reference distributions in profiles (sentence lengths, MATTR, dependency labels, POS, emotions)
and the metrics compared with them, on a tiny corpus."""

import json

import numpy as np
import pytest

import wqrm
from wqrm import profile as prof_mod
from wqrm.build.profile import build_profile, distribution_stats, pool_distributions
from wqrm.metrics import compute_batch
from wqrm.metrics.registry import MetricContext, get_spec
from wqrm.profile import QUANTILE_LEVELS, Profile


def goodness(profile, name, value):
    """`Profile.goodness` with the metric's registered direction and band (what the scorer passes)."""
    return get_spec(name).goodness(profile, value)


REFERENCE = ["sld_kl", "ttr_consistency", "dep_label_js", "pos_js", "emotion_js"]
PARAGRAPHS = [
    "The storm broke over the harbour at dusk. Fishermen ran to secure their boats.",
    "She laughed at the joke. Her brother did not laugh, and the room went quiet for a while.",
    "Rain fell. It fell all night on the roofs and the empty streets of the old town by the sea.",
    "The letter arrived on a Tuesday. Nobody opened it until the following spring, when the snow had gone.",
]


@pytest.fixture(scope="module")
def tiny_profile(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    corpus.write_text("\n\n".join(PARAGRAPHS), encoding="utf-8")
    # four passages: the quantiles are checked against the metrics, not the 30-value minimum
    return build_profile([corpus], names=["ttr", *REFERENCE], passage_words=5, min_values=1)


def test_distributions_pool_the_passages(tiny_profile):
    d = tiny_profile.distributions
    analyses = wqrm.analyze_batch(PARAGRAPHS)
    assert d["n_texts"] == 4
    lengths = np.concatenate([a.sentence_lengths for a in analyses])
    assert sum(d["sentence_length"]["counts"]) == lengths.size == 8
    assert d["sentence_length"]["bin_width"] == 5 and len(d["sentence_length"]["counts"]) == 13
    n_words = sum(len(a.words) for a in analyses)
    assert sum(d["pos"]["counts"].values()) == n_words == sum(d["dep_label"]["counts"].values())
    assert d["dep_label"]["counts"]["ROOT"] == 8
    assert set(d["emotion"]["counts"]) == {
        "anger",
        "anticipation",
        "disgust",
        "fear",
        "joy",
        "sadness",
        "surprise",
        "trust",
    }
    # MATTR: the passages hold 14, 18, 20 and 18 words, so window W is averaged over the passages
    # with at least W words: 4 up to 14, 3 up to 18, 1 up to 20, none beyond
    assert [len(a.words) for a in analyses] == [14, 18, 20, 18]
    assert d["mattr"]["n"] == [4] * 14 + [3] * 4 + [1] * 2 + [0] * 30
    assert d["mattr"]["mean"][0] == 1.0 and d["mattr"]["mean"][20:] == [None] * 30


def test_pool_distributions_golden():
    stats = [
        {
            "sentence_length": np.array([1, 2] + [0] * 11),
            "mattr": np.array([1.0, 0.5, np.nan]),
            "dep_label": {"ROOT": 1, "det": 2},
            "pos": {"NOUN": 3},
            "emotion": {"joy": 1},
        },
        {
            "sentence_length": np.array([0, 1] + [0] * 10 + [4]),
            "mattr": np.array([1.0, 1.0, 0.75]),
            "dep_label": {"ROOT": 2},
            "pos": {"VERB": 1, "NOUN": 1},
            "emotion": {"fear": 2},
        },
    ]
    d = pool_distributions(stats)
    assert d["sentence_length"]["counts"] == [1, 3] + [0] * 10 + [4]
    assert d["mattr"]["mean"] == [1.0, 0.75, 0.75] and d["mattr"]["n"] == [2, 2, 1]
    assert d["dep_label"]["counts"] == {"ROOT": 3, "det": 2}
    assert d["pos"]["counts"] == {"NOUN": 4, "VERB": 1}
    assert d["emotion"]["counts"] == {"fear": 2, "joy": 1}


def test_reference_metric_quantiles_match_the_metrics(tiny_profile):
    # the builder computes these from per-passage stats after pooling; the registered metrics,
    # given the built profile, must give the same values
    ctx = MetricContext(profile=tiny_profile)
    values = compute_batch(PARAGRAPHS, REFERENCE, context=ctx)
    for name in REFERENCE:
        got = np.array([v[name] for v in values], dtype=np.float64)
        assert np.isfinite(got).all(), name
        mq = tiny_profile.metrics[name]
        assert mq.n == 4 and mq.n_undefined == 0
        assert np.allclose(mq.quantiles, np.quantile(got, QUANTILE_LEVELS)), name
    assert all(v["sld_kl"] >= 0 for v in values) and all(0 <= v["pos_js"] <= 1 for v in values)


def test_save_load_keeps_distributions(tmp_path, tiny_profile):
    tiny_profile.save(tmp_path)
    back = Profile.load(tmp_path)
    assert back.distributions == json.loads(json.dumps(tiny_profile.distributions))
    values = compute_batch(PARAGRAPHS[:1], REFERENCE, context=MetricContext(profile=back))[0]
    direct = compute_batch(PARAGRAPHS[:1], REFERENCE, context=MetricContext(profile=tiny_profile))[0]
    for name in REFERENCE:
        assert values[name] == pytest.approx(direct[name], abs=1e-9), name


def test_profile_without_distributions_still_loads(tmp_path):
    (tmp_path / "profile.json").write_text(
        json.dumps(
            {
                "format": "wqrm-profile/1",
                "meta": {"name": "old"},
                "quantile_levels": list(QUANTILE_LEVELS),
                "metrics": {
                    "ttr": {"quantiles": [0.1 * i for i in range(1, 10)], "mean": 0.5, "std": 0.1, "n": 9}
                },
            }
        )
    )
    old = Profile.load(tmp_path)
    assert old.distributions == {} and old.metrics["ttr"].n == 9
    mv = compute_batch(
        ["Some words here to score now."], ["sld_kl", "pos_js"], context=MetricContext(profile=old)
    )[0]
    assert mv["sld_kl"] is None and "holds no sentence_length distribution" in mv.reasons["sld_kl"]


def test_reference_profile_default_and_override(tmp_path, monkeypatch, tiny_profile):
    assert MetricContext(profile=tiny_profile).reference_profile() is tiny_profile
    tiny_profile.save(tmp_path / "p")
    monkeypatch.setenv("WQRM_PROFILE", str(tmp_path / "p"))
    monkeypatch.setattr(prof_mod, "_DEFAULT", {})
    got = prof_mod.default_profile()
    assert got.distributions["n_texts"] == 4
    assert MetricContext().reference_profile() is got  # cached per path


def test_distribution_stats_of_one_text(tree):
    a = tree(
        ["The", "old", "man", "saw", "her", "quickly", "in", "town", "."],
        [2, 2, 3, 3, 3, 3, 3, 6, 3],
        ["det", "amod", "nsubj", "ROOT", "dobj", "advmod", "prep", "pobj", "punct"],
        ["DET", "ADJ", "NOUN", "VERB", "PRON", "ADV", "ADP", "NOUN", "PUNCT"],
    )
    st = distribution_stats(a)
    assert st["n_words"] == 8 and st["sentence_length"].tolist() == [0, 1] + [0] * 11  # 8 words: bin 1
    assert st["pos"] == {"DET": 1, "ADJ": 1, "NOUN": 2, "VERB": 1, "PRON": 1, "ADV": 1, "ADP": 1}
    assert st["dep_label"] == {
        "det": 1,
        "amod": 1,
        "nsubj": 1,
        "ROOT": 1,
        "dobj": 1,
        "advmod": 1,
        "prep": 1,
        "pobj": 1,
    }
    assert np.isfinite(st["mattr"][:8]).all() and np.isnan(st["mattr"][8:]).all()
    assert st["emotion"] == dict.fromkeys(
        ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust"), 0
    )


def test_goodness_ramp_for_context_metrics():
    empty = Profile(metrics={})
    # pva (higher) ramps over its registry band (0.5, 0.9); formality_gap (lower) over (0, 20)
    assert goodness(empty, "pva", 0.7) == pytest.approx(0.5)
    assert goodness(empty, "pva", 0.4) == 0.0 and goodness(empty, "pva", 0.95) == 1.0
    assert goodness(empty, "formality_gap", 5.0) == pytest.approx(0.75)
    assert goodness(empty, "bleu", 25.0) == pytest.approx(0.5)  # band (0, 50)
    assert goodness(empty, "nns", 0.9) is None  # no band: a profile is needed
