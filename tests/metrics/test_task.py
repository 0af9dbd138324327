import json

import bert_score
import numpy as np
import pytest
import sacrebleu
from typer.testing import CliRunner

import wqrm
import wqrm.metrics as M
from wqrm.cli import app
from wqrm.metrics.registry import MetricContext
from wqrm.metrics.task import (
    bertscore_f1,
    bleu,
    chrf,
    meaning_preservation,
    narrative_coherence,
    plot_originality,
    rouge_l,
    style_preservation,
)
from wqrm.resources import minilm_path

S5 = [n for n, s in M.specs().items() if s.component == "S5"]
PROMPT = "The lighthouse keeper climbed the stairs. He counted every step, as he always did."
CONTINUATION = "At the top, the lamp was cold. He struck a match and waited for the wick to catch."


def ctx(**kw):
    """A context with its prompt and references parsed, as the scorer passes it to metrics."""
    return MetricContext(**kw).parsed()


def test_every_s5_metric_is_undefined_without_a_task():
    mv = M.compute(CONTINUATION, names=S5)
    assert set(S5) >= {
        "bleu",
        "chrf",
        "rouge_l",
        "style_preservation",
        "meaning_preservation",
        "plot_originality",
    }
    for name in S5:
        assert mv[name] is None and mv.reasons[name] == "no task context", name


def test_metrics_of_another_task_are_undefined():
    mv = M.compute(
        CONTINUATION,
        names=["meaning_preservation", "plot_originality", "style_preservation"],
        context=ctx(task="continue", prompt=PROMPT, references=[CONTINUATION]),
    )
    assert mv["style_preservation"] is not None
    assert "not a continue metric" in mv.reasons["meaning_preservation"]
    assert "not a continue metric" in mv.reasons["plot_originality"]


def test_missing_prompt_or_references_is_a_reason():
    mv = M.compute(CONTINUATION, names=["bleu", "style_preservation"], context=ctx(task="continue"))
    assert "no references" in mv.reasons["bleu"] and "no prompt" in mv.reasons["style_preservation"]


# ---- n-gram overlap: the libraries' values ---------------------------------------------------


def test_bleu_and_chrf_are_sacrebleus():
    refs = ["At the top the lamp was cold, so he struck a match.", "The lamp at the top had gone cold."]
    a = wqrm.analyze(CONTINUATION)
    c = ctx(task="continue", prompt=PROMPT, references=refs)
    assert bleu(a, c) == pytest.approx(sacrebleu.sentence_bleu(CONTINUATION, refs).score)
    assert chrf(a, c) == pytest.approx(sacrebleu.sentence_chrf(CONTINUATION, refs).score)
    same = ctx(task="rephrase", prompt=PROMPT, references=[CONTINUATION])
    assert bleu(a, same) == pytest.approx(100.0) and chrf(a, same) == pytest.approx(100.0)


def test_rouge_l_golden():
    a = wqrm.analyze("the cat sat on the mat")
    # LCS with "the cat lay on the mat" = the cat on the mat (5 tokens): P = R = 5/6 → F = 5/6
    assert rouge_l(a, ctx(task="continue", references=["the cat lay on the mat"])) == pytest.approx(5 / 6)
    # several references: the best F
    refs = ["a dog barked", "the cat sat on the mat"]
    assert rouge_l(a, ctx(task="continue", references=refs)) == pytest.approx(1.0)


# ---- continue: style preservation, narrative coherence ----------------------------------------


def test_style_preservation_of_a_text_with_itself_is_one():
    a = wqrm.analyze(PROMPT)
    assert style_preservation(a, ctx(task="continue", prompt=PROMPT)) == pytest.approx(1.0)


def test_style_preservation_golden_formality_only(tree):
    # hand-tagged: "Dogs bark ." (NOUN VERB) and "Cats chase mice ." (NOUN VERB NOUN). Both under
    # 10 words, so TTR is left out; one sentence each, lengths 2 and 3, both in bin 0: JS = 0 →
    # sentence-length similarity 1. Formality: F = (100·(1 − 1)/2 + 100)/2 = 50 and
    # (100·(2 − 1)/3 + 100)/2 = 66.67 → 1 − 16.67/100. Mean of the two similarities.
    prompt = tree(["Dogs", "bark", "."], [1, 1, 1], ["nsubj", "ROOT", "punct"], ["NOUN", "VERB", "PUNCT"])
    c = MetricContext(task="continue", prompt="Dogs bark .", prompt_analysis=prompt)
    a = tree(
        ["Cats", "chase", "mice", "."],
        [1, 1, 1, 1],
        ["nsubj", "ROOT", "dobj", "punct"],
        ["NOUN", "VERB", "NOUN", "PUNCT"],
    )
    assert style_preservation(a, c) == pytest.approx((1.0 + (1 - (200 / 3 - 50) / 100)) / 2)


