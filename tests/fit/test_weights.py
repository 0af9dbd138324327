"""Fitting the composite weights: Bradley–Terry fit, accuracy, direction check, S1's reference."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wqrm.components import COMPONENTS
from wqrm.fit.weights import accuracy, fit_weights
from wqrm.weights import default_weights_path

NAN = np.nan


def _alpha(**kw):
    return {c: kw.get(c, 0.0) for c in COMPONENTS}


def test_accuracy_counts_ties_half_and_skips_undefined():
    assert accuracy(np.array([1.0, -1.0, 0.0, NAN])) == pytest.approx(1.5 / 3)
    assert accuracy(np.array([NAN])) is None


def _synthetic(n=600, seed=0, true=None):
    """Pairs whose preference follows σ(8 · Σ α*_i ΔS_i) with α* on S1 and S3."""
    rng = np.random.default_rng(seed)
    true = true if true is not None else np.array([0.6, 0, 0.4, 0, 0, 0, 0, 0])
    X = rng.uniform(0, 1, size=(n, 8))
    Y = rng.uniform(0, 1, size=(n, 8))
    X[:, 4] = Y[:, 4] = NAN  # S5 never observed
    X[:, 7] = Y[:, 7] = NAN  # S8 never observed
    d = np.nansum((X - Y) * true, axis=1)
    prefer_x = rng.uniform(size=n) < 1 / (1 + np.exp(-8 * d))
    A = np.where(prefer_x[:, None], X, Y)
    B = np.where(prefer_x[:, None], Y, X)
    return A, B


def test_fit_is_on_the_simplex_and_deterministic():
    A, B = _synthetic()
    f1 = fit_weights(A, B)
    f2 = fit_weights(A.copy(), B.copy())
    a = np.array(list(f1.alpha.values()))
    assert abs(a.sum() - 1.0) < 1e-9
    assert (a >= 0).all()
    assert f1.alpha == f2.alpha and f1.tau == f2.tau
    assert f1.converged


def test_fit_recovers_the_informative_components():
    A, B = _synthetic(n=3000)
    fit = fit_weights(A, B, l2=1e-4)
    ranked = sorted(fit.alpha, key=fit.alpha.get, reverse=True)
    assert set(ranked[:2]) == {"S1", "S3"}
    assert fit.alpha["S1"] > fit.alpha["S3"]
    assert fit.train_accuracy > 0.7
    assert fit.tau > 1.0


def test_unobserved_components_stay_at_the_prior():
    A, B = _synthetic()
    fit = fit_weights(A, B)
    assert abs(fit.theta[4]) < 1e-9 and abs(fit.theta[7]) < 1e-9  # ratios of α never involve them
    assert fit.alpha["S5"] == pytest.approx(fit.alpha["S8"])
    assert "S5" not in fit.components_seen and "S1" in fit.components_seen


def test_fit_restricted_to_components_gives_zero_elsewhere():
    A, B = _synthetic()
    fit = fit_weights(A, B, components=["S2", "S3"])
    assert fit.alpha["S1"] == 0.0 and fit.alpha["S2"] + fit.alpha["S3"] == pytest.approx(1.0)
    alone = fit_weights(A, B, components=["S1"])
    assert alone.alpha["S1"] == 1.0


def test_strong_l2_pulls_toward_uniform():
    A, B = _synthetic()
    loose, tight = fit_weights(A, B, l2=1e-4), fit_weights(A, B, l2=100.0)
    dist = lambda f: np.abs(np.array(list(f.alpha.values())) - 1 / 8).sum()  # noqa: E731
    assert dist(tight) < dist(loose)
    assert dist(tight) < 0.02


def test_sample_weights_matter():
    A, B = _synthetic(n=400, seed=1)
    flipped_A, flipped_B = B[:200], A[:200]  # the same pairs, opposite preference
    A2, B2 = np.vstack([A, flipped_A]), np.vstack([B, flipped_B])
    w = np.r_[np.ones(400), np.full(200, 1e-6)]
    assert fit_weights(A2, B2, w).alpha == pytest.approx(fit_weights(A, B).alpha, abs=1e-3)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000))
def test_fit_alpha_always_on_the_simplex(seed):
    A, B = _synthetic(n=50, seed=seed)
    a = np.array(list(fit_weights(A, B).alpha.values()))
    assert abs(a.sum() - 1.0) < 1e-9 and (a >= 0).all()


def test_shipped_weights_use_the_edit_models_split():
    """Same item-group split as S1: the edit model's dev pairs are dev pairs of the composite too."""
    from wqrm.metrics.edit import shipped_dir

    weights = json.loads(default_weights_path().read_text())
    edit = json.loads((shipped_dir() / "training.json").read_text())
    assert set(edit["dev_ids"]) <= set(weights["dev_ids"])
    assert weights["split"] == {"by": "item group", "seed": edit["config"]["seed"], "dev_percent": 20}
    assert len(set(weights["dev_ids"])) == len(weights["dev_ids"])
    # α is fitted only on pairs S1 was not trained on; the count of those left out is recorded
    assert weights["counts"]["excluded_s1_training_pairs"] > 0
    assert "negatives" in weights["counts"]["fit_pairs"]


