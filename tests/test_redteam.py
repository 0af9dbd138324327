"""wqrm.redteam: the edits' candidates, the greedy search on scorers whose optimum is known, and
one short search with the shipped scorer."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wqrm.fit.negatives import GENERIC_FILLER
from wqrm.metrics.registry import specs
from wqrm.redteam import DEFAULT_EDITS, EDITS, REDTEAM_GENERIC, join, red_team, split

ROOT = Path(__file__).resolve().parent.parent
TEXT = "The rain fell. The river rose.\n\nShe wrote a letter. He went home."
OTHER = "Gulls circled the harbour. The old man mended the net."


@dataclass
class Result:
    score: float | None
    contributions: dict = field(default_factory=dict)
    goodness: dict = field(default_factory=dict)
    error: str | None = None


class FakeScorer:
    """score = f(text); one component and one metric that equal it; counts the texts it scored."""

    def __init__(self, f):
        self.f = f
        self.calls: list[int] = []

    def score_batch(self, texts):
        self.calls.append(len(texts))
        out = []
        for t in texts:
            s = self.f(t)
            out.append(Result(None, error="cannot score") if s is None else Result(s, {"S4": s}, {"m": s}))
        return out


def rng():
    return random.Random(0)


# ---- splitting and the edits' candidates ----------------------------------------------------


def test_split_and_join_round_trip_paragraphs():
    doc = split(TEXT)
    assert doc == [["The rain fell.", "The river rose."], ["She wrote a letter.", "He went home."]]
    assert join(doc) == TEXT
    assert split("  \n\n  ") == []


def test_swap_adjacent_swaps_within_paragraphs_only():
    got = [join(d) for d in EDITS["swap_adjacent"](split(TEXT), [], rng())]
    assert got == [
        "The river rose. The rain fell.\n\nShe wrote a letter. He went home.",
        "The rain fell. The river rose.\n\nHe went home. She wrote a letter.",
    ]


def test_repeat_sentence_writes_each_sentence_twice_in_place():
    got = [join(d) for d in EDITS["repeat_sentence"](split("A b. C d."), [], rng())]
    assert got == ["A b. A b. C d.", "A b. C d. C d."]


def test_append_foreign_takes_only_other_texts_sentences():
    others = [*split(OTHER)[0], "The rain fell."]  # one sentence the text already has
    got = [join(d) for d in EDITS["append_foreign"](split(TEXT), others, rng())]
    assert sorted(got) == sorted(TEXT + " " + s for s in split(OTHER)[0])


def test_append_generic_uses_sentences_disjoint_from_the_training_filler():
    assert not set(REDTEAM_GENERIC) & set(GENERIC_FILLER)
    got = EDITS["append_generic"](split(TEXT), [], rng())
    assert [d[-1][-1] for d in got] == list(REDTEAM_GENERIC)


def test_drop_sentence_keeps_at_least_two_sentences():
    assert len(EDITS["drop_sentence"](split(TEXT), [], rng())) == 4
    assert EDITS["drop_sentence"](split("One. Two."), [], rng()) == []
    assert "drop_sentence" not in DEFAULT_EDITS


# ---- the search ---------------------------------------------------------------------------------


def test_a_reward_for_length_is_climbed_one_appended_sentence_a_step():
    scorer = FakeScorer(lambda t: len(t.split()) / 100)
    report = red_team(scorer, [TEXT, OTHER], edits=["append_generic"], steps=3, candidates=4)
    for r in report.results:
        assert len(r.edits) == 3 and set(r.edits) == {"append_generic"}
        assert r.gain == pytest.approx((len(r.text.split()) - len(split_words(r.index))) / 100)
        assert r.component_gain["S4"] == pytest.approx(r.gain)
        assert r.goodness_change["m"] == pytest.approx(r.gain)
    s = report.summary()
    assert s["raised"] == 1.0 and s["accepted"] == {"append_generic": 6}
    assert s["top_metrics"][0][0] == "m"


def split_words(i):
    return [TEXT, OTHER][i].split()


def test_a_reward_no_edit_changes_is_not_gamed_and_the_search_stops():
    scorer = FakeScorer(lambda t: 0.5)
    report = red_team(scorer, [TEXT, OTHER], steps=5, candidates=8)
    assert all(
        r.gain == 0.0 and r.edits == [] and r.text == join(split(t))
        for r, t in zip(report.results, [TEXT, OTHER], strict=True)
    )
    assert len(scorer.calls) == 2  # the starting texts, then one round that found nothing


def test_the_search_finds_the_order_a_reward_prefers():
    order = ["One.", "Two.", "Three.", "Four."]
    # the reward counts the sentences standing in their sorted place
    scorer = FakeScorer(lambda t: sum(a == b for a, b in zip(split(t)[0], order, strict=False)) / 4)
    report = red_team(scorer, ["Two. One. Four. Three."], edits=["swap_adjacent"], steps=4, candidates=10)
    r = report.results[0]
    assert r.start == 0.0 and r.end == 1.0 and r.edits == ["swap_adjacent"] * 2
    assert r.text == "One. Two. Three. Four."


def test_same_seed_same_search_and_all_candidates_of_a_round_in_one_batch():
    f = lambda t: (hash(t) % 1000) / 1000  # noqa: E731 (an arbitrary deterministic reward)
    a = red_team(FakeScorer(f), [TEXT, OTHER], steps=3, candidates=5, seed=3)
    b = red_team(FakeScorer(f), [TEXT, OTHER], steps=3, candidates=5, seed=3)
    assert [(r.edits, r.text) for r in a.results] == [(r.edits, r.text) for r in b.results]
    scorer = FakeScorer(lambda t: len(t) / 1000)
    red_team(scorer, [TEXT, OTHER], steps=2, candidates=5, batch_size=64)
    assert scorer.calls == [2, 10, 10]


def test_texts_that_cannot_be_scored_get_an_error_record_and_the_rest_are_searched():
    scorer = FakeScorer(lambda t: None if "rain" in t else len(t) / 1000)
    report = red_team(scorer, [TEXT, OTHER, ""], steps=1, candidates=3)
    bad, good, empty = report.results
    assert bad.error == "cannot score" and bad.gain is None
    assert empty.error == "the text holds no sentence"
    assert good.error is None and good.gain > 0
    s = report.summary()
    assert s["texts"] == 1 and s["errors"] == 2


def test_unknown_edits_and_bad_settings_are_refused():
    with pytest.raises(ValueError, match="unknown edit"):
        red_team(FakeScorer(len), [TEXT], edits=["rewrite_everything"])
    with pytest.raises(ValueError, match="candidates"):
        red_team(FakeScorer(len), [TEXT], candidates=0)


# ---- the shipped scorer -----------------------------------------------------------------------


def test_shipped_scorer_search_never_lowers_the_score(scorer):
    texts = [(ROOT / "examples/lighthouse.txt").read_text(), (ROOT / "examples/generic.txt").read_text()]
    report = red_team(scorer, texts, steps=1, candidates=4)
    for r in report.results:
        assert r.error is None and r.gain >= 0.0
        assert r.end == pytest.approx(scorer.score(r.text).score)
        assert sum(r.component_gain.values()) == pytest.approx(r.gain, abs=1e-6)
        used = {c for c, a in scorer.weights.alpha().items() if a > 0}
        assert {specs()[m].component for m in r.goodness_change} <= used  # S2, S6 (α = 0) left out


# ---- the command line ----------------------------------------------------------------------------


def test_cli_reports_each_text_and_the_summary(tmp_path):
    from typer.testing import CliRunner

    from wqrm.cli import app

    files = [str(ROOT / "examples/lighthouse.txt"), str(ROOT / "examples/generic.txt")]
    result = CliRunner().invoke(app, ["red-team", "--json", "--steps", "1", "--candidates", "3", *files])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert [t["file"] for t in got["texts"]] == files
    assert got["summary"]["texts"] == 2 and got["summary"]["settings"]["candidates"] == 3
    assert all(t["gain"] >= 0 and len(t["edits"]) <= 1 for t in got["texts"])
    plain = CliRunner().invoke(app, ["red-team", "--steps", "0", *files])
    assert (
        plain.exit_code == 0
        and "no edit raised it" in plain.stdout
        and "raised 0% of 2 texts" in plain.stdout
    )


def test_cli_refuses_unknown_edits_before_loading_anything(tmp_path):
    from typer.testing import CliRunner

    from wqrm.cli import app

    result = CliRunner().invoke(
        app, ["red-team", "--edits", "swap_adjacent,paraphrase", str(ROOT / "examples/generic.txt")]
    )
    assert result.exit_code == 2 and "paraphrase" in result.output


def test_cli_reads_jsonl_rows_and_names_bad_ones(tmp_path):
    from typer.testing import CliRunner

    from wqrm.cli import app

    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        json.dumps({"id": "a", "text": TEXT})
        + "\n"
        + '{"id": "b"}\n'
        + json.dumps({"id": "c", "text": OTHER})
        + "\n"
    )
    result = CliRunner().invoke(
        app, ["red-team", "--json", "--steps", "1", "--candidates", "2", "--input", str(rows)]
    )
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    assert [t["id"] for t in got["texts"]] == ["a", "c"]
    assert "rows.jsonl:2" in result.stderr
    none = CliRunner().invoke(app, ["red-team"])
    assert none.exit_code == 2 and "--input" in none.output
