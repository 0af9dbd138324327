"""Anti-"AI slop" measures (component S3): n-gram novelty, compression ratio, generic phrases and
template constructions; perplexity burstiness (`ppl_div`) is computed here but descriptive."""

from __future__ import annotations

import lzma
import threading
from typing import Any

import numpy as np

from wqrm import resources
from wqrm.analysis import Analysis
from wqrm.metrics.registry import MetricUndefined, metric
from wqrm.words import clause_segments, phrase_form

__all__ = [
    "SLOP_PATTERNS",
    "cbq",
    "generic_phrase_matches",
    "gpp",
    "lzma_raw_size",
    "nns",
    "ppl_div",
    "sentence_perplexities",
    "slop_pattern_matches",
    "slop_pattern_rate",
    "slop_spans",
]

NNS_ORDERS = (2, 3, 4, 5)


@metric(
    "nns",
    component="S3",
    direction="higher",
    reference="WQRM guide §2.3.5 (NNS, n-gram novelty score)",
    valid_range=(0.0, 1.0),
)
def nns(a: Analysis) -> float:
    """N-gram novelty: mean over k = 2..5 of distinct k-grams / k-grams, over the text's words.

    NNS = (1/K) Σ_k |distinct k-grams| / |k-grams|, averaged over the orders k that have at least
    one k-gram (a 3-word text uses k = 2, 3). Range (0, 1]; 1 when no k-gram repeats. Undefined for
    fewer than 2 words.
    """
    words = a.words
    if len(words) < 2:
        raise MetricUndefined("fewer than 2 words: no 2-grams")
    ratios = []
    for k in NNS_ORDERS:
        total = len(words) - k + 1
        if total <= 0:
            break
        grams = {tuple(words[i : i + k]) for i in range(total)}
        ratios.append(len(grams) / total)
    return sum(ratios) / len(ratios)


def lzma_raw_size(data: bytes) -> int:
    """Size of `data` compressed as a raw LZMA2 stream at preset 9 (no container header).

    The dictionary is capped to the input size (at least 4 KiB): the compressed bytes are identical
    to preset 9's 64 MiB dictionary for inputs that fit, at a fraction of the memory and time.
    """
    filters = [{"id": lzma.FILTER_LZMA2, "preset": 9, "dict_size": max(4096, min(len(data), 1 << 26))}]
    return len(lzma.compress(data, format=lzma.FORMAT_RAW, filters=filters))


@metric(
    "cbq",
    component="S3",
    direction="band",
    reference="WQRM guide §2.3.5 (CBQ, compression-based quality); LZMA2",
    valid_range=(0.0, float("inf")),
)
def cbq(a: Analysis) -> float:
    """Compression ratio: UTF-8 bytes / raw-LZMA2 (preset 9) compressed bytes.

    CBQ = |utf8(text)| / |lzma_raw(utf8(text))|. Range (0, ∞): below 1 for very short texts, about
    1.5-2.5 for a paragraph of prose, high for repetitive text. A high ratio means *more*
    redundancy, so the direction is `band` against human reference text (DESIGN.md).
    """
    data = a.text.encode("utf-8")
    return len(data) / lzma_raw_size(data)


# --------------------------------------------------------------------------------------------
# Generic phrases
# --------------------------------------------------------------------------------------------


def _segment_tokens(a: Analysis) -> list[list[Any]]:
    """Clause segments as spaCy tokens (runs of words between punctuation/space tokens)."""
    segments: list[list[Any]] = []
    for doc in a.docs:
        current: list[Any] = []
        for t in doc:
            if t.is_punct or t.is_space:
                if current:
                    segments.append(current)
                    current = []
            else:
                current.append(t)
        if current:
            segments.append(current)
    return segments


def generic_phrase_matches(a: Analysis) -> list[dict[str, Any]]:
    """The generic phrases found in the text: {start, end (character offsets), phrase, weight}.

    Leftmost-longest, non-overlapping matches of the corpus resources' phrase database inside
    clause segments (`wqrm.words.clause_segments`: words between punctuation marks). Cached on
    the analysis.
    """
    return a.cached("generic_phrase_matches", lambda: _generic_phrase_matches(a))


def _generic_phrase_matches(a: Analysis) -> list[dict[str, Any]]:
    db = resources.get("corpus").phrases
    seg_tokens = _segment_tokens(a)
    out = []
    segments = [[phrase_form(t.lower_) for t in seg] for seg in seg_tokens]
    for si, start, k, pi in db.match(segments):
        toks = seg_tokens[si][start : start + k]
        offset = a.doc_offset(toks[0].doc)
        out.append(
            {
                "start": offset + toks[0].idx,
                "end": offset + toks[-1].idx + len(toks[-1]),
                "phrase": " ".join(db.rows[pi]["tokens"]),
                "weight": float(db.rows[pi]["weight"]),
            }
        )
    return out


