# Two commands for users: `make run` and `make test`. Everything else here serves them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
APT_PACKAGES := chromium postgresql

.PHONY: run test test-fast install install-test system-deps lint typecheck format-check eval bench vectors clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	touch $@

# llama.cpp is compiled from source: build it for any x86-64 CPU with AVX2, never with -march=native
# (a native build uses AMX tiles that some virtual machines forbid, and crashes on the first completion).
# --no-cache-dir keeps pip from reusing a wheel it once built with other flags.
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
LLAMA_PACKAGE := llama-cpp-python[server]>=0.3,<0.4

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install --quiet --no-cache-dir --no-binary llama-cpp-python "$(LLAMA_PACKAGE)"
	$(PIP) install --quiet -e ".[test,llama]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Debian packages the tests use for real: Chromium for the browser tests, PostgreSQL for the shared store.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

run: install
	$(BIN)/mentor ingest
	$(BIN)/mentor serve

# Lint, format and type checks first: they take seconds and fail before the long suite starts.
test: install-test system-deps
	$(BIN)/ruff check assistant tests app.py bench
	$(BIN)/ruff format --check assistant tests app.py bench
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The fast tier: the tests that need no model, on the in-memory store and the hashed embedder (tests/fast_tier.py
# picks them and fails the run if one loads a model). A minute or so; `make test` still runs everything for real.
test-fast: install-test
	PYTHONPATH=tests $(BIN)/python -m pytest -q -p no:cacheprovider -p fast_tier

lint: install-test format-check typecheck
	$(BIN)/ruff check assistant tests app.py bench

format-check: install-test
	$(BIN)/ruff format --check assistant tests app.py bench

typecheck: install-test
	$(BIN)/python -m mypy

eval: install
	$(BIN)/mentor eval --suite all --out reports/

bench: install-test
	$(BIN)/mentor bench

# After editing knowledge/ or the classifiers' examples: refresh the vectors and weights shipped with the package
# (assistant/precompute.py writes assistant/embedders/shipped/), so a fresh install does not encode them. A minute or so; only the files
# of what changed are rewritten.
vectors: install
	$(BIN)/python -m assistant.precompute

clean:
	rm -rf $(VENV) data reports test-artifacts
