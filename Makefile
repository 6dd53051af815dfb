# evloop — the two commands a newcomer needs are `make demo` and `make test`.
# Everything they need (the virtualenv, the Python packages at the versions
# pinned in requirements-*.lock, the Debian packages of the differential
# tests) is installed from here.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip install -q --disable-pip-version-check
DEMO_STAMP := $(VENV)/.demo-deps-stamp
DEV_STAMP  := $(VENV)/.dev-deps-stamp
PYTEST_ARGS ?=
# The tool that regenerates the locks (`make upgrade-deps`), pinned too.
UV_VERSION ?= 0.13.8

SOURCES := $(wildcard evloop/*.pyx evloop/*.pxd evloop/core/*.pyx evloop/core/*.pxd evloop/core/*.pxi evloop/aio/*.pyx evloop/aio/*.pxd evloop/includes/*.pxd evloop/includes/*.h)
EXT     := evloop/.built-stamp

.PHONY: all demo test test-suite test-debug-mode test-packaging build debug bench bench-echo bench-overhead \
	bench-bufferevent bench-aiohttp bench-all clean distclean sysdeps sysdeps-bench deps \
	demo-deps test-all test-latest upgrade-deps dist fuzz docs test-debug-build

all: build

$(PY):
	$(PYTHON) -m venv $(VENV)

# `make demo` installs only requirements-demo.lock (the build, aiohttp);
# `make test` adds requirements-dev.lock (a superset, same versions).  Both
# locks carry hashes, so pip installs exactly what was tested.
$(DEMO_STAMP): requirements-demo.lock | $(PY)
	$(PIP) -r requirements-demo.lock
	touch $@

$(DEV_STAMP): requirements-dev.lock $(DEMO_STAMP)
	$(PIP) -r requirements-dev.lock
	touch $@

demo-deps: $(DEMO_STAMP)
deps: $(DEV_STAMP)

# Debian packages: the real libevent 2.1 (differential tests load it with
# ctypes) and its headers (bench/ builds C programs against it).
# tools/sysdeps.sh prints what it installs, or why it does not.
sysdeps:
	@tools/sysdeps.sh

sysdeps-bench:
	@tools/sysdeps.sh --bench

# The stamp takes the time the build started, so a source changed while it
# ran is rebuilt next time.
$(EXT): $(DEMO_STAMP) setup.py $(SOURCES)
	touch $@.start
	$(PY) setup.py -q build_ext --inplace
	mv $@.start $@

build: $(EXT)

debug: $(DEMO_STAMP)
	EVLOOP_DEBUG=1 $(PY) setup.py -q build_ext --inplace --force
	touch $(EXT)

# `make test`: the whole suite; the asyncio-facing suites again in asyncio's
# debug mode (as uvloop's CI does); the libevent-face suites on a debug
# build under -X dev; then the packaging test.
test: test-suite test-debug-mode test-debug-build test-packaging

test-suite: build deps sysdeps
	$(PY) -m pytest $(PYTEST_ARGS)

test-debug-mode: build deps
	PYTHONASYNCIODEBUG=1 $(PY) -m pytest -q tests/aio tests/integration $(PYTEST_ARGS)

# The libevent-face suites under a debug build of the extension (-O0,
# assertions, Cython bounds checks) and Python's -X dev, so that a memory
# error fails a test, not a user.  Built in a copy of the tree
# (build/debug-tree), so the in-place release build is left alone; pytest
# runs from there, so `import evloop` finds the debug build.
DEBUG_TREE := build/debug-tree
test-debug-build: deps
	rm -rf $(DEBUG_TREE) && mkdir -p $(DEBUG_TREE)
	cp -r setup.py pyproject.toml README.md LICENSE evloop $(DEBUG_TREE)/
	find $(DEBUG_TREE)/evloop \( -name '*.so' -o -name '_evloop.c' -o -name '.built-stamp' \) -delete
	cd $(DEBUG_TREE) && EVLOOP_DEBUG=1 $(CURDIR)/$(PY) setup.py -q build_ext --inplace --force
	cd $(DEBUG_TREE) && $(CURDIR)/$(PY) -c "import evloop, sys; sys.exit(0 if '$(DEBUG_TREE)' in evloop.__file__ else 'not the debug build: ' + evloop.__file__)"
	cd $(DEBUG_TREE) && $(CURDIR)/$(PY) -X dev -m pytest -q -p no:cacheprovider $(CURDIR)/tests/core $(CURDIR)/tests/compat $(PYTEST_ARGS)

# Builds the sdist, a wheel from it (isolated), installs that into a fresh
# venv and runs tests/packaging/smoke.py outside the tree (tools/dist.py).
test-packaging: deps
	$(PY) -m pytest -o faulthandler_timeout=1800 -m packaging tests/packaging $(PYTEST_ARGS)

# `make docs`: the HTML documentation in build/docs/html (Sphinx + MyST,
# offline, warnings are errors; tests/test_docs.py runs the same build).
docs: build deps
	$(PY) -m sphinx -W --keep-going -b html -d build/docs/doctrees docs build/docs/html

# Longer runs of the stateful fuzzers (a few seconds' worth run in `make test`).
fuzz: build deps
	EVLOOP_FUZZ_EXAMPLES=$${EVLOOP_FUZZ_EXAMPLES:-3000} $(PY) -m pytest -q -m fuzz $(PYTEST_ARGS)

# Release artefacts: the sdist and a manylinux wheel per CPython 3.10+
# installed here, each smoke-tested in a fresh venv (tools/dist.py).
dist: deps
	$(PY) tools/dist.py --outdir dist

# Regenerate the locks from requirements-*.txt (newest versions that fit,
# one universal lock for every CPython, with hashes).
upgrade-deps: | $(PY)
	$(PIP) "uv==$(UV_VERSION)"
	$(VENV)/bin/uv pip compile --universal --python-version 3.10 --generate-hashes -q --upgrade \
	  --custom-compile-command "make upgrade-deps" requirements-dev.txt -o requirements-dev.lock
	$(VENV)/bin/uv pip compile --universal --python-version 3.10 --generate-hashes -q --upgrade \
	  --custom-compile-command "make upgrade-deps" requirements-demo.txt -c requirements-dev.lock -o requirements-demo.lock
	@echo "locks regenerated; run 'make test' before committing them"

# The suite against the newest releases of everything (not the locks), in
# its own .venv-latest: new aiohttp/uvicorn/gunicorn/pytest-asyncio
# releases are met on purpose.  Not part of `make test` or CI.
test-latest: sysdeps
	rm -rf .venv-latest
	$(PYTHON) -m venv .venv-latest
	.venv-latest/bin/python -m pip install -q --disable-pip-version-check --upgrade -r requirements-dev.txt
	.venv-latest/bin/python -m pip list --format=freeze | grep -iE '^(aiohttp|uvicorn|gunicorn|uvicorn-worker|pytest|pytest-asyncio|cython|hypothesis)=='
	.venv-latest/bin/python setup.py -q build_ext --inplace --force
	.venv-latest/bin/python -m pytest $(PYTEST_ARGS); rc=$$?; rm -f $(EXT); exit $$rc

# `make test-all`: the whole suite on every CPython 3.10-3.13 installed here
# (pyenv's builds under $(PYENV_VERSIONS), else python3.X on PATH), each in
# its own .venv-3.X with requirements-dev.lock and its own build of the
# extension.  Versions run one after another (each build regenerates
# evloop/_evloop.c) and the first failing version stops it.  Not part of
# `make test`: it costs a suite run per version.
TEST_ALL_VERSIONS ?= 3.10 3.11 3.12 3.13
PYENV_VERSIONS ?= $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions

test-all: sysdeps
	@tested=; missing=; \
	for v in $(TEST_ALL_VERSIONS); do \
	  py=$$(ls -d $(PYENV_VERSIONS)/$$v.*/bin/python3 2>/dev/null \
	        | grep -E "/$$v\.[0-9]+/bin/python3$$" | sort -V | tail -n 1); \
	  [ -n "$$py" ] || py=$$(command -v python$$v || true); \
	  if [ -z "$$py" ]; then missing="$$missing $$v"; continue; fi; \
	  venv=.venv-$$v; \
	  fail() { echo "test-all: Python $$v ($$py) FAILED at: $$1 -- stopping; $$venv is kept for a rerun" >&2; exit 1; }; \
	  echo "== test-all: Python $$v: $$py -> $$venv"; \
	  if ! $$venv/bin/python -c "import sys; sys.exit('%d.%d' % sys.version_info[:2] != '$$v')" 2>/dev/null; then \
	    rm -rf $$venv; "$$py" -m venv $$venv || fail "creating $$venv"; \
	  fi; \
	  if [ ! $$venv/.deps-stamp -nt requirements-dev.lock ]; then \
	    $$venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.lock \
	      || fail "pip install -r requirements-dev.lock"; \
	    touch $$venv/.deps-stamp; \
	  fi; \
	  $$venv/bin/python setup.py -q build_ext --inplace || fail "building the extension"; \
	  $$venv/bin/python -m pytest $(PYTEST_ARGS) || fail "pytest"; \
	  tested="$$tested $$v"; \
	done; \
	if [ -z "$$tested" ]; then echo "test-all: no Python among $(TEST_ALL_VERSIONS) found" >&2; exit 1; fi; \
	echo "test-all: passed on:$$tested$${missing:+ (not installed:$$missing)}"

demo: build
	$(PY) examples/demo.py

# Benchmarks are not tests: they print tables and ratios (bench/README.md).
bench: build deps sysdeps
	$(PY) bench/pipes.py

bench-echo: build deps sysdeps
	$(PY) bench/echo.py

bench-overhead: build deps
	$(PY) bench/loop_overhead.py

bench-bufferevent: build deps sysdeps
	$(PY) bench/echo_bufferevent.py

bench-aiohttp: build deps sysdeps-bench
	$(PY) bench/aiohttp_wrk.py

bench-all: bench bench-echo bench-bufferevent bench-overhead bench-aiohttp

clean:
	rm -rf build dist evloop/_evloop.c evloop/*.so evloop/*.html $(EXT) bench/_build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .venv-3.* .venv-latest
