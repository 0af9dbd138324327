"""The Russian analysis pipeline: natasha's models turned into spaCy `Doc`s.

Every metric reads a parse through spaCy's token interface (`.pos_`, `.dep_`, `.head`, `.i`,
`.lower_`, `.lemma_`, `.is_punct`, `.idx`, `doc.sents`, `doc.ents`, …). `RussianPipeline` builds
exactly those `Doc`s from an offline Russian pipeline, so the metrics run unchanged:

* **razdel** splits sentences and tokens (rule-based; abbreviations, initials, dialogue dashes);
* **slovnet** (navec word vectors, news models) tags Universal Dependencies parts of speech and
  morphological features, parses UD dependencies and finds named entities (PER, LOC, ORG);
* **pymorphy3** (OpenCorpora dictionary) gives lemmas, choosing among a word's analyses the one
  that agrees best with slovnet's part of speech and features (natasha's rule: same POS and
  features, else the most shared features) and writing ё as е in lemmas.

All models ship inside the `natasha` wheel (`natasha/data/`: navec 250K × 300 quantised, slovnet
morph / syntax / NER news v1); nothing is downloaded. natasha's own `MorphVocab` needs pymorphy2,
which does not run on Python ≥ 3.11, so lemmatisation is done here on pymorphy3 with the same
OpenCorpora → UD mapping.

Conventions, so that the English metrics keep their meaning:

* slovnet's `root` relation is written `ROOT` (spaCy's spelling); other labels are UD's.
* A sentence is parsed as one tree: slovnet picks every head independently, so a sentence may
  come back with several roots or a cycle. The first root is kept; any other root, and one node
  of each cycle, is attached to it (`repair_tree`).
* Entity labels: slovnet's PER is written `PERSON` (spaCy's name for people); LOC and ORG stay.
* Whitespace the tokens do not account for (newlines, runs of spaces) becomes spaCy space tokens
  (POS `SPACE`, attached to the token before them), so `doc.text` equals the input exactly and
  `token.idx` are character offsets into it.
* Model inputs see the typographic dash for the ASCII `--` of older e-texts (the doc keeps `--`).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["RussianPipeline", "lemma_for", "natasha_data_dir", "repair_tree", "ud_analyses"]

#: slovnet model files inside natasha's package data.
NAVEC_FILE = "emb/navec_news_v1_1B_250K_300d_100q.tar"
MORPH_FILE = "model/slovnet_morph_news_v1.tar"
SYNTAX_FILE = "model/slovnet_syntax_news_v1.tar"
NER_FILE = "model/slovnet_ner_news_v1.tar"
#: Entity labels as the metrics spell them (spaCy's names where they differ).
ENTITY_LABELS = {"PER": "PERSON", "LOC": "LOC", "ORG": "ORG"}
#: Token forms the models are given in place of the doc's own.
MODEL_FORMS = {"--": "—", "---": "—"}

# OpenCorpora part of speech → UD (Kuzmenko's russian-tagsets mapping, as natasha uses it).
OC_UD_POS = {
    "ADJF": "ADJ", "ADJS": "ADJ", "ADVB": "ADV", "COMP": "ADV", "VERB": "VERB", "GRND": "VERB",
    "INFN": "VERB", "PRTF": "VERB", "PRTS": "VERB", "NOUN": "NOUN", "NPRO": "PRON", "NUMR": "NUM",
    "NUMB": "NUM", "Apro": "DET", "CONJ": "CCONJ", "INTJ": "INTJ", "PRCL": "PART", "PREP": "ADP",
}  # fmt: skip
# OpenCorpora grammeme → (UD feature, value).
OC_UD_FEATS = {
    "anim": ("Animacy", "Anim"), "inan": ("Animacy", "Inan"), "impf": ("Aspect", "Imp"),
    "perf": ("Aspect", "Perf"), "ablt": ("Case", "Ins"), "accs": ("Case", "Acc"),
    "datv": ("Case", "Dat"), "gent": ("Case", "Gen"), "gen1": ("Case", "Gen"), "gen2": ("Case", "Gen"),
    "loct": ("Case", "Loc"), "loc2": ("Case", "Loc"), "nomn": ("Case", "Nom"), "voct": ("Case", "Nom"),
    "COMP": ("Degree", "Cmp"), "Supr": ("Degree", "Sup"), "femn": ("Gender", "Fem"),
    "masc": ("Gender", "Masc"), "neut": ("Gender", "Neut"), "impr": ("Mood", "Imp"),
    "indc": ("Mood", "Ind"), "plur": ("Number", "Plur"), "sing": ("Number", "Sing"),
    "NUMB": ("NumForm", "Digit"), "1per": ("Person", "1"), "2per": ("Person", "2"),
    "3per": ("Person", "3"), "excl": ("Person", "2"), "incl": ("Person", "1"),
    "futr": ("Tense", "Fut"), "past": ("Tense", "Past"), "pres": ("Tense", "Pres"),
    "ADJS": ("Variant", "Brev"), "PRTS": ("Variant", "Brev"), "GRND": ("VerbForm", "Conv"),
    "INFN": ("VerbForm", "Inf"), "PRTF": ("VerbForm", "Part"), "VERB": ("VerbForm", "Fin"),
    "actv": ("Voice", "Act"), "pssv": ("Voice", "Pass"), "Abbr": ("Abbr", "Yes"),
}  # fmt: skip
#: Features compared when choosing a lemma (natasha's choice: animacy, voice, … are ignored).
LEMMA_FEATS = frozenset({"Case", "Gender", "Number", "Aspect", "NumForm", "Person", "Tense", "Variant"})
#: Parts of speech counted as equal when choosing a lemma.
LEMMA_POS = {"PROPN": "NOUN", "AUX": "VERB", "SCONJ": "CCONJ"}


def natasha_data_dir() -> Path:
    """`natasha/data` of the installed natasha package (found without importing natasha)."""
    spec = importlib.util.find_spec("natasha")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the natasha package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


# --------------------------------------------------------------------------------------------
# Lemmas (pymorphy3, guided by slovnet's UD tags)
# --------------------------------------------------------------------------------------------


def ud_analyses(morph: Any, word: str) -> list[tuple[str, dict[str, str], str]]:
    """pymorphy3's analyses of `word` as (UD POS, UD features, lemma); none for a word pymorphy3
    cannot analyse (its shape check asks `unicodedata.name` of every character, which raises for
    characters without a name, such as Tangut ideographs)."""
    out = []
    try:
        parses = morph.parse(word)
    except ValueError:
        return out
    for parse in parses:
        tag = parse.tag
        feats: dict[str, str] = {}
        for gram in tag._grammemes_tuple:
            if gram in OC_UD_FEATS:
                key, value = OC_UD_FEATS[gram]
                feats[key] = value
        if "PRTS" in tag._grammemes_tuple:  # PRTS is both VerbForm=Part and Variant=Brev
            feats["VerbForm"] = "Part"
        out.append((OC_UD_POS.get(tag._POS or "", "X"), feats, parse.normal_form))
    return out


def lemma_for(morph: Any, word: str, pos: str, feats: dict[str, str]) -> str:
    """The lemma of `word` tagged `pos` / `feats`: the analysis with the same POS and features,
    else the one sharing most (POS counts 1, each of `LEMMA_FEATS` 1); ё written е. A word
    pymorphy3 does not know keeps its lower-cased form."""
    form = word.lower().replace("ё", "е")
    best, best_score = None, 0
    for a_pos, a_feats, lemma in ud_analyses(morph, form):
        if a_pos == pos and a_feats == feats:
            best = lemma
            break
        score = (LEMMA_POS.get(a_pos, a_pos) == LEMMA_POS.get(pos, pos)) + sum(
            a_feats[k] == feats[k] for k in a_feats.keys() & feats.keys() if k in LEMMA_FEATS
        )
        if score > best_score:
            best, best_score = lemma, score
    return (best or form).replace("ё", "е")


# --------------------------------------------------------------------------------------------
# Trees
# --------------------------------------------------------------------------------------------


def repair_tree(heads: Sequence[int]) -> tuple[list[int], int]:
    """One rooted tree from independently chosen heads.

    `heads[i]` is token i's head (0-based within the sentence) or -1 for a root. Returns (heads
    with exactly one root, which points to itself; the number of arcs changed). The first root is
    kept (the first token when there is none); other roots, and the first node met on each
    cycle, are attached to it.
    """
    n = len(heads)
    if n == 0:
        return [], 0
    h = list(heads)
    changed = 0
    roots = [i for i, x in enumerate(h) if x < 0 or x >= n or x == i]
    root = roots[0] if roots else 0
    for i in roots[1:]:
        h[i] = root
        changed += 1
    if not roots:
        changed += 1
    h[root] = root
    # break cycles: walk up from every node; a walk that revisits a node of its own path is a cycle
    state = [0] * n  # 0 unvisited, 1 on the current path, 2 done (reaches the root)
    state[root] = 2
    for start in range(n):
        path = []
        i = start
        while state[i] == 0:
            state[i] = 1
            path.append(i)
            i = h[i]
        if state[i] == 1:  # cycle: cut it at the node where the walk re-entered
            h[i] = root
            changed += 1
        for j in path:
            state[j] = 2
    return h, changed


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


class RussianPipeline:
    """razdel + slovnet + pymorphy3 → spaCy `Doc`s (see the module docstring).

    `pipe(texts, batch_size)` mirrors spaCy's `Language.pipe`: one `Doc` per text, in order;
    the models run on batches of sentences. `repairs` counts the arcs `repair_tree` changed.
    """

    def __init__(self, data_dir: str | Path | None = None, batch_size: int = 64):
        import pymorphy3
        import spacy
        from navec import Navec
        from slovnet import NER, Morph, Syntax

        d = Path(data_dir) if data_dir else natasha_data_dir()
        for f in (NAVEC_FILE, MORPH_FILE, SYNTAX_FILE, NER_FILE):
            if not (d / f).exists():
                raise FileNotFoundError(f"Russian model file {d / f} is missing")
        navec = Navec.load(d / NAVEC_FILE)
        self.batch_size = batch_size
        self.morph_tagger = Morph.load(d / MORPH_FILE, batch_size=batch_size).navec(navec)
        self.syntax_parser = Syntax.load(d / SYNTAX_FILE, batch_size=batch_size).navec(navec)
        self.ner_tagger = NER.load(d / NER_FILE, batch_size=batch_size).navec(navec)
        self.navec = navec
        self.morph = pymorphy3.MorphAnalyzer()
        self.vocab = spacy.blank("ru").vocab
        self.repairs = 0
        self._lemma = lru_cache(maxsize=200_000)(self._lemma_uncached)
        self.meta = {
            "lang": "ru",
            "name": "natasha (razdel, slovnet news v1, navec news v1) + pymorphy3",
            "version": _versions(),
        }

    def __repr__(self) -> str:
        return f"RussianPipeline({self.meta['version']})"

    def _lemma_uncached(self, word: str, pos: str, feats: tuple[tuple[str, str], ...]) -> str:
        return lemma_for(self.morph, word, pos, dict(feats))

    # ---- segmentation ---------------------------------------------------------------------

    @staticmethod
    def segment(text: str) -> list[list[tuple[int, int, str]]]:
        """Sentences of `text` as lists of (start, end, token text), offsets into `text`."""
        from razdel import sentenize, tokenize

        out = []
        for sent in sentenize(text):
            toks = [(sent.start + t.start, sent.start + t.stop, t.text) for t in tokenize(sent.text)]
            if toks:
                out.append(toks)
        return out

    # ---- tagging ----------------------------------------------------------------------------

    def _tag(self, sentences: list[list[str]]) -> tuple[list, list, list]:
        """(morph markups, syntax markups, NER BIO tag lists) for token-text sentences.

        The models run on the sentences sorted by length (batches pad to their longest sentence,
        and the parser's head scores grow with its square); results come back in input order.
        Each sentence is tagged on its own, so the order does not change any result."""
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        forms = [[MODEL_FORMS.get(w, w) for w in sentences[i]] for i in order]
        morph = list(self.morph_tagger.map(forms))
        syntax = list(self.syntax_parser.map(forms))
        infer = self.ner_tagger.infer  # slovnet's text API re-tokenises; tag our tokens directly
        ner: list[list[str]] = []
        for start in range(0, len(forms), self.batch_size):
            chunk = forms[start : start + self.batch_size]
            ner.extend(infer.decoder(infer.process(infer.encoder(chunk))))
        back = [0] * len(order)
        for k, i in enumerate(order):
            back[i] = k
        return [morph[k] for k in back], [syntax[k] for k in back], [ner[k] for k in back]

    def pipe(self, texts: Iterable[str], batch_size: int | None = None) -> Iterator[Any]:
        """One spaCy `Doc` per text, in order (texts are processed `batch_size` at a time)."""
        size = batch_size or self.batch_size
        batch: list[str] = []
        for text in texts:
            batch.append(text)
            if len(batch) >= size:
                yield from self._docs(batch)
                batch = []
        if batch:
            yield from self._docs(batch)

    def __call__(self, text: str) -> Any:
        return next(self.pipe([text]))

    def _docs(self, texts: list[str]) -> list[Any]:
        segmented = [self.segment(t) for t in texts]
        flat = [[tok[2] for tok in s] for sents in segmented for s in sents]
        morph, syntax, ner = self._tag(flat) if flat else ([], [], [])
        docs = []
        k = 0
        for text, sents in zip(texts, segmented, strict=True):
            n = len(sents)
            docs.append(self._doc(text, sents, morph[k : k + n], syntax[k : k + n], ner[k : k + n]))
            k += n
        return docs

    def _doc(self, text: str, sents, morph, syntax, ner) -> Any:
        from spacy.tokens import Doc

        words: list[str] = []
        spaces: list[bool] = []
        heads: list[int] = []
        deps: list[str] = []
        pos: list[str] = []
        morphs: list[str] = []
        lemmas: list[str] = []
        iob: list[str] = []
        end = 0

        def add_space(gap: str) -> None:
            # text the tokens leave out (whitespace): the first space is the previous token's
            # trailing space, the rest one token attached to the token before it
            if words and gap.startswith(" ") and not spaces[-1]:
                spaces[-1] = True
                gap = gap[1:]
            if gap:
                words.append(gap)
                spaces.append(False)
                heads.append(len(words) - 2 if len(words) > 1 else 0)
                deps.append("dep")
                pos.append("SPACE" if gap.isspace() else "X")  # characters razdel skipped: kept
                morphs.append("")
                lemmas.append(gap)
                iob.append("O")

        for toks, m, s, tags in zip(sents, morph, syntax, ner, strict=True):
            local = [int(t.head_id) - 1 for t in s.tokens]
            tree, changed = repair_tree(local)
            self.repairs += changed
            offsets = []
            for (a, b, _), mt in zip(toks, m.tokens, strict=True):
                add_space(text[end:a])
                offsets.append(len(words))
                words.append(text[a:b])
                spaces.append(False)
                pos.append(mt.pos)
                feats = tuple(sorted(mt.feats.items()))
                morphs.append("|".join(f"{k}={v}" for k, v in feats))
                word = text[a:b]
                lemmas.append(word if mt.pos == "PUNCT" else self._lemma(word, mt.pos, feats))
                heads.append(0)
                deps.append("")
                end = b
            for j, (h, t) in enumerate(zip(tree, s.tokens, strict=True)):
                heads[offsets[j]] = offsets[h]
                deps[offsets[j]] = "ROOT" if h == j else t.rel
            iob.extend(_iob(tags))
        add_space(text[end:])
        if not words:
            return Doc(self.vocab, words=[])
        if deps[0] == "dep" and heads[0] == 0 and len(words) > 1:  # leading gap token: attach it
            heads[0] = 1  # to the token after it (it has none before it)
        return Doc(
            self.vocab,
            words=words,
            spaces=spaces,
            heads=heads,
            deps=deps,
            pos=pos,
            morphs=morphs,
            lemmas=lemmas,
            ents=iob,
        )


def _iob(tags: Sequence[str]) -> list[str]:
    """slovnet BIO tags → spaCy IOB strings with wqrm's entity labels (a stray I- opens a span)."""
    out = []
    prev = "O"
    for tag in tags:
        if tag == "O" or "-" not in tag:
            out.append("O")
            prev = "O"
            continue
        part, label = tag.split("-", 1)
        label = ENTITY_LABELS.get(label, label)
        if part == "I" and prev == label:
            out.append(f"I-{label}")
        else:
            out.append(f"B-{label}")
        prev = label
    return out


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for pkg in ("natasha", "slovnet", "navec", "razdel", "pymorphy3"):
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            parts.append(f"{pkg} ?")
    return ", ".join(parts)
