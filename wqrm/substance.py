"""The degeneracy floor: a text below a minimum of substance gets a defined, low score.

A reward is optimised against. Whatever the learned components say, a policy must never profit
from writing two words, one sentence pasted thirty times, or pseudo-Latin. `check_substance` tests
five rules on the parsed text; a text that fails any of them is *degenerate* and its composite is
capped at

    score = FLOOR · q,    q = min over the failed rules of (measured / required) ∈ [0, 1)

so a degenerate text always scores below `FLOOR` (0.1) and "more substance" still scores higher
(a policy gets a gradient out of the floor). The score is a number, never None: RL trainers need
numbers. The rules (defaults in `SubstanceRules`, chosen so that no passage of the human reference
prose and no LAMP paragraph of the development data fails them, and 2 of 1,281 human texts of
`human_vs_ai` do: a 13-word answer and a story with a five-fold refrain; see
`benchmarks/results/robustness.md`):

* **words** ≥ 20 (DESIGN.md's words: tokens that are neither punctuation nor space);
* **distinct words**: moving-average type-token ratio over windows of 50 words (the plain TTR
  below 50 words) ≥ 0.35 — one sentence or phrase repeated falls far below, any prose far above;
* **repeated sentences**: at most 30% of the sentences (of 3 words or more) repeat an earlier one
  word for word (pasted text, loops);
* **English**: at least 60% of the alphabetic words are common English words (Zipf frequency ≥ 3
  in `wordfreq`'s English list: "the", "harbour", "slipway" yes; "lorem", "ipsum" no). A text in
  another language wqrm analyses (`Analysis.lang`, e.g. Russian) is checked against that
  language's `wordfreq` list instead; the rule and its field keep the name `english`.
* **spelling** (English): at most 15% of the lower-case words are missing from wordfreq's English
  list (`unknown_word_rate`): letter salad, pseudo-Latin, a third of the words misspelt. In the
  development data creative prose stays at or under 4.4%, dialect in the reference books (Joseph in
  *Wuthering Heights*) reaches 10.7% and a medical abstract 10.3%. Not measured for other languages
  (no word list is checked for them): the field is then None.

A word-order rule on `pos_ngram_surprisal` was tried and left out: human news and Wikipedia text
reaches 3.69 bits per tag, word salad 3.6-4.3, so no threshold separates them without luck
(`docs/design-decisions.md`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from wqrm.analysis import Analysis
from wqrm.lang import LANGUAGE_NAMES
from wqrm.metrics.fluency import unknown_word_rate
from wqrm.metrics.registry import MetricUndefined
from wqrm.result import Substance
from wqrm.words import moving_average_ttr

__all__ = ["FLOOR", "Substance", "SubstanceRules", "check_substance"]

#: The highest score a degenerate text can get.
FLOOR = 0.1


@dataclass(frozen=True)
class SubstanceRules:
    """Thresholds of the degeneracy floor (module docstring)."""

    min_words: int = 20
    min_distinct: float = 0.35
    distinct_window: int = 50
    max_repeated_sentences: float = 0.3
    min_english: float = 0.6
    english_zipf: float = 3.0
    max_unknown_words: float = 0.15
    floor: float = FLOOR


@functools.cache
def _zipf(lang: str = "en"):
    from wordfreq import zipf_frequency  # its word lists load on first use (about 2 s)

    return functools.lru_cache(maxsize=200_000)(lambda w: zipf_frequency(w, lang))


def _unknown_words(a: Analysis, computed: Mapping[str, float | None]) -> float | None:
    """`unknown_word_rate` of an English text (from `computed` when the scorer has it already);
    None where it is undefined or the text not English."""
    if a.lang != "en":
        return None
    if "unknown_word_rate" in computed:
        return computed["unknown_word_rate"]
    try:
        return unknown_word_rate(a)
    except MetricUndefined:
        return None


def check_substance(
    a: Analysis, rules: SubstanceRules | None = None, computed: Mapping[str, float | None] | None = None
) -> Substance:
    """Measure the five rules on a parsed text; a failed rule sets `failed` and `cap`. `computed`:
    metric values of this text already computed (a scorer's), so the spelling rule does not
    compute `unknown_word_rate` a second time."""
    rules = rules or SubstanceRules()
    words = a.words
    sentences = [tuple(s.words) for s in a.sentences if len(s.words) >= 3]
    seen: set[tuple[str, ...]] = set()
    repeats = 0
    for s in sentences:
        repeats += s in seen
        seen.add(s)
    repeated = repeats / len(sentences) if sentences else 0.0
    alpha = [w for w in words if w.isalpha()]
    zipf = _zipf(a.lang)
    english = sum(zipf(w) >= rules.english_zipf for w in alpha) / len(alpha) if alpha else 0.0
    s = Substance(
        words=len(words),
        distinct=moving_average_ttr(words, rules.distinct_window),
        repeated_sentences=repeated,
        english=english,
        unknown_words=_unknown_words(a, computed or {}),
    )
    ratios = []
    if s.words < rules.min_words:
        s.failed["words"] = f"{s.words} words < {rules.min_words}"
        ratios.append(s.words / rules.min_words)
    if s.words and s.distinct < rules.min_distinct:
        s.failed["distinct"] = f"distinct-word ratio {s.distinct:.2f} < {rules.min_distinct}"
        ratios.append(s.distinct / rules.min_distinct)
    if s.repeated_sentences > rules.max_repeated_sentences:
        share, most = s.repeated_sentences, rules.max_repeated_sentences
        s.failed["repeated_sentences"] = f"{share:.0%} of the sentences repeat an earlier one (> {most:.0%})"
        ratios.append((1 - s.repeated_sentences) / (1 - rules.max_repeated_sentences))
    if s.english < rules.min_english:
        s.failed["english"] = (
            f"{s.english:.0%} of the words are common {LANGUAGE_NAMES.get(a.lang, a.lang)} words "
            f"(< {rules.min_english:.0%})"
        )
        ratios.append(s.english / rules.min_english)
    if s.unknown_words is not None and s.unknown_words > rules.max_unknown_words:
        s.failed["spelling"] = (
            f"{s.unknown_words:.0%} of the lower-case words are not English words "
            f"(> {rules.max_unknown_words:.0%})"
        )
        ratios.append((1 - s.unknown_words) / (1 - rules.max_unknown_words))
    if s.failed:
        s.cap = rules.floor * max(0.0, min(1.0, min(ratios)))
    return s
