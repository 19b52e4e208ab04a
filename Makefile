# Two commands for a new user: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster
PORT ?= 3000

.PHONY: run test dev serve verify lint sample clean notebook

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

# The UI for exploring: the schedule and the raw-folder sensor start stopped here (switch
# them on in the UI); `make serve` starts them running.
dev: $(STAMP)  ## the Dagster UI on http://127.0.0.1:$(PORT) (schedule and sensor stopped)
	@$(PY) -c 'from pipeline.__main__ import dagster_home; dagster_home()'  # dagster.yaml
	PIPELINE_AUTOMATION=stopped $(VENV)/bin/dagster dev -m pipeline.definitions -h 127.0.0.1 -p $(PORT)

# The webserver and the daemon (schedules, sensors, the run queue) together, on 127.0.0.1.
# exec: make's shell becomes dagster itself, so Ctrl-C and a SIGTERM sent to make (which
# passes it on) reach it, and it stops both. SIGINT is reset to its default first: a make
# started in the background of a script inherits SIGINT ignored, and dagster maps SIGTERM to
# whatever SIGINT does.
serve: $(STAMP)  ## the Dagster webserver and daemon on http://127.0.0.1:$(PORT), Ctrl-C stops
	@$(PY) -c 'from pipeline.__main__ import dagster_home; dagster_home()'  # dagster.yaml
	exec $(PY) -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv(sys.argv[1], sys.argv[1:])' \
	  $(VENV)/bin/dagster dev -m pipeline.definitions -h 127.0.0.1 -p $(PORT)

# JupyterLab from the project's environment on the auditors' notebook (it opens the published
# warehouse read-only; `make run` first). Open the URL with its token that it prints. As root
# (a container) JupyterLab refuses to start without --allow-root; it answers on 127.0.0.1 only.
NOTEBOOK_PORT ?= 8888
notebook: $(STAMP)  ## JupyterLab on notebooks/kuvio_8_from_raw_to_chart.ipynb, http://127.0.0.1:8888
	$(VENV)/bin/jupyter lab --ip 127.0.0.1 --port $(NOTEBOOK_PORT) --no-browser \
	  $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/kuvio_8_from_raw_to_chart.ipynb

lint: $(STAMP)
	$(VENV)/bin/ruff check .

sample: $(STAMP)  ## regenerate the bundled synthetic raw files (seeded: same bytes each time)
	$(PY) -m pipeline.sample --out data/raw

.PHONY: bench
bench: $(STAMP)  ## whole-country benchmark (a few minutes): prints a table, writes docs/benchmarks.md
	$(PY) -m benchmarks.bench --write docs/benchmarks.md

clean:
	rm -rf data/marts/indicators.duckdb data/marts/.work reports/*.png reports/*.svg reports/*.pdf
