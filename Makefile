# genrl: two commands do everything on a fresh machine with Python 3.12.
#   make book   -> creates .venv, installs the pinned environment, builds the book (chapters whose code changed
#                  are executed; the others come from the execution cache, _build/.jupyter_cache)
#   make test   -> same environment; unit tests + twin sync + nbval over every notebook natively, then the whole
#                  book built again under an emulated other CPU (NUMERIC_ENV, see genrl_lib/numerics.py) and
#                  its pages opened in a headless browser (make check-site; needs Node.js, else nbval only)
# Site: make book-force (execute every chapter), make check-site (headless browser over _build/html)
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
# Where the book is built: $(BOOK_OUT)/_build/html, its execution cache beside it (make test builds the
# emulated book into _build/emulated, so it never touches the native book's cache).
BOOK_OUT ?= .
BOOK_HTML = $(BOOK_OUT)/_build/html
BOOK_CACHE = $(BOOK_OUT)/_build/.jupyter_cache
# One BLAS/torch thread per process: 2 cores, 2 pytest workers (see shared TOOLCHAIN notes).
export OMP_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: student student-notebooks help env book book-force test test-native test-emulated test-nbval-emulated unit twins check-twins spread benchmarks \
        clean distclean site-tools mathjax widgets check-site repo check-repo format check-format install-test
.PHONY: peer-d3rlpy

help:
	@echo "make book   - build the whole book into _build/html (executes every chapter)"
	@echo "make test   - unit tests, twin sync, nbval over notebooks/; then the book under an emulated CPU + site check"
	@echo "make test-emulated NUMERIC_ENV=torch-scalar - the book built under one numeric environment, site checked"
	@echo "make test-nbval-emulated NUMERIC_ENV=torch-scalar - only the notebooks (nbval), under one numeric environment"
	@echo "make spread CHAPTER=gail - a chapter under several numeric environments x seeds: each number's spread"
	@echo "make twins  - regenerate notebooks/*.ipynb from book/*.md"
	@echo "make unit   - lint, then only the fast library unit tests"
	@echo "make lint   - ruff check (pyproject [tool.ruff]) and mypy (pyproject [tool.mypy]); make test and make unit run it"
	@echo "make student - the student edition (no solutions): _build/student/notebooks/*.ipynb and _build/student/html"
	@echo "make student-notebooks - only the student notebooks (seconds)"
	@echo "make book-force - build the book executing every chapter (ignores the execution cache)"
	@echo "make check-site - open every page of _build/html in headless Chromium: math, images, MyST, Colab link"
	@echo "make repo   - rewrite everything derived from repository: in _config.yml, then the twins"
	@echo "make format - break the visible code lines of book/*.md longer than 88 columns (scripts/wrap_code.py)"
	@echo "make install-test - build the wheel, install it in a clean venv as Colab does, run a chapter there"

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

