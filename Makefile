# The two commands a newcomer needs: `make run` and `make test`. Everything else is set up by them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format ci-db e2e i18n clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/lms db upgrade
	$(BIN)/lms content import content/kasuhara-basics --if-changed
	$(BIN)/lms content import content/kasuhara-practice --if-changed
	$(BIN)/lms demo --if-empty
	$(BIN)/lms serve --host 127.0.0.1 --port 8000

# axe-core for the accessibility test; skipped (with the reason shown) when npm is missing
E2E_NODE := tests/e2e/node_modules/.package-lock.json
$(E2E_NODE): tests/e2e/package-lock.json
	-command -v npm >/dev/null && npm ci --prefix tests/e2e --no-audit --no-fund --silent

test: $(STAMP) $(E2E_NODE)
	$(BIN)/ruff check .
	$(BIN)/pytest -q

e2e: $(STAMP) $(E2E_NODE)
	$(BIN)/pytest -q -m e2e

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -o app/locale/messages.pot --no-location --sort-output --project kasuhara-lms .
	$(BIN)/pybabel update -i app/locale/messages.pot -d app/locale --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis tests/e2e/node_modules
