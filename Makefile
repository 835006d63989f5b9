# smscloud: `make run` starts the platform, `make test` runs every check.
# Works on a fresh Debian machine with Python 3.11; system packages come from apt when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint unit bench system-deps clean

$(BIN)/python:
	@$(PYTHON) -c 'import venv, ensurepip' 2>/dev/null || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Runtime only, for `make run`.
$(VENV)/.run-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

# Everything the suite needs: test tools, the official Tencent SDK (the client under test).
$(VENV)/.test-deps: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	@touch $@ $(VENV)/.run-deps

run: $(VENV)/.run-deps
	$(BIN)/smscloud serve

# PostgreSQL is started by the tests themselves (a throwaway cluster); only its binaries are needed.
system-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql)

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

unit: $(VENV)/.test-deps
	$(BIN)/pytest -q tests/unit

test: system-deps $(VENV)/.test-deps lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(VENV)/.run-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis
