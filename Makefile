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

.PHONY: all demo test build debug bench bench-echo bench-bufferevent bench-aiohttp bench-all clean distclean sysdeps deps

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
	rm -rf $(VENV)
