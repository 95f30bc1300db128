# mrkit: `make demo` and `make test` do all set-up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test lint bench sysdeps clean

$(VENV): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(VENV)

# System packages used by cross-checks in the tests (plink1.9 for clumping/LD,
# chromium for rendering the HTML report). Installed only when missing.
sysdeps:
	@command -v plink1.9 >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 || \
	  { if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	    $$SUDO apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq plink1.9 chromium >/dev/null; }

DEMO := examples/brain-iron-ms

# The default demo: simulate the brain-iron / MS study (cached after the first
# run), then run it end to end; prints where the report is.
demo: $(VENV)
	$(BIN)/mrkit simulate --config $(DEMO)/simulation.toml --out $(DEMO)/data
	$(BIN)/mrkit run $(DEMO)/study.toml

test: $(VENV) sysdeps
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -q

lint: $(VENV)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: $(VENV)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	@echo "benchmarks (run each on demand):"; ls benchmarks/bench_*.py
	$(BIN)/python benchmarks/bench_one_pair.py
	$(BIN)/python benchmarks/bench_presso.py
	$(BIN)/python benchmarks/bench_pairs.py --pairs 1000 10000 --dask

clean:
	rm -rf $(VENV) build dist .pytest_cache .ruff_cache .mypy_cache
