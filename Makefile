# Minsheng (民声). `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgresql://postgres@127.0.0.1:5432/minsheng
PYTEST_ARGS ?=

.PHONY: help run install test test-unit test-integration test-functional test-postgres \
        test-mqtt lint typecheck migrations-check browser bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install Minsheng with its development tools

run: install ## set up SQLite with the demo city and serve on http://127.0.0.1:8000
	$(BIN)/minsheng migrate --no-input -v 0
	$(BIN)/minsheng compilemessages -v 0 --ignore='.venv/*' >/dev/null 2>&1 || true
	$(BIN)/minsheng loaddemo
	$(BIN)/minsheng up --host $(HOST) --port $(PORT)

browser: ## install Debian's Chromium for the browser tests (needs root)
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null; \
	  else echo "chromium is missing: install Debian's 'chromium' package to run the browser tests"; fi; \
	fi

test: install browser ## run every test (SQLite; browser tests in headless Chromium)
	$(BIN)/python -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS) tests

test-unit: install ## tests with no database
	$(BIN)/python -m pytest -p no:cacheprovider tests/unit

test-integration: install ## tests against the database (and broker)
	$(BIN)/python -m pytest -p no:cacheprovider tests/integration

test-functional: install browser ## HTTP and browser tests
	$(BIN)/python -m pytest -p no:cacheprovider tests/functional

test-postgres: install browser ## the whole suite on PostgreSQL (PG_URL names the server)
	DATABASE_URL=$(PG_URL) $(BIN)/python -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS) tests

lint: install ## ruff and the migrations check
	$(BIN)/ruff check src tests bench
	$(BIN)/minsheng makemigrations --check --dry-run

typecheck: install ## mypy with django-stubs
	$(BIN)/mypy

bench: install ## run the benchmarks in bench/ (results go to docs/PERFORMANCE.md by hand)
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) var
