# Executioner: the two commands a newcomer needs are `make up` and `make test`.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: up down test lint fmt schemas bench images services clean help

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): pyproject.toml devstack/bootstrap.sh
	@bash devstack/bootstrap.sh $(VENV)
	@touch $@

up: $(STAMP)  ## install what is missing, bring up the whole cluster, print where it is; Ctrl-C stops it
	@$(BIN)/python -m devstack up

down: $(STAMP)  ## stop everything `make up` started
	@$(BIN)/python -m devstack down

services: $(STAMP)  ## only Docker, MariaDB, Kafka and the images (test profile), printed as KEY=VALUE
	@$(BIN)/python -m devstack services --profile test

images: $(STAMP)  ## build the base, worker and runtime images (skipped when unchanged)
	@$(BIN)/python -m devstack images

test: $(STAMP)  ## run the whole suite against real Kafka, MariaDB and Docker (started when needed)
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff, mypy, import-linter and the JSON Schema drift check
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy .
	@$(BIN)/lint-imports
	@$(BIN)/python -m schemas.generate --check

fmt: $(STAMP)  ## format and fix what ruff can
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

schemas: $(STAMP)  ## regenerate schemas/jsonschema/*.json from the models
	@$(BIN)/python -m schemas.generate

bench: $(STAMP)  ## run the benchmarks; writes bench/results/<timestamp>.json and a plot
	@$(BIN)/python -m bench

clean:  ## remove the virtualenv and local state (not the download cache)
	rm -rf $(VENV) .state build
