import json

import pytest

from wqrm.fit.data import (
    Scored,
    assign_groups,
    is_dev,
    link_scored_pairs,
    load_pairs,
    load_scored,
    normalise,
)


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_load_pairs_filters_content_edits(tmp_path):
    f = _jsonl(
        tmp_path / "e.jsonl",
        [
            {
                "id": "1",
                "source": "iterater_sent",
                "original": "A b.",
                "edited": "A c.",
                "meta": {"intent": "clarity"},
            },
            {
                "id": "2",
                "source": "iterater_sent",
                "original": "A b.",
                "edited": "X y.",
                "meta": {"intent": "meaning-changed"},
            },
            {
                "id": "3",
                "source": "arxivedits",
                "original": "P q.",
                "edited": "P r.",
                "meta": {"intentions": ["Content"]},
            },
            {
                "id": "4",
                "source": "arxivedits",
                "original": "P q.",
                "edited": "P s.",
                "meta": {"intentions": ["Content", "Improve-grammar-Typo"]},
            },
            {"id": "5", "source": "lamp", "original": "Same.", "edited": "Same.", "meta": {}},
            {
                "id": "6",
                "source": "iterater_doc",
                "original": "D.",
                "edited": "E.",
                "meta": {"intent_counts": {"meaning-changed": 2}, "only_meaning_changed": True},
            },
        ],
    )
    g = _jsonl(tmp_path / "p.jsonl", [{"id": "7", "source": "silver", "chosen": "Good.", "rejected": "Bad."}])
    pairs = load_pairs([f, g], weights={"silver": 0.5})
    assert [p.id for p in pairs] == ["1", "4", "7"]
    assert pairs[0].better == "A c." and pairs[0].worse == "A b."
    assert pairs[2].weight == 0.5 and pairs[0].weight == 1.0


def test_load_scored_parses_string_scores(tmp_path):
    f = _jsonl(
        tmp_path / "s.jsonl",
        [{"id": "a", "text": "T.", "score": "7"}, {"id": "b", "text": "U.", "score": "x"}],
    )
    assert [(s.id, s.score) for s in load_scored([f])] == [("a", 7.0)]


def test_link_scored_pairs_links_pre_and_post():
    pre = "The morning light spilled across the kitchen table as Mara poured coffee into two chipped cups"
    post = "The morning light spilled across the kitchen table as Mara poured coffee into one chipped cup"
    other = "Quarterly revenue rose by four percent while operating costs fell sharply in the northern region"
    items = [Scored(pre, 3, "r", "0"), Scored(other, 5, "r", "1"), Scored(post, 8, "r", "2")]
    pairs = link_scored_pairs(items)
    assert len(pairs) == 1
    assert pairs[0].better == post and pairs[0].worse == pre


def test_groups_join_shared_texts_and_split_is_deterministic(tmp_path):
    f = _jsonl(
        tmp_path / "e.jsonl",
        [
            {"id": "1", "source": "a", "original": "Shared draft text.", "edited": "Edit one."},
            {"id": "2", "source": "b", "original": "shared  DRAFT text!", "edited": "Edit two."},
            {"id": "3", "source": "c", "original": "Unrelated.", "edited": "Other."},
        ],
    )
    pairs = load_pairs([f])
    assign_groups(pairs)
    assert pairs[0].group == pairs[1].group != pairs[2].group
    assert normalise("shared  DRAFT text!") == "shared draft text"
    assert is_dev("g", 20, 0) == is_dev("g", 20, 0)
    share = sum(is_dev(str(i)) for i in range(2000)) / 2000
    assert 0.17 < share < 0.23


