"""Task-specific quality (component S5): how well a text does the task it was written for.

The task context comes from `MetricContext`: `task` ("continue", "rephrase" or "storygen"),
`prompt` (the text being continued, or the source being rephrased) and `references` (reference
continuations / rephrasings, or a set of existing stories). Without a task every S5 metric is
undefined ("no task context"), so S5 drops out of the composite; a metric of another task is
undefined too.

* continue: `bleu`, `chrf` (sacrebleu) and `rouge_l` (rouge-score) against the references;
  `style_preservation` (prompt vs continuation style) and `narrative_coherence` (across the
  boundary).
* rephrase: `meaning_preservation` (embedding cosine with the source) and `bertscore_f1`
  (bert-score on the packaged MiniLM); `bleu`, `chrf`, `rouge_l` when references are given.
* storygen: `plot_originality` (distance to the nearest reference story).

Context texts are parsed (and embedded) by the caller, in the same batched call as the texts
(`MetricContext.prompt_analysis`, `.reference_analyses`; see `MetricContext.texts_to_parse`):
no metric here parses text.

Goodness: reference text alone cannot profile these metrics, so each registry `band` anchors a
linear ramp (`Profile.goodness`): bleu 0 → 50, chrf 0 → 60, rouge_l 0 → 0.6, style_preservation
0.5 → 1, meaning_preservation 0.5 → 1, bertscore_f1 0.4 → 1 (raw MiniLM BERTScore of unrelated
text is about 0.3-0.5), plot_originality 0.2 → 0.8; narrative_coherence is a `band` metric
(0.3-0.7, like `sc`). These anchors are judgement calls, to be replaced by task-specific
profiles or the learned weights when task data is available.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np

from wqrm import resources
from wqrm.analysis import Analysis
from wqrm.metrics.linguistic import js_divergence
from wqrm.metrics.registry import MetricContext, MetricUndefined, metric
from wqrm.metrics.style import (
    MATTR_WINDOW,
    TTR_MIN_WORDS,
    formality,
    mattr,
    sentence_length_histogram,
    text_embedding,
    ttr_consistency_between,
)
from wqrm.tasks import TASKS

__all__ = [
    "TASKS",
    "bertscore_f1",
    "bleu",
    "chrf",
    "meaning_preservation",
    "narrative_coherence",
    "plot_originality",
    "rouge_l",
    "style_preservation",
]

_OVERLAP_TASKS = ("continue", "rephrase")


def _task(ctx: MetricContext | None, allowed: Sequence[str]) -> str:
    task = None if ctx is None else ctx.task
    if task is None:
        raise MetricUndefined("no task context")
    if task not in allowed:
        raise MetricUndefined(f"not a {task} metric (computed for: {', '.join(allowed)})")
    return task


def _prompt(ctx: MetricContext) -> str:
    if not ctx.prompt or not ctx.prompt.strip():
        raise MetricUndefined(f"no prompt / source text for the {ctx.task} task")
    return ctx.prompt


def _references(ctx: MetricContext) -> list[str]:
    refs = [r for r in (ctx.references or []) if r and r.strip()]
    if not refs:
        raise MetricUndefined(f"no references for the {ctx.task} task")
    return refs


def _prompt_analysis(ctx: MetricContext) -> Analysis:
    _prompt(ctx)
    if ctx.prompt_analysis is None:
        raise MetricUndefined(
            f"the prompt / source text of the {ctx.task} task was not parsed (not valid text)"
        )
    return ctx.prompt_analysis


def _reference_analyses(ctx: MetricContext) -> list[Analysis]:
    _references(ctx)
    refs = list(ctx.reference_analyses or [])
    if not refs:
        raise MetricUndefined(f"no reference of the {ctx.task} task could be parsed (not valid text)")
    return refs


# ---- n-gram overlap with references (sacrebleu, rouge-score) ---------------------------------


@metric(
    "bleu",
    component="S5",
    direction="higher",
    reference="Papineni et al. 2002 (BLEU); Post 2018 (sacrebleu)",
    valid_range=(0.0, 100.0),
    band=(0.0, 50.0),
)
def bleu(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Sentence BLEU of the text against the references, by `sacrebleu.sentence_bleu`.

    sacrebleu defaults: 13a tokenisation, exponential smoothing, n = 1..4, brevity penalty;
    multiple references are used jointly. Range [0, 100]. Tasks: continue, rephrase.
    """
    _task(ctx, _OVERLAP_TASKS)
    import sacrebleu

    return float(sacrebleu.sentence_bleu(a.text, _references(ctx)).score)


