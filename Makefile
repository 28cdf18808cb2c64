# The two commands of the README: `make demo` and `make test`. Both start from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install demo test test-fast lint lock bench bench-province bench-rolling bench-load clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools

# Every dependency at the version in requirements.lock (the lock is the constraint; the project
# itself is installed editable). `make lock` refreshes the lock to the newest allowed versions.
$(STAMP): $(BIN)/python setup.cfg pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lock: $(BIN)/python
	$(BIN)/pip install --quiet pip-tools
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --upgrade --extra test \
		--strip-extras --no-emit-index-url --no-emit-find-links \
		--output-file requirements.lock setup.cfg

demo: install
	$(BIN)/duijie db upgrade
	$(BIN)/duijie seed --demo
	$(BIN)/duijie serve --host $(HOST) --port $(PORT)

test: install
	@test -x /usr/bin/chromium || echo "NOTE: /usr/bin/chromium not found: the browser tests (tests/browser) will be SKIPPED. Install it with: apt-get install -y chromium fonts-wqy-microhei"
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: install
	$(BIN)/python -m pytest -x -q -m "not slow and not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: install
	$(BIN)/python benchmarks/optimizer_bench.py

# A province-size week (5,000 villages): greedy, the decomposed solve on 1, 2 and 4 workers,
# and the bound (about 30 minutes on 2 cores).
bench-province: install
	$(BIN)/python benchmarks/province_bench.py

# Twelve weeks of Hezhou on one stream of needs and offers: weekly v1, rolling v2 (spec v2,
# horizon 4) and greedy, 3 seeds, 5 s a week (about 7 minutes on 2 cores).
bench-rolling: install
	$(BIN)/python benchmarks/rolling_bench.py

# Load: gunicorn on PostgreSQL with 100,000 offers and 400,000 needs, wrk at 32 connections per
# page (needs PostgreSQL at 127.0.0.1:5432, Redis and wrk; the data takes ~2 minutes, once).
bench-load: install
	$(BIN)/python benchmarks/load_data.py
	$(BIN)/python benchmarks/load_bench.py

clean:
	rm -rf $(VENV) instance .pytest_cache

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o web/translations/messages.pot .
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations -l zh
	$(BIN)/pybabel compile -d web/translations
