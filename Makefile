# Two commands for a new user: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster

.PHONY: run test dev verify lint sample clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)  ## set up, run the whole pipeline on data/raw, publish data/marts/indicators.duckdb
	$(PY) -m pipeline run

test: $(STAMP)  ## set up, run the test suite
	$(PY) -m pytest -q

verify: $(STAMP)  ## the published marts against the report's figures
	$(PY) -m pipeline verify

dev: $(STAMP)  ## the Dagster UI on http://127.0.0.1:3000
	@mkdir -p $(DAGSTER_HOME) && test -f $(DAGSTER_HOME)/dagster.yaml || printf 'telemetry:\n  enabled: false\n' > $(DAGSTER_HOME)/dagster.yaml
	$(VENV)/bin/dagster dev -m pipeline.definitions -h 127.0.0.1 -p 3000

lint: $(STAMP)
	$(VENV)/bin/ruff check .

sample: $(STAMP)  ## regenerate the bundled synthetic raw files (seeded: same bytes each time)
	$(PY) -m pipeline.sample --out data/raw

clean:
	rm -rf data/marts/indicators.duckdb data/marts/.work reports/*.png reports/*.svg reports/*.pdf
