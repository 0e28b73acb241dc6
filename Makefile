# Set-up is part of every target: a fresh clone needs only python3.11, node 20, npm and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
SLITHER_VENV := .venv-slither
SLITHER_STAMP := $(SLITHER_VENV)/.installed
export ETH_HASH_BACKEND := pysha3

.PHONY: demo test compile verifier lint bench mutation clean

# pip shows each package as it comes (a fresh install takes a couple of minutes), so nobody
# wonders whether it hangs; --progress-bar off keeps that to one line a package.
$(PY_STAMP): pyproject.toml
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> installing BindLedger and its Python packages into $(VENV) (about 2 minutes the first time)"
	$(BIN)/pip install --progress-bar off --upgrade pip
	$(BIN)/pip install --progress-bar off -e '.[dev]'
	@echo "==> $(VENV) is ready"
	touch $@

# Slither (static analysis of the contracts) in an environment of its own: it needs web3 < 8,
# BindLedger's .venv has web3 8. Every package pinned in scripts/slither-requirements.txt.
$(SLITHER_STAMP): scripts/slither-requirements.txt
	@echo "==> creating $(SLITHER_VENV) for Slither"
	$(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/pip install --progress-bar off -r scripts/slither-requirements.txt
	touch $@

# Only tests and the compiler need Node: the solc-js compiler and the anvil node.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The web page's tests drive Debian's Chromium through its own driver (no browser download).
BROWSER := /usr/bin/chromedriver
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BROWSER):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver

demo: $(PY_STAMP)
	@echo "==> running the demo on the embedded chain"
	$(BIN)/bindledger demo

# The PostgreSQL tests run against BINDLEDGER_TEST_DATABASE_URL, a server already running here,
# or a throwaway cluster started for the run (installing Debian's postgresql package if needed).
# tests/contracts/test_slither.py runs Slither, so the test target builds its environment.
test: $(PY_STAMP) $(NODE_STAMP) $(BROWSER) $(SLITHER_STAMP)
	scripts/with_test_database.sh $(BIN)/pytest

lint: $(PY_STAMP) $(NODE_STAMP) $(SLITHER_STAMP)
	$(BIN)/ruff check ledger api
	$(BIN)/mypy
	$(BIN)/python scripts/slither_check.py

compile: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/compile_contracts.py

# The in-browser verifier: web/verifier/src bundled into api/static (after `make compile`, so a
# new contract release is added to the ones the page recognises).
verifier: $(PY_STAMP) $(NODE_STAMP)
	$(BIN)/python scripts/build_verifier.py

# Gas and throughput beside per-record anchoring and EAS, on eth-tester and anvil (about 10 min).
bench: $(PY_STAMP) $(NODE_STAMP)
	scripts/with_test_database.sh $(BIN)/bindledger bench --out bench/results

# Mutation testing of ledger/core/ with mutmut 3 and the fast core tests (not part of `make test`).
# From scratch it takes about 40 min on 2 cores; afterwards only new mutants and the ones not
# caught last time are retested (minutes). MUTATE=refs (or "refs records") limits it to files;
# MUTATION_ARGS=--fresh forgets earlier results, --report only summarises them. Fails below 95%
# or on an untriaged survivor.
MUTATE ?=
MUTATION_ARGS ?=
MUTATION_TIMEOUT ?= 75m
mutation: $(PY_STAMP)
	timeout $(MUTATION_TIMEOUT) $(BIN)/python scripts/mutation.py $(MUTATION_ARGS) $(MUTATE)

clean:
	rm -rf $(VENV) $(SLITHER_VENV) node_modules mutants
