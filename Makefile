# Two commands for a newcomer: `make demo` and `make test`. Both install everything first
# (idempotent: a second run only re-installs when pyproject.toml / constraints.txt changed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.wqrm-installed
DATA   ?= ../shared/data

.PHONY: install browser demo test wheel-check golden lint profile profile-ru pos-lm sentence-order edit-model weights weights-select bench bench-composite bench-validity clean

install: $(STAMP) browser

# Headless Chromium for the report's browser test (tests/reports/test_browser.py): Debian's
# `chromium`, installed when missing and we are root; otherwise the test skips and says why.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  { apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; } } || \
	  echo "note: chromium is not installed; the report's browser test will skip (as root: apt-get install chromium)"

$(STAMP): pyproject.toml constraints.txt tools/install_wordnet.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,onnx,ray]'
	$(BIN)/python tools/install_wordnet.py
	@touch $(STAMP)

demo: install
	$(BIN)/wqrm score --spans examples/lighthouse.txt

test: install wheel-check
	$(BIN)/python -m pytest -q

# Build the wheel, install it (not editable) into a throw-away venv and run `wqrm score` from it.
wheel-check: install
	PYTHON=$(BIN)/python tools/wheel_check.sh

# Regenerate the golden snapshot (tests/golden/examples.json) after a change meant to move scores.
golden: install
	$(BIN)/python tools/update_golden.py

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Rebuild the shipped default profile from the human reference corpora (about 5 minutes).
profile: install
	$(BIN)/wqrm build-profile $(DATA)/reference/books/en/*.txt $(DATA)/reference/lamp_human_written.jsonl \
	  --out wqrm/data/profiles/default --name default --passage-words 150 --max-passages-per-file 60 --seed 0

# Rebuild the part-of-speech 4-gram model of `pos_ngram_surprisal` from the twelve S1 training books,
# leaving out the passages `make profile` samples (about 4 minutes; run `make profile` after it).
pos-lm: install
	$(BIN)/wqrm build-pos-lm --data $(DATA) --out wqrm/data/profiles/default/corpus/pos_lm

# Rebuild the shipped Russian profile from the Russian public-domain books (about 10 minutes); the
# per-passage values it writes to runs/ feed benchmarks/russian_profile_check.py.
profile-ru: install
	$(BIN)/wqrm build-profile $(DATA)/reference/books/ru/*.txt --lang ru \
	  --out wqrm/data/profiles/default-ru --name default-ru --passage-words 150 --max-passages-per-file 60 --seed 0 \
	  --passages-out runs/profile_ru_passages.jsonl

# Retrain the next-sentence model of `next_sentence_gain` on the same books as `make pos-lm`
# (about 6 minutes; run `make profile` after it).
sentence-order: install
	$(BIN)/wqrm build-sentence-order --data $(DATA) --out wqrm/data/profiles/default/corpus/sentence_order

# Retrain the shipped S1 edit model (quality head on human pairs + degeneracy head on systematic
# negatives of the training texts and of 12 reference books; the other 12 books stay held apart;
# a second quality head on the text's sentences, blended in at weight 0.25). About 15 s with
# runs/features_minilm.npz warm; embedding every training text the first time takes longer.
EDIT_PAIRS := edit_pairs/lamp_reannotation.jsonl edit_pairs/lamp_llm_edited.jsonl \
  edit_pairs/lamp_P_editor_val.jsonl pairs/lamp_S_val_silver.jsonl
NEG_BOOKS := austen_emma carroll_alice cbronte_jane_eyre conrad_heart_of_darkness dickens_great_expectations \
  doyle_hound_baskervilles eliot_middlemarch hawthorne_scarlet_letter melville_moby_dick \
  stevenson_treasure_island twain_tom_sawyer wilde_dorian_gray
edit-model: install
	$(BIN)/wqrm train-edit $(foreach f,$(EDIT_PAIRS),--pairs $(DATA)/$(f)) --scored $(DATA)/scored/lamp_R_train.jsonl \
	  $(foreach b,$(NEG_BOOKS),--originals $(DATA)/reference/books/en/$(b).txt) --originals-per-file 12 \
	  --negatives 3 --negative-weight 0.5 --frozen --epochs 40 --patience 6 --batch-size 32 --lr 1e-3 \
	  --seed 0 --reading both --sentence-blend 0.25 --features-cache runs/features_minilm.npz --out wqrm/data/edit/model

# Refit the shipped composite weights: α fitted on pairs S1 never saw, with the setting (λ, source
# group weights, components) chosen leave-one-source-out in session 24 and kept since (see README,
# "How the components are weighted": with the session-25 metrics the selection picked settings that
# lost held-out LAMP accuracy and paid more for appended generic filler). `make weights-select`
# reruns the selection over 384 settings instead (LAMP, silver, ArgRewrite, IteraTeR, arXivEdits,
# human ≻ AI held out in turn). Metric values are cached in runs/: 57 min for 15,879 texts in 2
# worker processes on 2 cores the first time (session 35; S1's float64 encoder is most of it);
# after that only the metrics a cached row lacks, those whose @metric version changed, and those
# that read a corpus resource or S1 model rebuilt since the row was written (its stamps).
PAIR_FILES := edit_pairs/lamp_reannotation.jsonl edit_pairs/lamp_llm_edited.jsonl \
  edit_pairs/lamp_P_editor_val.jsonl pairs/lamp_S_val_silver.jsonl edit_pairs/iterater_doc.jsonl \
  edit_pairs/iterater_sent.jsonl edit_pairs/arxivedits.jsonl edit_pairs/argrewrite.jsonl
FIT_WEIGHTS = $(BIN)/wqrm fit-weights $(foreach f,$(PAIR_FILES),--pairs $(DATA)/$(f)) \
  --scored $(DATA)/scored/lamp_R_train.jsonl --human-vs-ai $(DATA)/human_vs_ai/fast_detect_gpt.jsonl \
  --seed 0 --dev-percent 20 --name learned-v2 --edit-reference wqrm/data/profiles/default \
  --cache runs/metric_cache.jsonl --workers 2
SHIPPED_SETTING := --l2 1.0 --group-weight iterater=0.3 --group-weight arxivedits=0.3 \
  --group-weight argrewrite=0.3 --group-weight human_vs_ai=0.5 --without-component S2 --without-component S6
weights: install
	$(FIT_WEIGHTS) --select fixed $(SHIPPED_SETTING) --out wqrm/data/weights/default.json

weights-select: install
	$(FIT_WEIGHTS) --select loso --out runs/weights_selected.json

bench-composite: install
	$(BIN)/python benchmarks/composite_ablation.py --out benchmarks/results/composite.md

# Each metric's evidence (benchmarks/results/metric_validity.md, wqrm/data/metric_validity.json);
# shares the metric cache with `make weights` (a few minutes when it is warm).
bench-validity: install
	$(BIN)/python benchmarks/metric_validity.py

bench: install
	$(BIN)/python benchmarks/perf/throughput.py

clean:
	rm -rf $(VENV) .nltk_data build *.egg-info
