"""The optional ONNX Runtime backends of the S1 edit model's encoder (wqrm.edit.onnx_backend)."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from wqrm import resources
from wqrm.cli import app
from wqrm.edit import onnx_backend
from wqrm.edit.onnx_backend import ENV_VAR, exported_model, require_onnx, selected_backend, with_backend
from wqrm.errors import ResourceMissingError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "lighthouse.txt"
runner = CliRunner()

TEXTS = [
    "The ferry left at dawn. Gulls followed it past the breakwater, and the harbour lights went out one "
    "by one behind us.",
    "It is important to note that the journey is a tapestry of experiences that shape who we are.",
    "She kept the letters in a biscuit tin under the stairs.\n\nNobody read them until the house was sold.",
    "word word word word word word word word word word word word",
    "He counted the boats twice, lost count, and went home without supper.",
]


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory) -> Path:
    pytest.importorskip("onnxruntime", reason="the onnx extra is not installed (pip install 'wqrm[onnx]')")
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def torch_model():
    from wqrm.edit.model import load_reward_model
    from wqrm.metrics.edit import shipped_dir

    return load_reward_model(shipped_dir())


@pytest.fixture(scope="module")
def onnx_models(torch_model, onnx_cache):
    return {b: with_backend(copy.copy(torch_model), b, cache=onnx_cache) for b in ("onnx-fp32", "onnx-int8")}


def test_selected_backend(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert selected_backend() == "torch"
    monkeypatch.setenv(ENV_VAR, "onnx-int8")
    assert selected_backend() == "onnx-int8"
    assert selected_backend("onnx-fp32") == "onnx-fp32"
    with pytest.raises(ValueError, match="unknown edit backend 'onnx-fp16'"):
        selected_backend("onnx-fp16")


def test_torch_backend_is_the_model_itself(torch_model):
    assert with_backend(torch_model, "torch") is torch_model
    assert torch_model.backend == "torch"


def test_missing_onnxruntime_is_refused_with_the_fix(monkeypatch, torch_model):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` raises ImportError
    with pytest.raises(ResourceMissingError, match=r"need onnxruntime.*pip install 'wqrm\[onnx\]'"):
        require_onnx()
    with pytest.raises(ResourceMissingError, match="onnxruntime"):
        with_backend(copy.copy(torch_model), "onnx-fp32")
    monkeypatch.setenv(ENV_VAR, "torch")  # restored (deleted) after the test: the CLI sets it
    result = runner.invoke(app, ["score", "--edit-backend", "onnx-int8", str(EXAMPLE)])
    assert result.exit_code == 2
    assert "onnxruntime" in result.output and "wqrm[onnx]" in result.output


def test_unknown_backend_is_a_usage_error():
    result = runner.invoke(app, ["score", "--edit-backend", "tensorrt", str(EXAMPLE)])
    assert result.exit_code == 2
    assert "--edit-backend must be one of torch, onnx-fp32, onnx-int8" in result.output


def test_other_model_kinds_are_refused():
    class Transformer:
        kind = "lora"

    with pytest.raises(ValueError, match="frozen-encoder edit models only"):
        with_backend(Transformer(), "onnx-fp32")


def test_fp32_matches_torch(torch_model, onnx_models):
    # measured: max |Δ reward| 3e-6 over 200 LAMP paragraphs (benchmarks/results/edit_backends.md)
    exact = torch_model.score(TEXTS)
    fast = onnx_models["onnx-fp32"].score(TEXTS)
    assert onnx_models["onnx-fp32"].backend == "onnx-fp32"
    np.testing.assert_allclose(fast, exact, rtol=0, atol=1e-4)
    assert np.max(np.abs(fast - exact)) > 0  # it really ran another encoder


def test_fp32_embeddings_match_sentence_transformers(onnx_models, encoder):
    ours = onnx_models["onnx-fp32"].encoder.encode(TEXTS, normalize_embeddings=True)
    st = encoder.encode(TEXTS, convert_to_numpy=True, normalize_embeddings=True)
    np.testing.assert_allclose(ours, st, rtol=0, atol=1e-5)


def test_int8_is_close_and_ranks_like_torch(torch_model, onnx_models):
    exact = torch_model.features(TEXTS)
    fast = onnx_models["onnx-int8"].features(TEXTS)
    cos = np.sum(exact * fast, 1) / np.linalg.norm(exact, axis=1) / np.linalg.norm(fast, axis=1)
    assert cos.min() > 0.99  # measured ≥ 0.996 on these texts
    assert not np.allclose(exact, fast, atol=1e-4)  # quantised: really another encoder


@pytest.mark.parametrize("backend", ["onnx-fp32", "onnx-int8"])
def test_batch_invariance(onnx_models, backend):
    model = onnx_models[backend]
    together = model.score(TEXTS)
    alone = np.array([model.score([t])[0] for t in TEXTS])
    assert np.max(np.abs(together - alone)) <= 1e-12
    pairs = np.concatenate([model.score(TEXTS[i : i + 2]) for i in range(0, len(TEXTS), 2)])
    assert np.max(np.abs(together - pairs)) <= 1e-12


def test_export_is_cached_and_atomic(onnx_models, onnx_cache, monkeypatch):
    from wqrm.resources import minilm_path

    fp32 = exported_model(minilm_path(), "fp32", onnx_cache)
    int8 = exported_model(minilm_path(), "int8", onnx_cache)
    assert fp32.exists() and int8.exists() and fp32 != int8
    assert int8.stat().st_size < fp32.stat().st_size / 3  # int8 weights: about a quarter
    assert not list(onnx_cache.glob("*.tmp"))  # no temporary file left behind
    stamp = fp32.stat().st_mtime_ns

    def fail(*_):
        raise AssertionError("re-exported although the cached graph exists")

    monkeypatch.setattr(onnx_backend, "_export_fp32", fail)
    assert exported_model(minilm_path(), "fp32", onnx_cache) == fp32
    assert fp32.stat().st_mtime_ns == stamp


def test_failed_export_leaves_nothing(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from wqrm.resources import minilm_path

    def broken(_src, out):
        out.write_bytes(b"half a graph")
        raise RuntimeError("disk full")

    monkeypatch.setattr(onnx_backend, "_export_fp32", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        exported_model(minilm_path(), "fp32", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_cli_edit_backend_runs_s1_on_onnx(monkeypatch, onnx_cache, scorer):
    """`wqrm score --edit-backend onnx-fp32` loads the edit model on ONNX Runtime; S1 stays close
    to the default's."""
    exact = scorer.score(EXAMPLE.read_text(encoding="utf-8"))
    monkeypatch.setenv("WQRM_CACHE_DIR", str(onnx_cache))
    monkeypatch.setenv(ENV_VAR, "torch")  # restored (deleted) after the test: the CLI sets it
    resources.set_override("edit_model", None)
    try:
        result = runner.invoke(app, ["score", "--json", "--edit-backend", "onnx-fp32", str(EXAMPLE)])
        assert result.exit_code == 0, result.output
        assert resources.get("edit_model").backend == "onnx-fp32"
    finally:
        resources.set_override("edit_model", None)  # the next test loads the default again
    fast = json.loads(result.stdout)
    assert fast["metrics"]["edit_reward"] == pytest.approx(exact.metrics["edit_reward"], abs=1e-4)
    assert fast["score"] == pytest.approx(exact.score, abs=1e-4)
