# Two commands on a fresh machine: `make demo` and `make test`. Both are idempotent.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
PYTEST_ARGS ?=

.PHONY: install install-bench demo serve test lint typecheck messages lock clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $@

install: $(VENV)/.installed

## The benchmarks' extra baselines (WeasyPrint, splink, recordlinkage).
install-bench: install
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements-bench.lock
	@scripts/ensure-harfbuzz-subset

## Install, migrate, build the demo company on SQLite, print the logins and serve :8000.
demo: install
	$(BIN)/comptoir demo

serve: install
	$(BIN)/comptoir serve --dev

## Install and run the whole suite (browser tests drive Debian chromium).
test: install
	@scripts/ensure-chromium
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy src/comptoir/core $$(find src/comptoir -name calculations.py -not -path '*/core/*')

messages: install
	cd src/comptoir && ../../$(BIN)/comptoir makemessages -l fr -l en --no-obsolete --no-location
	cd src/comptoir && ../../$(BIN)/comptoir compilemessages

## Re-pin the dependencies after changing pyproject.toml.
lock: $(BIN)/uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --no-header -o requirements-bench.lock

clean:
	rm -rf $(VENV) var
