# Cadence — a thin menu over the real commands. `make` alone lists the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help install demo test test-fast run worker sandbox migrate bench chaos audit kit lint fmt clean

help: ## List the targets
	@echo "Cadence — make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing Python packages into $(VENV) ..."
	@$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create the virtualenv and install pinned dependencies

demo: $(STAMP) ## Migrate, seed, start web + worker + TikTok sandbox, print URL and login
	@$(BIN)/python scripts/demo.py

test: $(STAMP) ## Run the whole suite on SQLite and PostgreSQL at once, in parallel (before a push)
	@$(BIN)/python scripts/run_tests.py $(PYTEST_ARGS)

test-fast: $(STAMP) ## Quick loop while editing: SQLite only, no browser/chaos/recording tests
	@$(BIN)/python scripts/run_tests.py --fast $(PYTEST_ARGS)

run: $(STAMP) ## Run the web app alone (development server, port 5000)
	@APP_ENV=$${APP_ENV:-development} $(BIN)/flask --app webapp run --port $${PORT:-5000}

worker: $(STAMP) ## Run the RQ workers (WORKERS processes; they also run due scheduled jobs)
	@APP_ENV=$${APP_ENV:-development} $(BIN)/python -m jobs.worker

sandbox: $(STAMP) ## Run the TikTok sandbox on port 8765
	@$(BIN)/python -m sandbox --port $${SANDBOX_PORT:-8765}

migrate: $(STAMP) ## Apply database migrations
	@APP_ENV=$${APP_ENV:-development} $(BIN)/flask --app webapp db upgrade

chaos: $(STAMP) ## 500 posts on a private PostgreSQL while TikTok fails and goes away, workers are SIGKILLed, Redis and PostgreSQL restart; print the tally
	@$(BIN)/python bench/chaos.py $(CHAOS_ARGS)

audit: $(STAMP) ## Check the installed, pinned dependencies for known vulnerabilities (pip-audit)
	@$(BIN)/python scripts/audit_deps.py

kit: $(STAMP) ## Migrate, then write TikTok's Direct Post audit kit into audit-kit/
	@APP_ENV=$${APP_ENV:-development} $(BIN)/flask --app webapp db upgrade
	@APP_ENV=$${APP_ENV:-development} $(BIN)/flask --app webapp audit-kit build --out audit-kit

bench: $(STAMP) ## Run the benchmarks under bench/ and print the table
	@$(BIN)/python bench/run.py

lint: $(STAMP) ## Check code style (ruff)
	@$(BIN)/ruff check . && $(BIN)/ruff format --check .

fmt: $(STAMP) ## Format the code (ruff)
	@$(BIN)/ruff format . && $(BIN)/ruff check --fix .

clean: ## Remove the virtualenv and caches (keeps instance/ data)
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov
