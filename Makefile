# Two entry points for a fresh machine: `make run` (the main job) and `make test`.
# torch is installed first and pinned here, because an unpinned torch pulls a multi-GB CUDA build;
# the package itself accepts any recent torch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: install run test lint

$(BIN)/mtsum: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(BIN)/mtsum

install: $(BIN)/mtsum

run: install
	$(BIN)/mtsum batch seeds/ --out outputs/

lint: install
	$(BIN)/ruff check mtsum tests bench
	$(BIN)/ruff format --check mtsum tests bench

test: lint
	$(BIN)/python -m pytest
