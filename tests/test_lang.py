"""Language detection (wqrm/lang.py): script majority, function words, refusals naming the language."""

import pytest

import wqrm
from wqrm.lang import SUPPORTED, UnsupportedLanguageError, check_supported, detect

# Texts written for these tests: one short paragraph per language, the same scene where possible.
TEXTS = {
    "en": "The rain had stopped. Somewhere below, a door slammed twice and the dog barked at nothing.",
    "ru": "Говорили, что на набережной появилось новое лицо. Он видел, как по набережной прошла дама.",
    "uk": "Говорили, що на набережній з'явилося нове обличчя. Він бачив, як вона пройшла повз нього.",
    "bg": "Казваха, че на крайбрежната улица се е появило ново лице. Той видя как тя мина покрай него.",
    "sr": "Говорило се да се на кеју појавило ново лице. Видео је како је дама прошла поред њега.",
    "fr": "On disait qu'un nouveau visage était apparu sur la promenade. Il la vit passer avec son chien.",
    "de": "Man erzählte, dass auf der Promenade ein neues Gesicht aufgetaucht sei. Er sah sie vorbeigehen.",
    "es": "Se decía que en el paseo había aparecido una cara nueva. Él la vio pasar con su perrito blanco.",
    "el": "Έλεγαν ότι στην προκυμαία είχε εμφανιστεί ένα καινούργιο πρόσωπο.",
    "zh": "据说海滨大道上出现了一个新面孔：一位带着小狗的女士。",
    "ja": "海岸通りに新しい顔が現れたという噂だった。小犬を連れた奥さんだ。",
    "ko": "해변 산책로에 새로운 얼굴이 나타났다고 사람들이 말했다.",
    "ar": "قالوا إن وجها جديدا ظهر على الكورنيش: سيدة مع كلب صغير.",
}


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_each_language_is_named(lang):
    guess = detect(TEXTS[lang])
    assert guess.lang == lang, guess
    assert guess.supported == (lang in SUPPORTED)


def test_mixed_text_goes_with_its_majority_script():
    ru_with_english = (
        "Он сказал: «Это был не просто deadline, это был total disaster», и ушёл к себе, не оглядываясь."
    )
    en_with_russian = "She whispered «до свидания» and left the room without looking back at the others."
    assert detect(ru_with_english).lang == "ru"
    assert detect(en_with_russian).lang == "en"
    shares = detect(ru_with_english).script_shares
    assert 0.5 < shares["CYRILLIC"] < 0.9 and shares["LATIN"] > 0.1  # really mixed


def test_russian_text_quoting_a_ukrainian_word_stays_russian():
    text = (
        TEXTS["ru"]
        + " "
        + "Слово «Київ» он написал по-украински, а дальше снова писал по-русски о набережной и о даме."
    )
    assert detect(text).lang == "ru"


def test_degenerate_english_stays_english():
    # a keyword list has no function words of any language: it must still be scored (a number)
    keywords = "sunset beach ocean waves sand palm trees tropical paradise vacation relax summer"
    assert detect(keywords).lang == "en"
    assert detect("Hola amigo").lang == "en"  # too short to tell: the script's default
    assert detect("1234 5678 !!! ???").lang == "en"  # no letters at all


@pytest.mark.parametrize(
    "text",
    [
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
        '{"name": "value", "items": [1, 2, 3], "nested": {"a": "b", "c": null}, "flag": true}',
        "https://example.com/a/b http://foo.org/index.html https://www.bar.net/path?q=1 see more",
        "The\u200dcat\u200dsat\u200don\u200dthe\u200dmat and then it slept in the sun a while.",
    ],
    ids=["letters", "json", "urls", "zero-width-joiners"],
)
def test_odd_english_is_not_refused(text):
    # one-letter words are top words of French, Italian, Czech …: they used to make these French
    assert detect(text).lang == "en"


def test_short_cyrillic_defaults_to_russian_but_foreign_letters_decide():
    assert detect("Привет, мир").lang == "ru"
    assert detect("Привіт, світе").lang == "uk"


def test_refusal_names_the_language():
    with pytest.raises(UnsupportedLanguageError) as info:
        check_supported(TEXTS["fr"])
    assert info.value.lang == "fr"
    assert (
        "French" in str(info.value)
        and "English (en)" in str(info.value)
        and "Russian (ru)" in str(info.value)
    )
    assert isinstance(info.value, wqrm.InvalidTextError)  # callers that catch bad input catch this too
    assert check_supported(TEXTS["ru"]) == "ru" and check_supported(TEXTS["en"]) == "en"


def test_analyze_refuses_unsupported_language_and_records_the_language():
    with pytest.raises(UnsupportedLanguageError, match="Ukrainian"):
        wqrm.analyze(TEXTS["uk"])
    assert wqrm.analyze(TEXTS["en"]).lang == "en"


def test_batch_score_gives_per_item_language_records(scorer):
    results = scorer.score_batch([TEXTS["en"], TEXTS["de"], TEXTS["zh"]])
    assert results[0].ok and results[0].lang == "en" and results[0].score is not None
    for r, lang, name in ((results[1], "de", "German"), (results[2], "zh", "Chinese")):
        assert not r.ok and r.lang == lang and name in r.error
        assert r.score is None and r.metrics == {}  # never English numbers for it
    with pytest.raises(UnsupportedLanguageError, match="German"):
        scorer.score(TEXTS["de"])


def test_long_text_is_told_by_a_sample():
    guess = detect(TEXTS["ru"] * 5000)  # ~500k characters: only the first 200k are read
    assert guess.lang == "ru"
