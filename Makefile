# The project's front door. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCKS := requirements-bootstrap.lock requirements.lock pyproject.toml
STAMP := $(VENV)/.installed-$(shell cksum $(LOCKS) | cksum | cut -d' ' -f1)
SPARK_STAMP := $(VENV)/.spark-$(shell cksum $(LOCKS) requirements-spark.lock | cksum | cut -d' ' -f1)
EXTERNAL_VENV := benchmarks/.venv-external
EXTERNAL_LOCKS := requirements-bootstrap.lock benchmarks/requirements-external.lock
EXTERNAL_STAMP := $(EXTERNAL_VENV)/.installed-$(shell cksum $(EXTERNAL_LOCKS) | cksum | cut -d' ' -f1)

.DEFAULT_GOAL := help
.PHONY: help venv venv-spark run test test-fast lint format hooks ui benchmark external-smoke doctor chromium clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-12s %s\n", $$1, $$2}'

# tools/install-env bootstraps a locked installer first: the interpreter's own pip may be too old
# to install the lock itself (see docs/installing.md).
$(STAMP): $(LOCKS)
	PYTHON=$(PYTHON) tools/install-env $(VENV) requirements.lock
	rm -f $(VENV)/.installed-* $(VENV)/.spark-*
	touch $(STAMP)

venv: $(STAMP) ## Create the virtual environment from the lock file

$(SPARK_STAMP): $(STAMP) requirements-spark.lock
	PYTHON=$(PYTHON) tools/install-env $(VENV) requirements-spark.lock
	rm -f $(VENV)/.spark-*
	touch $(SPARK_STAMP)

venv-spark: $(SPARK_STAMP) ## Add the optional Spark backend (pyspark, locked) to the environment

run: venv ## Run the whole pipeline on the embedded default configuration
	$(BIN)/triangulate run

chromium: ## Make sure headless Chromium is installed for the browser tests (installs it as root)
	tools/ensure-chromium

test: venv-spark chromium ## Run the whole test suite, slow end-to-end and Spark tests included
	$(BIN)/python -m pytest

test-fast: venv ## Run the tests not marked slow
	$(BIN)/python -m pytest -m "not slow"

lint: venv ## Check style with ruff
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: venv ## Format the code with ruff
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

hooks: venv ## Install a git pre-commit hook that runs the lint checks on staged files
	mkdir -p "$$(git rev-parse --git-path hooks)" && install -m 755 tools/pre-commit "$$(git rev-parse --git-path hooks)/pre-commit"

ui: venv ## Start a Prefect server on 127.0.0.1:4200 and serve the deployments
	$(BIN)/triangulate serve

benchmark: venv ## Run every benchmark script at its default sizes (see benchmarks/README.md)
	for script in generate validate link analyse quality_report_bench scaling; do \
		$(BIN)/python benchmarks/$$script.py || exit 1; \
	done

# The outside benchmark's own environment: recordlinkage and pseudopeople pin pandas < 3, so
# they stay out of the project's lock and its venv (benchmarks/README_external.md).
$(EXTERNAL_STAMP): $(EXTERNAL_LOCKS)
	NO_PROJECT=1 PYTHON=$(PYTHON) tools/install-env $(EXTERNAL_VENV) benchmarks/requirements-external.lock
	rm -f $(EXTERNAL_VENV)/.installed-*
	touch $(EXTERNAL_STAMP)

external-smoke: venv $(EXTERNAL_STAMP) ## Link the smallest outside data set (FEBRL 1) and check the F1 targets
	$(EXTERNAL_VENV)/bin/python benchmarks/external.py prepare --sets febrl1
	$(BIN)/python benchmarks/external.py run --sets febrl1 --check --work test-output/external

doctor: ## Check that the lock still installs on a fresh machine: a throwaway venv, the interpreter's own pip
	tools/doctor

clean: ## Remove generated outputs (not the virtual environment)
	rm -rf outputs test-output .pytest_cache
