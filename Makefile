# Fangyi: `make run` serves the demo city on SQLite; `make test` runs the whole suite.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export FANGYI_DATA_DIR ?= $(CURDIR)/data

.PHONY: test-postgres run test setup setup-dev lint typecheck check-migrations messages compilemessages pytest bench lock clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The lock files pin every package; the project itself installs without touching them.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements-dev.lock $(VENV)/.installed
	$(BIN)/pip install -q -r requirements-dev.lock
	touch $@

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

run: setup compilemessages
	PORT=$(PORT) $(BIN)/fangyi run

lint: setup-dev
	$(BIN)/ruff check fangyi tests bench
	$(BIN)/ruff format --check fangyi tests bench

# mypy with django-stubs; the errors known when it joined may only shrink (mypy-baseline.txt).
typecheck: setup-dev
	$(BIN)/python scripts/mypy-baseline

check-migrations: setup
	FANGYI_DATA_DIR=$$(mktemp -d) $(BIN)/fangyi manage makemigrations --check --dry-run

# gettext's msgfmt compiles the catalogues; scripts/ensure-tools installs it when missing.
compilemessages: setup
	@scripts/ensure-tools gettext
	cd fangyi && FANGYI_DATA_DIR=$$(mktemp -d) ../$(BIN)/fangyi manage compilemessages -v0

messages: setup
	cd fangyi && FANGYI_DATA_DIR=$$(mktemp -d) ../$(BIN)/fangyi manage makemessages -l zh_Hans -l zh_Hant -l en --no-obsolete -v0

pytest: setup-dev compilemessages
	@scripts/ensure-tools chromium
	$(BIN)/pytest $(PYTEST_ARGS)

test: lint typecheck check-migrations compilemessages pytest

bench: setup
	$(BIN)/python -m bench all

# Re-pin after changing requirements.in / requirements-dev.in (needs network).
lock:
	rm -rf /tmp/fangyi-lock && $(PY) -m venv /tmp/fangyi-lock
	/tmp/fangyi-lock/bin/pip install -q -r requirements.in
	/tmp/fangyi-lock/bin/pip freeze --exclude-editable | grep -v '^fangyi' > requirements.lock
	/tmp/fangyi-lock/bin/pip install -q -r requirements-dev.in -c requirements.lock
	/tmp/fangyi-lock/bin/pip freeze --exclude-editable | grep -v '^fangyi' \
	  | grep -vxF -f requirements.lock > requirements-dev.lock

clean:
	rm -rf $(VENV) data staticfiles

# The suite on a throwaway PostgreSQL cluster, as CI runs it.
test-postgres: setup-dev compilemessages
	scripts/with-postgres $(MAKE) pytest PYTEST_ARGS="$(PYTEST_ARGS)"
