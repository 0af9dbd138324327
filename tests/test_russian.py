"""The Russian pipeline (wqrm/russian.py) and the metrics on Russian text, with hand-worked values.

Every Russian text here is written for these tests.
"""

import math
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wqrm
from wqrm import resources
from wqrm.benchmarks.russian_segmentation import PARAGRAPHS, evaluate
from wqrm.metrics import compute, get_spec
from wqrm.metrics.registry import language_gap
from wqrm.russian import lemma_for, repair_tree


@pytest.fixture(scope="session")
def ru_offline():
    """The Russian pipeline, loaded and run with every socket connection refused; records any
    connection attempt (nothing may be downloaded)."""
    attempts = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError(f"network blocked in tests: connect to {address}")

    mp = pytest.MonkeyPatch()
    mp.setattr(socket.socket, "connect", refuse)
    mp.setattr(socket.socket, "connect_ex", refuse)
    try:
        resources.set_override("russian", None)  # forget any loaded copy: load it here, offline
        nlp = resources.get("russian")
        a = wqrm.analyze("Дмитрий Гуров жил в Ялте. Он ждал письма из Москвы.", lang="ru")
    finally:
        mp.undo()
    return nlp, a, attempts


@pytest.fixture(scope="session")
def ru_nlp(ru_offline):
    return ru_offline[0]


@pytest.fixture(scope="session")
def ru_tree():
    """An `Analysis` of a hand-drawn Russian parse: ru_tree(words, heads, deps, pos, morphs=None)."""
    import spacy
    from spacy.tokens import Doc

    from wqrm.analysis import from_doc

    vocab = spacy.blank("ru").vocab

    def build(words, heads, deps, pos, morphs=None, lemmas=None):
        return from_doc(
            Doc(vocab, words=words, heads=heads, deps=deps, pos=pos, morphs=morphs, lemmas=lemmas or words)
        )

    return build


def test_pipeline_runs_offline_and_finds_entities(ru_offline):
    nlp, a, attempts = ru_offline
    assert attempts == []  # no connection was even attempted
    assert a.lang == "ru" and len(a.sentences) == 2
    ents = {(e.text, e.label_) for d in a.docs for e in d.ents}
    assert ("Ялте", "LOC") in ents and ("Москвы", "LOC") in ents
    assert any(label == "PERSON" and "Гуров" in text for text, label in ents)
    assert "natasha" in nlp.meta["version"] and "pymorphy3" in nlp.meta["version"]


def test_tokens_sentences_and_offsets_hand_worked(ru_nlp):
    text = "«Ты куда?» — спросила она.  -- Домой,\nуже поздно. Т. е. завтра."
    a = wqrm.analyze(text, lang="ru")
    assert [s.text.strip() for s in a.sentences] == [
        "«Ты куда?» — спросила она.",
        "-- Домой,\nуже поздно.",
        "Т. е. завтра.",
    ]
    assert a.words == ["ты", "куда", "спросила", "она", "домой", "уже", "поздно", "т", "е", "завтра"]
    doc = a.docs[0]
    assert doc.text == text  # whitespace kept exactly: double space and newline become space tokens
    assert [t.text for t in doc if t.is_space] == [" ", "\n"]
    for t in doc:  # token offsets index the original text, "--" kept as written
        assert text[t.idx : t.idx + len(t.text)] == t.text
    assert "--" in [t.text for t in doc] and all(t.is_punct for t in doc if t.text in ("--", "«", "»", "—"))
    assert [text[s.start_char : s.end_char].strip() for s in a.sentences] == [
        s.text.strip() for s in a.sentences
    ]


def test_every_sentence_is_one_tree_with_ud_labels(ru_nlp):
    a = wqrm.analyze("Старый кот спал на диване, а молодая кошка смотрела в окно.", lang="ru")
    (sent,) = a.sentences
    roots = [t for t in sent.span if t.head.i == t.i]
    assert len(roots) == 1 and roots[0].dep_ == "ROOT" and roots[0].text == "спал"
    labels = {t.dep_ for t in sent.span}
    assert {"nsubj", "amod", "case", "obl", "punct"} <= labels  # UD relations from slovnet
    assert {t.text: t.pos_ for t in sent.span}["кошка"] == "NOUN"