def test_edit_reward_reference_over_the_models_training_texts(tmp_path):
    from wqrm.fit.data import Pair
    from wqrm.fit.weights import MetricCache, edit_reward_reference, text_key
    from wqrm.profile import QUANTILE_LEVELS

    (tmp_path / "training.json").write_text(json.dumps({"data": {"train_pairs": {"lamp": 60, "other": 0}}}))
    pairs = [Pair(f"good {i}", f"bad {i}", "lamp") for i in range(60)]
    pairs += [Pair(f"x {i}", f"y {i}", "other") for i in range(60)]  # not the model's training source
    cache = MetricCache()
    cache.add({"key": text_key(f"good {i}"), "metrics": {"edit_reward": float(i)}} for i in range(60))
    cache.add({"key": text_key(f"bad {i}"), "metrics": {"edit_reward": float(-i)}} for i in range(60))
    ref = edit_reward_reference(pairs, tmp_path, cache)
    values = np.r_[np.arange(60.0), -np.arange(60.0)]
    assert ref["n"] == 120 and ref["n_undefined"] == 0
    assert ref["quantiles"] == pytest.approx(np.quantile(values, QUANTILE_LEVELS))
    assert ref["quantiles"][4] == pytest.approx(0.0)  # median of the symmetric set
    with pytest.raises(ValueError, match="too few"):
        edit_reward_reference(pairs[:10], tmp_path, cache)


def test_collect_metrics_in_two_processes_equals_one(scorer):
    """Worker processes (spawned, one model thread each) give the rows one process gives; only the
    encoder's float summation order differs with the thread count."""
    from wqrm.fit.weights import MetricCache, collect_metrics

    texts = [
        "The kettle clicked off. Nobody got up to pour the water.",
        "Rain again, and the gutters sang the same two notes all night.",
        "ok fine.",
        "He counted the stairs on the way down, as he had as a boy: fourteen, then the landing.",
        "",
    ]
    one = collect_metrics(texts, MetricCache(), chunk=2)
    two = collect_metrics(texts, MetricCache(), chunk=2, workers=2)
    assert one.rows.keys() == two.rows.keys() and len(one.rows) == 5
    for key, row in one.rows.items():
        other = two.rows[key]
        assert (row["n_words"], row["error"]) == (other["n_words"], other["error"])
        assert row["metrics"].keys() == other["metrics"].keys()
        for name, value in row["metrics"].items():
            if value is None or other["metrics"][name] is None:
                assert value == other["metrics"][name], name
            else:
                assert other["metrics"][name] == pytest.approx(value, rel=1e-9, abs=1e-12), name
    with pytest.raises(ValueError, match="scorer=None"):
        collect_metrics(["A text to score.", "Another one."], MetricCache(), scorer, chunk=1, workers=2)


