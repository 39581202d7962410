# Every target creates .venv on first use; nothing outside the project directory is touched.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev,all
PYTEST_ARGS ?= -n 2

.PHONY: venv test lint typecheck pytest demo bench bench-quick docs clean

$(VENV)/.installed-$(subst $(comma),-,$(EXTRAS)): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

comma := ,
venv: $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

lint: venv
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

typecheck: venv
	$(PY) -m mypy --strict src

pytest: venv
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache site
