# Two commands for a newcomer: `make demo` and `make test`. Both install everything first
# (idempotent: a second run only re-installs when pyproject.toml / constraints.txt changed).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.wqrm-installed
DATA   ?= ../shared/data

.PHONY: install demo test lint profile bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt tools/install_wordnet.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/python tools/install_wordnet.py
	@touch $(STAMP)

demo: install
	$(BIN)/wqrm score --spans examples/lighthouse.txt

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Rebuild the shipped default profile from the human reference corpora (about 5 minutes).
profile: install
	$(BIN)/wqrm build-profile $(DATA)/reference/books/en/*.txt $(DATA)/reference/lamp_human_written.jsonl \
	  --out wqrm/data/profiles/default --name default --passage-words 150 --max-passages-per-file 60 --seed 0

bench: install
	$(BIN)/python benchmarks/perf/throughput.py

clean:
	rm -rf $(VENV) .nltk_data build *.egg-info
