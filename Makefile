# smscloud: `make run` starts the platform, `make test` runs every check.
# Works on a fresh Debian machine with Python 3.11; system packages come from apt when missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint unit bench system-deps speech-deps test-peers clean

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

run: $(VENV)/.run-deps speech-deps
	@test -f $(CJK_FONT) || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-wqy-microhei)
	$(BIN)/smscloud serve

# PostgreSQL is started by the tests themselves (a throwaway cluster); only its binaries are needed.
# Bills are PDFs with Chinese text: a CJK font for them, and poppler to read them back in tests.
# Voice: sipp (Debian's sip-tester) is the tests' answering phone; espeak-ng and sox make prompts.
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
system-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq postgresql)
	@(test -f $(CJK_FONT) && command -v pdftoppm >/dev/null) || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq fonts-wqy-microhei poppler-utils)
	@test -x /usr/bin/chromium || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-wqy-microhei)
	@command -v sipp >/dev/null || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq sip-tester)
	@$(MAKE) -s speech-deps

# Speech for voice calls: espeak-ng speaks, sox resamples; libsox-fmt-mp3 lets sox read the
# MP3 recordings tenants upload for sendfvoice.
SOX_MP3 := $(wildcard /usr/lib/*/sox/libsox_fmt_mp3.so)
speech-deps:
	@(command -v espeak-ng && command -v sox && test -n "$(SOX_MP3)") >/dev/null || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq espeak-ng sox libsox-fmt-mp3)

# An independent SMSC written with the npm `smpp` package: a test peer for the SMPP connector.
NPM_SMSC := tests/peers/npm_smsc
$(NPM_SMSC)/node_modules/.package-lock.json: $(NPM_SMSC)/package-lock.json
	@command -v npm >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm)
	cd $(NPM_SMSC) && npm ci --no-audit --no-fund
test-peers: $(NPM_SMSC)/node_modules/.package-lock.json

lint: $(VENV)/.test-deps
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

unit: $(VENV)/.test-deps
	$(BIN)/pytest -q tests/unit

# One pytest process per core (TEST_WORKERS=0: all in this one). A test file stays on
# one worker, so its module-scoped browser and servers start once.
TEST_WORKERS ?= 2
test: system-deps $(VENV)/.test-deps test-peers lint
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile

bench: $(VENV)/.run-deps
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache .hypothesis $(NPM_SMSC)/node_modules
