# outcomes: the project's verbs. `make help` lists them.
# A clean machine needs only python3 (3.11+), make and the Python package index.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
CONSTRAINTS := requirements/constraints.txt
# Rebuilt (packages re-synced) whenever pyproject.toml or the constraints change.
STAMP := $(VENV)/.installed
SANITIZE := notebooks/sanitize.cfg
DEFAULT_COHORT := data/synthetic/default_cohort.parquet
DATACARD := data/synthetic/DATACARD.md

# Extra options, e.g. `make test PYTEST_ARGS="-n 2 -x"`, `make lab LAB_ARGS="--port 8899"`,
# `make lock LOCK_ARGS=--upgrade`. PYTEST_ARGS goes to the unit tests, NBVAL_ARGS to nbval;
# `make test TEST_WORKERS=1` runs both in this one process.
PYTEST_ARGS ?=
NBVAL_ARGS ?=
LAB_ARGS ?=
LOCK_ARGS ?=
SLOW_WORKERS ?= 2
# Processes sharing the unit tests and the notebooks of `make test` (pytest-xdist; the machines
# have 2 cores). nbval keeps each notebook in one process (--dist loadscope).
TEST_WORKERS ?= 2

# Environment of every notebook kernel (nbval, papermill, JupyterLab) and of the tests: results
# must not depend on hash seeds, thread counts or clocks. MPLBACKEND is deliberately NOT set:
# with agg the inline figures vanish and nbval fails. Same values as outcomes._dev.kernel.KERNEL_ENV
# (tests/test_nbval_config.py checks). The CPU pins make results identical across processors:
# numpy's AVX-512 loops and OpenBLAS's AVX-512 kernels round differently in the last bit from
# their AVX2 versions, enough to change a stored notebook output (see outcomes._dev.kernel._cpu_pins).
AVX2 := $(shell test "$$(uname -m)" = x86_64 && grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo yes)
KERNEL_ENV := PYTHONHASHSEED=0 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	SOURCE_DATE_EPOCH=0 TQDM_DISABLE=1 NPY_DISABLE_CPU_FEATURES=X86_V4,AVX512_ICL,AVX512_SPR \
	$(if $(AVX2),OPENBLAS_CORETYPE=Haswell)
RUN := env $(KERNEL_ENV)
# The `outcomes report` process itself draws its progress bar on a terminal: TQDM_DISABLE is for
# the kernels only (outcomes._dev.kernel.kernel_environment gives it to each kernel it starts).
REPORT_RUN := env $(filter-out TQDM_DISABLE=%,$(KERNEL_ENV))

# -n TEST_WORKERS and the given distribution, unless one worker is asked for.
xdist = $(if $(filter-out 0 1,$(TEST_WORKERS)),-n $(TEST_WORKERS) $(1))

# pytest, where exit code 5 ("no tests collected") is not a failure.
define pytest_allow_empty
status=0; $(RUN) $(PY) -m pytest $(1) || status=$$?; \
if [ $$status -eq 5 ]; then echo "(nothing to run: no tests collected)"; status=0; fi; \
exit $$status
endef

.PHONY: help venv test test-slow test-lowest ci run lab notebooks scripts readme docs data-dictionary \
	mutate lint typecheck bench lock environment data clean distclean

help: ## list the verbs
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

venv: $(STAMP) ## create .venv and install the package with the pinned dependencies

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "outcomes needs Python 3.11 or newer (PYTHON=$(PYTHON))"; exit 1; }
	@# A .venv whose pip does not run is broken (on a Debian without python3-venv, `python3 -m
	@# venv` fails after creating .venv/bin/python): remove it and make it again.
	if ! $(PY) -m pip --version >/dev/null 2>&1; then \
		if [ -e $(VENV) ]; then echo "$(VENV) is incomplete (its pip does not run): recreating it"; fi; \
		rm -rf $(VENV); \
		$(PYTHON) -m venv $(VENV) || { \
			$(PYTHON) -m ensurepip --version >/dev/null 2>&1 || echo "hint: $(PYTHON) has no" \
				"ensurepip; on Debian/Ubuntu install it with: apt-get install python3-venv"; \
			rm -rf $(VENV); exit 1; }; \
	fi
	if $(PY) -m pip install --quiet --disable-pip-version-check uv \
		&& $(UV) pip install --python $(PY) -c $(CONSTRAINTS) -e ".[dev]"; then :; \
	else \
		echo "uv failed; installing with pip instead (slower)"; \
		$(PY) -m pip install --disable-pip-version-check -c $(CONSTRAINTS) -e ".[dev]"; \
	fi
	@# Bytecode for every installed module, once: uv writes none, and where PYTHONDONTWRITEBYTECODE
	@# is set nobody does, so each test process, CLI run and notebook kernel compiled scipy,
	@# scikit-learn, pandas ... from source again (~10 s of CPU each; this takes ~60 s once).
	@# (-qq: a package's non-Python data files named .py are not ours to report.)
	$(PY) -m compileall -qq -j 0 "$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
		|| true
	touch $@