def test_collect_metrics_computes_only_what_a_cached_row_lacks(scorer, tmp_path):
    """A metric registered after the cache was written is added to its rows (the other values are
    kept as they were, not recomputed) and equals the value a fresh row would hold."""
    from wqrm.fit.weights import MetricCache, collect_metrics, missing_metrics, text_key

    texts = [
        "The kettle clicked off. Nobody got up to pour the water. The clock in the hall kept on.",
        "Rain again, and the gutters sang the same two notes all night long.",
        "",
    ]
    fresh = collect_metrics(texts, MetricCache(), scorer)
    path = tmp_path / "cache.jsonl"
    old = MetricCache(path)
    stale = []
    for t in texts:
        row = json.loads(json.dumps(fresh.get(t)))
        if row["error"] is None:
            del row["metrics"]["rare_word_rate"], row["metrics"]["sc"]
            row["metrics"]["ttr"] = -1.0  # a marker: kept, not recomputed
        stale.append(row)
    old.add(stale)
    seen = []
    collect_metrics(texts, old, scorer, progress=lambda d, n: seen.append((d, n)))
    assert seen == [(2, 2)]  # the two stale rows, once; the error row is left alone
    again = MetricCache(path)  # read back: the appended rows win
    for t in texts:
        row, want = again.get(t), fresh.get(t)
        assert missing_metrics(row, want["metrics"]) == []
        if want["error"] is None:
            assert row["metrics"]["ttr"] == -1.0
            for name in ("rare_word_rate", "sc"):
                assert row["metrics"][name] == pytest.approx(want["metrics"][name], abs=1e-6)
        else:
            assert row == want
    assert len(path.read_text().splitlines()) == 3 + 2
    assert missing_metrics({"key": text_key("x"), "metrics": {}, "error": "empty"}, ["sc"]) == []


def test_a_rebuilt_artefact_recomputes_the_metrics_that_read_it(scorer, tmp_path, monkeypatch):
    """Rows carry the digest of the corpus resources and S1 model they were computed with; after a
    rebuild (another digest) the metrics that read the rebuilt resource are recomputed, the others
    kept; rows written before stamps take the cache's default stamps, written once beside it."""
    import wqrm.fit.weights as W
    from wqrm.metrics.registry import specs

    texts = ["The kettle clicked off. Nobody got up to pour the water. The clock in the hall kept on."]
    stamps = {"corpus": "c1", "edit_model": "e1"}
    monkeypatch.setattr(W, "artefact_stamps", lambda: dict(stamps))
    path = tmp_path / "cache.jsonl"
    cache = W.MetricCache(path)
    W.collect_metrics(texts, cache, scorer)
    row = cache.get(texts[0])
    assert row["stamps"] == stamps
    assert json.loads((tmp_path / "cache.jsonl.stamps.json").read_text()) == stamps  # the default, once
    reads_corpus = [
        n for n, s in specs().items() if "corpus" in s.resources and row["metrics"].get(n) is not None
    ]
    assert "next_sentence_gain" in reads_corpus and "ttr" not in reads_corpus
    marked = {**row, "metrics": {**row["metrics"], **{n: -1.0 for n in [*reads_corpus, "ttr"]}}}
    cache.add([marked])
    seen = []
    W.collect_metrics(texts, W.MetricCache(path), scorer, progress=lambda d, n: seen.append(n))
    assert seen == []  # nothing rebuilt: nothing recomputed
    stamps["corpus"] = "c2"  # the corpus resources were rebuilt
    W.collect_metrics(texts, W.MetricCache(path), scorer, progress=lambda d, n: seen.append(n))
    again = W.MetricCache(path).get(texts[0])
    assert seen == [1] and again["stamps"] == stamps
    assert again["metrics"]["ttr"] == -1.0  # does not read the corpus: kept
    for n in reads_corpus:
        assert again["metrics"][n] == pytest.approx(row["metrics"][n], abs=1e-9)
    legacy = {k: v for k, v in again.items() if k != "stamps"}
    assert W.MetricCache(path).stamps_of(legacy) == {"corpus": "c1", "edit_model": "e1"}


