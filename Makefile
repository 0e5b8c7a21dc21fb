# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: demo test test-fast lint bench clean system-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[plot]'
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,plot]' 'torch==2.13.0'
	touch $@ $(STAMP_RUN)

demo: $(STAMP_RUN)
	$(BIN)/chainrule train --dataset mnist --model mlp --epochs 5 --out runs/demo

# Graphviz's `dot` renders graph drawings (cr.viz.render); the suite checks real rendering.
system-deps:
	@command -v dot >/dev/null 2>&1 || { \
	  echo "installing graphviz (the 'dot' program) with apt-get"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq graphviz >/dev/null; }

test: $(STAMP_DEV) system-deps
	$(BIN)/python -m pytest -n 2 -q

test-fast: $(STAMP_DEV) system-deps
	$(BIN)/python -m pytest -n 2 -q -m "not slow"

lint: $(STAMP_DEV)
	$(BIN)/ruff check src tests benchmarks examples

bench: $(STAMP_DEV)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache
