# evloop — the two commands a newcomer needs are `make demo` and `make test`.
# Everything they need (the virtualenv, Python packages, Debian packages for
# the differential tests and benchmarks) is installed from here.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.deps-stamp
SYSSTAMP := $(VENV)/.sysdeps-stamp
PYTEST_ARGS ?=

SOURCES := $(wildcard evloop/*.pyx evloop/*.pxd evloop/core/*.pyx evloop/core/*.pxd evloop/core/*.pxi evloop/aio/*.pyx evloop/aio/*.pxd evloop/includes/*.pxd evloop/includes/*.h)
EXT     := evloop/.built-stamp

.PHONY: all demo test build debug bench bench-echo bench-bufferevent bench-aiohttp bench-all clean distclean sysdeps deps test-all

all: build

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements-dev.txt | $(PY)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

deps: $(STAMP)

# Debian packages: the real libevent 2.1 (differential tests load it with
# ctypes), its headers (bench/ builds C programs against it) and wrk.
# Installed only where apt-get exists and we are root; the tests that need
# them say so clearly when they are missing.
$(SYSSTAMP): | $(PY)
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  if ! dpkg -s libevent-2.1-7 libevent-dev >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libevent-2.1-7 libevent-dev >/dev/null) \
	      || echo "warning: could not install libevent from apt; differential tests will skip"; \
	  fi; \
	else echo "note: no apt-get or not root; install libevent-2.1-7 libevent-dev yourself for the differential tests"; fi
	touch $@

sysdeps: $(SYSSTAMP)

$(EXT): $(STAMP) setup.py $(SOURCES)
	$(PY) setup.py -q build_ext --inplace
	touch $@

build: $(EXT)

debug: $(STAMP)
	EVLOOP_DEBUG=1 $(PY) setup.py -q build_ext --inplace --force
	touch $(EXT)

test: build sysdeps
	$(PY) -m pytest $(PYTEST_ARGS)

# `make test-all`: the whole suite on every CPython 3.10-3.13 installed here
# (pyenv's builds under $(PYENV_VERSIONS), else python3.X on PATH), each in
# its own .venv-3.X with requirements-dev.txt and its own build of the
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
	  if [ ! $$venv/.deps-stamp -nt requirements-dev.txt ]; then \
	    $$venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt \
	      || fail "pip install -r requirements-dev.txt"; \
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
bench: build sysdeps
	$(PY) bench/pipes.py

bench-echo: build sysdeps
	$(PY) bench/echo.py

bench-bufferevent: build sysdeps
	$(PY) bench/echo_bufferevent.py

bench-aiohttp: build sysdeps
	@if ! command -v wrk >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null || true; fi
	$(PY) bench/aiohttp_wrk.py

bench-all: bench bench-echo bench-bufferevent bench-aiohttp

clean:
	rm -rf build evloop/_evloop.c evloop/*.so evloop/*.html $(EXT) bench/_build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) .venv-3.*
