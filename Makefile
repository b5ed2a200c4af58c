# The one entry point for people, CI and hooks.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
# The uv that installs the lock; the lock's dev group names the same version (a test checks).
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
DEPS := uv.lock pyproject.toml shared/pyproject.toml devstack/pyproject.toml \
        $(wildcard services/*/pyproject.toml)
# Every workspace package, editable, for the lowest-versions run (uv pip has no workspace).
EDITABLE := -e 'shared[embedded]' -e services/qr-issuer -e services/scan-gateway \
            -e services/account -e services/notifier -e services/wechat-sandbox -e devstack
LOWEST := var/lowest

.PHONY: run test test-fast test-lowest lock lint format typecheck services browser bench \
        bench-quick clean

# Installs exactly what uv.lock names (--frozen: never re-resolve, fail if the lock is stale).
$(STAMP): $(DEPS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "MiniLogin needs Python 3.11 or newer"; exit 1; }
	test -x $(UV) || { $(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install -q uv==$(UV_VERSION); }
	$(UV) sync --frozen --all-packages
	touch $(STAMP)

## make lock: bring uv.lock in step with the pyproject files (keeping every pin it can), then
## install it; make lock UPGRADE=1 moves every package to the newest version its bounds allow.
lock:
	test -x $(UV) || { $(PYTHON) -m venv $(VENV) && $(VENV)/bin/pip install -q uv==$(UV_VERSION); }
	$(UV) lock $(if $(UPGRADE),--upgrade)
	$(UV) sync --frozen --all-packages
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

## make test-lowest: the fast tests on the lowest version every declared bound allows, so a
## minimum in a pyproject.toml can never be wrong (CI runs it after make test).
test-lowest: $(STAMP)
	rm -rf $(LOWEST)
	$(UV) venv -q --python $(PY) $(LOWEST)
	$(UV) pip install -q --python $(LOWEST)/bin/python --resolution lowest-direct \
	  $(EDITABLE) --group pyproject.toml:dev
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider -m "not real and not browser and not node"

## Start RabbitMQ and Redis when they are installed but not running.
services:
	@scripts/ensure-services.sh

## Debian's chromium for the browser tests (Playwright uses it; it downloads no browser),
## and their pinned npm packages (axe-core, oidc-client-ts, terser, typescript).
browser:
	@scripts/ensure-chromium.sh
	@scripts/ensure-browser-tools.sh

## make bench: the standard load scenario against the real topology (about 4 minutes);
## writes docs/benchmarks.md and docs/benchmarks-latency.png.
bench: $(STAMP) services
	$(PY) -m bench --out docs/benchmarks.md

## make bench-quick: a few-second smoke of the same harness (make test runs it too).
bench-quick: $(STAMP) services
	$(PY) -m pytest -q -p no:cacheprovider tests/bench

## make cluster-up: the cluster topologies on this machine, from Debian's packages: three
## clustered RabbitMQ nodes, a Redis Cluster and a Sentinel setup, two replicas of each service
## behind nginx. Writes the addresses to var/cluster/cluster.env; make cluster-down stops it.
.PHONY: cluster-up cluster-down
cluster-up: $(STAMP)
	@scripts/ensure-nginx.sh
	$(PY) -m cluster up

cluster-down: $(STAMP)
	$(PY) -m cluster down

## make chaos: the fault-injection suite (under 15 minutes): complete logins at 15 a second over
## a cluster of its own while one fault at a time hits it; writes docs/reliability.md.
.PHONY: chaos
chaos: $(STAMP)
	@scripts/ensure-nginx.sh
	$(PY) -m chaos --out docs/reliability.md

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
