# Two commands on a fresh machine: `make demo` and `make test`. Each sets up its own virtualenv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv demo demo-ui test test-matrix docs bench bench-e2e lint emulator clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "Python 3.10+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# uv resolves apache-airflow + the Amazon provider's s3fs pins in seconds (pip backtracks for minutes).
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e ".[emulator,test,docs,distributed]"
	touch $(STAMP)

demo: venv
	$(BIN)/python scripts/demo.py

# After `make demo`: the Airflow UI on the demo's home at http://localhost:8080, every user an admin (a demo,
# no login); each run's "Generated media" tab is at the address `make demo` printed. Ctrl-C stops it.
demo-ui: venv
	AIRFLOW_HOME=$(CURDIR)/airflow_home AIRFLOW__CORE__LOAD_EXAMPLES=False \
	AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/example_dags AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=True \
	$(BIN)/airflow api-server --port 8080

test: venv docs
	bash scripts/system_packages.sh
	$(BIN)/ruff check airflow_provider_xai tests example_dags benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -p no:cacheprovider -q -rs $(PYTEST_ARGS)

# The lowest Airflow the provider supports (airflow.sdk.BaseHook arrived in 3.1), in a virtualenv of its own:
# everything but the real-component system tests. task_state_store (3.3) is absent there: retries resubmit.
LOWEST_AIRFLOW ?= 3.1.8
LOWEST := .venv-airflow-$(LOWEST_AIRFLOW)

test-matrix: venv
	test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(BIN)/uv pip install --python $(LOWEST)/bin/python --quiet "apache-airflow==$(LOWEST_AIRFLOW)" -e ".[emulator,test]"
	$(LOWEST)/bin/python -m pytest -p no:cacheprovider -q -rs -m "not system" --ignore=tests/system $(PYTEST_ARGS)

docs: venv
	$(BIN)/mkdocs build --strict --quiet

# Every benchmark (~40 min); a subset with e.g. `make bench BENCH_ARGS="--only delivery,xai-https"`.
bench: venv
	$(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

# End-to-end latency on the real Airflow components (api-server, scheduler, dag-processor, triggerer): ~4 min.
bench-e2e: venv
	$(BIN)/python benchmarks/bench_e2e.py

lint: venv
	$(BIN)/ruff check airflow_provider_xai tests example_dags benchmarks scripts
	$(BIN)/ruff format --check airflow_provider_xai tests example_dags benchmarks scripts

emulator: venv
	$(BIN)/xai-emulator --port 8089

clean:
	rm -rf $(VENV) .venv-airflow-* airflow_home demo_output site *.egg-info
