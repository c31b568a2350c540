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

.PHONY: up test lint typecheck imports unit bench soak install clean help

help:
	@echo "make up     run Haven (server on SQLite, data in $(DATA_DIR))"
	@echo "make test   install everything and run lint, types, import contracts and all tests"
	@echo "make bench  run the benchmarks and rewrite BENCHMARKS.md"
	@echo "make soak   fuzz every parser of hostile input (SOAK_SECONDS each) with atheris"

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

unit: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck imports unit

bench: install
	$(BIN)/python -m bench.run

# Fuzzing (fuzz/): each harness for SOAK_SECONDS under atheris, which `install` puts in .venv
# (dev dependency; Linux x86-64 only: elsewhere this says so and stops). Corpora, logs,
# findings and summary.md go to SOAK_DIR; the seeds in fuzz/corpus/ are never written.
SOAK_SECONDS ?= 60
SOAK_DIR ?= $(or $(TMPDIR),/tmp)/haven-soak

soak: install
	$(BIN)/python -m fuzz.soak --seconds $(SOAK_SECONDS) --out $(SOAK_DIR)

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .ruff_cache
