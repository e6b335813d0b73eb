# One entry point for students, instructors and readers. `make` sets up and runs the main job;
# `make test` runs the whole suite. Every generated file is rebuilt by a target here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.DEFAULT_GOAL := all
.PHONY: release autograde feedback grades
.PHONY: all install test bench clean export book results install-chromium install-bwrap
.PHONY: student student-venv

# The main job: regenerate the package export, the release and the student edition, run the
# capstone, build the book.
all: install export release student results book

# The stamp makes a second `make install` a no-op until the requirements change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q -e '.[mlflow]'
	touch $(STAMP)

install: $(STAMP)

# tinytorch/olympics/capstone.py is generated from the capstone source.
export: install
	$(PY) -m tinytorch_course.authoring.export

# ruff's rules and its formatter, and mypy's type check, configured in pyproject.toml: fast, so
# they run before the suite.
.PHONY: lint typecheck
lint: install typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The suite in tiers, each runnable alone; `make test` runs every tier. Tests that time known-cost
# callables run first and alone (a busy machine inflates their samples), then the rest.
QUICK_TESTS     := tests/test_suite_layout.py tests/test_processes.py tests/test_acts.py tests/core tests/data tests/perf tests/submission tests/olympics
COURSE_TESTS    := tests/course/authoring tests/course/student
GRADING_TESTS   := tests/course/grading
JAIL_TESTS      := tests/course/grading/jail
BOOK_TESTS      := tests/book
BROWSER_TESTS   := tests/book/test_book_browser.py tests/course/student/test_jupyterlab.py
PYTEST          := $(PY) -m pytest --durations=15
# Past the quick tier the tests mostly wait: for graded notebooks to reach their budgets, kernels,
# servers and browsers to start. Three pytest-xdist processes keep both cores busy (on 2 cores a
# fresh-clone `make test` took 8:08 with two, 7:37 with three and shorter known-cost stalls: a
# grading batch leaves its cores idle while its kernels start and its tasks hand over); each test
# file runs whole in one of them, so a module's fixture is built once. Files are handed out
# longest first, in the order tests/conftest.py collects them (not xdist's by number of tests),
# so no long file starts last.
PARALLEL        := -n 3 --dist loadfile --no-loadscope-reorder
.PHONY: test-quick test-course test-grading test-jail test-book test-browser

# Before the suite: the apt-get installs one after the other (dpkg allows one at a time), the
# student edition (a test checks build/student is current), then the timing tests alone. Then lint
# runs beside the rest of the suite, and the suite builds the book afresh (`make book`, strict:
# the old one is removed here) and the student venv (cached) when a test first needs them: each is
# mostly one process (mypy, the book's kernel, pip), so they fill the cores the grading batches
# leave idle instead of running before them on a core each. Each output line is shown as it comes.
test: install install-chromium install-bwrap student
	$(PY) -m pytest -m timing
	rm -rf _build
	$(MAKE) --no-print-directory -j 2 --output-sync=line lint test-parallel

# the suite past the timing tests (what `make test` runs beside lint)
.PHONY: test-parallel
test-parallel: install
	$(PYTEST) $(PARALLEL) -m "not timing"

# framework, submission format and capstone units: under a minute
test-quick: install
	$(PY) -m pytest -m timing $(QUICK_TESTS)
	$(PYTEST) -m "not timing" $(QUICK_TESTS)

# the export, the release, the student edition and its venv (not its browser test)
test-course: install student student-venv
	$(PYTEST) $(PARALLEL) $(COURSE_TESTS) $(addprefix --deselect=,$(BROWSER_TESTS))

# grading with real nbgrader, kernels and Dask (not the jail's own tests)
test-grading: install install-bwrap
	$(PYTEST) $(PARALLEL) $(GRADING_TESTS) --ignore=$(JAIL_TESTS)

test-jail: install install-bwrap
	$(PYTEST) $(PARALLEL) $(JAIL_TESTS)

test-book: install book
	$(PYTEST) $(PARALLEL) $(BOOK_TESTS) $(addprefix --deselect=,$(BROWSER_TESTS))

# the book and the student's JupyterLab in headless Chromium
test-browser: install install-chromium book student student-venv
	$(PYTEST) $(PARALLEL) $(BROWSER_TESTS)

# The capstone workflow on the embedded digits data: the submission and plots the book shows.
results: install
	$(BIN)/tinytorch olympics run --out build/results/submission.json --no-progress

# The book, always a clean strict build (an incremental rebuild after a failure can pass
# wrongly): every page executed, warnings are errors. Mermaid is served from book/_static.
book: install results
	scripts/fetch_mermaid.sh
	rm -rf _build
	$(BIN)/jupyter-book build . --all -W -n --keep-going

# The student edition: what a course publishes as the students' repository (build/student/):
# the committed release, the student package, its requirements and Binder setup, a README.
student: install
	$(PY) -m tinytorch_course.student.edition

# A fresh venv made from the student edition's own requirements, for its tests (cached under
# build/student-venv/ until those requirements change).
student-venv: student
	$(PY) -m tinytorch_course.student.venv

# Debian's chromium for the book's browser test (apt-get, root only; says how otherwise).
install-chromium:
	scripts/install_chromium.sh

# bubblewrap for the grading jail every graded kernel runs in (apt-get, root only; says how
# otherwise). `make autograde SANDBOX=0` grades without it, unsafely, and says so.
install-bwrap:
	scripts/install_bwrap.sh

# The student release: jupytext source -> nbgrader source notebook (build/nbgrader/source) ->
# stock `nbgrader generate_assignment` -> modules/20_capstone/capstone.ipynb (committed).
release: install
	$(PY) -m tinytorch_course.authoring.release

# nbgrader needs the assignment in its gradebook before it can grade.
gradebook.db:
	$(MAKE) release

# Grade submitted/<student>/20_capstone/capstone.ipynb, a few students per task, on a Dask LocalCluster
# of $(JOBS) worker processes (or the existing cluster at SCHEDULER=tcp://host:8786), with the
# scores stock `nbgrader autograde 20_capstone` gives; prints and writes grading-report.csv/.txt.
# FORCE=1 regrades students already graded.
autograde: install install-bwrap gradebook.db
	$(PY) -m tinytorch_course.grading.coordinator --jobs $(JOBS) $(if $(FORCE),--force) \
		$(if $(SCHEDULER),--scheduler $(SCHEDULER))

# Feedback HTML for students (hidden tests stripped, also from tracebacks): feedback/<student>/.
feedback: install
	PATH=$(BIN):$$PATH $(BIN)/nbgrader generate_feedback 20_capstone

# Totals and per-test scores of every student: build/grades.csv.
grades: install
	PATH=$(BIN):$$PATH $(BIN)/nbgrader export --exporter=tinytorch_course.grading.plugins.cellscoresexport.CellScoresExportPlugin --to=build/grades.csv

bench: install install-bwrap
	$(PY) benchmarks/run_all.py

clean:
	rm -rf build _build .pytest_cache
