# Pillars — one command to run the demo, one to run the tests.
#   make run    create .venv, install, migrate, seed, load the demo, serve at http://127.0.0.1:5000
#               (another port: make run PORT=5050)
#   make test   create .venv, install, run the test suite on SQLite
#   make test-postgres   the same suite on PostgreSQL (127.0.0.1:5432, user postgres)
#   make i18n-extract / i18n-update / i18n-compile   the interface catalogs of the six UN
#               languages (translations/): extract the messages, merge them into each language's
#               catalog, compile the catalogs (done by make install; compiled files are not committed)
#   make lock   resolve requirements*.in into the hashed lock files requirements*.txt
#               (one package: make lock UPGRADE=flask)
#   make bench  the benchmark (bench/run.py) on SQLite; make bench-postgres on PostgreSQL
#               (BENCH_ARGS="--fresh" rebuilds the bench database)
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
PORT ?= 5000

.PHONY: lock install db demo run test test-postgres bench bench-postgres lint format babel-extract \
	i18n-extract i18n-update i18n-compile clean
LANGS := ar es fr ru zh
CATALOGS := $(foreach lang,$(LANGS),translations/$(lang)/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGS:.po=.mo)

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed $(COMPILED)

# The lock files pin every package, direct and indirect, with hashes (pip-tools). UPGRADE=NAME
# moves that one package (and what it needs) to its newest release; nothing else changes.
LOCK_FLAGS = --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	--no-emit-find-links $(if $(UPGRADE),--upgrade-package $(UPGRADE))
lock: $(VENV)/.installed
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements.txt requirements.in
	$(BIN)/pip-compile $(LOCK_FLAGS) -o requirements-dev.txt requirements-dev.in

# each language's catalog compiled when it changed (the .mo files are build output, not committed)
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel -q compile -d translations -l $*

i18n-compile: $(VENV)/.installed
	$(BIN)/pybabel compile -d translations --statistics

db: install
	$(FLASK) db upgrade
	$(FLASK) seed

demo: db
	APP_URL=http://127.0.0.1:$(PORT) $(FLASK) demo --url http://127.0.0.1:$(PORT)

run: demo
	APP_URL=http://127.0.0.1:$(PORT) $(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install
	$(BIN)/python -m pytest -q

test-postgres: install
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest -q

bench: install
	$(BIN)/python bench/run.py --db sqlite --cycles 10 --baseline 1 $(BENCH_ARGS)

bench-postgres: install
	$(BIN)/python bench/run.py --db postgres --cycles 10 --baseline 1 $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -c pyproject.toml -r . --severity-level medium

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

babel-extract i18n-extract: $(VENV)/.installed
	mkdir -p translations
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k N_ -k Np_:1,2 --ignore-dirs=".* node_modules" --no-wrap --sort-by-file \
		--project Pillars --copyright-holder "Pillars" -o translations/messages.pot .

# new and changed messages go into every catalog, to be translated before the change lands
# (tests/test_translations.py fails on any untranslated or fuzzy message)
i18n-update: i18n-extract
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-wrap --ignore-obsolete

clean:
	rm -rf $(VENV) instance .pytest_cache
