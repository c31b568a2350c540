# Haven: two commands on a fresh machine. `make up` runs it, `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

DATA_DIR ?= ./haven-data

.PHONY: up test lint typecheck imports unit browser bench bench-smoke soak load install clean help

help:
	@echo "make up     run Haven (server on SQLite, data in $(DATA_DIR))"
	@echo "make test   install everything and run lint, types, import contracts and all tests"
	@echo "make bench  run the benchmarks and rewrite BENCHMARKS.md"
	@echo "make bench-smoke  every benchmark at a tiny size (CI: keeps them running)"
	@echo "make soak   fuzz every parser of hostile input (SOAK_SECONDS each) with atheris,"
	@echo "            then make load"
	@echo "make load   10,000 WebSockets held on one server (tests marked load; minutes)"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

$(BIN)/haven: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --quiet
	@touch $@

install: $(BIN)/haven

up: install
	$(BIN)/haven up --data-dir $(DATA_DIR)

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

imports: install
	$(BIN)/lint-imports

# The console's browser tests drive Debian's Chromium through Playwright (never a browser
# Playwright downloads itself): installed here when missing, with sudo only if not root.
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:
	@[ -x $(CHROMIUM) ] || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

unit: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck imports unit

bench: install
	$(BIN)/python -m bench.run

# Every benchmark at a tiny size through the same code (anchors only when installed already,
# pip ones excepted); the report goes to a temporary file, never to BENCHMARKS.md.
bench-smoke: install
	$(BIN)/python -m bench.run --smoke

# Fuzzing (fuzz/): each harness for SOAK_SECONDS under atheris, which `install` puts in .venv
# (dev dependency; Linux x86-64 only: elsewhere this says so and stops). Corpora, logs,
# findings and summary.md go to SOAK_DIR; the seeds in fuzz/corpus/ are never written.
SOAK_SECONDS ?= 60
SOAK_DIR ?= $(or $(TMPDIR),/tmp)/haven-soak

soak: install
	$(BIN)/python -m fuzz.soak --seconds $(SOAK_SECONDS) --out $(SOAK_DIR)
	$(MAKE) load

# Load tests (pytest marker `load`, left out of `make test` by pyproject's addopts): each
# takes minutes on a 2-core machine and prints its figures (-s).
load: install
	$(BIN)/python -m pytest -m load -s $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache
