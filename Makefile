# Two commands on a fresh machine with Python 3.11: `make run`, `make test`.
# Every target installs the pinned set from requirements.lock into .venv first (a no-op when unchanged).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench lock clean container-smoke

run: $(STAMP)
	$(BIN)/newsbeam run

test: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile

bench: $(STAMP)
	$(BIN)/python -m bench

$(VENV)/bin/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "newsbeam needs Python 3.11, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)

# The lock pins every distribution; the project itself goes in editable, without resolving again.
$(STAMP): $(VENV)/bin/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# Build the Dockerfile with podman and run the image on the sample feeds (needs root, ~2 min; not in CI),
# then read what it wrote with pyarrow.
container-smoke: $(STAMP)
	rm -rf .container-out
	bash ../shared/tools/container-smoke.sh .
	$(BIN)/python -c "import pyarrow.dataset as ds; \
	n = ds.dataset('.container-out/articles', partitioning='hive').count_rows(); \
	assert n > 0, 'no articles in .container-out/articles'; print(n, 'articles readable in .container-out/articles')"

# Regenerate the lock after changing dependencies in pyproject.toml (needs uv, pinned in the lock).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra test --extra bench --extra dev --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) output .pytest_cache .ruff_cache
