# ferrum: set-up, demo, tests, benchmarks, lint.
#
#   make demo    create .venv, install ferrum, run examples/demo.py   (the main job)
#   make test    create .venv, install ferrum[dev,parity], run the test suite
#   make bench   run benchmarks/run.py (ferrum side by side with torch 2.13)
#   make lint    ruff check
#
# The venv is made once with `python3 -m venv`; each set of extras is (re)installed only when
# pyproject.toml is newer than its stamp file in .venv/. torch is only ever installed pinned
# (extra "parity": torch==2.13.0, a CPU wheel).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check --no-input -q

# pytest: two workers, a per-test time limit, pytest's own summary line last; exit code 5 (no tests
# collected) is not a failure
PYTEST_WORKERS ?= 2
PYTEST_TIMEOUT ?= 300
PYTEST_ARGS    ?=
# with two pytest workers on two cores, one BLAS thread per worker avoids oversubscription
TEST_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

BENCH_ARGS ?=
LINT_PATHS := src tests benchmarks examples

.PHONY: all venv demo test bench lint clean help

all: demo

help:
	@sed -n '3,7p' Makefile

$(PY):
	$(PYTHON) -m venv $(VENV)

# one stamp per set of extras: base (demo), dev+parity (test, bench, lint)
$(VENV)/.stamp-base: pyproject.toml | $(PY)
	$(PIP) install -e .
	@touch $@

$(VENV)/.stamp-dev-parity: pyproject.toml | $(PY)
	$(PIP) install -e ".[dev,parity]"
	@touch $@ $(VENV)/.stamp-base

venv: $(VENV)/.stamp-base

demo: $(VENV)/.stamp-base
	$(PY) examples/demo.py

test: $(VENV)/.stamp-dev-parity
	@$(PY) -c "import ferrum, numpy; print(f'ferrum {ferrum.__version__}, numpy {numpy.__version__}')"
	@set +e; $(TEST_ENV) $(PY) -m pytest -n $(PYTEST_WORKERS) --timeout=$(PYTEST_TIMEOUT) \
		-p no:cacheprovider -rfE $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5), not a failure"; rc=0; fi; \
	exit $$rc

bench: $(VENV)/.stamp-dev-parity
	$(PY) benchmarks/run.py $(BENCH_ARGS)

lint: $(VENV)/.stamp-dev-parity
	$(PY) -m ruff check $(LINT_PATHS)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