def test_a_new_metric_version_recomputes_that_metric_only(scorer, tmp_path, monkeypatch):
    """A metric whose `version` was raised (its code changed its values) is recomputed in cached rows
    from another version, and the row records the version; the other values are kept."""
    import dataclasses

    import wqrm.fit.weights as W
    from wqrm.metrics import registry

    texts = ["The kettle clicked off. Nobody got up to pour the water. The clock in the hall kept on."]
    path = tmp_path / "cache.jsonl"
    W.collect_metrics(texts, W.MetricCache(path), scorer)
    row = W.MetricCache(path).get(texts[0])
    base = W.metric_versions(row["metrics"])  # the metrics above version 1 (the order gains: 2)
    assert row.get("versions", {}) == base and "sc" not in base
    marked = {**row, "metrics": {**row["metrics"], "sc": -1.0, "ttr": -1.0}}
    W.MetricCache(path).add([marked])
    bumped = {**registry.specs(), "sc": dataclasses.replace(registry.get_spec("sc"), version=2)}
    monkeypatch.setattr(registry, "_SPECS", bumped)
    assert W.metric_versions(["sc", "ttr", "not_a_metric"]) == {"sc": 2}
    assert W.missing_metrics(marked, ["sc", "ttr"]) == ["sc"]
    seen = []
    W.collect_metrics(texts, W.MetricCache(path), scorer, progress=lambda d, n: seen.append(n))
    again = W.MetricCache(path).get(texts[0])
    assert seen == [1] and again["versions"] == {**base, "sc": 2}
    assert again["metrics"]["sc"] == pytest.approx(row["metrics"]["sc"], abs=1e-6)
    assert again["metrics"]["ttr"] == -1.0  # same version: kept
    assert W.missing_metrics(again, ["sc", "ttr"]) == []
    seen.clear()
    W.collect_metrics(texts, W.MetricCache(path), scorer, progress=lambda d, n: seen.append(n))
    assert seen == []  # recorded: not recomputed again


def test_stale_resources_and_directory_digest(tmp_path):
    from wqrm.fit.weights import directory_digest, stale_resources

    assert stale_resources({"corpus": "a", "edit_model": "b"}, {"corpus": "a", "edit_model": "c"}) == {
        "edit_model"
    }
    assert stale_resources({}, {"corpus": "a"}) == set()  # no stamp: taken as unchanged
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.json").write_text("1")
    first = directory_digest(tmp_path / "d")
    (tmp_path / "d" / "x.json").write_text("2")
    assert directory_digest(tmp_path / "d") != first and len(first) == 40
    assert directory_digest(tmp_path / "missing") == ""


def test_a_value_missing_for_want_of_a_resource_is_not_cached(scorer, tmp_path, monkeypatch):
    """A metric that is None because this machine lacks its resource (or because it raised) is left
    out of the cached row, so a later run with the resource computes it; an undefined value (a
    fact about the text) is cached as None."""
    import dataclasses

    import wqrm.fit.weights as W
    from wqrm.metrics import registry
    from wqrm.resources import ResourceMissingError

    assert W.cacheable(
        {"a": None, "b": None, "c": None, "d": 0.5},
        {"a": "resource missing: no WordNet", "b": "error: ValueError: x", "c": "one sentence"},
    ) == {"c": None, "d": 0.5}

    def no_wordnet(a):
        raise ResourceMissingError("wqrm resource 'wordnet' is missing")

    texts = ["The kettle clicked off. Nobody got up to pour the water. The clock in the hall kept on."]
    real = registry.get_spec("wordnet_sim")
    monkeypatch.setattr(
        registry, "_SPECS", {**registry.specs(), "wordnet_sim": dataclasses.replace(real, func=no_wordnet)}
    )
    path = tmp_path / "cache.jsonl"
    W.collect_metrics(texts, W.MetricCache(path), W.metric_scorer())
    row = W.MetricCache(path).get(texts[0])
    assert "wordnet_sim" not in row["metrics"] and row["metrics"]["ttr"] is not None
    assert W.missing_metrics(row, ["wordnet_sim", "ttr"]) == ["wordnet_sim"]
    # a stale cached value (another version) whose recomputation lacks the resource is dropped
    stale_row = {**row, "metrics": {**row["metrics"], "wordnet_sim": -1.0}, "versions": {"wordnet_sim": 7}}
    (extended,) = W._extended_rows(texts, [stale_row], ["wordnet_sim"])
    assert "wordnet_sim" not in extended["metrics"] and "wordnet_sim" not in extended.get("versions", {})
    assert extended["metrics"]["ttr"] == row["metrics"]["ttr"]
    monkeypatch.setattr(registry, "_SPECS", {**registry.specs(), "wordnet_sim": real})  # installed now
    W.collect_metrics(texts, W.MetricCache(path), scorer)
    again = W.MetricCache(path).get(texts[0])
    assert again["metrics"]["wordnet_sim"] == pytest.approx(scorer.score(texts[0]).metrics["wordnet_sim"])