# Site tools from npm (site/package.json, pinned by site/package-lock.json): MathJax 3, served with the
# site so formulas render offline, and puppeteer-core + @sparticuz/chromium for make check-site.
SITE_NODE := site/node_modules/.package-lock.json
MATHJAX := site/static/mathjax/tex-chtml.js
NODE_HINT := Node.js >= 20 with npm is needed (Debian/Ubuntu: apt-get install nodejs npm; or https://nodejs.org)

site-tools: $(SITE_NODE)

$(SITE_NODE): site/package.json site/package-lock.json
	@command -v npm >/dev/null || { echo "error: $(NODE_HINT)"; exit 1; }
	cd site && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Only what tex-chtml.js loads: the component, TeX extensions it autoloads, CHTML fonts, menu, a11y.
mathjax: $(MATHJAX)

$(MATHJAX): $(SITE_NODE)
	@rm -rf site/static/mathjax && mkdir -p site/static/mathjax/output
	@src=site/node_modules/mathjax; \
	  cp $$src/es5/tex-chtml.js site/static/mathjax/ && \
	  cp -r $$src/es5/input $$src/es5/ui $$src/es5/a11y site/static/mathjax/ && \
	  cp -r $$src/es5/output/chtml site/static/mathjax/output/ && \
	  cp $$src/LICENSE site/static/mathjax/LICENSE && \
	  echo "MathJax $$(node -p "require('./$$src/package.json').version") (Apache-2.0) -> site/static/mathjax"

LIB_HASH = find genrl_lib -type f \( -name '*.py' -o -path 'genrl_lib/data/*' \) | LC_ALL=C sort | xargs cat requirements.lock | sha256sum | cut -d' ' -f1

# Widgets (the chapters' tqdm progress bars) without a CDN: RequireJS and the ipywidgets HTML manager (with
# its icon fonts) that myst-nb would load from cdnjs/jsdelivr, fetched from npm as two tarballs (npm pack: no
# dependency tree). site/static/widgets-path.js tells the manager to find its fonts there.
WIDGETS := site/static/widgets/embed-amd.js
WIDGETS_NPM := @jupyter-widgets/html-manager@1.0.6 requirejs@2.3.7

widgets: $(WIDGETS)

$(WIDGETS):
	@command -v npm >/dev/null || { echo "error: $(NODE_HINT)"; exit 1; }
	@set -e; rm -rf site/static/widgets; mkdir -p site/static/widgets; t=$$(mktemp -d); \
	  (cd $$t && npm pack --silent $(WIDGETS_NPM) >/dev/null); \
	  tar xzf $$t/jupyter-widgets-html-manager-*.tgz -C $$t package/dist package/LICENSE; \
	  mv $$t/package/LICENSE site/static/widgets/LICENSE.html-manager; \
	  cp $$t/package/dist/*.woff2 $$t/package/dist/*.woff $$t/package/dist/*.ttf $$t/package/dist/*.eot \
	     $$t/package/dist/*.svg site/static/widgets/; \
	  tar xzf $$t/requirejs-*.tgz -C $$t package/require.js package/package.json; \
	  mv $$t/package/require.js site/static/widgets/ && mv $$t/package/package.json site/static/widgets/requirejs-package.json; \
	  mv $$t/package/dist/embed-amd.js site/static/widgets/; \
	  rm -rf $$t; echo "$(WIDGETS_NPM) -> site/static/widgets"

book: $(STAMP) $(MATHJAX) $(WIDGETS)
	@# no MPLBACKEND here: the kernels must use the inline backend or the book has no figures
	@# execute_notebooks: cache -> a chapter runs again only when its code changed (make book-force runs all);
	@# the cache is dropped when the library, its data or the environment changed (they are not in its hash)
	@h=$$($(LIB_HASH))-$(BOOK_NUMERIC_ENV); c=$(BOOK_CACHE); \
	  if [ -d $$c ] && [ "$$(cat $$c/genrl-lib.sha256 2>/dev/null)" != "$$h" ]; then \
	    echo "genrl_lib, its data, requirements.lock or the numeric environment changed: every chapter is executed again"; rm -rf $$c; fi; \
	  mkdir -p $$c && echo "$$h" > $$c/genrl-lib.sha256
	@$(VPY) scripts/student.py check   # exercises/solutions: a wrong label stops here with its file and line
	@vars=$$($(VPY) -m genrl_lib.numerics $(BOOK_NUMERIC_ENV)) || exit 2; \
	echo "== building the book in the numeric environment $(BOOK_NUMERIC_ENV) -> $(BOOK_HTML)"; \
	env -u MPLBACKEND $$vars $(VPY) scripts/execute_book.py --cache $(BOOK_CACHE) --jobs $(JOBS) --timeout $(CELL_TIMEOUT) && \
	env -u MPLBACKEND $$vars $(VENV)/bin/jupyter-book build . --path-output $(BOOK_OUT) -W --keep-going --all
	@n=$$(ls $(BOOK_HTML)/_images/*.png 2>/dev/null | wc -l); echo "$$n figures in the book"; \
	  if [ "$$n" -lt 20 ]; then echo "error: the book has almost no figures (was MPLBACKEND=Agg set for the kernels?)"; exit 1; fi
	@echo "Book built: $(BOOK_HTML)/index.html"

# The student edition: the same chapters without the solutions (scripts/student.py): Colab notebooks with the
# stubs and their self-grading checks, and the HTML book executed from a copy of the sources without solutions
# (its own execution cache, _build/student/book/_build/.jupyter_cache). make book stays the lecturer's edition.
student: $(STAMP) $(MATHJAX) $(WIDGETS)
	env -u MPLBACKEND $(VPY) scripts/student.py all --jobs $(JOBS) --timeout $(CELL_TIMEOUT)

student-notebooks: $(STAMP)
	$(VPY) scripts/student.py notebooks

# Every chapter executed again, whatever the cache holds (the cache is refilled).
book-force: $(STAMP)
	rm -rf $(BOOK_CACHE)
	$(MAKE) book

check-site: $(STAMP)
	@command -v node >/dev/null || { echo "error: make check-site opens the book in headless Chromium through Node. $(NODE_HINT)"; exit 1; }
	@$(MAKE) --no-print-directory $(SITE_NODE)
	$(VPY) scripts/check_site.py $(BOOK_HTML)

test: lint test-native test-emulated

test-native: $(STAMP)
	MPLBACKEND=Agg $(VPY) -m pytest tests notebooks --nbval-lax --nbval-cell-timeout=$(CELL_TIMEOUT) -n $(JOBS) --dist loadfile --durations=15 -q

# The chapters' claims must hold on a reader's CPU too: every chapter is executed again as another CPU
# computes (torch's scalar kernels, MKL's compatible path, another OpenBLAS core type unless the machine sets
# one), by building the whole book that way (-W: a raising cell, a missing glue key or any warning fails it)
# into _build/emulated, and the built pages are opened in a headless browser (make check-site). Without
# Node.js the notebooks run under nbval instead and the site check is skipped, saying what to install.
test-emulated: $(STAMP)
	@vars=$$($(VPY) -m genrl_lib.numerics $(NUMERIC_ENV)) || exit 2; \
	echo "== the emulated numeric environment $(NUMERIC_ENV): $$vars"; \
	env $$vars MPLBACKEND=Agg $(VPY) -m pytest tests/test_numerics.py -q
	@if command -v npm >/dev/null && command -v node >/dev/null; then \
	  $(MAKE) --no-print-directory book BOOK_NUMERIC_ENV=$(NUMERIC_ENV) BOOK_OUT=_build/emulated && \
	  $(MAKE) --no-print-directory check-site BOOK_OUT=_build/emulated; \
	else \
	  echo "SKIPPED: the site check (and the emulated book build) need Node.js >= 20 with npm (Debian/Ubuntu: apt-get install nodejs npm); running the notebooks under nbval instead"; \
	  $(MAKE) --no-print-directory test-nbval-emulated; \
	fi

# The notebooks alone under the emulated numeric environment (no book, no browser).
test-nbval-emulated: $(STAMP)
	@vars=$$($(VPY) -m genrl_lib.numerics $(NUMERIC_ENV)) || exit 2; \
	echo "== notebooks under the emulated numeric environment $(NUMERIC_ENV): $$vars"; \
	env $$vars MPLBACKEND=Agg $(VPY) -m pytest notebooks tests/test_numerics.py --nbval-lax --nbval-cell-timeout=$(CELL_TIMEOUT) -n $(JOBS) --dist loadfile --durations=5 -q

CHAPTER ?= all
SPREAD_ENVS ?= native,torch-scalar,mkl-compatible,other-cpu
SPREAD_SEEDS ?= 0,1,2
spread: $(STAMP)
	$(VPY) scripts/numeric_spread.py $(CHAPTER) --envs $(SPREAD_ENVS) --seeds $(SPREAD_SEEDS) --out _build/spread

unit: $(STAMP) lint
	$(VPY) -m pytest tests -n $(JOBS) --dist loadfile -q -m "not install"

# The library, its tests, benchmarks and scripts: ruff's rules, then the type checker on the shared public modules.
.PHONY: lint
lint: $(STAMP)
	$(VPY) -m ruff check --no-cache .
	$(VPY) -m mypy

# The Colab install path: wheel -> clean venv over a Python that has torch -> run rl_basics there.
install-test: $(STAMP)
	$(VPY) -m pytest tests/test_install.py -q -m install

twins: $(STAMP)
	$(VPY) scripts/twins.py
	$(VPY) scripts/course_plan.py

check-twins: $(STAMP)
	$(VPY) scripts/twins.py --check

# The repository lives in _config.yml (repository: url, branch); this rewrites everything derived from it.
repo: $(STAMP)
	$(VPY) scripts/repo_config.py
	$(VPY) scripts/twins.py

check-repo: $(STAMP)
	$(VPY) scripts/repo_config.py --check

# Visible chapter code lines > 88 columns broken inside their brackets (scripts/wrap_code.py; the same syntax
# tree; other lines, hidden cells and prose untouched), then the twins.
format: $(STAMP)
	$(VPY) scripts/format_chapters.py
	$(VPY) scripts/twins.py

check-format: $(STAMP)
	$(VPY) scripts/format_chapters.py --check

# d3rlpy, the Decision Diffuser benchmark's peer, pins gymnasium==1.0.0 (the lock: 1.4.0), so pip cannot install it
# into the book's environment (and pip check would fail). It goes into its own folder, put first on PYTHONPATH by
# benchmarks/decision_diffuser.py's command line: d3rlpy without its dependencies, plus its pure-Python ones.
PEER_D3RLPY := _build/peer-d3rlpy
D3RLPY_PKGS := d3rlpy==2.8.1 structlog==26.1.0 colorama==0.4.6 dataclasses-json==0.6.7 marshmallow==3.26.2 \
	typing-inspect==0.9.0 mypy-extensions==1.2.0 gym==0.26.2 gym-notices==0.1.0
peer-d3rlpy: $(STAMP)
	$(VPY) -m pip install --quiet --no-deps --target $(PEER_D3RLPY) $(D3RLPY_PKGS)
	PYTHONPATH=$(PEER_D3RLPY) $(VPY) -c "import d3rlpy, gymnasium; print('d3rlpy', d3rlpy.__version__, 'beside gymnasium', gymnasium.__version__)"

benchmarks: $(STAMP)
	@for b in benchmarks/[!_]*.py; do echo "== $$b"; $(VPY) $$b --out _build/benchmarks/$$(basename $$b .py) || exit 1; done

clean:
	rm -rf _build site/static/mathjax site/static/widgets

distclean: clean
	rm -rf $(VENV) site/node_modules
