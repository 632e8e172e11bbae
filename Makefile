# Executioner: the two commands a newcomer needs are `make up` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
WEB := api/web/frontend
WEB_DEPS := $(WEB)/node_modules/.installed-stamp
WEB_BUNDLE := api/web/static/build/main.js

.PHONY: up down test test-all test-unit test-languages chaos lint fmt schemas bench dashboard images services web clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): pyproject.toml devstack/bootstrap.sh
	@bash devstack/bootstrap.sh $(VENV)
	@touch $@

up: $(STAMP) web  ## install what is missing, bring up the whole cluster, print where it is; Ctrl-C stops it
	@$(BIN)/python -m devstack up

down: $(STAMP)  ## stop everything `make up` started
	@$(BIN)/python -m devstack down

services: $(STAMP)  ## only Docker, MariaDB, Kafka and the images (test profile), printed as KEY=VALUE
	@$(BIN)/python -m devstack services --profile test

images: $(STAMP)  ## build the base, worker and runtime images (skipped when unchanged)
	@$(BIN)/python -m devstack images

test: $(STAMP) web  ## what CI runs: the suite against real Kafka, MariaDB and Docker (started when needed), less the `extended` tests
	@$(BIN)/python -m pytest -m "not extended" $(PYTEST_ARGS)

test-all: $(STAMP) web  ## the whole suite: `make test` and the `extended` tests (the other sandbox mode's corpora, outage and chaos drills)
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)  ## only the tests that need no service (seconds; starts nothing)
	@$(BIN)/python -m pytest -m unit -q $(PYTEST_ARGS)

test-languages: $(STAMP)  ## the runtime suite of the non-core languages (their images built once per machine, then cached)
	@EXECUTIONER_LANGUAGES=$${EXECUTIONER_LANGUAGES:-extra} $(BIN)/python -m pytest tests/runtimes $(PYTEST_ARGS)

chaos: $(STAMP)  ## the chaos suite in full: three passes of every fault under a heavier load (a pass runs in `make test-all`)
	@EXECUTIONER_CHAOS_FULL=1 $(BIN)/python -m pytest -m chaos tests/chaos $(PYTEST_ARGS)

web: $(WEB_BUNDLE)  ## build the web page's script (npm ci + esbuild; skipped when up to date)

$(WEB_DEPS): $(WEB)/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js 20 with npm"; exit 1; }
	@cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(WEB_BUNDLE): $(WEB_DEPS) $(WEB)/package.json $(WEB)/build.mjs $(wildcard $(WEB)/src/*.js)
	@cd $(WEB) && npm run --silent build

lint: $(STAMP)  ## ruff, mypy, import-linter, and drift checks of the generated schemas and docs
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy .
	@$(BIN)/lint-imports
	@$(BIN)/python -m schemas.generate --check
	@$(BIN)/python docs/settings_reference.py --check

fmt: $(STAMP)  ## format and fix what ruff can
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

schemas: $(STAMP)  ## regenerate schemas/jsonschema/*.json and docs/configuration.md from the code
	@$(BIN)/python -m schemas.generate
	@$(BIN)/python docs/settings_reference.py

bench: $(STAMP)  ## run the benchmarks; writes bench/results/<timestamp>.json and a plot
	@$(BIN)/python -m bench

PROMETHEUS ?= http://127.0.0.1:9090
dashboard: $(STAMP)  ## draw the Grafana dashboard's panels from a Prometheus (PROMETHEUS=url; default make up's) into dashboard.png
	@$(BIN)/python -m bench.dashboard --prometheus $(PROMETHEUS)

clean:  ## remove the virtualenv and local state (not the download cache)
	rm -rf $(VENV) .state build $(WEB)/node_modules api/web/static/build
