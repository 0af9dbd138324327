"""Which language a text is in, and whether wqrm has a pipeline for it.

wqrm analyses English (`en`) and Russian (`ru`). Every other language gets a clear refusal naming
it (`UnsupportedLanguageError`), never numbers computed by a pipeline for another language.

The detector is small, offline and deterministic (no model, nothing downloaded):

1. **Script.** Letters are counted by Unicode script (the first word of each letter's Unicode
   name: LATIN, CYRILLIC, GREEK, CJK, HANGUL, …). The script holding most letters decides; a
   mixed text goes with its majority (a Russian paragraph quoting an English phrase is Russian).
   A non-Latin, non-Cyrillic majority is refused, named by its script (Greek, Arabic, Chinese, …).
2. **Function words.** Within Latin and Cyrillic the language is read off the share of the text's
   words that are among a language's 100 most frequent words (`wordfreq`'s lists, shipped inside
   that package); in Latin script one-letter words are not counted (a, e, i, o, y, à are top words
   of most of these languages, and a list of letters or a JSON object's keys is not French).
   A Latin text is English unless another language's share is both substantial
   (≥ `MIN_OTHER_SHARE`) and at least `DOMINANCE` times English's; a Cyrillic text is Russian
   under the same rule against Ukrainian, Bulgarian and Macedonian. Letters that Russian does not
   use (і ї є ґ; ў; ђ ј љ њ ћ џ ѓ ќ ѕ) also identify Ukrainian, Belarusian and Serbian or
   Macedonian when they make up at least `FOREIGN_LETTER_SHARE` of the Cyrillic letters (and at
   least two letters: one quoted Ukrainian word does not make a Russian text Ukrainian).
3. **Short texts** (fewer than `MIN_WORDS` words) take the script's default (English, Russian):
   a handful of words cannot be told apart reliably, and refusing a short English text would be
   worse than scoring it. A text with no letters at all is English (its metrics are undefined
   anyway).

A Latin text in no identifiable language stays English: a degenerate English text (a keyword
list, shuffled words) must still get a number (DESIGN.md "Robustness"), not a refusal.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, lru_cache

from wqrm.textio import InvalidTextError

__all__ = [
    "LANGUAGE_NAMES",
    "SUPPORTED",
    "LanguageGuess",
    "UnsupportedLanguageError",
    "check_supported",
    "detect",
]

#: Languages wqrm has an analysis pipeline for.
SUPPORTED: tuple[str, ...] = ("en", "ru")

#: Below this many words the script's default language is taken.
MIN_WORDS = 5
#: Size of each language's function-word list (its most frequent words in `wordfreq`).
TOP_WORDS = 100
#: Another language wins only with at least this share of the words …
MIN_OTHER_SHARE = 0.15
#: … and at least this many times the default language's share.
DOMINANCE = 2.0
#: Share of Cyrillic letters (and least count) that must be letters Russian does not use to name
#: another language (Ukrainian prose has і alone at about 5% of its letters).
FOREIGN_LETTER_SHARE = 0.01
FOREIGN_LETTER_MIN = 2
#: At most this many characters are read (a 5 MB novel is told by its first 200,000 characters).
SAMPLE_CHARS = 200_000

LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "ru": "Russian",
    "uk": "Ukrainian",
    "be": "Belarusian",
    "bg": "Bulgarian",
    "mk": "Macedonian",
    "sr": "Serbian",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "sv": "Swedish",
    "da": "Danish",
    "nb": "Norwegian",
    "fi": "Finnish",
    "is": "Icelandic",
    "pl": "Polish",
    "cs": "Czech",
    "sk": "Slovak",
    "sl": "Slovenian",
    "sh": "Serbo-Croatian (Latin script)",
    "ro": "Romanian",
    "hu": "Hungarian",
    "tr": "Turkish",
    "ca": "Catalan",
    "lt": "Lithuanian",
    "lv": "Latvian",
    "id": "Indonesian",
    "ms": "Malay",
    "vi": "Vietnamese",
    "fil": "Filipino",
    "el": "Greek",
    "ar": "Arabic",
    "he": "Hebrew",
    "hi": "Hindi",
    "bn": "Bengali",
    "ta": "Tamil",
    "th": "Thai",
    "hy": "Armenian",
    "ka": "Georgian",
    "zh": "Chinese",
    "ja": "Japanese",
    "ko": "Korean",
    "und": "an unidentified language",
}

#: Latin-script languages checked against English (all `wordfreq` languages written in Latin).
LATIN_CANDIDATES = (
    "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "is", "pl", "cs", "sk", "sl", "sh",
    "ro", "hu", "tr", "ca", "lt", "lv", "id", "ms", "vi", "fil",
)  # fmt: skip
#: Cyrillic languages checked against Russian (those `wordfreq` has in Cyrillic).
CYRILLIC_CANDIDATES = ("uk", "bg", "mk")
#: Letters Russian does not use, checked in this order (ј љ њ џ are Serbian and Macedonian; the
#: letters only Macedonian has are checked first, then Serbian's).
FOREIGN_CYRILLIC = (("be", "ў"), ("mk", "ѓќѕ"), ("sr", "ђћјљњџ"), ("uk", "іїєґ"))

#: Non-Latin, non-Cyrillic scripts (first word of the Unicode character name) → language code.
SCRIPT_LANGUAGES = {
    "GREEK": "el",
    "ARABIC": "ar",
    "HEBREW": "he",
    "DEVANAGARI": "hi",
    "BENGALI": "bn",
    "TAMIL": "ta",
    "THAI": "th",
    "ARMENIAN": "hy",
    "GEORGIAN": "ka",
    "CJK": "zh",
    "HIRAGANA": "ja",
    "KATAKANA": "ja",
    "HANGUL": "ko",
}

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")


@dataclass(frozen=True)
class LanguageGuess:
    """The detector's answer: `lang` (ISO 639-1 code, or "und"), the script that decided it, and
    the evidence (letter shares by script; function-word shares by language)."""

    lang: str
    script: str
    reason: str
    script_shares: dict[str, float] = field(default_factory=dict)
    word_shares: dict[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return LANGUAGE_NAMES.get(self.lang, self.lang)

    @property
    def supported(self) -> bool:
        return self.lang in SUPPORTED


class UnsupportedLanguageError(InvalidTextError):
    """The text is in a language wqrm has no pipeline for; `.lang` names it."""

    def __init__(self, guess: LanguageGuess):
        self.lang = guess.lang
        self.guess = guess
        supported = ", ".join(f"{LANGUAGE_NAMES[c]} ({c})" for c in SUPPORTED)
        super().__init__(
            f"unsupported language: the text is in {guess.name} ({guess.lang}; {guess.reason}); "
            f"wqrm analyses {supported} only, so it gives no scores for it"
        )


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    try:
        return unicodedata.name(char).split(" ", 1)[0]
    except ValueError:
        return "UNKNOWN"


@cache
def function_words(lang: str) -> frozenset[str]:
    """The `TOP_WORDS` most frequent words of `lang` in `wordfreq` (loaded once per language)."""
    import wordfreq  # deferred: its frequency lists load only when a text needs them

    return frozenset(wordfreq.top_n_list(lang, TOP_WORDS))


def _share(words: list[str], lang: str) -> float:
    vocab = function_words(lang)
    return sum(w in vocab for w in words) / len(words)


def _pick(words: list[str], default: str, candidates: tuple[str, ...]) -> tuple[str, dict[str, float]]:
    """The default language unless a candidate's function-word share clearly dominates it."""
    shares = {default: _share(words, default)}
    for c in candidates:
        shares[c] = _share(words, c)
    best = max(candidates, key=lambda c: shares[c])
    if shares[best] >= MIN_OTHER_SHARE and shares[best] >= DOMINANCE * shares[default]:
        return best, shares
    return default, shares


