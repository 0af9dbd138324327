"""The degeneracy floor: a text below a minimum of substance gets a defined, low score.

A reward is optimised against. Whatever the learned components say, a policy must never profit
from writing two words, one sentence pasted thirty times, or pseudo-Latin. `check_substance` tests
four rules on the parsed text; a text that fails any of them is *degenerate* and its composite is
capped at

    score = FLOOR · q,    q = min over the failed rules of (measured / required) ∈ [0, 1)

so a degenerate text always scores below `FLOOR` (0.1) and "more substance" still scores higher
(a policy gets a gradient out of the floor). The score is a number, never None: RL trainers need
numbers. The rules (defaults in `SubstanceRules`, chosen so that no passage of the human reference
prose, no LAMP paragraph and no human text of the development data fails them; see
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
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field

from wqrm.analysis import Analysis
from wqrm.lang import LANGUAGE_NAMES

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
    floor: float = FLOOR


@dataclass
class Substance:
    """The outcome of `check_substance`: measured values, failed rules and the score cap (None when
    the text has enough substance)."""

    words: int
    distinct: float
    repeated_sentences: float
    english: float
    failed: dict[str, str] = field(default_factory=dict)  # rule -> why
    cap: float | None = None

    @property
    def degenerate(self) -> bool:
        return bool(self.failed)

    def as_dict(self) -> dict:
        return asdict(self)


@functools.cache
def _zipf(lang: str = "en"):
    from wordfreq import zipf_frequency  # its word lists load on first use (about 2 s)

    return functools.lru_cache(maxsize=200_000)(lambda w: zipf_frequency(w, lang))


def _mattr(words: list[str], window: int) -> float:
    if not words:
        return 0.0
    if len(words) <= window:
        return len(set(words)) / len(words)
    counts: dict[str, int] = {}
    for w in words[:window]:
        counts[w] = counts.get(w, 0) + 1
    total = len(counts)
    for i in range(window, len(words)):
        old, new = words[i - window], words[i]
        counts[old] -= 1
        if counts[old] == 0:
            del counts[old]
        counts[new] = counts.get(new, 0) + 1
        total += len(counts)
    return total / ((len(words) - window + 1) * window)


def check_substance(a: Analysis, rules: SubstanceRules | None = None) -> Substance:
    """Measure the four rules on a parsed text; a failed rule sets `failed` and `cap`."""
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
        distinct=_mattr(words, rules.distinct_window),
        repeated_sentences=repeated,
        english=english,
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
    if s.failed:
        s.cap = rules.floor * max(0.0, min(1.0, min(ratios)))
    return s