test: venv ## unit tests (not slow) and strict nbval over notebooks/
	$(call pytest_allow_empty,tests -m "not slow" $(call xdist,--dist worksteal) $(PYTEST_ARGS))
	$(call pytest_allow_empty,--nbval --nbval-current-env --nbval-sanitize-with=$(SANITIZE) \
		notebooks/ $(call xdist,--dist loadscope) $(NBVAL_ARGS))

# The slow tests are few, long and independent (the 200,000-patient grid point alone takes
# ~5 min of CPU): SLOW_WORKERS processes share them (pytest-xdist; 1 runs them in this one).
test-slow: venv ## the tests marked slow (statistical checks, the notebook parameter grid)
	$(call pytest_allow_empty,tests -m slow $(if $(filter-out 0 1,$(SLOW_WORKERS)),-n \
		$(SLOW_WORKERS) --dist worksteal) $(PYTEST_ARGS))

# The declared lower bounds, kept true: the package with the lowest versions pyproject.toml
# allows for its direct dependencies (uv's lowest-direct resolution), in a venv of its own, runs
# the fast tests of what the bounds guard (Parquet metadata, pandera schemas, skops models, the
# readers and the CLI). The Jupyter extras are not installed: the core must not need them.
LOWEST_VENV := .venv-lowest
LOWEST_TESTS := tests/test_io.py tests/test_schema.py tests/test_models.py \
	tests/test_userdata.py::test_template_round_trips \
	tests/test_userdata.py::test_typed_parquet_columns_are_checked_like_text \
	tests/test_userdata.py::test_typed_parquet_and_csv_text_give_the_same_table_and_the_same_messages \
	tests/test_cli_triage.py::test_oracle_of_a_generated_file_uses_the_overrides_it_was_generated_with
test-lowest: venv ## the fast tests of the core against the lowest allowed versions (own venv)
	rm -rf $(LOWEST_VENV)
	$(UV) venv --quiet --python $(PY) $(LOWEST_VENV)
	$(UV) pip install --quiet --python $(LOWEST_VENV)/bin/python --resolution lowest-direct \
		-e . "pytest>=8.0" "hypothesis>=6.100"
	$(UV) pip list --python $(LOWEST_VENV)/bin/python 2>/dev/null \
		| grep -iE '^(numpy|scipy|pandas|pyarrow|scikit-learn|pandera|skops|lifelines) '
	cd $(CURDIR) && $(RUN) $(LOWEST_VENV)/bin/python -m pytest -q -m "not slow" -p no:cacheprovider \
		$(LOWEST_TESTS) $(PYTEST_ARGS)

# One make per step, so the slow tests run only after `make test` passed, also under `make -j`.
ci: ## what CI runs (.ci/run): make test, then make test-slow
	$(MAKE) test
	$(MAKE) test-slow

run: venv | $(DEFAULT_COHORT) ## execute every notebook and write the HTML report to reports/
	$(REPORT_RUN) $(VENV)/bin/outcomes report --out reports/

# Committed; made only if missing (timestamps in a fresh clone mean nothing).
$(DEFAULT_COHORT):
	$(MAKE) data

data: venv ## regenerate the committed default cohort, its data card and the demo files
	cmd=$$($(PY) -c 'from outcomes.engine.datacard import DEFAULT_COMMAND; print(DEFAULT_COMMAND)'); \
	echo "$$cmd"; PATH="$(abspath $(VENV))/bin:$$PATH" $(SHELL) -c "$$cmd"
	$(VENV)/bin/outcomes datacard --cohort $(DEFAULT_COHORT) --out $(DATACARD)
	$(PY) -c 'from outcomes.analysis.userdata import demo_files; print(*demo_files("data/synthetic"))'

