# The two commands: `make run` (HMI on the demo project) and `make test` (whole suite, headless).
# Both create .venv and install what they need on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PROJECT ?= projects/demo

.PHONY: run serve test lint bench demo clean

run: $(VENV)/.installed-hmi
	$(BIN)/evsuper run $(PROJECT)

serve: $(VENV)/.installed-hmi
	$(BIN)/evsuper serve $(PROJECT)

test: $(VENV)/.installed-test
	$(BIN)/ruff check evsuper tests bench
	$(BIN)/ruff format --check evsuper tests bench
	$(BIN)/mypy
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check evsuper tests bench
	$(BIN)/mypy

# Regenerate projects/demo from its spec (projects/specs/demo.toml; docs/templates.md).
demo: $(VENV)/.installed-hmi
	$(BIN)/evsuper new projects/demo --spec projects/specs/demo.toml --replace

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ocpp_load.py --chargers 200 --duration 30

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-hmi: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[hmi]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-hmi

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
