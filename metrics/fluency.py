"""Fluency (component S4): whether the words are real words and stand in an order English uses.

Two failure modes a reward must not pay for, and that the other S4 metrics read only indirectly:
garbled words (typos, letter salad) and garbled order (word salad, sentences read backwards, lists
of keywords, sentences cut off before their end).

* `unknown_word_rate`: the share of lower-case words absent from wordfreq's English word list.
* `pos_ngram_surprisal`: bits per token of the text's part-of-speech sequence under a 4-gram
  model of human reference prose (`wqrm.build.pos_lm`).
* `sentence_end_surprisal` (descriptive): bits of each sentence's ending under the same model
  (sentences cut off after a preposition or a conjunction).
* `rare_word_rate`: the share of words rarer than once per million words (vocabulary stuffing).
* `incomplete_sentence_rate`: the share of sentences visibly left unfinished: closed on a word no
  English sentence ends with ("He walked into the."), or the text stopping without its full stop.
"""

from __future__ import annotations

from functools import cache

from wqrm.analysis import Analysis
from wqrm.metrics.registry import MetricUndefined, metric

__all__ = [
    "DANGLING_FINAL_WORDS",
    "RARE_FREQUENCY",
    "checkable_words",
    "incomplete_sentence_rate",
    "incomplete_sentences",
    "pos_ngram_surprisal",
    "rare_word_rate",
    "sentence_end_surprisal",
    "sentence_tags",
    "unknown_word_rate",
    "word_frequencies",
]

#: A word is rare below this frequency: once per million words, wordfreq's Zipf 3.
RARE_FREQUENCY = 1e-6
#: Lower-case words that no English sentence of two or more words ends with: articles, possessive
#: determiners, coordinating conjunctions, "than", "whose", "very". Left out on purpose: words that
#: can stand last ("his", "her", "that", "this", prepositions left stranded as in "what for?",
#: "because", "if" as in "what if?"). On 480 passages of reference books 1 of 5,440 sentences ends
#: with one ("a"); in 60 texts whose sentences were cut to 40-60% of their words, 11% of sentences.
DANGLING_FINAL_WORDS = frozenset(
    "the a an and or nor but my your its our their than whose very".split()  # noqa: SIM905
)
_CLOSERS = frozenset("\"'”’)]»")
_TERMINAL = (".", "!", "?", "…")


@cache
def word_frequencies(lang: str = "en") -> dict[str, float]:
    """wordfreq's 'large' list of `lang` (every word seen at least about once per 10⁸ words across
    its sources; 321,180 English words in wordfreq 3.1): word → frequency, loaded once per process."""
    from wordfreq import get_frequency_dict  # deferred: its lists load only when a text needs them

    return get_frequency_dict(lang, wordlist="large")


def checkable_words(a: Analysis) -> list[str]:
    """The words the word-list metrics check: all lower-case alphabetic words of at least two
    letters (capitalised words are names or sentence starts; contractions and numbers are left out),
    collected once per analysis."""
    return a.cached(
        "checkable_words",
        lambda: [w for w in (t.text for t in a.word_tokens) if len(w) > 1 and w.isalpha() and w.islower()],
    )


@metric(
    "unknown_word_rate",
    component="S4",
    direction="lower",
    reference="wordfreq 'large' English word list (Speer 2022); misspelling rate as in Flor et al. 2013",
    valid_range=(0.0, 1.0),
    best=0.0,
    languages=("en",),
)
def unknown_word_rate(a: Analysis) -> float:
    """Share of the checkable words that are not English words.

    UWR = |{w checkable : w ∉ wordfreq's English list}| / |{w checkable}|, checkable = an all
    lower-case alphabetic word of at least two letters (capitalised words are names or sentence
    starts; contractions and numbers are not checked). Range [0, 1]; 0 for most edited prose,
    about 0.05-0.1 when a third of the longer words have two letters swapped.
    wordfreq's list is built from web text, so common misspellings ("teh", "recieve") count as
    known and coinages ("susurrus") as unknown. Undefined without a checkable word.
    """
    known = word_frequencies(a.lang)
    checkable = checkable_words(a)
    if not checkable:
        raise MetricUndefined("no lower-case alphabetic word to check")
    return sum(w not in known for w in checkable) / len(checkable)


