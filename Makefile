# Every target creates .venv on first use; nothing outside the project directory is touched.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
EXTRAS ?= dev,all
PYTEST_ARGS ?= -n 2
# Defined before the stamp rule below: target names are expanded when the line is read.
comma := ,

.PHONY: venv test test-compat test-sdk-suite lint typecheck check-sleeps pytest demo bench bench-quick \
	bench-instructions docs clean interop-deps

$(VENV)/.installed-$(subst $(comma),-,$(EXTRAS)): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

venv: $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

# The import-linter contracts in pyproject.toml: the layers, and no import cycle in any package.
lint: venv
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports

typecheck: venv
	$(PY) -m mypy --strict src

pytest: venv
	$(PY) -m pytest $(PYTEST_ARGS)

# Tests wait on events, never on sleeps: the checker fails the build on a sleep used as a wait.
check-sleeps: venv
	$(PY) -m foundation_telemetry.cli check-sleeps tests

test: lint typecheck check-sleeps pytest

# The official OpenTelemetry JS SDK the interop tests (tests/interop) drive, exactly as locked.
INTEROP_JS := tests/interop/js
interop-deps: $(INTEROP_JS)/node_modules/.package-lock.json

$(INTEROP_JS)/node_modules/.package-lock.json: $(INTEROP_JS)/package-lock.json
	cd $(INTEROP_JS) && npm ci --no-audit --no-fund

# The suite again on the oldest supported OpenTelemetry line (the floor in pyproject.toml; why it
# is there: src/foundation_telemetry/_otel/_compat.py), in its own venv.
COMPAT_VENV ?= .venv-compat
COMPAT_OTEL ?= 1.43
COMPAT_PINS := $(foreach p,api sdk exporter-otlp proto,'opentelemetry-$(p)==$(COMPAT_OTEL).*')
COMPAT_PYTEST_ARGS ?= -n 2 -q -p no:cacheprovider

$(COMPAT_VENV)/.installed-otel-$(COMPAT_OTEL): pyproject.toml
	test -x $(COMPAT_VENV)/bin/python || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/python -m pip install -q --upgrade pip
	$(COMPAT_VENV)/bin/python -m pip install -q -e '.[$(EXTRAS)]' $(COMPAT_PINS)
	touch $@

test-compat: $(COMPAT_VENV)/.installed-otel-$(COMPAT_OTEL)
	$(COMPAT_VENV)/bin/python -m pytest $(COMPAT_PYTEST_ARGS)

# OpenTelemetry's own test suites (from the sdists of the installed versions: the SDK, the
# instrumentation package and the requests instrumentation, a TestBase suite) run plain, with this
# package installed and with every component wrapped; any test that changes outcome fails it, and
# so does a contrib suite running slower than 1.2x of plain installed.
test-sdk-suite: venv
	$(PY) tests/sdk_suite/run.py

# Benchmarks report every target as a ratio against the stock SDK in the same run; a missed
# target is printed as FAIL but does not fail the command (JSON lands in benchmarks/results/).
bench: venv
	$(PY) -m benchmarks.run

bench-quick: venv
	$(PY) -m benchmarks.run --quick

# Per-span instruction counts under callgrind (needs valgrind), stock vs ours over HTTP and gRPC:
# deterministic on a loaded machine. BENCH_INSTRUCTIONS_ARGS="--keep DIR" keeps the raw files.
BENCH_INSTRUCTIONS_ARGS ?=
bench-instructions: venv
	$(PY) -m benchmarks.instructions $(BENCH_INSTRUCTIONS_ARGS)

# The instrumented demo service, exporting to an embedded OTLP sink (or OTEL_EXPORTER_OTLP_ENDPOINT);
# pass options with DEMO_ARGS="--duration 30 --workers 8". Only the demo extra is needed.
DEMO_ARGS ?=
demo:
	$(MAKE) venv EXTRAS=demo
	$(VENV)/bin/foundation-telemetry demo $(DEMO_ARGS)

# The site is built with --strict; the docs extra is installed on top of the usual ones.
docs:
	$(MAKE) venv EXTRAS=$(EXTRAS),docs
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict

clean:
	rm -rf $(VENV) $(COMPAT_VENV) .mypy_cache .ruff_cache .pytest_cache site $(INTEROP_JS)/node_modules
