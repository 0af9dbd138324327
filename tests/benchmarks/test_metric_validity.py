"""benchmarks/metric_validity.py: pair selection, the statistics (by hand), the verdict rules, the
rendering, and the shipped evidence (every catalogued metric, and `wqrm catalogue` reads it)."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

import wqrm.metrics as M
from wqrm.benchmarks import metric_validity as V
from wqrm.benchmarks.metric_validity_table import VERDICTS, evidence_json, findings, render
from wqrm.build.sources import hash_percent
from wqrm.fit.data import Pair, is_dev
from wqrm.metrics.registry import VALIDITY_TABLE, metric_validity
from wqrm.profile import default_profile

ROOT = Path(__file__).resolve().parents[2]


def _row(id_, label, text, group, domain="creative_writing", **meta):
    return {
        "id": id_,
        "source": "test",
        "label": label,
        "text": text,
        "domain": domain,
        "model": meta.pop("model", None),
        "meta": {"group": group, **meta},
    }


def _write(tmp_path, rows):
    path = tmp_path / "fast_detect_gpt.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _ai(id_, text, group, model, human, cut, domain="creative_writing"):
    return _row(id_, "ai", text, group, domain, model=model, paired_human_id=human, shared_prefix_chars=cut)


ROWS = [
    _row("h1", "human", "Prompt one. The human went on walking.", "g1"),
    _ai("a1", "Prompt one. The machine went on talking.", "g1", "gpt2-xl", "h1", 11),
    _ai("a1b", "Prompt one. Another continuation.", "g1", "gpt-4", "h1", 12),
    _row("h2", "human", "Prompt two. Rain fell on the town.", "g2"),
    _ai("a2", "Prompt two. Sun shone on the city.", "g2", "opt-2.7b", "h2", 11),
    _row("h3", "human", "A human text with no AI continuation.", "g3"),
    _row("h4", "human", "News. Markets fell.", "g4", domain="news"),
    _ai("a4", "News. Markets rose.", "g4", "gpt2-xl", "h4", 5, domain="news"),
]


def test_human_ai_pairs_pair_every_continuation_with_its_human_text_cut_at_its_own_prefix(tmp_path):
    pairs = V.human_ai_pairs(_write(tmp_path, ROWS))
    by_id = {p.id: p for p in pairs}
    assert set(by_id) == {"a1", "a1b", "a2"}  # h3 has no continuation, h4 is news
    assert by_id["a1"] == V.HumanAI(
        "a1", "hva:g1", "The human went on walking.", "The machine went on talking.", "gpt2-xl"
    )
    # each continuation's own shared prefix is cut from the human text too (12 chars: "Prompt one. ")
    assert (by_id["a1b"].human, by_id["a1b"].ai) == ("The human went on walking.", "Another continuation.")
    assert by_id["a2"].prompt == "hva:g2" and by_id["a2"].model == "opt-2.7b"


def test_dev_and_phrase_holdout_follow_the_builders_hashes(tmp_path):
    pairs = [V.HumanAI(f"a{i}", f"hva:g{i}", "h", "a", "m") for i in range(300)]
    split = {"seed": 0, "dev_percent": 20}
    dev = V.weights_dev(pairs, split)
    assert [p.id for p in dev] == [p.id for p in pairs if is_dev(p.prompt, 20, 0)]
    assert 30 < len(dev) < 90  # about a fifth
    held = V.phrase_holdout(pairs, "fast_detect_gpt.jsonl", 0, 20)
    assert [p.id for p in held] == [
        p.id for p in pairs if hash_percent(f"0|fast_detect_gpt.jsonl:{p.prompt[4:]}") < 20
    ]
    assert {p.id for p in held} != {p.id for p in dev}  # two independent hashes


def test_auc_by_hand_with_ties():
    # pos [1, 2, 2] vs neg [2, 0]: (1,2) 0, (1,0) 1, (2,2) ½, (2,0) 1, (2,2) ½, (2,0) 1 → 4/6
    assert V.auc(np.array([1.0, 2.0, 2.0]), np.array([2.0, 0.0])) == pytest.approx(4 / 6, abs=1e-15)
    assert V.auc(np.array([3.0, 3.0]), np.array([3.0])) == 0.5  # all tied
    assert V.auc(np.array([0.0]), np.array([1.0, 2.0])) == 0.0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.integers(0, 5), min_size=1, max_size=30), st.lists(st.integers(0, 5), min_size=1, max_size=30)
)
def test_auc_equals_sklearn_with_ties(pos, neg):
    expected = roc_auc_score([1] * len(pos) + [0] * len(neg), pos + neg) if len(set(pos + neg)) > 1 else 0.5
    assert V.auc(np.array(pos, float), np.array(neg, float)) == pytest.approx(expected, abs=1e-12)


def test_cluster_bootstrap_resamples_whole_clusters():
    # two clusters of sizes 2 and 1: a resample holds 2, 3 or 4 items (p = ¼, ½, ¼); an item
    # bootstrap would always hold 3
    lo, hi = V.cluster_bootstrap(lambda ix: float(ix.size), ["a", "a", "b"], n_boot=1000, seed=0)
    assert (lo, hi) == (2.0, 4.0)
    assert V.cluster_bootstrap(lambda ix: 1.0, ["a"], n_boot=0) is None
    assert V.cluster_bootstrap(lambda ix: None, ["a", "b"], n_boot=100) is None


def test_auc_and_accuracy_evidence_leave_out_undefined_values():
    human = np.array([1.0] * 10 + [np.nan, 0.0])
    ai = np.array([0.0] * 10 + [1.0, np.nan])
    ev = V.auc_evidence(human, ai, [str(i) for i in range(12)], n_boot=200)
    # defined humans: ten 1s and one 0; AIs: ten 0s and one 1. Over the 11 × 11 couples:
    # h=1 vs a=0: 100 wins, h=1 vs a=1: 10 ties, h=0 vs a=0: 10 ties, h=0 vs a=1: 1 loss
    assert ev["auc"] == pytest.approx((100 + 0.5 * 20) / 121)
    assert (ev["n_human"], ev["n_ai"]) == (11, 11)
    assert ev["ci95"][0] <= ev["auc"] <= ev["ci95"][1]
    assert V.auc_evidence(human[:9], ai[:9], ["x"] * 9, n_boot=10)["auc"] is None  # under MIN_PER_SIDE

    better = np.array([1.0] * 8 + [0.5, 0.5, 0.0, np.nan])
    worse = np.array([0.0] * 8 + [0.5, 0.5, 1.0, 0.2])
    acc = V.accuracy_evidence(better, worse, [str(i) for i in range(12)], n_boot=200)
    assert acc["accuracy"] == pytest.approx((8 + 0.5 + 0.5) / 11) and acc["n"] == 11


@pytest.mark.parametrize(
    ("auc_ci", "acc_ci", "rho", "share", "mode", "expected"),
    [
        ((0.6, 0.7), (0.55, 0.7), 0.1, 1.0, 0.1, "supported"),
        ((0.6, 0.7), (0.45, 0.6), 0.1, 1.0, 0.1, "partial"),
        ((0.6, 0.7), None, 0.1, 1.0, 0.1, "partial"),
        ((0.6, 0.7), (0.3, 0.45), 0.1, 1.0, 0.1, "conflicting"),
        ((0.3, 0.4), (0.45, 0.6), 0.1, 1.0, 0.1, "inverted"),
        ((0.3, 0.4), (0.2, 0.3), 0.1, 1.0, 0.1, "inverted"),
        ((0.45, 0.55), None, 0.1, 1.0, 0.1, "uninformative"),
        ((0.6, 0.7), (0.55, 0.7), 0.8, 1.0, 0.1, "length"),
        ((0.6, 0.7), (0.55, 0.7), -0.7, 1.0, 0.1, "length"),
        ((0.6, 0.7), (0.55, 0.7), 0.69, 1.0, 0.1, "supported"),
        ((0.6, 0.7), (0.55, 0.7), 0.1, 0.3, 0.1, "sparse"),
        ((0.6, 0.7), (0.55, 0.7), 0.9, 1.0, 0.8, "sparse"),  # one value on 80%: sparse before length
        ((0.6, 0.7), (0.55, 0.7), 0.1, 1.0, 0.79, "supported"),
        (None, None, None, 0.0, None, "untested"),
    ],
)
def test_verdict_rules(auc_ci, acc_ci, rho, share, mode, expected):
    assert V.verdict(auc_ci, acc_ci, rho, share, mode) == expected


def test_metric_row_on_hand_made_values():
    spec = M.get_spec("ttr")  # direction higher: goodness rises with the value
    pairs = [
        V.HumanAI(f"a{i}", f"hva:g{i}", f"h{i}", f"x{i}", "gpt-4" if i < 4 else "opt") for i in range(12)
    ]
    values = {f"h{i}": 0.9 for i in range(12)} | {f"x{i}": 0.3 for i in range(12)}
    lamp = [Pair(f"b{i}", f"w{i}", "lamp_test", id=str(i), group=str(i)) for i in range(12)]
    values |= {f"b{i}": 0.4 for i in range(12)} | {f"w{i}": 0.6 for i in range(12)}  # editors disagree
    values["w0"] = None
    texts = list(values)
    n_words = list(range(len(texts)))
    row = V.metric_row(spec, default_profile(), values.get, pairs, lamp, texts, n_words, n_boot=200)
    assert row["auc_human_ai"] == 1.0 and row["raw_auc_human_ai"] == 1.0
    assert row["auc_instruction_era"] is None  # 4 instruction-era pairs: under MIN_PER_SIDE
    assert row["lamp_accuracy"] == 0.0 and row["n_lamp"] == 11
    assert row["defined_share"] == pytest.approx(47 / 48)
    assert row["mode_share"] == pytest.approx(12 / 47)  # 0.9, 0.3 and 0.4 twelve times each, 0.6 eleven
    assert row["verdict"] == "conflicting"


def _rows():
    base = {
        "component": "S7",
        "direction": "higher",
        "auc_ci95": (0.6, 0.8),
        "auc_instruction_era": 0.7,
        "raw_auc_human_ai": 0.7,
        "n_pairs": 20,
        "n_human": 20,
        "n_ai": 20,
        "lamp_ci95": (0.55, 0.75),
        "n_lamp": 30,
        "rho_words": 0.1,
        "defined_share": 1.0,
        "mode_share": 0.05,
    }
    return {
        "good": {**base, "auc_human_ai": 0.7, "lamp_accuracy": 0.65, "verdict": "supported"},
        "bad": {**base, "auc_human_ai": 0.2, "lamp_accuracy": 0.3, "verdict": "inverted"},
        "ctx": {**base, "auc_human_ai": None, "auc_ci95": None, "lamp_accuracy": None, "lamp_ci95": None,
                "rho_words": None, "defined_share": 0.0, "mode_share": None, "verdict": "untested"},
    }  # fmt: skip


def test_findings_and_table_name_every_metric():
    rows = _rows()
    lines = findings(rows)
    assert lines[0] == "* 3 metrics: 1 supported, 1 inverted, 1 untested."
    assert "`bad` (AUC 0.20, LAMP 0.30)" in lines[1]
    text = render(rows, ["# title"], {"ctx": "no persona"}, {"good": "a note"})
    table = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    assert [line.split("|")[1].strip() for line in table[1:]] == ["good ¹", "bad", "ctx"]
    assert "| 0.700 [0.60, 0.80] |" in table[1] and "| 0.650 [0.55, 0.75] (30) |" in table[1]
    assert "* `good`: a note." in text and "`ctx` (no persona)" in text


def test_evidence_json_is_compact_and_round_trips():
    text = evidence_json(_rows(), {"generated": "2026-01-01", "n_pairs": 20})
    data = json.loads(text)
    assert data["table"] == VALIDITY_TABLE and data["n_pairs"] == 20
    assert set(data["metrics"]) == {"good", "bad", "ctx"}
    assert data["metrics"]["good"]["auc_ci95"] == [0.6, 0.8] and "component" not in data["metrics"]["good"]
    assert len(text.splitlines()) == 5  # the settings line, one line per metric, the closing line


def test_the_shipped_evidence_covers_every_catalogued_metric():
    evidence = metric_validity()
    assert set(evidence) == set(M.specs())
    for name, row in evidence.items():
        assert row["verdict"] in VERDICTS, name
        assert 0.0 <= row["defined_share"] <= 1.0, name
        for key in ("auc_human_ai", "lamp_accuracy", "auc_instruction_era", "raw_auc_human_ai"):
            assert row[key] is None or 0.0 <= row[key] <= 1.0, (name, key)
        assert row["rho_words"] is None or -1.0 <= row["rho_words"] <= 1.0, name
    table = (ROOT / VALIDITY_TABLE).read_text(encoding="utf-8")
    listed = [
        line.split("|")[1].strip().removesuffix(" ¹")
        for line in table.splitlines()
        if line.startswith("| ") and "---" not in line
    ][1:]
    assert sorted(listed) == sorted(M.specs())  # every catalogued metric, once
    for name, row in evidence.items():  # the table and the JSON were written by the same run
        line = next(
            x for x in table.splitlines() if x.startswith(f"| {name} |") or x.startswith(f"| {name} ¹ |")
        )
        assert line.rstrip(" |").endswith(row["verdict"]), name


def test_catalogue_carries_each_metrics_verdict_and_evidence_link():
    df = M.catalogue()
    evidence = metric_validity()
    for name, row in df.iterrows():
        assert row["verdict"] == evidence[name]["verdict"], name
        assert row["evidence"] == VALIDITY_TABLE, name