def test_lemmas_follow_the_tagged_part_of_speech(ru_nlp):
    morph = ru_nlp.morph
    # "стали" is a form of the verb стать and of the noun сталь: the tags choose
    assert lemma_for(morph, "стали", "VERB", {"Tense": "Past", "Number": "Plur"}) == "стать"
    assert lemma_for(morph, "стали", "NOUN", {"Case": "Gen", "Number": "Sing", "Gender": "Fem"}) == "сталь"
    assert lemma_for(morph, "Её", "PRON", {"Case": "Acc"}) == "она"  # ё written е, lower-cased
    # a word outside the dictionary: pymorphy3's guesses, chosen by the tags like any other
    nominative = {"Case": "Nom", "Gender": "Fem", "Number": "Sing"}
    assert lemma_for(morph, "абвгдейка", "NOUN", nominative) == "абвгдейка"
    assert lemma_for(morph, "Deadline", "X", {}) == "deadline"  # Latin letters: the lower-cased form


def test_ttr_on_lemmas_hand_worked(ru_nlp):
    # six distinct word forms of two lemmas: кошка ×4, видеть ×2
    a = wqrm.analyze("Кошка видела кошку. Кошки видели кошек.", lang="ru")
    assert a.words == ["кошка", "видела", "кошку", "кошки", "видели", "кошек"]
    assert a.lexemes == ["кошка", "видеть", "кошка", "кошка", "видеть", "кошка"]
    values = compute(a, names=["ttr", "word_entropy"])
    assert values["ttr"] == pytest.approx(2 / 6)  # forms would give 6/6
    p = [4 / 6, 2 / 6]
    assert values["word_entropy"] == pytest.approx(-sum(x * math.log2(x) for x in p))


def test_english_lexemes_are_the_words(nlp):
    a = wqrm.analyze("The cats saw the cat. Cats see cats.")
    assert a.lang == "en" and a.lexemes is a.words


def test_omega_on_a_hand_drawn_russian_tree(ru_tree):
    # Старый кот спал на диване: старый→кот, кот→спал (root), на→диване, диване→спал
    a = ru_tree(
        ["Старый", "кот", "спал", "на", "диване"],
        heads=[1, 2, 2, 4, 2],
        deps=["amod", "nsubj", "ROOT", "case", "obl"],
        pos=["ADJ", "NOUN", "VERB", "ADP", "NOUN"],
    )
    assert a.lang == "ru"
    # D = 1 + 1 + 1 + 2 = 5; D_rla = (5² − 1)/3 = 8; D_min (projective) = 4: each two-word
    # subtree beside the root, its head next to it. Ω = (8 − 5)/(8 − 4) = 3/4
    values = compute(a, names=["omega", "dep_dist_mean", "left_arc_ratio"])
    assert values["omega"] == pytest.approx(0.75)
    assert values["dep_dist_mean"] == pytest.approx(5 / 4)
    assert values["left_arc_ratio"] == pytest.approx(3 / 4)  # старый, кот, на precede their heads


def test_parse_validity_russian_rules(ru_tree):
    def sentence(words, heads, deps, pos, morphs):
        return compute(ru_tree(words, heads, deps, pos, morphs), names=["parse_validity"])["parse_validity"]

    # "Он врач." — no written copula: a nominal root with a subject is a clause
    assert (
        sentence(["Он", "врач", "."], [1, 1, 1], ["nsubj", "ROOT", "punct"], ["PRON", "NOUN", "PUNCT"], None)
        == 1
    )
    # "Пошёл домой." — finite verb, subject dropped
    fin = ["VerbForm=Fin|Tense=Past", "Degree=Pos", ""]
    assert (
        sentence(
            ["Пошёл", "домой", "."], [0, 0, 0], ["ROOT", "advmod", "punct"], ["VERB", "ADV", "PUNCT"], fin
        )
        == 1
    )
    # "Идти домой." — an infinitive root without a subject is a fragment
    inf = ["VerbForm=Inf", "Degree=Pos", ""]
    assert (
        sentence(
            ["Идти", "домой", "."], [0, 0, 0], ["ROOT", "advmod", "punct"], ["VERB", "ADV", "PUNCT"], inf
        )
        == 0
    )
    # "Ночь." — a verbless fragment
    assert sentence(["Ночь", "."], [0, 0], ["ROOT", "punct"], ["NOUN", "PUNCT"], None) == 0


