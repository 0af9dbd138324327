"""Optional ONNX Runtime backends for the frozen edit model's paragraph-encoder pass.

The S1 edit model (`EmbeddingHeadReward`) encodes paragraphs with all-MiniLM-L6-v2 in float64
(exact and batch-invariant, the default backend ``torch``). Two opt-in backends run the same
encoder with ONNX Runtime instead, for speed:

* ``onnx-fp32``: the encoder exported to ONNX, float32;
* ``onnx-int8``: the same graph with dynamic int8 quantisation (`onnxruntime.quantization.
  quantize_dynamic`, QInt8 weights with per-channel scales; activations quantised per call).

Mean pooling, unit normalisation and the heads stay in float64 numpy / torch; only the
transformer runs in ONNX Runtime, one paragraph per call: no padding and no batch-wide
activation scale, so a paragraph's embedding does not depend on what else is scored with it
(batch invariance by construction; batching saved nothing measurable on 2 cores).

Select one with ``WQRM_EDIT_BACKEND`` or ``wqrm score --edit-backend``. The figures that decide
whether one may become the default (dev accuracy within 0.005 of the exact one, its largest
score difference, batch invariance) are in ``benchmarks/results/edit_backends.md``
(`benchmarks/perf/edit_backends.py`).

Nothing is downloaded: the graph is exported from the locally installed MiniLM at first use into
the cache directory (``$WQRM_CACHE_DIR``, else ``$XDG_CACHE_HOME/wqrm``, else ``~/.cache/wqrm``),
named by a digest of the encoder's files and the exporter's versions, and written atomically
(a temporary file in the same directory, then `os.replace`), so concurrent first uses never
read a partial file and need no lock. Needs the ``onnx`` extra: ``pip install 'wqrm[onnx]'``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from wqrm import resources
from wqrm.errors import ResourceMissingError

__all__ = [
    "BACKENDS",
    "ENV_VAR",
    "OnnxSentenceEncoder",
    "cache_dir",
    "exported_model",
    "require_onnx",
    "selected_backend",
    "with_backend",
]

#: The edit-encoder backends; the first is the default (exact, float64 torch).
BACKENDS = ("torch", "onnx-fp32", "onnx-int8")
ENV_VAR = "WQRM_EDIT_BACKEND"
#: Bumped when the exported graph's inputs/outputs or the export recipe change.
EXPORT_FORMAT = 1
OPSET = 17
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def selected_backend(value: str | None = None) -> str:
    """`value`, else ``$WQRM_EDIT_BACKEND``, else ``torch``; a ValueError names the choices."""
    name = (value if value is not None else os.environ.get(ENV_VAR, "")).strip() or BACKENDS[0]
    if name not in BACKENDS:
        raise ValueError(
            f"unknown edit backend {name!r} (from {ENV_VAR} or --edit-backend); use one of {BACKENDS}"
        )
    return name


def cache_dir() -> Path:
    """Where exported graphs are kept: $WQRM_CACHE_DIR, else $XDG_CACHE_HOME/wqrm, else ~/.cache/wqrm."""
    if os.environ.get("WQRM_CACHE_DIR"):
        return Path(os.environ["WQRM_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "wqrm"


def require_onnx() -> None:
    """Raise `ResourceMissingError` with the fix when onnxruntime or onnx is not installed."""
    missing = []
    for module in ("onnxruntime", "onnx"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise ResourceMissingError(
            f"the ONNX edit backends need {' and '.join(missing)}, which is not installed. Fix: "
            "`pip install 'wqrm[onnx]'` (make install does), or use the default backend "
            f"(--edit-backend torch, or unset {ENV_VAR})."
        )


def _digest(model_dir: Path) -> str:
    """sha256 over the encoder's files and the versions of the exporter and quantiser."""
    import onnxruntime
    import torch

    h = hashlib.sha256(f"{EXPORT_FORMAT}/{OPSET}/{torch.__version__}/{onnxruntime.__version__}".encode())
    for path in sorted(p for p in model_dir.iterdir() if p.is_file()):
        h.update(path.name.encode())
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:16]


