# STSRN-lite: the two commands are `make book` and `make test`; both set up what they need.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# An index to take torch from before the lock (e.g. https://download.pytorch.org/whl/cpu for the CPU
# build): from PyPI, torch==2.13.0 on Linux x86-64 is the CUDA build with ~3 GB of NVIDIA wheels.
# torch alone comes from there (--no-deps); its dependencies are pinned in the lock and come from PyPI.
TORCH_INDEX ?=
TORCH_PIN = $(shell grep -m1 '^torch==' requirements.lock)
PROFILE ?= smoke
DATA_ROOT ?=
# Overrides of the profile for `make book` (empty: the profile's): DEVICE=cpu|cuda, EPOCHS=N, FOLDS=N,
# CHAPTERS=07,12. Anything but the default profile with no overrides builds its own book under
# _build/$(PROFILE)/ and leaves the committed notebooks alone (tools/run_notebooks.py).
DEVICE ?=
EPOCHS ?=
FOLDS ?=
CHAPTERS ?=
BOOK_ARGS = --profile $(PROFILE) $(if $(DATA_ROOT),--data-root $(DATA_ROOT)) $(if $(DEVICE),--device $(DEVICE)) \
  $(if $(EPOCHS),--epochs $(EPOCHS)) $(if $(FOLDS),--folds $(FOLDS)) $(if $(CHAPTERS),--chapters $(CHAPTERS)) \
  --workers $(WORKERS)
# The environment of every notebook kernel, for papermill and nbval alike (tools/run_notebooks.py KERNEL_ENV).
NB_ENV = $$($(PY) tools/run_notebooks.py --kernel-env)
# nbval compares the outputs only on a CPU like the one that executed the notebooks (notebooks/cpu.json):
# training gives other numbers on another instruction set, so there it only executes them (--nbval-lax).
NBVAL = $$($(PY) tools/run_notebooks.py --nbval-mode)
# The notebooks as nbval takes them, one whole notebook per worker: the costliest first, so that the
# workers end together (tools/run_notebooks.py COSTLIEST), in that order (--no-loadscope-reorder).
NB_ORDER = $$($(PY) tools/run_notebooks.py --nbval-order)
OPENCV_SAMPLES := data/opencv-samples/vtest.avi
# Processes side by side, one per core by default, each on one thread: the unit tests (pytest-xdist),
# the notebooks of `make book` and those nbval checks. WORKERS=0 runs everything one at a time.
# A fresh clone's `make test` on 2 cores (2026-12-04): 27 min 45 s, of which the unit tests 8 min 17 s
# and nbval, which trains the 16 smoke runs, 16 min 30 s (9 min once they are trained). On the slower
# AMD EPYC (family 23) of 2026-12-06: nbval from a fresh home 27 min 48 s in pytest-xdist's order,
# 22 min 48 s costliest first (NB_ORDER); the unit tests 10 min 24 s to 13 min 55 s. With two smoke
# tests per run instead of four and chapters putting off a run another one is training
# (grid.execute_all), a fresh clone's `make test` there: 33 min 59 s, of which the unit tests 9 min 26 s
# and nbval 21 min 37 s (39 min 18 s before).
# On an AMD EPYC of family 25 (model 17, AVX-512) the same evening, the same fresh-clone `make test`:
# 12 min 51 s with `make venv`, of which the unit tests 3 min 53 s and nbval 7 min 27 s (on another CPU
# than notebooks/cpu.json's, so --nbval-lax: every cell executed, no output compared), while a bench
# run trained beside it at the same scheduling priority: an upper bound for that CPU.
WORKERS ?= auto

# Reproducible CPU numbers need a fixed thread count (book/toolchain notes); tqdm stays quiet.
export OMP_NUM_THREADS ?= 1
export PYTHONHASHSEED := 0

.PHONY: help venv lint test book check-book synthetic clean-book

help:
	@echo "make book   - set up, execute every notebook with papermill, build the HTML book"
	@echo "              (PROFILE=smoke|bench|full|paper DATA_ROOT=... DEVICE=cpu|cuda EPOCHS=N FOLDS=N CHAPTERS=07,12)"
	@echo "make test   - set up, run ruff, the unit tests and nbval"

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; STSRN-lite needs Python 3.11 (set PYTHON=...)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --index-url $(TORCH_INDEX) "$(TORCH_PIN)")
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	touch $@

# OpenCV's samples (Debian package opencv-doc): real frame pairs for the optical-flow test and the
# real-footage chapter's video. Best effort: without them the tests that need them are skipped and
# say why, and the chapter fetches the video itself.
$(OPENCV_SAMPLES):
	-$(PY) data_scripts/fetch_opencv_samples.py --out data/opencv-samples

LINTED := stsrn_lite tools tests benchmarks data_scripts

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED) notebooks
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/ruff format --check --config notebooks/ruff.toml notebooks

test: $(STAMP) $(OPENCV_SAMPLES) lint
	OMP_NUM_THREADS=1 $(PY) -m pytest -n $(WORKERS) tests -q
	env $(NB_ENV) $(PY) -m pytest -q -p no:cacheprovider -n $(WORKERS) --dist loadfile --no-loadscope-reorder $(NBVAL) \
	  --nbval-current-env --nbval-sanitize-with nbval_sanitize.cfg $(NB_ORDER)

# the profile's synthetic datasets, in the folders its runs read (the bench's MARS: mars-300)
synthetic: $(STAMP)
	$(PY) -m stsrn_lite.book.profiles --generate $(PROFILE)

# The committed book builds with -W (a warning fails it); another profile's book may hold only some
# chapters, whose links to the others Sphinx warns about, so it builds without.
book: $(STAMP)
	$(PY) tools/run_notebooks.py --preflight $(BOOK_ARGS)
	$(PY) tools/sync_notebooks.py
	$(PY) tools/run_notebooks.py $(BOOK_ARGS)
	source=$$($(PY) tools/run_notebooks.py --where $(BOOK_ARGS)); \
	rm -rf $$source/_build/html $$source/_build/.doctrees $$source/_build/jupyter_execute; \
	$(VENV)/bin/jupyter-book build $$source $$([ "$$source" = . ] && echo "-W --keep-going"); \
	if command -v chromium >/dev/null; then \
	  $(PY) tools/check_book.py --html $$source/_build/html --toc $$source/_toc.yml --out $$source/_build/screenshots; \
	else echo "book: no chromium, so the pages were not checked in a browser (apt-get install chromium; make check-book)"; fi; \
	echo "book: open $$source/_build/html/index.html"

check-book: $(STAMP)
	$(PY) tools/check_book.py

clean-book:
	rm -rf _build
