# The project's front door. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
SPARK_STAMP := $(VENV)/.spark-$(shell cksum requirements-spark.lock | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv venv-spark run test test-fast lint format ui benchmark clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

venv: $(STAMP) ## Create the virtual environment from the lock file

$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements-spark.lock
	rm -f $(VENV)/.spark-*
	touch $(SPARK_STAMP)

venv-spark: $(SPARK_STAMP) ## Add the optional Spark backend (pyspark, locked) to the environment

run: venv ## Run the whole pipeline on the embedded default configuration
	$(BIN)/triangulate run

test: venv-spark ## Run the whole test suite, slow end-to-end and Spark tests included
	$(BIN)/python -m pytest

test-fast: venv ## Run the tests not marked slow
	$(BIN)/python -m pytest -m "not slow"

lint: venv ## Check style with ruff
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: venv ## Format the code with ruff
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

ui: venv ## Start a Prefect server on 127.0.0.1:4200 and serve the deployments
	$(BIN)/triangulate serve

benchmark: venv ## Run the benchmark scripts (see benchmarks/README.md)
	$(BIN)/python benchmarks/run_all.py

clean: ## Remove generated outputs (not the virtual environment)
	rm -rf outputs test-output .pytest_cache