def test_repair_tree():
    assert repair_tree([1, -1, 1]) == ([1, 1, 1], 0)  # already a tree
    assert repair_tree([-1, 0, -1]) == ([0, 0, 0], 1)  # second root attached to the first
    # 1 → 2 → 1 is a cycle hanging below no root: cut where the walk re-entered it
    heads, changed = repair_tree([-1, 2, 1])
    assert heads[0] == 0 and changed == 1 and 0 in (heads[1], heads[2])
    heads, changed = repair_tree([1, 0])  # no root at all: the first token becomes it
    assert heads == [0, 0] and changed == 1


def test_twenty_tricky_sentences(ru_nlp, nlp):
    result = evaluate(lambda text: wqrm.analyze(text, lang="ru"))
    assert result["sentences"] == 20 and result["words"] == sum(len(w) for p in PARAGRAPHS for _, w in p)
    # measured: 0 sentence-boundary errors, 0 word errors (docs/russian.md); the English pipeline
    # on the same text errs (7 sentence, 21 word errors), so the counts do measure something
    assert result["sentence_errors"] == 0, result["details"]
    assert result["word_errors"] == 0, result["details"]
    english = evaluate(lambda text: wqrm.analyze(text, lang="en"))
    assert english["sentence_errors"] > 0 and english["word_errors"] > 0


def test_metric_languages_are_generic():
    assert language_gap(get_spec("ttr"), "ru") is None
    assert language_gap(get_spec("omega"), "ru") is None
    for name in ("edit_reward", "sc", "sent", "emotion_js", "wordnet_sim", "t1", "sd2", "gpp"):
        reason = language_gap(get_spec(name), "ru")
        assert reason is not None and reason.startswith("no Russian resource"), name
        assert language_gap(get_spec(name), "en") is None
    assert language_gap(get_spec("gender_balance"), "ru").startswith("no Russian resource")


def test_metrics_on_russian_text(ru_nlp):
    text = (
        "Говорили, что на набережной появилось новое лицо: дама с собачкой. Гуров, проживший в "
        "Ялте две недели, тоже стал интересоваться новыми лицами. Он видел, как по набережной "
        "прошла молодая дама, а за нею бежал белый шпиц.\n\n"
        "Потом он встречал её в городском саду по нескольку раз в день. Она гуляла одна, всё в "
        "том же берете, и никто не знал, кто она."
    )
    values = compute(text, models=True)
    defined = ("ttr", "mtld", "word_entropy", "omega", "dep_dist_mean", "syn", "nns", "cbq", "w2",
               "coherence_tau", "ne_count", "parse_validity", "sld_kl", "pos_js", "dep_label_js")  # fmt: skip
    for name in defined:
        assert values[name] is not None, (name, values.reasons.get(name))
    for name in ("edit_reward", "edit_flag_rate", "sc", "sent", "emotion_js", "sd2", "gpp", "ppl_div"):
        assert values[name] is None and values.reasons[name].startswith("no Russian resource"), name


def test_scorer_uses_the_profile_of_each_texts_language(scorer, ru_nlp):
    en = "The rain had stopped. Somewhere below, a door slammed twice and the dog barked at nothing."
    ru = "Дождь перестал. Где-то внизу дважды хлопнула дверь, и собака залаяла в пустоту. Потом всё стихло."
    r_en, r_ru = scorer.score_batch([en, ru])
    assert (r_en.lang, r_ru.lang) == ("en", "ru") and r_en.ok and r_ru.ok
    ru_profile = scorer.profile_for("ru")
    assert ru_profile.lang == "ru" and ru_profile.name == "default-ru"
    assert scorer.profile_for("en") is scorer.profile and scorer.profile.lang == "en"
    direction = get_spec("ttr").direction
    assert r_ru.goodness["ttr"] == pytest.approx(ru_profile.goodness("ttr", r_ru.metrics["ttr"], direction))
    en_profile = scorer.profile
    assert r_en.goodness["ttr"] == pytest.approx(en_profile.goodness("ttr", r_en.metrics["ttr"], direction))
    assert r_en.components["S1"] is not None and r_ru.components["S1"] is None
    assert r_ru.to_dict()["lang"] == "ru" and "no Russian resource" in r_ru.to_dict()["reasons"]["S1"]
    # the composite renormalises over the components the Russian text has
    alpha = scorer.weights.alpha()
    used = r_ru.used_components
    expected = sum(alpha[c] * r_ru.components[c] for c in used) / sum(alpha[c] for c in used)
    assert r_ru.uncapped_score == pytest.approx(expected)
    # 15 words: below the degeneracy floor's 20, so the score is capped (issue 17)
    assert r_ru.substance.failed.keys() == {"words"}
    assert r_ru.score == pytest.approx(min(expected, 0.1 * 15 / 20))