data-dictionary: venv ## regenerate docs/data_dictionary.md from the schema
	$(PY) -c 'import pathlib; from outcomes.analysis.userdata import data_dictionary_markdown; \
		pathlib.Path("docs/data_dictionary.md").write_text(data_dictionary_markdown())'

# The HTML site (Sphinx, docs/conf.py): the README as a guide, the notebooks with their committed
# outputs (never re-executed), the CLI reference, the data dictionary and the API reference from
# the numpydoc docstrings, which numpydoc validates. Any warning fails the build, as in CI
# (tests/test_docs.py builds the same site into a temporary folder).
DOCS_BUILD := docs/_build
docs: venv data-dictionary ## build the HTML documentation site into docs/_build/html
	$(RUN) $(VENV)/bin/sphinx-build -E -W --keep-going -q -b html -d $(DOCS_BUILD)/doctrees \
		docs $(DOCS_BUILD)/html
	@echo "The site is in $(DOCS_BUILD)/html: open $(DOCS_BUILD)/html/index.html"

# Mutation testing (mutmut, [tool.mutmut] in pyproject.toml): small changes to the modules named
# there, each run against their tests; a mutant that no test notices is a missing assertion. One
# process (--max-children 1), minutes of CPU: not part of CI. CONTRIBUTING.md records the kill rate.
mutate: venv ## mutation testing of the core modules named in pyproject's [tool.mutmut]
	$(UV) pip install --quiet --python $(PY) -c $(CONSTRAINTS) -e ".[mutate]"
	rm -rf mutants
	$(RUN) $(VENV)/bin/mutmut run --max-children 1
	$(VENV)/bin/mutmut export-cicd-stats
	$(PY) -c 'import json; s = json.load(open("mutants/mutmut-cicd-stats.json")); \
		print("killed", s["killed"], "of", s["total"], "mutants; the survivors: mutmut results")'

# The kernel is registered under the name the notebooks store and outcomes._dev.kernel.KERNEL_NAME
# uses ("python3"), so Lab opens them on it; it replaces the venv's own python3 spec (same
# Python) with a clear display name. tests/test_lab.py checks the name matches the notebooks.
lab: venv ## JupyterLab on the project's kernel, "outcomes (.venv)"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "outcomes (.venv)"
	$(RUN) $(VENV)/bin/jupyter lab --no-browser $(if $(filter 0,$(shell id -u)),--allow-root) \
		$(LAB_ARGS)

notebooks: venv ## re-execute every notebook in place, with outputs (after changing code)
	$(RUN) $(PY) -c 'from outcomes.faces.report import execute_in_place; \
		print(*(f"executed {p}" for p in execute_in_place()), sep="\n")'

scripts: venv ## rewrite the review-friendly percent scripts in notebooks/scripts/ (no execution)
	$(PY) -c 'from outcomes._dev.notebook_scripts import sync_scripts; \
		print(*(f"wrote {p}" for p in sync_scripts()), sep="\n")'

readme: venv ## regenerate the CLI reference in README.md from the argument parser
	$(PY) -c 'import pathlib; from outcomes.faces.cli import replace_reference; \
		p = pathlib.Path("README.md"); p.write_text(replace_reference(p.read_text()))'

lint: venv ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv ## mypy over the package (settings in pyproject's [tool.mypy])
	$(VENV)/bin/mypy src/outcomes

bench: venv ## run every script in benchmarks/
	shopt -s nullglob; for script in benchmarks/*.py; do \
		echo "== $$script"; $(PY) "$$script"; \
	done

lock: venv ## re-pin requirements/constraints.txt from pyproject.toml (core + dev)
	$(UV) pip compile pyproject.toml --extra dev --python-version 3.11 --quiet -o $(CONSTRAINTS) \
		$(LOCK_ARGS)

environment: ## regenerate environment.yml (conda) from pyproject.toml
	$(PYTHON) tools/sync_environment.py

clean: ## remove reports, caches and build leftovers (keeps .venv)
	rm -rf reports/ .pytest_cache .ruff_cache .mypy_cache .hypothesis build dist docs/_build docs/api/generated mutants
	find . -path ./$(VENV) -prune -o \
		\( -name __pycache__ -o -name .ipynb_checkpoints \) -type d -prune -print0 \
		| xargs -0 rm -rf

distclean: clean ## clean, and remove .venv (and .venv-lowest) too
	rm -rf $(VENV) $(LOWEST_VENV)
