# genrl: two commands do everything on a fresh machine with Python 3.12.
#   make book   -> creates .venv, installs the pinned environment, builds the book (every chapter executed)
#   make test   -> same environment; unit tests + twin sync + nbval over every notebook, natively and again
#                  under an emulated other CPU (NUMERIC_ENV, see genrl_lib/numerics.py)
# Override the interpreter with: make test PYTHON=/path/to/python3.12
SHELL := /bin/bash
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.genrl-installed
JOBS ?= 2
CELL_TIMEOUT ?= 900
# The second notebook pass of `make test` computes as another CPU would (genrl_lib.numerics.NUMERIC_ENVS).
NUMERIC_ENV ?= other-cpu
# `make book BOOK_NUMERIC_ENV=other-cpu` builds the book as another CPU computes (default: this machine's own).
BOOK_NUMERIC_ENV ?= native
# One BLAS/torch thread per process: 2 cores, 2 pytest workers (see shared TOOLCHAIN notes).
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: help env book test test-native test-emulated unit twins check-twins spread benchmarks clean distclean

help:
	@echo "make book   - build the whole book into _build/html (executes every chapter)"
	@echo "make test   - unit tests, twin-sync test and nbval over notebooks/, natively and under an emulated CPU"
	@echo "make test-emulated NUMERIC_ENV=torch-scalar - only the notebooks, under one numeric environment"
	@echo "make spread CHAPTER=gail - a chapter under several numeric environments x seeds: each number's spread"
	@echo "make twins  - regenerate notebooks/*.ipynb from book/*.md"
	@echo "make unit   - only the fast library unit tests"

env: $(STAMP)

# The environment: exact pins in requirements.lock, installed in ONE pip command with the package itself.
$(STAMP): requirements.lock pyproject.toml scripts/find_python.sh
	@set -e; \
	if [ ! -x "$(VPY)" ]; then \
	  PY=$$(scripts/find_python.sh); \
	  echo "Creating $(VENV) with $$PY"; \
	  "$$PY" -m venv "$(VENV)"; \
	fi; \
	"$(VPY)" -m pip install --quiet --upgrade pip; \
	"$(VPY)" -m pip install --quiet -r requirements.lock -e . ; \
	"$(VPY)" -m pip check; \
	touch "$(STAMP)"

book: $(STAMP)
	@# no MPLBACKEND here: the kernels must use the inline backend or the book has no figures
	@vars=$$($(VPY) -m genrl_lib.numerics $(BOOK_NUMERIC_ENV)) || exit 2; \
	echo "== building the book in the numeric environment $(BOOK_NUMERIC_ENV)"; \
	env -u MPLBACKEND $$vars $(VENV)/bin/jupyter-book build . -W --keep-going --all
	@n=$$(ls _build/html/_images/*.png 2>/dev/null | wc -l); echo "$$n figures in the book"; \
	  if [ "$$n" -lt 20 ]; then echo "error: the book has almost no figures (was MPLBACKEND=Agg set for the kernels?)"; exit 1; fi
	@echo "Book built: _build/html/index.html"

test: test-native test-emulated

test-native: $(STAMP)
	MPLBACKEND=Agg $(VPY) -m pytest tests notebooks --nbval-lax --nbval-cell-timeout=$(CELL_TIMEOUT) -n $(JOBS) --dist loadfile --durations=15 -q

# The chapters' claims must hold on a reader's CPU too: run every notebook again as another CPU computes
# (torch's scalar kernels, MKL's compatible path, another OpenBLAS core type unless the machine sets one).
test-emulated: $(STAMP)
	@vars=$$($(VPY) -m genrl_lib.numerics $(NUMERIC_ENV)) || exit 2; \
	echo "== notebooks under the emulated numeric environment $(NUMERIC_ENV): $$vars"; \
	env $$vars MPLBACKEND=Agg $(VPY) -m pytest notebooks tests/test_numerics.py --nbval-lax --nbval-cell-timeout=$(CELL_TIMEOUT) -n $(JOBS) --dist loadfile --durations=5 -q

CHAPTER ?= all
SPREAD_ENVS ?= native,torch-scalar,mkl-compatible,other-cpu
SPREAD_SEEDS ?= 0,1,2
spread: $(STAMP)
	$(VPY) scripts/numeric_spread.py $(CHAPTER) --envs $(SPREAD_ENVS) --seeds $(SPREAD_SEEDS) --out _build/spread

unit: $(STAMP)
	$(VPY) -m pytest tests -n $(JOBS) --dist loadfile -q

twins: $(STAMP)
	$(VPY) scripts/twins.py

check-twins: $(STAMP)
	$(VPY) scripts/twins.py --check

benchmarks: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(VPY) $$b --out _build/benchmarks/$$(basename $$b .py) || exit 1; done

clean:
	rm -rf _build

distclean: clean
	rm -rf $(VENV)
