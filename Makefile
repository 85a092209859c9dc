# Two commands on a fresh clone: `make run` and `make test` (see README.md).

# The virtualenv's interpreter: the system's /usr/bin/python3 when it is 3.11 or newer and
# can make a virtualenv, else the first python3 on PATH. Distributions build their Python
# with profile-guided and link-time optimization, like the official image the Dockerfile
# starts from; a default source build (pyenv's, for one) has neither, and served the same
# requests 1.2-1.8x slower on the bench machine (README, "Benchmarks"). Another interpreter:
# `make clean`, then `make PYTHON=/path/to/python3.x setup`.
SYSTEM_PYTHON := /usr/bin/python3
PYTHON ?= $(shell $(SYSTEM_PYTHON) -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo $(SYSTEM_PYTHON) || echo python3)
VENV := .venv
BIN := $(VENV)/bin
# Named after pyproject.toml's checksum: the install reruns only when that file changes.
STAMP := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?= -n 2
# `make run PORT=8080` when 8000 is taken.
PORT ?= 8000

.PHONY: run test lint fmt setup postgres redis browser clean fuzz

run: setup
	@# Bytecode for the app's modules, even where PYTHONDONTWRITEBYTECODE is set: compiling
	@# them from source on every start is ~0.2 s of the time to ready.
	@$(BIN)/python -m compileall -q app >/dev/null
	$(BIN)/dossier serve --port $(PORT)

test: setup postgres redis browser
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest $(PYTEST_ARGS)

# Long fuzzing run: schemathesis on every OpenAPI operation (coverage phase included) and
# hypothesis-graphql, fresh random inputs, on SQLite and PostgreSQL (see README).
FUZZ_EXAMPLES ?= 200
fuzz: setup postgres
	DOSSIER_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) DOSSIER_FUZZ_COVERAGE=1 DOSSIER_FUZZ_RANDOM=1 \
		$(BIN)/pytest -s -q tests/test_fuzz_openapi.py tests/test_fuzz_graphql.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# The PostgreSQL half of the suite needs a server on 127.0.0.1:5432 (user postgres,
# trust auth). Start the local cluster if it is installed but down; without one, those
# tests skip (or fail when CI=true).
postgres:
	@if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1; then exit 0; fi; \
	if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then \
		echo "Starting PostgreSQL..."; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | tail -n1) main start || true; \
		for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 && exit 0; sleep 1; done; \
	fi; \
	echo "PostgreSQL is not running on 127.0.0.1:5432; its tests will be skipped."

# The cache-coherence tests need Redis on 127.0.0.1:6379 (it keeps nothing on disk).
redis:
	@if command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then exit 0; fi; \
	if command -v redis-server >/dev/null; then \
		echo "Starting Redis..."; \
		redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true; \
		sleep 1; \
	else echo "Redis is not running on 127.0.0.1:6379; its tests will be skipped."; fi

# /docs, /redoc and GraphiQL are checked in headless Chromium (Debian's package).
browser:
	@if command -v chromium >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Chromium..."; \
		(apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) || true; \
	fi; \
	command -v chromium >/dev/null || echo "Chromium is not installed; the browser tests will be skipped."

clean:
	rm -rf $(VENV) dossier.egg-info build dist .mypy_cache .ruff_cache
