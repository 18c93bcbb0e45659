# Everything the project needs is installed from here: a fresh machine needs only Python 3.11+.
PYTHON ?= python3
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test bench clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Wattson needs Python 3.11 or newer")'
	@echo "==> creating the virtual environment $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@echo "==> installing Wattson and the packages pinned in requirements.lock, one line each (a few minutes on a"
	@echo "    fresh machine; the whole log is $(VENV)/install.log)"
	@# Only one line per package is shown: pip's own output (with setuptools' banner about editable
	@# installs, meant for developers of setuptools projects) goes to the log, and is shown on failure.
	@set -o pipefail; { $(BIN)/python -m pip install --progress-bar off --upgrade pip && \
	  $(BIN)/python -m pip install --progress-bar off -c requirements.lock -e '.[dev]'; } 2>&1 | tee $(VENV)/install.log | awk \
	  '/^Collecting / { n++; printf "    %3d  %s\n", n, $$2; fflush() } /^Successfully installed/ && !/ pip-[0-9.]*$$/ { print "    done"; fflush() }' \
	  || { echo "==> the installation failed; the end of $(VENV)/install.log:"; tail -n 40 $(VENV)/install.log; exit 1; }
	@touch $(STAMP)

install: $(STAMP)

## Start Wattson on SQLite (./wattson.db) with simulated stations charging.
run: $(STAMP)
	$(BIN)/wattson demo

## The whole test suite (PostgreSQL tests skip with a reason when no server is reachable).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Benchmarks: every scenario of bench/README.md (about 15 minutes); writes bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
