# Shopkeep developer commands. `make run` and `make test` work on a bare machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve test lint format schema client-check fuzz check-deploy worker beat bench clean

# Reinstall only when the pinned requirements change.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## run: migrate, seed demo data if the database is empty, print the staff login, serve on :8000
run: install
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo --if-empty
	$(MANAGE) runserver $(HOST):$(PORT)

## test: the whole suite (embedded default, or PostgreSQL/Redis via DATABASE_URL/REDIS_URL), spread by file over
## TEST_WORKERS processes with pytest-xdist (one per CPU; 0: in this process); each worker has its own test
## database and Redis database (config/settings/test.py). Without pytest-xdist installed, in one process.
TEST_WORKERS ?= auto
XDIST = $(shell $(BIN)/python -c 'import xdist' 2>/dev/null && printf -- '-n %s --dist loadfile' $(TEST_WORKERS))
test: install
	$(BIN)/pytest $(XDIST)

## lint: ruff, and the layering contract of SPEC §12 (import-linter, configured in pyproject.toml)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## schema: generate and validate the OpenAPI schema; any warning fails
schema: install
	$(MANAGE) spectacular --file /dev/null --validate --fail-on-warn

## client-check: generate a typed Python client from the schema (openapi-python-client) in a temporary
## directory and type-check it, with docs/client_example.py using it, under mypy --strict; under half a
## minute. The generator's ruff hooks are off: its formatting is not what is checked; it reads the PDFs as
## any binary download (application/octet-stream, which it supports).
client-check: install
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(MANAGE) spectacular --format openapi-json --file "$$tmp/schema.json" --validate --fail-on-warn; \
	printf 'post_hooks: []\ncontent_type_overrides:\n  application/pdf: application/octet-stream\n' > "$$tmp/generator.yaml"; \
	$(BIN)/openapi-python-client generate --path "$$tmp/schema.json" --config "$$tmp/generator.yaml" \
		--meta none --output-path "$$tmp/shopkeep_client" --fail-on-warning; \
	cp docs/client_example.py "$$tmp/"; \
	cd "$$tmp" && $(abspath $(BIN))/mypy --strict --cache-dir "$$tmp/.mypy_cache" shopkeep_client client_example.py

## fuzz: Schemathesis against a live server (production settings, seeded shopkeep_fuzz, Redis 8) as
## anonymous, customer and staff; a few minutes; exits 1 on any finding (bench/fuzz.py)
fuzz: install
	$(BIN)/python -m bench.fuzz

## check-deploy: Django's deployment checklist against the production settings
check-deploy: install
	DJANGO_SETTINGS_MODULE=config.settings.production \
	SECRET_KEY=$${SECRET_KEY:-ci-only-8vJ2kq0Zr7xWm3pT5nL9bY4cH6dF1gS0aQeUu7Rx2Lp} \
	ALLOWED_HOSTS=$${ALLOWED_HOSTS:-shop.example.com} \
	$(MANAGE) check --deploy --fail-level WARNING

worker: install
	$(BIN)/celery -A config worker --loglevel INFO

beat: install
	$(BIN)/celery -A config beat --loglevel INFO

## bench: load benchmark on the local PostgreSQL and Redis with wrk (about 10 min); see bench/README.md
bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache
