# The few commands a newcomer needs. Every target creates .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run demo test lint format bench grafana clean

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

# Regenerate dashboards/grafana/ from dashboards/*.sql (a test fails if they differ).
grafana: $(STAMP)
	$(PY) -m inferwatch_collector.report.grafana

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
