# nq57: `make report` and `make test` are all a fresh clone needs (they create .venv with pip).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.DEFAULT_GOAL := help
.PHONY: help setup report test browser cluster refresh lab validate audit extract-eval bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

setup: $(STAMP) ## create or refresh .venv when it is missing or pyproject.toml changed

report: setup ## validate the data and build every report into outputs/ (prints the path of index.html)
	$(BIN)/nq57 run

test: setup browser cluster ## run the whole test suite (unit, conformance, notebooks with nbval, browser, cluster)
	$(BIN)/python -m pytest

CLUSTER_STAMP := $(VENV)/.cluster-stamp

$(CLUSTER_STAMP): pyproject.toml $(STAMP)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,cluster]' >/dev/null 2>&1 \
	  && touch $@ && echo "installed dask.distributed for the cluster tests" \
	  || echo "dask.distributed not available: the cluster tests will be skipped"

cluster: setup $(CLUSTER_STAMP) ## best effort: install the optional dask.distributed extra (nq57 run --cluster)

browser: ## best effort: install Debian's Chromium for the browser test when it is missing (needs root)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	  && echo "installed chromium for the browser test"; } || echo "chromium not available: the browser test will be skipped"

refresh: setup ## regenerate the notebooks' stored outputs (nbval references) after changing data/ or nq57lib/
	$(BIN)/nq57 refresh

# JupyterLab refuses to start as root without --allow-root (servers and containers often run as root)
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: setup ## open JupyterLab on notebooks/ (work on copies of the notebooks: see README)
	$(BIN)/jupyter lab notebooks/ $(ALLOW_ROOT)

bench: setup ## speed and memory as ratios against a baseline run side by side (benchmarks/README.md)
	$(BIN)/python benchmarks/run.py

validate: setup ## check data/ and list every problem
	$(BIN)/nq57 validate

audit: setup ## developers: compare data/ with the seed documents in ../shared/seeds
	$(BIN)/python scripts/audit_seeds.py ../shared/seeds

extract-eval: setup ## developers: recall and precision of `nq57 extract` on the seed documents in ../shared/seeds
	$(BIN)/python scripts/extract_eval.py ../shared/seeds

clean: ## remove .venv and caches (outputs/ is kept)
	rm -rf $(VENV) .pytest_cache .hypothesis
