# Two commands: `make demo` (install, load the bundled sources, serve) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Instance IRIs follow the demo's address unless you set CREATIVE_GRAPH_BASE_IRI yourself.
export CREATIVE_GRAPH_BASE_IRI ?= http://localhost:$(PORT)/
PYTEST_ARGS ?=

.PHONY: install ui demo test lint bench bench-endpoint docs clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "creative-graph needs Python 3.11 or newer: run make PYTHON=python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable .
	@touch $@

# The query page's YASGUI comes from npm (endpoint/ui/package.json); without npm the page
# falls back to a plain form, so a missing npm is a note, not an error.
UI_INSTALLED := endpoint/ui/node_modules/.package-lock.json
$(UI_INSTALLED): endpoint/ui/package.json endpoint/ui/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix endpoint/ui --no-audit --no-fund --loglevel=error; \
	else \
	  echo "note: npm not found; /sparql will be a plain query form (install Node.js and npm for YASGUI)"; \
	fi

ui: $(UI_INSTALLED)

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	@touch $@

install: $(VENV)/.installed ui

# The demo's contact: a reserved address (RFC 2606), so that what the catalogue and OAI-PMH's
# Identify name is plainly a demonstration; a deployment sets its own (docs/CATALOG.md).
demo: export CREATIVE_GRAPH_CATALOG_CONTACT ?= mailto:demo-contact@example.org
demo: install
	$(BIN)/creative-graph ingest
	$(BIN)/creative-graph serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-test ui
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: install
	$(BIN)/python -m creative_graph.model_diagram --write docs/MODEL.md

bench: install
	$(BIN)/python bench/ingest_bench.py --actors 10000

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --editable '.[bench]'
	@touch $@

# Virtuoso is a peer only where Debian's virtuoso-opensource is installed (apt-get install
# virtuoso-opensource); without it the benchmark says so and goes on.
bench-endpoint: $(VENV)/.installed-bench
	$(BIN)/python bench/endpoint_bench.py --actors 10000

clean:
	rm -rf $(VENV) var build *.egg-info .pytest_cache .ruff_cache endpoint/ui/node_modules