def sentence_tags(a: Analysis) -> list[list[str]]:
    """The UPOS tag of every non-space token of each sentence holding a word (punctuation kept):
    what `pos_ngram_surprisal` reads and `wqrm.build.pos_lm` counts."""
    return [[t.pos_ for t in s.span if not t.is_space] for s in a.sentences if s.words]


def _tags_and_model(a: Analysis):
    """(the text's sentence tags, collected once per analysis; the part-of-speech model), for the
    metrics that read both; undefined without a sentence holding a word."""
    from wqrm import resources  # deferred: the corpus resources load on first use, not at import

    tags = a.cached("sentence_tags", lambda: sentence_tags(a))
    if not tags:
        raise MetricUndefined("no sentence holds a word")
    return tags, resources.get("corpus").pos_lm


@metric(
    "pos_ngram_surprisal",
    component="S4",
    direction="band",
    reference="Kneser-Ney 4-gram model (Chen & Goodman 1999) over Universal POS tags of reference prose",
    valid_range=(0.0, float("inf")),
    resources=("spacy", "corpus"),
    languages=("en",),
)
def pos_ngram_surprisal(a: Analysis) -> float:
    """Mean surprisal of the text's part-of-speech sequence, in bits per token.

    S = −(1/N) Σ_i log₂ P(t_i | t_{i−3} t_{i−2} t_{i−1}) over the UPOS tags t of every sentence's
    tokens (punctuation included) and its end-of-sentence padding, under the interpolated
    Kneser-Ney 4-gram model of `wqrm.build.pos_lm` (counted on reference books kept apart from
    the profile's passages). Range [0, ∞): about 2.2-2.8 for edited prose; higher for word salad,
    reversed or telegraphic sentences and sentences without their full stop; lower for
    monotonous, formulaic syntax. `band`: the reference profile's range is good. Undefined
    without a sentence holding a word.
    """
    tags, lm = _tags_and_model(a)
    return lm.surprisal_bits(tags)


@metric(
    "rare_word_rate",
    component="S4",
    direction="lower",
    reference="wordfreq 'large' English word list (Speer 2022); lexical frequency profile "
    "(Laufer & Nation 1995)",
    valid_range=(0.0, 1.0),
    languages=("en",),
    guard=True,
    tail=True,
)
def rare_word_rate(a: Analysis) -> float:
    """Share of the checkable words rarer than once per million words.

    RWR = |{w checkable : f(w) < 10⁻⁶}| / |{w checkable}|, f wordfreq's English frequency (0 for
    a word not in its list, so unknown words count as rare), checkable as in `unknown_word_rate`.
    Range [0, 1]; about 0.01-0.08 for edited prose (reference median 0.030, 99th percentile
    0.110). A *tail guard* of S4: goodness 1 up to the reference's 99th percentile, so plain words
    cost nothing and rare words earn nothing anywhere in the range of human prose; beyond it the
    profile's upper tail, g = exp(−(v − q99)/s), multiplies S4, so a text stuffed with rare words
    (a third of its longer words from a thesaurus) loses most of S4 whatever its other members
    say. Undefined without a checkable word.
    """
    freq = word_frequencies(a.lang)
    checkable = checkable_words(a)
    if not checkable:
        raise MetricUndefined("no lower-case alphabetic word to check")
    return sum(freq.get(w, 0.0) < RARE_FREQUENCY for w in checkable) / len(checkable)