def _foreign_cyrillic(chars: Counter[str]) -> tuple[str, str] | None:
    """(language, its letters) when letters Russian does not use make up at least
    `FOREIGN_LETTER_SHARE` of the Cyrillic letters (`chars`: character counts; a stray quoted
    word in a long Russian text does not)."""
    counts: Counter[str] = Counter()
    for c, n in chars.items():
        if c.isalpha() and _script(c) == "CYRILLIC":
            counts[c.lower()] += n
    total = sum(counts.values())
    for lang, marks in FOREIGN_CYRILLIC:
        if sum(counts[c] for c in marks) >= max(FOREIGN_LETTER_MIN, FOREIGN_LETTER_SHARE * total):
            return lang, marks
    return None


def detect(text: str) -> LanguageGuess:
    """Guess the language of `text` (see the module docstring for the rules)."""
    sample = text[:SAMPLE_CHARS]
    chars = Counter(sample)
    letters: Counter[str] = Counter()
    for char, n in chars.items():
        if char.isalpha():
            letters[_script(char)] += n
    total = sum(letters.values())
    if total == 0:
        return LanguageGuess("en", "NONE", "no letters; English by default")
    shares = {s: round(n / total, 4) for s, n in letters.most_common()}
    script = letters.most_common(1)[0][0]
    if script not in ("LATIN", "CYRILLIC"):
        lang = SCRIPT_LANGUAGES.get(script, "und")
        if script in ("CJK", "HIRAGANA", "KATAKANA") and (letters["HIRAGANA"] or letters["KATAKANA"]):
            lang = "ja"
        reason = f"{shares[script]:.0%} of its letters are {script.title()} script"
        return LanguageGuess(lang, script, reason, shares)

    words = [
        w.lower()
        for w in _WORD.findall(sample)
        if all(_script(c) == script for c in w if c.isalpha() and c not in "'’")
    ]
    default = "en" if script == "LATIN" else "ru"
    what = f"{shares[script]:.0%} of its letters are {script.title()}"
    if script == "CYRILLIC" and (foreign := _foreign_cyrillic(chars)) is not None:
        lang, marks = foreign
        return LanguageGuess(lang, script, f"{what}, with letters Russian does not use ({marks})", shares)
    if script == "LATIN":
        # one-letter words (a, e, i, o, y, à …) are top words of most Latin-script languages, so
        # they tell nothing apart: a list of letters, or JSON's keys, is not French
        words = [w for w in words if len(w) > 1]
    if len(words) < MIN_WORDS:
        return LanguageGuess(default, script, f"{what}; too few words to tell more", shares)
    lang, word_shares = _pick(words, default, LATIN_CANDIDATES if script == "LATIN" else CYRILLIC_CANDIDATES)
    rounded = {k: round(v, 4) for k, v in word_shares.items()}
    reason = f"{what}; {word_shares[lang]:.0%} of its words are common {LANGUAGE_NAMES[lang]} words"
    return LanguageGuess(lang, script, reason, shares, rounded)


def check_supported(text: str) -> str:
    """The language code of `text` when wqrm analyses it; else raise `UnsupportedLanguageError`."""
    guess = detect(text)
    if not guess.supported:
        raise UnsupportedLanguageError(guess)
    return guess.lang