CYRILLIC = "абвгдежзийклмнопрстуфхцчшщъыьэюяёАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯЁ"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.text(alphabet=CYRILLIC, min_size=1, max_size=12),
            st.sampled_from(
                [
                    " ",
                    "  ",
                    "\n",
                    "\n\n",
                    "\t",
                    "\u00a0",
                    "\u200b",
                    "--",
                    "—",
                    "«",
                    "»",
                    "...",
                    "?!",
                    ".",
                    ",",
                    "т. е.",
                    "А.",
                    "1799",
                    "2,5",
                    "-",
                    "'",
                    "\u2028",
                    "🙂",
                ]
            ),
            st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=3),
        ),
        min_size=1,
        max_size=40,
    ).map("".join)
)
def test_russian_pipeline_is_total_on_odd_text(ru_nlp, text):
    if not text.strip():
        return
    a = wqrm.analyze(text, lang="ru")
    for p in a.paragraphs:
        assert "".join(d.text for d in p.docs) == p.text  # every character kept, offsets exact
    for t, start in zip(a.word_tokens, a.word_starts, strict=True):
        assert text[start : start + len(t.text)] == t.text
    values = compute(a)
    assert all(v is None or math.isfinite(v) for v in values.values())
    assert all(values.reasons[n] for n, v in values.items() if v is None)


def test_a_character_without_a_unicode_name_is_a_word_without_analyses(ru_nlp):
    # hypothesis found it: pymorphy3 asks unicodedata.name() of every character, which raises for
    # Tangut ideographs; the word keeps its own form as lemma
    from wqrm.russian import ud_analyses

    assert ud_analyses(ru_nlp.morph, "𗀀") == []
    a = wqrm.analyze("@𗀀", lang="ru")
    assert "".join(d.text for p in a.paragraphs for d in p.docs) == "@𗀀"


def test_parse_does_not_depend_on_the_batch(ru_nlp):
    text = "Старый кот спал на диване. Он не проснулся, когда в комнату вошли."
    others = [
        "Поезд опаздывал уже на сорок минут, и начальник станции в который раз выходил на перрон, "
        "смотрел в сторону леса, вздыхал и возвращался в свою маленькую комнату у кассы.",
        "Да.",
    ]

    def parse(a):
        return [
            (t.text, t.pos_, t.dep_, t.head.i, t.lemma_, str(t.morph), t.ent_type_) for t in a.word_tokens
        ]

    alone = wqrm.analyze(text, lang="ru")
    batched = wqrm.analyze_batch([others[0], text, others[1]], lang="ru")[1]
    assert parse(alone) == parse(batched)


def test_degeneracy_floor_reads_a_russian_text_against_russian_words(ru_nlp):
    """The floor's common-word rule uses the text's own language: Russian prose passes it (against
    the English list almost none of its words are common), Russian pseudo-words fail it."""
    from wqrm.substance import _zipf, check_substance

    text = (
        "Говорили, что на набережной появилось новое лицо: дама с собачкой. Гуров, проживший в "
        "Ялте две недели, тоже стал интересоваться новыми лицами. Он видел, как по набережной "
        "прошла молодая дама, а за нею бежал белый шпиц."
    )
    a = wqrm.analyze(text, lang="ru")
    s = check_substance(a)
    assert not s.degenerate and s.english > 0.8
    assert s.unknown_words is None  # the spelling rule is English only: not measured
    alpha = [w for w in a.words if w.isalpha()]
    assert sum(_zipf("en")(w) >= 3 for w in alpha) / len(alpha) < 0.1  # the English list would fail it
    nonsense = "Крамбула шмырдят вождокло прасту, и бызмурки тлендят повсюдно."
    words = nonsense + " Зурбаны кламдяют фрысто, а шмалки гудрятся в плявке. Трынды блумкают."
    bad = check_substance(wqrm.analyze(words, lang="ru"))
    assert "english" in bad.failed and "common Russian words" in bad.failed["english"]
