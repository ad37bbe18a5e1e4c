# The README's two commands: `make demo` and `make test`. Both create .venv and install the
# project from its own pyproject.toml first, so they work on a fresh clone.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test reliability lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,async,pandas,parquet,plots]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) scripts/init_database.py
	$(PY) examples/paper_bot.py

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The reliability tests alone (docs/reference/reliability.md), figures printed at the end.
reliability: $(STAMP)
	$(PY) -m pytest -m reliability tests/reliability $(PYTEST_ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests migrations scripts benchmarks examples
	$(VENV)/bin/ruff format --check src tests migrations scripts benchmarks examples
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) data/tradestore.db data/tradestore.db-* .pytest_cache .mypy_cache .ruff_cache
