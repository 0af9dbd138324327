"""Systematic negatives: degraded variants of a text that a reward must always rank below it.

The source system's recipe ("we systematically generate negative examples — texts that fail
specific quality metrics") applied to what a policy optimising a reward would find: texts that are
shorter, repeated, scrambled, padded or not prose at all. Each `Transformation` maps a text to a
worse text (or None where it does not apply); `negatives` pairs every original with its variants as
`Pair(better=original, worse=variant)`.

Two disjoint families:

* ``train``: used to train S1 and to fit the composite weights — few words, one sentence, one
  sentence repeated, the text pasted twice, word salad, shuffled sentences, generic filler
  appended, a keyword list.
* ``heldout``: never trained on; the robustness check (`benchmarks/robustness_suite.py`) measures
  how a reward generalises to degradations it never saw — function words dropped, every sentence
  read backwards, pseudo-Latin, stuttered words, no punctuation or capitals, cut mid-sentence,
  sentences spliced with another text, typos.

Sentences and words are split with simple rules here (no parser): the variants are training data,
not analyses, and the generator must run on thousands of texts in seconds. Every transformation is
deterministic given its `random.Random`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from wqrm.edit.surface import sentences
from wqrm.fit.data import Pair
from wqrm.words import STOP_WORDS, is_content_word

__all__ = [
    "FAMILIES",
    "GENERIC_FILLER",
    "TRANSFORMATIONS",
    "Transformation",
    "as_original",
    "finished",
    "negatives",
    "sentences",
]

Family = Literal["train", "heldout"]
_WORD = re.compile(r"\S+")

#: Generic "AI slop" sentences appended by `generic_filler` (written for wqrm; clichés of the kind
#: editors delete, not quotations).
GENERIC_FILLER = (
    "It was a testament to the enduring power of the human spirit.",
    "In the end, it was a journey of self-discovery that would change everything.",
    "Little did they know that this was only the beginning.",
    "The air was thick with anticipation, and a sense of wonder filled the room.",
    "It served as a poignant reminder that life is a tapestry of moments.",
    "Somewhere deep inside, a quiet resilience began to bloom.",
    "Their bond, forged in adversity, would stand the test of time.",
    "As the sun set on the horizon, a new chapter was about to unfold.",
    "Every step was a dance between hope and fear, light and shadow.",
    "It was not just a moment; it was a turning point in their lives.",
    "The weight of the world seemed to lift from their shoulders.",
    "Together, they embraced the unknown with open hearts.",
)
_LOREM = (  # noqa: SIM905 (a sentence reads better than 62 quoted words)
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut "
    "labore et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris "
    "nisi aliquip ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse "
    "cillum fugiat nulla pariatur excepteur sint occaecat cupidatat non proident sunt culpa qui "
    "officia deserunt mollit anim id est laborum"
).split()


@dataclass(frozen=True)
class Transformation:
    """A degradation: `apply(text, rng)` returns the worse variant, or None where it does not apply."""

    name: str
    family: Family
    apply: Callable[[str, random.Random], str | None]
    description: str


_FINISHED = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)")


def finished(text: str) -> str | None:
    """The text up to the end of its last finished sentence (its last `.`, `!`, `?` or `…` and the
    closing quotes after it), stripped; the whole text when it already ends so; None when no
    sentence is finished. Originals are cut back to it before any transformation: corpora cut
    texts at a length limit (human_vs_ai's human texts stop wherever the AI continuation did), and
    a variant that happens to end properly (filler appended, one sentence picked) must not win by
    finishing what its original left broken."""
    stripped = text.strip()
    ends = [m.end() for m in _FINISHED.finditer(stripped)]
    if not ends:
        return None
    return stripped if ends[-1] == len(stripped) else stripped[: ends[-1]]


def as_original(text: str) -> str:
    """The preferred text of `text`'s negatives: `finished(text)`, or the stripped text itself
    when no sentence of it is finished (a text without sentence punctuation is kept whole)."""
    return finished(text) or text.strip()


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def _strip(word: str) -> str:
    return word.strip(".,;:!?…\"'“”‘’()[]—–-").lower()


# ---- training family ------------------------------------------------------------------------


def _few_words(text: str, rng: random.Random) -> str | None:
    words = _words(text)
    if len(words) < 12:
        return None
    k = rng.randint(2, 6)
    return " ".join(words[:k]).rstrip(".,;:") + "."


def _one_sentence(text: str, rng: random.Random) -> str | None:
    sents = sentences(text)
    return rng.choice(sents) if len(sents) >= 3 else None


def _repeat_sentence(text: str, rng: random.Random) -> str | None:
    sents = sentences(text)
    if len(sents) < 2:
        return None
    s = rng.choice(sents)
    n = max(3, round(len(_words(text)) / max(1, len(_words(s)))))
    return " ".join([s] * n)


def _repeat_text(text: str, rng: random.Random) -> str | None:
    return "\n\n".join([text.strip()] * rng.randint(2, 3)) if len(_words(text)) >= 12 else None


def _reordered(items: list[str], rng: random.Random) -> list[str]:
    """A random order of `items` different from the given one (needs two distinct items)."""
    shuffled = items[:]
    while shuffled == items:
        rng.shuffle(shuffled)
    return shuffled


def _shuffle_words(text: str, rng: random.Random) -> str | None:
    words = _words(text)
    return " ".join(_reordered(words, rng)) if len(words) >= 8 and len(set(words)) > 1 else None


def _shuffle_sentences(text: str, rng: random.Random) -> str | None:
    sents = sentences(text)
    return " ".join(_reordered(sents, rng)) if len(sents) >= 3 and len(set(sents)) > 1 else None


def _generic_filler(text: str, rng: random.Random) -> str | None:
    if len(_words(text)) < 12:
        return None
    return text.strip() + " " + " ".join(rng.sample(GENERIC_FILLER, rng.randint(2, 4)))


def _keyword_list(text: str, rng: random.Random) -> str | None:
    keys = list(dict.fromkeys(w for w in (_strip(w) for w in _words(text)) if is_content_word(w)))
    if len(keys) < 5:
        return None
    return ", ".join(keys[: rng.randint(5, min(25, len(keys)))])


# ---- held-apart family ----------------------------------------------------------------------


def _drop_function_words(text: str, rng: random.Random) -> str | None:
    kept = [w for w in _words(text) if _strip(w) not in STOP_WORDS]
    return " ".join(kept) if len(kept) >= 5 and len(kept) < len(_words(text)) * 0.8 else None


def _reverse_words(text: str, rng: random.Random) -> str | None:
    sents = sentences(text)
    if not sents:
        return None
    out = []
    for s in sents:
        words = [w.strip(".!?…") for w in _words(s)]
        words = [w for w in words if w]
        if words:
            out.append(" ".join(reversed(words)).capitalize() + ".")
    return " ".join(out) if len(out) and " ".join(out) != text.strip() else None


def _lorem(text: str, rng: random.Random) -> str | None:
    n = len(_words(text))
    if n < 8:
        return None
    out, sent = [], []
    for _ in range(n):
        sent.append(rng.choice(_LOREM))
        if len(sent) >= rng.randint(8, 16):
            out.append(" ".join(sent).capitalize() + ".")
            sent = []
    if sent:
        out.append(" ".join(sent).capitalize() + ".")
    return " ".join(out)


def _stutter(text: str, rng: random.Random) -> str | None:
    words = _words(text)
    return " ".join(f"{_strip(w) or w} {w}" for w in words) if len(words) >= 5 else None


def _no_punctuation(text: str, rng: random.Random) -> str | None:
    flat = " ".join(w for w in (_strip(w) for w in _words(text)) if w)
    return flat if len(flat.split()) >= 8 else None


def _cut_mid_sentence(text: str, rng: random.Random) -> str | None:
    words = _words(text)
    if len(words) < 20:
        return None
    cut = round(len(words) * rng.uniform(0.3, 0.5))
    return " ".join(words[:cut]).rstrip(".,;:!?…\"'”’")


def _typos(text: str, rng: random.Random) -> str | None:
    words = _words(text)
    if len(words) < 8:
        return None
    out = []
    for w in words:
        if len(w) > 3 and rng.random() < 0.35:
            i = rng.randrange(1, len(w) - 2)
            w = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
        out.append(w)
    return " ".join(out)


@cache
def _rare_words() -> tuple[str, ...]:
    """Lower-case alphabetic English words of frequency rank 30,000-60,000 in wordfreq that are
    WordNet lemmas (words a reward-gamer would stuff in to look rich, not names), loaded once."""
    from wordfreq import top_n_list  # deferred: only this transformation reads word lists

    from wqrm import resources  # deferred: as above (WordNet)

    wordnet = resources.get("wordnet")
    ranked = top_n_list("en", 60_000)[30_000:]
    return tuple(w for w in ranked if w.isalpha() and len(w) > 4 and wordnet.synsets(w))


def _rare_word_swap(text: str, rng: random.Random) -> str | None:
    """About 30% of the longer lower-case words replaced by random rare words (vocabulary stuffing)."""
    words = _words(text)
    pool = _rare_words()
    out = [
        rng.choice(pool) if len(w) > 3 and w.isalpha() and w.islower() and rng.random() < 0.3 else w
        for w in words
    ]
    return " ".join(out) if len(words) >= 8 and out != words else None


def _truncate_sentences(text: str, rng: random.Random) -> str | None:
    """Every sentence of five or more words cut to its first 40-60% (telegraphic fragments)."""
    sents = sentences(text)
    out = []
    for sent in sents:
        words = _words(sent)
        if len(words) >= 5:
            keep = max(2, round(len(words) * rng.uniform(0.4, 0.6)))
            out.append(" ".join(words[:keep]).rstrip(".,;:!?…\"'”’") + ".")
        else:
            out.append(sent)
    return " ".join(out) if len(sents) >= 2 and out != sents else None


_SPLICE_POOL: list[str] = []


def _splice(text: str, rng: random.Random) -> str | None:
    """Alternate the text's sentences with those of another text of the pool (`negatives` fills it)."""
    mine = sentences(text)
    others = [t for t in _SPLICE_POOL if t != text]
    if len(mine) < 3 or not others:
        return None
    theirs = sentences(rng.choice(others))
    if not theirs:
        return None
    out = []
    for i, s in enumerate(mine):
        out.append(s)
        if i % 2 == 0:
            out.append(theirs[(i // 2) % len(theirs)])
    return " ".join(out)


TRANSFORMATIONS: dict[str, Transformation] = {
    t.name: t
    for t in (
        Transformation("few_words", "train", _few_words, "the first 2-6 words"),
        Transformation("one_sentence", "train", _one_sentence, "one of its sentences alone"),
        Transformation("repeat_sentence", "train", _repeat_sentence, "one sentence repeated to its length"),
        Transformation("repeat_text", "train", _repeat_text, "the whole text pasted 2-3 times"),
        Transformation("shuffle_words", "train", _shuffle_words, "word salad: its words shuffled"),
        Transformation("shuffle_sentences", "train", _shuffle_sentences, "its sentences in random order"),
        Transformation(
            "generic_filler", "train", _generic_filler, "2-4 generic AI filler sentences appended"
        ),
        Transformation("keyword_list", "train", _keyword_list, "a comma-separated list of its content words"),
        Transformation("drop_function_words", "heldout", _drop_function_words, "stop words removed"),
        Transformation("reverse_words", "heldout", _reverse_words, "every sentence read backwards"),
        Transformation("lorem_ipsum", "heldout", _lorem, "pseudo-Latin of the same length"),
        Transformation("stutter", "heldout", _stutter, "every word doubled"),
        Transformation("no_punctuation", "heldout", _no_punctuation, "lower case, no punctuation"),
        Transformation("cut_mid_sentence", "heldout", _cut_mid_sentence, "cut at 30-50% mid-sentence"),
        Transformation("splice_other", "heldout", _splice, "sentences alternated with another text's"),
        Transformation("typos", "heldout", _typos, "a third of the words with swapped letters"),
        Transformation("rare_word_swap", "heldout", _rare_word_swap, "30% of words swapped for rare ones"),
        Transformation("truncate_sentences", "heldout", _truncate_sentences, "every sentence cut in half"),
    )
}
FAMILIES: dict[Family, tuple[str, ...]] = {
    fam: tuple(n for n, t in TRANSFORMATIONS.items() if t.family == fam) for fam in ("train", "heldout")
}


def negatives(
    originals: Iterable[str],
    *,
    family: Family = "train",
    per_text: int = 1,
    names: Sequence[str] | None = None,
    seed: int = 0,
    weight: float = 1.0,
    source_prefix: str = "negative",
    finish: bool = True,
) -> list[Pair]:
    """Pairs (original ≻ variant) for each original: `per_text` variants from distinct
    transformations of `family` (or the `names` given), chosen at random among those that apply.

    Each original is first cut back to its last finished sentence (`as_original`), and that is the
    pair's preferred text; `finish=False` keeps the originals as given (the recipe the shipped S1
    model was trained with). Deterministic for a given seed; `source` is
    ``f"{source_prefix}:{transformation}"`` so that accuracies can be reported per transformation."""
    if per_text <= 0:
        return []
    cut = as_original if finish else (lambda t: t)
    originals = list(dict.fromkeys(cut(t) for t in originals if t and t.strip()))
    pool = list(names) if names is not None else list(FAMILIES[family])
    for n in pool:
        if n not in TRANSFORMATIONS:
            raise KeyError(f"unknown transformation {n!r}; known: {', '.join(TRANSFORMATIONS)}")
    _SPLICE_POOL[:] = originals
    out: list[Pair] = []
    for i, text in enumerate(originals):
        rng = random.Random(f"{seed}|{i}|{text[:64]}")
        order = pool[:]
        rng.shuffle(order)
        made = 0
        for name in order:
            variant = TRANSFORMATIONS[name].apply(text, rng)
            if variant is None or not variant.strip() or variant.strip() == text.strip():
                continue
            out.append(
                Pair(
                    text, variant, f"{source_prefix}:{name}", id=f"{source_prefix}:{name}:{i}", weight=weight
                )
            )
            made += 1
            if made >= per_text:
                break
    _SPLICE_POOL.clear()
    return out