def test_trl_standard_and_conversational_pairs(tmp_path):
    from wqrm.fit.data import pair_texts

    def m(role, content):
        return {"role": role, "content": content}

    good, bad = "The tide came in over the slipway.", "Tide tide tide."
    # standard, implicit and explicit prompt: the strings are the texts
    assert pair_texts({"chosen": good, "rejected": bad}) == (good, bad)
    assert pair_texts({"prompt": "Write.", "chosen": good, "rejected": bad}) == (good, bad)
    # conversational, explicit prompt: the completions
    row = {
        "prompt": [m("user", "Write.")],
        "chosen": [m("assistant", good)],
        "rejected": [m("assistant", bad)],
    }
    assert pair_texts(row) == (good, bad)
    # conversational, implicit prompt: the shared leading messages are the prompt (TRL extract_prompt)
    row = {
        "chosen": [
            m("system", "Be brief."),
            m("user", "Write."),
            m("assistant", good),
            m("user", "More."),
            m("assistant", "Yes."),
        ],
        "rejected": [m("system", "Be brief."), m("user", "Write."), m("assistant", bad)],
    }
    assert pair_texts(row) == (f"{good}\n\nMore.\n\nYes.", bad)
    # content given as text parts
    row = {
        "prompt": [],
        "chosen": [m("assistant", [{"type": "text", "text": good}])],
        "rejected": [m("assistant", bad)],
    }
    assert pair_texts(row) == (good, bad)
    # edit pairs: the edit is better
    assert pair_texts({"original": bad, "edited": good}) == (good, bad)


def test_unusable_pair_rows_are_named_or_raise(tmp_path):
    rows = [
        '{"chosen": "The tide came in.", "rejected": "Tide tide."}',
        "{broken",
        '{"chosen": [{"role": "assistant", "content": "A b."}], "rejected": "A c."}',
        '{"chosen": "Same text.", "rejected": "Same text."}',
        '{"chosen": "", "rejected": "Something."}',
        '{"chosen": [{"role": "assistant"}], "rejected": [{"role": "assistant", "content": "x"}]}',
        '{"text": "no pair"}',
    ]
    f = tmp_path / "p.jsonl"
    f.write_text("\n".join(rows) + "\n", encoding="utf-8")
    problems = []
    assert len(load_pairs([f], problems=problems)) == 1
    assert [p.split(": ", 1)[0] for p in problems] == [f"{f}, line {n}" for n in (2, 3, 4, 5, 6, 7)]
    assert "invalid JSON" in problems[0] and "both be strings" in problems[1] and "same" in problems[2]
    assert "empty" in problems[3] and "'content'" in problems[4] and "neither" in problems[5]
    # strict (the fits): a malformed row raises naming file and line; rows without a preference drop
    with pytest.raises(ValueError, match=r"p\.jsonl, line 2: invalid JSON"):
        load_pairs([f])
    g = tmp_path / "q.jsonl"
    g.write_text("\n".join([rows[0], rows[3], rows[4]]) + "\n", encoding="utf-8")
    assert len(load_pairs([g])) == 1


def test_human_vs_ai_pairs_strip_the_shared_prompt(tmp_path):
    from wqrm.fit.data import load_human_vs_ai_pairs

    prompt = "Write about a storm. "

    def row(id, label, text, **kw):
        return {"id": id, "label": label, "domain": kw.pop("domain", "creative_writing"), "text": text, **kw}

    cut = {"shared_prefix_chars": len(prompt)}
    rows = [
        row("h1", "human", prompt + "The roof lifted.", meta={"group": "g1"}),
        row(
            "a1",
            "ai",
            prompt + "The storm was a tapestry.",
            model="gpt-4",
            meta={"paired_human_id": "h1", **cut},
        ),
        row("a2", "ai", prompt + "Storm storm.", model="gpt2-xl", meta={"paired_human_id": "h1", **cut}),
        row("a3", "ai", "Other.", domain="news", model="gpt-4", meta={"paired_human_id": "hx"}),
    ]
    path = tmp_path / "hva.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs = load_human_vs_ai_pairs(path, max_pairs=1)
    assert len(pairs) == 1  # the instruction-era row first
    p = pairs[0]
    assert (p.better, p.worse, p.source, p.id, p.group) == (
        "The roof lifted.",
        "The storm was a tapestry.",
        "human_vs_ai",
        "a1",
        "hva:g1",
    )
    assert len(load_human_vs_ai_pairs(path)) == 2
