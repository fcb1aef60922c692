# Minsheng (民声). `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Every package, with hashes, for CPython 3.11 on any platform: `make install` installs this and
# nothing else. uv writes it (`make lock`, `make upgrade`); uv itself lives in $(VENV)/.uv-<version>.
LOCK := requirements/dev.lock
UV_VERSION := 0.13.9
UV := $(VENV)/.uv-$(UV_VERSION)/bin/uv
HOST ?= 127.0.0.1
PORT ?= 8000
PG_URL ?= postgresql://postgres@127.0.0.1:5432/minsheng
PYTEST_ARGS ?=

.PHONY: help run install test test-unit test-integration test-functional test-postgres \
        test-mqtt test-moved-clock lint typecheck migrations-check browser faketime bench clean lock upgrade lock-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

# pip and the build backend come first, from the lock, so that the sdists in the lock (jieba) and
# Minsheng itself build with the locked setuptools and nothing outside the lock is fetched.
$(STAMP): pyproject.toml $(LOCK)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@awk '/^(pip|setuptools|wheel)==/ {p = 1} p {print} p && !/\\$$/ {p = 0}' $(LOCK) > $(VENV)/bootstrap.lock
	$(BIN)/python -m pip install -q --require-hashes --no-deps -r $(VENV)/bootstrap.lock
	$(BIN)/python -m pip install -q --require-hashes --no-deps --no-build-isolation -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation --no-index -e .
	$(BIN)/python -m pip check
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install Minsheng with its development tools from requirements/dev.lock

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

faketime: ## install Debian's libfaketime for the moved-clock run (needs root)
	@if ! command -v faketime >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime) >/dev/null; \
	  else echo "faketime is missing: install Debian's 'faketime' package"; exit 1; fi; \
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

# The unit and integration tiers with the machine's clock moved (libfaketime; the monotonic
# clock stays true). MOVED_AT=2027-02-08T10:00:00+08:00 picks the moment; by default
# tests/moved_clock/when.py picks one inside a holiday a year or more ahead.
test-moved-clock: install faketime ## the unit and integration tiers on a moved clock (MOVED_AT=ISO instant)
	@at="$$($(BIN)/python tests/moved_clock/when.py)" && \
	TZ=UTC FAKETIME_DONT_FAKE_MONOTONIC=1 PYTHONPATH=tests/moved_clock \
	  faketime "$$at" $(BIN)/python -m pytest -n 2 -p no:cacheprovider $(PYTEST_ARGS) tests/unit tests/integration

lint: install lock-check ## ruff (lint and format), the layering contracts, the migrations check and the lock check
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/lint-imports
	$(BIN)/minsheng makemigrations --check --dry-run

typecheck: install ## mypy with django-stubs (the package, then the data tools in tools/)
	$(BIN)/mypy
	$(BIN)/mypy tools

bench: install ## run the benchmarks in bench/ (results go to docs/PERFORMANCE.md by hand)
	@for f in bench/*.py; do echo "== $$f"; $(BIN)/python $$f; done

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) var

# The lock's input: pyproject.toml with the dev extra, plus pip and the [build-system] requirements.
LOCK_INPUT = $(BIN)/python -c 'import tomllib; print("pip", *tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'
UV_COMPILE = $(UV) pip compile --quiet pyproject.toml - --extra dev --universal --python-version 3.11 \
             --generate-hashes --custom-compile-command 'make lock'

$(UV):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --target $(VENV)/.uv-$(UV_VERSION) uv==$(UV_VERSION)

lock: $(UV) ## re-resolve requirements/dev.lock after editing pyproject.toml (other pins stay)
	@mkdir -p $(dir $(LOCK))
	$(LOCK_INPUT) | $(UV_COMPILE) -o $(LOCK)

upgrade: $(UV) ## move every pin in requirements/dev.lock to the newest release (PKG=name: one package)
	@mkdir -p $(dir $(LOCK))
	$(LOCK_INPUT) | $(UV_COMPILE) $(if $(PKG),--upgrade-package $(PKG),--upgrade) -o $(LOCK)

lock-check: $(UV) ## fail when requirements/dev.lock does not match pyproject.toml (the lock is not touched)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp $(LOCK) "$$tmp/dev.lock" && $(LOCK_INPUT) | $(UV_COMPILE) -o "$$tmp/dev.lock" && \
	if ! diff -u $(LOCK) "$$tmp/dev.lock"; then echo "$(LOCK) is out of date: run make lock"; exit 1; fi
