# Two entry points for a fresh machine: `make run` (the main job) and `make test`.
# torch is installed first and pinned here, because an unpinned torch pulls a multi-GB CUDA build;
# the package itself accepts any recent torch.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= torch==2.13.0

.PHONY: install run test lint browser

$(BIN)/mtsum: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev,ray]"
	touch $(BIN)/mtsum

install: $(BIN)/mtsum

run: install
	$(BIN)/mtsum batch seeds/ --out outputs/

lint: install
	$(BIN)/ruff check mtsum tests bench
	$(BIN)/ruff format --check mtsum tests bench

# The HTML report's tests drive the system's Chromium (Playwright's own browser download cannot be
# reached here). Without one, Debian's is installed when apt-get can be run (as root, as in CI);
# otherwise the browser tests skip, or fail under CI=true, saying what to install.
CHROMIUM_NAMES := chromium chromium-browser google-chrome google-chrome-stable

browser:
	@for name in $(CHROMIUM_NAMES); do command -v $$name >/dev/null 2>&1 && exit 0; done; \
	if [ -n "$$MTSUM_CHROMIUM" ]; then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "make: no Chromium found; installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
			|| echo "make: apt-get could not install chromium; the browser tests will say so"; \
	else \
		echo "make: no Chromium and no apt-get as root; the browser tests skip (fail when CI=true)"; \
	fi

test: lint browser
	$(BIN)/python -m pytest
