# mocohd: every command bootstraps .venv first (once, and again when pyproject.toml changes).
#   make tour              run the course (notebooks/NN_*) in smoke mode, results in runs/<timestamp>/
#   make tour MODE=full    the full run
#   make tour APPENDIX=1   the course, then the appendix (notebooks/appendix/AN_*: research beyond the paper)
#   make tour TOUR_ARGS="--only A2"   one notebook, course or appendix (python -m mocohd.tour --only A2)
#   make test              unit tests, every notebook once in smoke mode, the notebook-pair check
#   make eval              the paper's metrics for a checkpoint: make eval CKPT=data/checkpoints/sky_motion.pt
#                          (DATA=toy:sky or a folder, METRICS="fvd_toy acd", EVAL_ARGS="--n-videos 64 --json out.json")
#   make book              the course as a web site from the newest tour run: runs/book/html/index.html
#                          (MODE=full: the newest full-mode run; BOOK_FROM="runs/A runs/B": those runs, each
#                          notebook from the first that has it)
#   make book-check        open every page of the book in headless Chromium (skipped without chromium)
#   make mutation          mutation testing of the core files (mutmut; ~7 min on 2 cores, not in CI): MUTATION_ARGS="mocohd.kernels*"
#   make lab / kernel / sync / checked-outputs NB=00 (or NB=A2) / bench / checkpoints

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.bootstrapped
MODE ?= smoke
# On a Linux machine with no GPU, TORCH_INDEX=https://download.pytorch.org/whl/cpu avoids the large CUDA build.
TORCH_INDEX ?=
TOUR_ARGS ?=
PYTEST_ARGS ?=
NB ?=
APPENDIX ?=
CKPT ?= data/checkpoints/faces_motion.pt
DATA ?=
METRICS ?=
EVAL_ARGS ?=
BOOK_FROM ?=
MUTATION_ARGS ?=

.PHONY: tour test eval book book-check mutation lab kernel sync checked-outputs bench checkpoints clean-venv

$(STAMP): pyproject.toml
	@test -x $(PY) || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PY) -m pip install -e ".[dev]"
	@touch $@

tour: $(STAMP)
	$(PY) -m mocohd.tour --mode $(MODE) $(if $(filter 1 yes true,$(APPENDIX)),--appendix) $(TOUR_ARGS)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

eval: $(STAMP)
	$(PY) -m mocohd.evaluate $(CKPT) $(if $(DATA),--data $(DATA)) $(if $(METRICS),--metrics $(METRICS)) $(EVAL_ARGS)

book: $(STAMP)
	$(PY) -m mocohd.book build --mode $(MODE) $(if $(BOOK_FROM),--from $(BOOK_FROM))

book-check: $(STAMP)
	$(PY) -m mocohd.book check

# mutmut copies the package into mutants/ (git-ignored) and keeps its results there between runs
mutation: $(STAMP)
	OMP_NUM_THREADS=1 MOCOHD_THREADS=1 $(VENV)/bin/mutmut run --max-children 2 $(MUTATION_ARGS)
	$(VENV)/bin/mutmut results

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

kernel: $(STAMP)
	$(PY) -m ipykernel install --user --name mocohd --display-name "Python (mocohd)"

sync: $(STAMP)
	$(PY) -m jupytext --sync $(wildcard notebooks/[0-9][0-9]_*.ipynb notebooks/appendix/A[0-9]*_*.ipynb)

# Rebuild notebooks/NN_*.ipynb (NB=A2: notebooks/appendix/A2_*.ipynb) from its .py pair,
# keeping only the NBVAL_CHECK_OUTPUT cells' outputs.
checked-outputs: $(STAMP)
	@test -n "$(NB)" || { echo "usage: make checked-outputs NB=00 (or NB=A2)"; exit 2; }
	$(PY) -m mocohd.tour --store-checked-outputs $(NB)

bench: $(STAMP)
	$(PY) -m mocohd.bench

checkpoints: $(STAMP)
	bash data/checkpoints/make_checkpoints.sh

clean-venv:
	rm -rf $(VENV)