@metric(
    "gpp",
    component="S3",
    direction="lower",
    reference="WQRM guide §2.3.5 (GPP); phrases by weighted log-odds (Monroe et al. 2008) + LAMP edits",
    valid_range=(0.0, float("inf")),
    resources=("spacy", "corpus"),
    best=0.0,
    decay=True,
)
def gpp(a: Analysis) -> float:
    """Generic phrase penalty: weighted generic-phrase matches per 100 words.

    GPP = 100 · Σ_matches w_i / N. The phrase database is built from data by `wqrm build-corpus`
    (`wqrm.corpus.build_phrase_db`): word n-grams (2-5, stop words kept) over-represented in AI
    text relative to human text of the human_vs_ai development data (weighted log-odds with an
    informative Dirichlet prior, Monroe et al. 2008), without character names or phrases common
    in human fiction, weighted by their log-odds and raised for phrases professional editors
    deleted or replaced in LAMP. Matches are leftmost-longest and non-overlapping inside clauses
    (never across punctuation). Range [0, ∞); 0 when no phrase occurs. Goodness `decay`s:
    exp(−GPP / q99) with q99 the reference profile's 99th percentile (1.84 in the default
    profile): 1 without a generic phrase, 0.66 at one weighted match per 130 words, 0.11 at four per
    100 words, so every phrase added costs, where the percentile put every text past the
    reference's 90th percentile at the bottom (docs/design-decisions.md).
    """
    n = len(a.words)
    if n == 0:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")
    db = resources.get("corpus").phrases
    segments = [clause_segments(doc) for doc in a.docs]
    weight, _ = db.weighted_count([seg for segs in segments for seg in segs])
    return 100.0 * weight / n


# --------------------------------------------------------------------------------------------
# Perplexity burstiness
# --------------------------------------------------------------------------------------------

_LM_LOCK = threading.Lock()
CAUSAL_LM_BATCH = 16
CAUSAL_LM_MAX_TOKENS = 256