@metric(
    "sentence_end_surprisal",
    component=None,
    direction="band",
    reference="Kneser-Ney 4-gram model (Chen & Goodman 1999) over Universal POS tags of reference prose",
    valid_range=(0.0, float("inf")),
    resources=("spacy", "corpus"),
    languages=("en",),
)
def sentence_end_surprisal(a: Analysis) -> float:
    """Mean surprisal of where the sentences stop, in bits per sentence.

    E = (1/n) Σ_s [−log₂ P(t_last | t_{−4} t_{−3} t_{−2}) − log₂ P(</s> | t_{−3} t_{−2} t_last)]
    over the n sentences holding a word, t the UPOS tags (punctuation included) under the 4-gram
    model of `pos_ngram_surprisal`. A sentence closed after its verb or object costs a few bits; one
    cut off after a preposition or a conjunction ("He gave the letter to.") or left without its
    full stop costs many. Blind spot: the tagger reads a determiner left without its noun as a
    pronoun ("stepped into the." as "stepped into it."), which costs little. Range [0, ∞): about
    3-5 for edited prose. `band`: the reference profile's range is good. Descriptive (in no
    component): it agrees with LAMP's editors on its own (0.57), but its goodness follows length
    (Spearman ρ −0.61 with word count) and in S4 it cost the composite 0.03 of held-out LAMP
    accuracy and 0.07 of the length-adversarial accuracy (docs/design-decisions.md). Undefined
    without a sentence holding a word.
    """
    tags, lm = _tags_and_model(a)
    return float(lm.end_surprisals(tags).mean())


def _final_tokens(sentence) -> list:
    """The sentence's non-space tokens without the closing quotes and brackets that end it."""
    tokens = [t for t in sentence.span if not t.is_space]
    while tokens and tokens[-1].text in _CLOSERS:
        tokens.pop()
    return tokens


def incomplete_sentences(a: Analysis) -> list[int]:
    """Indices (into `a.sentences`) of the sentences `incomplete_sentence_rate` counts: those of two
    or more words whose last word stands directly before a `.`, `!` or `?` and is one of
    `DANGLING_FINAL_WORDS` (written in lower case: "Vitamin A." is a name), and the text's last
    sentence holding a word when its last token, past closing quotes and brackets, does not end
    with `.`, `!`, `?` or `…`."""
    found = []
    last = max((i for i, s in enumerate(a.sentences) if s.words), default=None)
    for i, s in enumerate(a.sentences):
        if not s.words:
            continue
        tokens = _final_tokens(s)
        end = tokens[-1].text if tokens else ""
        if end in {".", "!", "?"}:
            last_word = tokens[-2].text if len(tokens) >= 2 else ""
        else:  # the tokenizer keeps some stops on the word ("a." read as an abbreviation)
            last_word = end[:-1] if end.endswith(".") else ""
        unfinished = i == last and not end.endswith(_TERMINAL)
        if unfinished or (len(s.words) >= 2 and last_word in DANGLING_FINAL_WORDS):
            found.append(i)
    return found


@metric(
    "incomplete_sentence_rate",
    component="S4",
    direction="lower",
    reference="closed-class sentence endings (Quirk et al. 1985, ch. 17: articles, determiners and "
    "coordinators never end a clause); wqrm",
    valid_range=(0.0, 1.0),
    best=0.0,
    languages=("en",),
    guard=True,
)
def incomplete_sentence_rate(a: Analysis) -> float:
    """Share of sentences visibly left unfinished.

    ISR = (D + U) / n over the n sentences holding a word: D counts the sentences of two or more
    words that close (`.`, `!`, `?`) right after an article, a possessive determiner, a
    coordinating conjunction, "than", "whose" or "very" (`DANGLING_FINAL_WORDS`: "She put it on
    the.", "He ran and."); U is 1 when the text's last sentence stops without `.`, `!`, `?` or `…`
    (past closing quotes): the text breaks off mid-sentence, as a generation cut at its token limit
    does. Range [0, 1]; 0 for almost all edited prose (on 480 reference-book passages: 1 dangling
    ending in 5,440 sentences; 5% of passages end on "said:" or a dash where the excerpt stops).
    `lower`, best 0, a *guard* of S4: its goodness multiplies S4 instead of joining its mean, so a
    finished text's S4 is exactly what the other metrics make it, and one incomplete sentence in
    ten (goodness about 0.01, the reference's 99th percentile) takes nearly all of S4 away. Blind
    spots: a sentence cut after a noun or verb ("He walked into the room and saw."), "a." inside a
    text (the tokenizer reads it as an abbreviation, so no sentence ends there), and poems or lists
    that end without punctuation by design. Undefined without a sentence holding a word.
    """
    n = a.sentence_lengths.size  # the sentences holding a word
    if n == 0:
        raise MetricUndefined("no sentence holds a word")
    return len(incomplete_sentences(a)) / n
