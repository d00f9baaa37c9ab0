# Quick start: `make run` (needs BOT_TOKEN) and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

BABEL_KEYWORDS := -k _ -k __ -k ngettext:1,2 -k lazy_ngettext:1,2

.PHONY: run test lint typecheck pytest sandbox locales messages clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# Compile the gettext catalogues (.po -> .mo); the bot refuses to start without them.
locales: $(STAMP)
	$(BIN)/pybabel compile -d locales -D messages

# For translators: pull new strings from the code into the catalogues.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-wrap --sort-by-file \
		--project=sms-activate-bot -o locales/messages.pot .
	$(BIN)/pybabel update -d locales -D messages -i locales/messages.pot --no-wrap \
		--no-fuzzy-matching

run: locales
	$(BIN)/python -m bot

sandbox: $(STAMP)
	$(BIN)/python -m bot.sandbox --port 8099 --key demo --balance 100

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy bot tests $(wildcard bench)

pytest: locales
	$(BIN)/pytest -q

test: lint typecheck pytest

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