def _causal_lm_perplexities(sentences: list[str], tokenizer, model) -> np.ndarray:
    """exp(mean token NLL) of each sentence under a causal LM, batched by length (padding masked).

    Each sentence is scored after the model's BOS token (EOS when it has none, as GPT-2 does), so
    every token of the sentence is predicted; sentences are cut at CAUSAL_LM_MAX_TOKENS tokens.
    """
    import torch

    start = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    if start is None:
        raise MetricUndefined("the causal LM's tokenizer has neither a BOS nor an EOS token")
    encoded = [
        tokenizer(s, add_special_tokens=False)["input_ids"][: CAUSAL_LM_MAX_TOKENS - 1] for s in sentences
    ]
    order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))
    out = np.full(len(encoded), np.nan)
    device = next(model.parameters()).device
    for b in range(0, len(order), CAUSAL_LM_BATCH):
        idx = [i for i in order[b : b + CAUSAL_LM_BATCH] if encoded[i]]
        if not idx:
            continue
        width = 1 + max(len(encoded[i]) for i in idx)
        ids = torch.full((len(idx), width), start, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for r, i in enumerate(idx):
            seq = [start, *encoded[i]]
            ids[r, : len(seq)] = torch.tensor(seq)
            mask[r, : len(seq)] = 1
        with torch.no_grad():
            logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        target = ids[:, 1:].to(device)
        nll = -logp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
        tmask = mask[:, 1:].to(device).float()
        mean_nll = (nll * tmask).sum(dim=1) / tmask.sum(dim=1)
        out[idx] = torch.exp(mean_nll).cpu().numpy().astype(np.float64)
    return out


def sentence_perplexities(a: Analysis) -> np.ndarray:
    """Per-sentence perplexity of the sentences holding words: under the causal LM in
    $WQRM_CAUSAL_LM when set, else under the corpus resources' Kneser-Ney n-gram model."""

    def build() -> np.ndarray:
        sentences = [s for s in a.sentences if s.words]
        lm = resources.get("causal_lm")
        if lm is not None:
            tokenizer, model = lm
            with _LM_LOCK:
                return _causal_lm_perplexities([s.text for s in sentences], tokenizer, model)
        return resources.get("corpus").lm.sentence_perplexities([s.words for s in sentences])

    return a.cached("sentence_perplexities", build)


@metric(
    "ppl_div",
    component=None,
    direction="higher",
    reference="WQRM guide §2.3.5 (perplexity diversity / burstiness); Kneser-Ney (nltk.lm) fallback",
    valid_range=(0.0, float("inf")),
    resources=("spacy", "corpus"),
)
def ppl_div(a: Analysis) -> float:
    """Perplexity burstiness: std / mean of the per-sentence perplexities (population std).

    Per-sentence perplexity 2^(−mean log₂ P) of the sentence's words padded with <s>/</s>, under
    a configurable causal LM (a local transformers directory in $WQRM_CAUSAL_LM) or, by default,
    the corpus resources' interpolated Kneser-Ney trigram model of human reference prose (nltk.lm's
    estimator; `wqrm.corpus.KneserNeyLM`). Range [0, ∞); machine text tends to be uniformly
    predictable (low), human text bursty (high). Descriptive (in no component) since session 26:
    as a `higher` member of S3 it paid for inserting predictable sentences among unpredictable
    ones (appended generic filler raised its goodness in 88% of pairs, from about 0.1 to above
    0.95), the filler a policy would learn to write (docs/design-decisions.md). Undefined for
    fewer than two sentences.
    """
    ppl = sentence_perplexities(a)
    if ppl.size < 2:
        raise MetricUndefined("fewer than two sentences with words")
    if not np.all(np.isfinite(ppl)):
        raise MetricUndefined("a sentence has zero probability under the language model")
    return float(ppl.std() / ppl.mean())


# --------------------------------------------------------------------------------------------
# Template constructions
# --------------------------------------------------------------------------------------------

_BE = ["is", "was", "are", "were", "'s", "’s", "'re", "’re", "am", "'m", "’m"]
_NOT = ["not", "n't", "n’t"]
_SUBJECT = ["it", "this", "that", "he", "she", "they", "we", "you", "i", "there"]
_NON_PUNCT = {"IS_PUNCT": False, "IS_SPACE": False}

#: Template constructions common in machine prose, as spaCy Matcher patterns.
SLOP_PATTERNS: dict[str, list[list[dict[str, Any]]]] = {
    # "not X but Y", "not X, but (rather) Y": parallel heads checked in `_parallel_not_but`
    "not_x_but_y": [
        [
            {"LOWER": {"IN": _NOT}},
            {"LOWER": {"IN": ["just", "only", "merely", "simply"]}, "OP": "?"},
            {**_NON_PUNCT, "LOWER": {"NOT_IN": ["but"]}, "OP": "{1,5}"},
            {"TEXT": {"IN": [",", ";", "—", "–", "-"]}, "OP": "?"},
            {"LOWER": "but"},
        ]
    ],
    # "It's not (just) X, it's Y", "This isn't X. It's Y.", "wasn't just old — it was ancient"
    "not_just_x_its_y": [
        [
            {"LOWER": {"IN": _BE}},
            {"LOWER": {"IN": _NOT}},
            {"LOWER": {"IN": ["just", "only", "merely", "simply", "about"]}, "OP": "?"},
            {**_NON_PUNCT, "OP": "{1,8}"},
            {"IS_PUNCT": True},
            {"LOWER": {"IN": _SUBJECT}},
            {"LOWER": {"IN": _BE}},
        ]
    ],
    # "cold, dark, and silent"; "slow, steady, deliberate"
    "adjective_triad": [
        [
            {"POS": "ADJ"},
            {"TEXT": ","},
            {"POS": "ADJ"},
            {"TEXT": ",", "OP": "?"},
            {"LOWER": {"IN": ["and", "or"]}},
            {"POS": "ADJ"},
        ],
        [{"POS": "ADJ"}, {"TEXT": ","}, {"POS": "ADJ"}, {"TEXT": ","}, {"POS": "ADJ"}],
    ],
    # "No warning, no sound, just silence."; "No X. No Y. Only Z."
    "no_x_no_y_just_z": [
        [
            {"LOWER": "no"},
            {**_NON_PUNCT, "OP": "{1,3}"},
            {"IS_PUNCT": True},
            {"LOWER": "no"},
            {**_NON_PUNCT, "OP": "{1,3}"},
            {"IS_PUNCT": True},
            {"LOWER": {"IN": ["just", "only", "no", "nothing"]}},
        ]
    ],
}

_MATCHERS: dict[int, Any] = {}
_MATCHER_LOCK = threading.Lock()


def _matcher(vocab):
    with _MATCHER_LOCK:
        m = _MATCHERS.get(id(vocab))
        if m is None:
            from spacy.matcher import Matcher

            m = Matcher(vocab)
            for name, patterns in SLOP_PATTERNS.items():
                m.add(name, patterns, greedy="LONGEST")
            _MATCHERS[id(vocab)] = m
        return m


_SKIP_AFTER_NOT = {"just", "only", "merely", "simply", "even"}
_SKIP_AFTER_BUT = {"rather", "also", "instead"}


def _parallel_not_but(doc, start: int, end: int) -> bool:
    """ "not X but Y" is a template only when X and Y open alike: the first token after "not"
    (past just/only/merely/simply/even) and the first after "but" (past rather/also/instead)
    share their lower-case form or their fine-grained tag (e.g. "not a …, but a …", "not to …
    but to …", "not tall but strong")."""
    i = start + 1
    while i < end and doc[i].lower_ in _SKIP_AFTER_NOT:
        i += 1
    j = end
    while j < len(doc) and doc[j].lower_ in _SKIP_AFTER_BUT:
        j += 1
    if i >= end - 1 or j >= len(doc):
        return False
    x, y = doc[i], doc[j]
    if y.is_punct or y.is_space:
        return False
    return x.lower_ == y.lower_ or (bool(x.tag_) and x.tag_ == y.tag_)


#: The longest match any `SLOP_PATTERNS` pattern can make, in tokens ("it is not just" + 8 + 3).
_LONGEST_MATCH = 14


def _candidate_windows(doc) -> list[tuple[int, int]]:
    """Token windows [start, end) of `doc` that hold every `SLOP_PATTERNS` match: each pattern
    opens on a negation, a form of "be" before one, an adjective before a comma, or "no", so a
    window runs from each such token for `_LONGEST_MATCH` tokens (overlaps merged). The Matcher
    builds a Python object per token it reads; reading the windows alone finds the same matches
    (a test compares) at a fraction of the cost on prose."""
    from spacy.attrs import LOWER, POS

    if len(doc) == 0:
        return []
    strings = doc.vocab.strings
    lower, pos = doc.to_array([LOWER, POS]).T
    negation = np.isin(lower, [strings[w] for w in _NOT])
    be = np.isin(lower, [strings[w] for w in _BE])
    opens = negation | (lower == strings["no"])
    opens[:-1] |= be[:-1] & negation[1:]
    opens[:-1] |= (pos[:-1] == strings["ADJ"]) & (lower[1:] == strings[","])
    windows: list[tuple[int, int]] = []
    for start in np.flatnonzero(opens).tolist():
        end = min(start + _LONGEST_MATCH, len(doc))
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def slop_pattern_matches(a: Analysis) -> list[dict[str, Any]]:
    """Template constructions in the text: {pattern, start, end (character offsets), text}.

    Matches of every pattern in `SLOP_PATTERNS` (spaCy Matcher, longest per start), filtered to
    non-overlapping spans (`spacy.util.filter_spans`); "not X but Y" must be parallel.
    """
    from spacy.util import filter_spans

    out = []
    for p in a.paragraphs:
        for doc in p.docs:
            matcher = _matcher(doc.vocab)
            spans = []
            found = [
                (m, lo + i, lo + j) for lo, hi in _candidate_windows(doc) for m, i, j in matcher(doc[lo:hi])
            ]
            for match_id, start, end in found:
                label = doc.vocab.strings[match_id]
                if label == "not_x_but_y" and not _parallel_not_but(doc, start, end):
                    continue
                spans.append(doc[start:end])
                spans[-1].label_ = label
            offset = a.doc_offset(doc)
            for span in filter_spans(spans):
                out.append(
                    {
                        "pattern": span.label_,
                        "start": offset + span.start_char,
                        "end": offset + span.end_char,
                        "text": span.text,
                    }
                )
    return out


@metric(
    "slop_pattern_rate",
    component="S3",
    direction="lower",
    reference="WQRM guide §3.2.3 (repetitive template constructions); spaCy Matcher patterns",
    valid_range=(0.0, float("inf")),
    best=0.0,
    languages=("en",),  # English template constructions
)
def slop_pattern_rate(a: Analysis) -> float:
    """Template constructions per 100 words: 100 · matches / N.

    Patterns (`SLOP_PATTERNS`): parallel "not X but Y"; "it's not (just) X, it's Y"; adjective
    triads ("cold, dark, and silent"); "no X, no Y, just Z". Range [0, ∞); 0 for most human prose.
    """
    n = len(a.words)
    if n == 0:
        raise MetricUndefined("no words (the text holds only punctuation or symbols)")
    return 100.0 * len(a.cached("slop_pattern_matches", lambda: slop_pattern_matches(a))) / n


def slop_spans(a: Analysis) -> list[dict[str, Any]]:
    """The readable evidence of S3 as spans: every matched generic phrase ("Generic phrase") and
    template construction ("Template: <pattern>"), {start, end, label, probability: 1.0,
    source: "phrases"}, in text order. The probability is 1: these are matches, not predictions."""
    spans = [
        {
            "start": m["start"],
            "end": m["end"],
            "label": "Generic phrase",
            "probability": 1.0,
            "source": "phrases",
        }
        for m in generic_phrase_matches(a)
    ]
    spans += [
        {
            "start": m["start"],
            "end": m["end"],
            "label": f"Template: {m['pattern']}",
            "probability": 1.0,
            "source": "phrases",
        }
        for m in a.cached("slop_pattern_matches", lambda: slop_pattern_matches(a))
    ]
    return sorted(spans, key=lambda s: (s["start"], s["end"]))