@metric(
    "chrf",
    component="S5",
    direction="higher",
    reference="Popović 2015 (chrF); Post 2018 (sacrebleu)",
    valid_range=(0.0, 100.0),
    band=(0.0, 60.0),
)
def chrf(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Sentence chrF of the text against the references, by `sacrebleu.sentence_chrf`.

    sacrebleu defaults: character n-grams 1..6, β = 2, no word n-grams; multiple references
    scored jointly (best). Range [0, 100]. Tasks: continue, rephrase.
    """
    _task(ctx, _OVERLAP_TASKS)
    import sacrebleu

    return float(sacrebleu.sentence_chrf(a.text, _references(ctx)).score)


class _UnicodeWords:
    """rouge-score tokenizer for non-English text: lower-cased `\\w+` runs, no stemming (the
    default tokenizer keeps only [a-z0-9], which would erase Cyrillic text)."""

    def tokenize(self, text: str) -> list[str]:
        return re.findall(r"\w+", text.lower())


@functools.cache
def _rouge_scorer(lang: str = "en"):
    from rouge_score import rouge_scorer  # loaded on first use: only continue/rephrase need it

    if lang == "en":
        return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=_UnicodeWords())


@metric(
    "rouge_l",
    component="S5",
    direction="higher",
    reference="Lin 2004 (ROUGE-L); Google rouge-score",
    valid_range=(0.0, 1.0),
    band=(0.0, 0.6),
)
def rouge_l(a: Analysis, ctx: MetricContext | None = None) -> float:
    """ROUGE-L F-measure of the text against the references, by `rouge_score` (Porter stemming).

    Longest common subsequence of the tokenised text and reference; with several references the
    best F-measure (`RougeScorer.score_multi`). Range [0, 1]. Tasks: continue, rephrase. Russian
    text: lower-cased Unicode word tokens, unstemmed.
    """
    _task(ctx, _OVERLAP_TASKS)
    return float(_rouge_scorer(a.lang).score_multi(_references(ctx), a.text)["rougeL"].fmeasure)


# ---- continue: style preservation and narrative coherence ------------------------------------


def _sentence_length_similarity(prompt: Analysis, a: Analysis) -> float | None:
    p, t = sentence_length_histogram(prompt), sentence_length_histogram(a)
    if p.sum() == 0 or t.sum() == 0:
        return None
    return 1.0 - js_divergence(dict(enumerate(p.tolist())), dict(enumerate(t.tolist())))


def _ttr_similarity(prompt: Analysis, a: Analysis) -> float | None:
    window = min(MATTR_WINDOW, len(prompt.words), len(a.words))
    if window < TTR_MIN_WORDS:
        return None
    return ttr_consistency_between(mattr(prompt.words, window), mattr(a.words, window))


def _formality_similarity(prompt: Analysis, a: Analysis) -> float | None:
    if not prompt.words or not a.words:
        return None
    return 1.0 - abs(formality(prompt) - formality(a)) / 100.0


@metric(
    "style_preservation",
    component="S5",
    direction="higher",
    reference="WQRM guide §2.3.5 (continue: style preservation)",
    valid_range=(0.0, 1.0),
    band=(0.5, 1.0),
)
def style_preservation(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Similarity of the continuation's style to the prompt's, mean of three similarities in [0, 1].

    * sentence lengths: 1 − JS(P_prompt, P_text) (bits) over `sld_kl`'s 13 length bins;
    * vocabulary richness: 1 − |TTR_p − TTR_t| / TTR_p, both moving-average TTRs over windows of
      min(50, N_prompt, N_text) words (left out under 10 words);
    * formality: 1 − |F_p − F_t| / 100 (Heylighen & Dewaele F-score).
    Averaged over the similarities both texts support. Range [0, 1]. Task: continue.
    """
    _task(ctx, ("continue",))
    prompt = _prompt_analysis(ctx)
    parts = [
        s
        for s in (
            _sentence_length_similarity(prompt, a),
            _ttr_similarity(prompt, a),
            _formality_similarity(prompt, a),
        )
        if s is not None
    ]
    if not parts:
        raise MetricUndefined("the prompt or the continuation holds no words")
    return float(np.mean(parts))


@metric(
    "narrative_coherence",
    component="S5",
    direction="band",
    band=(0.3, 0.7),
    reference="WQRM guide §2.3.5 (continue: narrative coherence; SC across the boundary)",
    valid_range=(-1.0, 1.0),
    resources=("spacy", "sentence_encoder"),
)
def narrative_coherence(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Semantic continuity across the prompt/continuation boundary: cos(e_last(prompt), e_first(text)).

    e = unit all-MiniLM-L6-v2 sentence embeddings: SC's adjacent-sentence cosine, taken at the
    one pair that straddles the boundary. Range [−1, 1]; `band` 0.3-0.7 like `sc` (a restatement
    scores too high, a non sequitur too low). Task: continue.
    """
    _task(ctx, ("continue",))
    prompt = _prompt_analysis(ctx)
    if not prompt.sentences or not a.sentences:
        raise MetricUndefined("the prompt or the continuation holds no sentence")
    return float(np.clip(prompt.sentence_embeddings[-1] @ a.sentence_embeddings[0], -1.0, 1.0))


# ---- rephrase: meaning preservation and BERTScore --------------------------------------------


@metric(
    "meaning_preservation",
    component="S5",
    direction="higher",
    reference="WQRM guide §2.3.5 (rephrase: semantic similarity); all-MiniLM-L6-v2",
    valid_range=(-1.0, 1.0),
    resources=("spacy", "sentence_encoder"),
    band=(0.5, 1.0),
)
def meaning_preservation(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Embedding cosine between the source and its rephrasing: cos(embedding(source), embedding(text)).

    embedding = normalised mean of the paragraph embeddings, each the normalised mean of its
    all-MiniLM-L6-v2 sentence embeddings (as for `pva`). Range [−1, 1]. Task: rephrase.
    """
    _task(ctx, ("rephrase",))
    source = _prompt_analysis(ctx)
    if not source.sentences or not a.sentences:
        raise MetricUndefined("the source or the rephrasing holds no sentence")
    return float(np.clip(text_embedding(source) @ text_embedding(a), -1.0, 1.0))


@metric(
    "bertscore_f1",
    component="S5",
    direction="higher",
    reference="Zhang et al. 2020 (BERTScore); bert-score on all-MiniLM-L6-v2, layer 6",
    valid_range=(-1.0, 1.0),
    resources=("spacy", "bertscore"),
    band=(0.4, 1.0),
)
def bertscore_f1(a: Analysis, ctx: MetricContext | None = None) -> float:
    """BERTScore F1 of the rephrasing against the references, or against the source without them.

    `bert_score.BERTScorer` on the packaged all-MiniLM-L6-v2 (a local path, never downloaded),
    token embeddings of layer 6 (its last), no idf weighting and **no baseline rescaling**, so
    values are raw greedy-matching cosines (unrelated English text still scores about 0.3-0.5).
    Several references: the best. Inputs longer than 512 word pieces are truncated by
    bert-score. Range [−1, 1]. Task: rephrase.
    """
    _task(ctx, ("rephrase",))
    refs = [r for r in (ctx.references or []) if r and r.strip()] or [_prompt(ctx)]
    _p, _r, f1 = resources.get("bertscore").score([a.text], [refs])
    return float(f1[0])


# ---- storygen: plot originality --------------------------------------------------------------


@metric(
    "plot_originality",
    component="S5",
    direction="higher",
    reference="WQRM guide §2.3.5 (storygen: plot originality); all-MiniLM-L6-v2",
    valid_range=(0.0, 2.0),
    resources=("spacy", "sentence_encoder"),
    band=(0.2, 0.8),
)
def plot_originality(a: Analysis, ctx: MetricContext | None = None) -> float:
    """Distance to the nearest reference story: 1 − max_r cos(embedding(text), embedding(r)).

    Embeddings as for `meaning_preservation`; the references are a set of existing stories.
    Range [0, 2]; 0 for a retelling of a reference. Task: storygen.
    """
    _task(ctx, ("storygen",))
    refs = [r for r in _reference_analyses(ctx) if r.sentences]
    if not refs or not a.sentences:
        raise MetricUndefined("the story or every reference holds no sentence")
    sims = np.array([text_embedding(r) @ text_embedding(a) for r in refs])
    return float(np.clip(1.0 - sims.max(), 0.0, 2.0))
