# The few commands a newcomer needs. Every target creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run demo test lint format bench clean

$(STAMP): sdk/pyproject.toml collector/pyproject.toml pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e "./sdk[test]" -e "./collector[test,demo]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/inferwatch serve --config inferwatch.yaml

demo: $(STAMP)
	$(VENV)/bin/inferwatch demo

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(STAMP)
	$(PY) bench/sdk_overhead.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