def test_narrative_coherence_golden_with_known_embeddings():
    c = ctx(task="continue", prompt="First. Last.")
    prompt = c.prompt_analysis
    prompt._embeddings = np.array([[1.0, 0.0], [0.6, 0.8]])
    a = wqrm.analyze("Next. Then.")
    a._embeddings = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert narrative_coherence(a, c) == pytest.approx(0.6)  # cos(last of prompt, first of text)


# ---- rephrase: meaning preservation, BERTScore -----------------------------------------------


def test_meaning_preservation(encoder):
    source = "The meeting was moved to Friday because the manager was ill."
    same = meaning_preservation(wqrm.analyze(source), ctx(task="rephrase", prompt=source))
    assert same == pytest.approx(1.0, abs=1e-6)
    close = meaning_preservation(
        wqrm.analyze("Because the manager was sick, the meeting moved to Friday."),
        ctx(task="rephrase", prompt=source),
    )
    far = meaning_preservation(
        wqrm.analyze("Penguins huddle together to survive the Antarctic winter."),
        ctx(task="rephrase", prompt=source),
    )
    assert 0.6 < close < 1.0 and far < close


def test_bertscore_f1_is_bert_scores():
    source = "The meeting was moved to Friday because the manager was ill."
    cand = "Because the manager was sick, the meeting moved to Friday."
    got = bertscore_f1(wqrm.analyze(cand), ctx(task="rephrase", prompt=source))
    _p, _r, f1 = bert_score.score([cand], [source], model_type=str(minilm_path()), num_layers=6)
    assert got == pytest.approx(float(f1[0]), abs=1e-5)
    assert bertscore_f1(wqrm.analyze(source), ctx(task="rephrase", prompt=source)) == pytest.approx(
        1.0, abs=1e-5
    )
    # with references, they replace the source; the best reference counts
    with_refs = bertscore_f1(
        wqrm.analyze(cand), ctx(task="rephrase", prompt=source, references=["x y z", cand])
    )
    assert with_refs == pytest.approx(1.0, abs=1e-5)


# ---- storygen: plot originality --------------------------------------------------------------


def test_plot_originality_golden_with_known_embeddings():
    c = ctx(task="storygen", references=["Ref one.", "Ref two."])
    r1, r2 = c.reference_analyses
    r1._embeddings, r2._embeddings = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    a = wqrm.analyze("A story.")
    a._embeddings = np.array([[0.6, 0.8]])
    assert plot_originality(a, c) == pytest.approx(1 - 0.8)  # nearest reference: cos 0.8


def test_plot_originality_of_a_reference_is_zero(encoder):
    story = "A dragon guarded a library and read every book twice."
    mv = M.compute(
        story, names=["plot_originality"], context=ctx(task="storygen", references=[story, "Other."])
    )
    assert mv["plot_originality"] == pytest.approx(0.0, abs=1e-6)


# ---- scorer and command line -----------------------------------------------------------------


def test_scorer_s5_only_with_a_task(scorer):
    plain = scorer.score(CONTINUATION)
    assert plain.components["S5"] is None and "S5" not in plain.used_components
    r = scorer.score(CONTINUATION, task="continue", prompt=PROMPT, references=[CONTINUATION])
    assert r.metrics["bleu"] == pytest.approx(100.0) and r.components["S5"] is not None
    assert "S5" in r.used_components
    with pytest.raises(ValueError, match="unknown task"):
        scorer.score(CONTINUATION, task="summarise")


def test_score_batch_shares_the_context(scorer):
    batch = scorer.score_batch([CONTINUATION, PROMPT], task="rephrase", prompt=PROMPT)
    assert batch[1].metrics["meaning_preservation"] == pytest.approx(1.0, abs=1e-6)
    assert batch[0].metrics["meaning_preservation"] < 1.0


def test_cli_task_options(tmp_path):
    text, prompt, ref = tmp_path / "c.txt", tmp_path / "p.txt", tmp_path / "r.jsonl"
    text.write_text(CONTINUATION, encoding="utf-8")
    prompt.write_text(PROMPT, encoding="utf-8")
    ref.write_text(json.dumps({"text": CONTINUATION}) + "\n" + json.dumps({"text": "Other."}) + "\n")
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "score",
            "--json",
            "--task",
            "continue",
            "--prompt-file",
            str(prompt),
            "--references",
            str(ref),
            str(text),
        ],
    )
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["metrics"]["bleu"] == pytest.approx(100.0) and d["components"]["S5"] is not None
    assert set(d) >= {"file", "score", "components", "metrics", "used_components", "version"}
    bad = runner.invoke(app, ["score", "--task", "poem", str(text)])
    assert bad.exit_code == 2 and "--task must be one of" in bad.output
    orphan = runner.invoke(app, ["score", "--prompt-file", str(prompt), str(text)])
    assert orphan.exit_code == 2 and "need --task" in orphan.output
