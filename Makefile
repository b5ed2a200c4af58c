# The one entry point for people, CI and hooks.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := -e shared -e services/qr-issuer -e services/scan-gateway -e services/account \
            -e services/notifier -e services/wechat-sandbox -e devstack
STAMP := $(VENV)/.installed
DEPS := requirements-dev.txt shared/pyproject.toml devstack/pyproject.toml \
        $(wildcard services/*/pyproject.toml)

.PHONY: run test test-fast lint format typecheck services browser bench bench-quick clean

$(STAMP): $(DEPS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "MiniLogin needs Python 3.11 or newer"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(PACKAGES) -r requirements-dev.txt
	touch $(STAMP)

## make run: the whole system in one process (in-memory bus, fakeredis, embedded MongoDB
## wire server), the WeChat sandbox, the demo site and the phone simulator.
run: $(STAMP)
	$(PY) -m devstack

## make test: everything, including the tests over real RabbitMQ, Redis and SecantusDB and
## the browser tests in Debian's chromium.
test: $(STAMP) services browser
	$(PY) -m pytest -q -p no:cacheprovider
	$(MAKE) --no-print-directory lint typecheck

test-fast: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m "not real and not browser"

## Start RabbitMQ and Redis when they are installed but not running.
services:
	@scripts/ensure-services.sh

## Debian's chromium for the browser tests (Playwright uses it; it downloads no browser).
browser:
	@scripts/ensure-chromium.sh

## make bench: the standard load scenario against the real topology (about 4 minutes);
## writes docs/benchmarks.md and docs/benchmarks-latency.png.
bench: $(STAMP) services
	$(PY) -m bench --out docs/benchmarks.md

## make bench-quick: a few-second smoke of the same harness (make test runs it too).
bench-quick: $(STAMP) services
	$(PY) -m pytest -q -p no:cacheprovider tests/bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
