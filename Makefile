# genrl: two commands do everything on a fresh machine with Python 3.12.
#   make book   -> creates .venv, installs the pinned environment, builds the book (every chapter executed)
#   make test   -> same environment; unit tests + twin sync + nbval over every notebook
# Override the interpreter with: make test PYTHON=/path/to/python3.12
SHELL := /bin/bash
VENV ?= .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.genrl-installed
JOBS ?= 2
CELL_TIMEOUT ?= 900
# One BLAS/torch thread per process: 2 cores, 2 pytest workers (see shared TOOLCHAIN notes).
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: help env book test unit twins check-twins benchmarks clean distclean

help:
	@echo "make book   - build the whole book into _build/html (executes every chapter)"
	@echo "make test   - unit tests, twin-sync test and nbval over notebooks/"
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
	env -u MPLBACKEND $(VENV)/bin/jupyter-book build . -W --keep-going --all
	@n=$$(ls _build/html/_images/*.png 2>/dev/null | wc -l); echo "$$n figures in the book"; \
	  if [ "$$n" -lt 20 ]; then echo "error: the book has almost no figures (was MPLBACKEND=Agg set for the kernels?)"; exit 1; fi
	@echo "Book built: _build/html/index.html"

test: $(STAMP)
	MPLBACKEND=Agg $(VPY) -m pytest tests notebooks --nbval-lax --nbval-cell-timeout=$(CELL_TIMEOUT) -n $(JOBS) --dist loadfile --durations=15 -q

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
