# KazKor KG: `make run` serves the graph, `make test` installs what the tests need and runs
# the whole test suite, `make lint` checks the code (ruff, mypy).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: run build test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

run: $(VENV)/.installed
	$(BIN)/kg serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

build: $(VENV)/.installed
	$(BIN)/kg build

# the Debian packages the tests use (browser, Jena, roqet, curl, Virtuoso, wrk) are installed
# first when missing (apt-get, as root; otherwise it says how): tests/system_packages.py
test: $(VENV)/.installed-test
	$(BIN)/python tests/system_packages.py install
	$(BIN)/pytest $(PYTEST_ARGS)

# side-by-side benchmarks -> docs/benchmarks.md (installs Debian's Virtuoso and wrk; root);
# BENCH_ARGS=--quick: 1 round of 3 s runs, 100 entities, no LUBM, to build/bench/benchmarks.md
bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[bench]'
	command -v virtuoso-t >/dev/null && command -v wrk >/dev/null || { apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
	  virtuoso-opensource wrk; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# ruff on the code and the tests, then mypy on src/kg (its settings: [tool.mypy] in pyproject.toml)
lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests server.py
	$(BIN)/mypy

clean:
	rm -rf build .pytest_cache
