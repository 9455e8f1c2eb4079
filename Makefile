# The one entry point: `make serve` and `make test` set up everything they need.
SHELL  := bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

HOST ?= 127.0.0.1
PORT ?= 8000

# The locks (requirements/*.txt, every file pinned with its hashes) are compiled from
# pyproject.toml by `make lock`; installs use them and nothing else.
LOCKS      ?= requirements
UV_VERSION := 0.13.9
UV_COMPILE  = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 \
              --generate-hashes $(LOCK_ARGS)

.PHONY: serve test test-lowest lint typecheck pytest bench schema install lock lock-check clean

# `make test-lowest` runs tests/api and tests/db on the lowest versions pyproject.toml allows
# (requirements/lowest.txt), in a virtual environment of its own. DIRECT names the runtime's
# direct dependencies, which `make lock` always re-resolves to their floors.
LOWEST := .venv-lowest
DIRECT := $(shell sed -n '/^dependencies = \[/,/^\]/s/^ *"\([A-Za-z0-9_.-]*\).*/\1/p' pyproject.toml)

$(STAMP): pyproject.toml requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

serve: $(STAMP)
	$(BIN)/catalog db upgrade
	$(BIN)/catalog seed --demo --if-empty
	$(BIN)/catalog serve --host $(HOST) --port $(PORT)

test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

$(LOWEST)/.installed: requirements/lowest.txt
	rm -rf $(LOWEST) && $(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --require-hashes -r requirements/lowest.txt
	touch $@

test-lowest: $(LOWEST)/.installed
	$(LOWEST)/bin/python -m pytest tests/api tests/db

# `make bench PEERS=postgraphile` adds PostGraphile 5 beside the server (Node 22 and its
# packages install into bench/peers/postgraphile/ on first use, with npm).
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(PEERS),--peers $(PEERS)) $(BENCH_ARGS)

schema: $(STAMP)
	$(BIN)/catalog export-schema > schema.graphql

# Re-resolve the locks after a change to pyproject.toml's dependencies. Pins that still
# fit are kept; `make lock LOCK_ARGS=--upgrade` moves everything to the newest allowed.
# dev.txt is resolved first; runtime.txt and build.txt are constrained to its pins, so
# the image runs exactly the versions the tests ran. lowest.txt holds the runtime's floors.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev -o $(LOCKS)/dev.txt
	$(UV_COMPILE) pyproject.toml --extra otel -c $(LOCKS)/dev.txt -o $(LOCKS)/runtime.txt
	$(UV_COMPILE) requirements/build.in -c $(LOCKS)/dev.txt -o $(LOCKS)/build.txt
	$(UV_COMPILE) pyproject.toml requirements/lowest.in --resolution lowest-direct \
	  $(addprefix -P ,$(DIRECT)) -o $(LOCKS)/lowest.txt

# Fails when pyproject.toml asks for something the locks do not pin (CI runs it).
lock-check:
	rm -rf .lock-check && mkdir .lock-check && cp requirements/*.txt .lock-check/
	$(MAKE) --no-print-directory lock LOCKS=.lock-check
	for lock in dev runtime build lowest; do \
	  diff <(grep -E '^[a-z0-9]' requirements/$$lock.txt) \
	       <(grep -E '^[a-z0-9]' .lock-check/$$lock.txt) \
	  || { echo "requirements/$$lock.txt is stale: run make lock" >&2; exit 1; }; \
	done
	rm -rf .lock-check

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache .hypothesis .lock-check