def _atomic(target: Path, write) -> None:
    """Run `write(tmp_path)` and move the result onto `target` in one step."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o644 & ~umask)  # mkstemp makes it private; the cache may be shared
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _export_fp32(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel, AutoTokenizer

    class LastHidden(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    encoder = AutoModel.from_pretrained(str(model_dir), local_files_only=True).float().eval()
    sample = tokenizer(
        ["a short one", "and a somewhat longer second sample"], padding=True, return_tensors="pt"
    )
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches
        torch.onnx.export(
            LastHidden(encoder),
            tuple(sample[name] for name in _INPUTS),
            str(out),
            input_names=list(_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: no onnxscript, nothing fetched
        )


def _quantize_int8(src: Path, out: Path) -> None:
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().setLevel(max(logging.getLogger().level, logging.ERROR))  # "run pre-processing"
    # per-channel weight scales: a third of the per-tensor error on MiniLM (benchmarks/perf/edit_backends.py)
    quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, per_channel=True)


def exported_model(model_dir: str | Path, variant: str, cache: str | Path | None = None) -> Path:
    """The ONNX graph of the transformer in `model_dir` (``fp32`` or ``int8``), exported (and
    quantised) into `cache` at first use and reused afterwards."""
    require_onnx()
    if variant not in ("fp32", "int8"):
        raise ValueError(f"variant must be fp32 or int8, not {variant!r}")
    model_dir = Path(model_dir)
    folder = Path(cache) if cache is not None else cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{model_dir.name}-{_digest(model_dir)}"
    fp32 = folder / f"{stem}-fp32.onnx"
    if not fp32.exists():
        _atomic(fp32, lambda tmp: _export_fp32(model_dir, tmp))
    if variant == "fp32":
        return fp32
    int8 = folder / f"{stem}-int8.onnx"
    if not int8.exists():
        _atomic(int8, lambda tmp: _quantize_int8(fp32, tmp))
    return int8


class OnnxSentenceEncoder:
    """A mean-pooling sentence encoder whose transformer runs in ONNX Runtime.

    `encode` has the signature `wqrm.analysis.encode_unit` calls (that of
    `SentenceTransformer.encode`); it returns float64 mean-pooled states (mean over the text's
    tokens in float64), not normalised. Texts are cut at the model's `max_seq_length` tokens and
    run one per call."""

    def __init__(
        self,
        model_dir: str | Path,
        variant: str = "fp32",
        cache: str | Path | None = None,
        threads: int | None = None,
    ):
        require_onnx()
        import onnxruntime as ort
        from transformers import AutoTokenizer

        model_dir = Path(model_dir)
        pooling = model_dir / "1_Pooling" / "config.json"
        if pooling.exists() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens", False):
            raise ValueError(f"{model_dir}: the ONNX edit backends support mean pooling only")
        st_config = model_dir / "sentence_bert_config.json"
        self.max_seq_length = (
            int(json.loads(st_config.read_text()).get("max_seq_length", 256)) if st_config.exists() else 256
        )
        self.variant = variant
        self.path = exported_model(model_dir, variant, cache)
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        options = ort.SessionOptions()
        if threads is None:
            import torch  # already loaded with the edit model; same thread budget as the torch backend

            threads = torch.get_num_threads()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.dim = int(json.loads((model_dir / "config.json").read_text())["hidden_size"])

    def encode(
        self,
        sentences: Sequence[str],
        batch_size: int = 32,
        convert_to_numpy: bool = True,
        normalize_embeddings: bool = False,
        show_progress_bar: bool = False,
        **_: object,
    ) -> np.ndarray:
        """Mean-pooled float64 states, one row per text (`batch_size` is accepted and ignored:
        each text runs alone, see the module docstring)."""
        texts = list(sentences)
        rows = []
        for ids in self.tokenizer(texts, truncation=True, max_length=self.max_seq_length)["input_ids"]:
            feed = {
                "input_ids": np.asarray([ids], dtype=np.int64),
                "attention_mask": np.ones((1, len(ids)), dtype=np.int64),
                "token_type_ids": np.zeros((1, len(ids)), dtype=np.int64),
            }
            rows.append(self.session.run(None, feed)[0][0].astype(np.float64).mean(0))
        out = np.stack(rows) if rows else np.zeros((0, self.dim), dtype=np.float64)
        if normalize_embeddings:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)
        return out


def with_backend(model, backend: str, cache: str | Path | None = None):
    """`model` with its paragraph encoder run by `backend` (``torch``: `model` unchanged).

    The ONNX backends serve the frozen-encoder kind (`EmbeddingHeadReward`) only; other kinds, a
    missing onnxruntime, or an unknown backend raise with the fix."""
    backend = selected_backend(backend)
    if backend == "torch":
        return model
    if getattr(model, "kind", None) != "frozen":
        raise ValueError(
            f"edit backend {backend!r} serves frozen-encoder edit models only, not kind "
            f"{getattr(model, 'kind', type(model).__name__)!r}; use --edit-backend torch"
        )
    require_onnx()
    source = model.config.get("encoder_path") or resources.sentence_encoder_path()
    model._encoder = OnnxSentenceEncoder(source, variant=backend.removeprefix("onnx-"), cache=cache)
    model.backend = backend
    return model
