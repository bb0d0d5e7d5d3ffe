# The two commands of the README: `make demo` runs the platform, `make test` runs the tests.
# Everything else is installed from this repository's own files (pyproject.toml, uv.lock).

SHELL := /bin/bash
export UV_PYTHON_DOWNLOADS := never
UV := python3 -m uv

.PHONY: setup demo test check browser-deps

setup: .venv/.synced

# uv comes from PyPI; the Python it uses is the one .python-version names (3.12).
.venv/.synced: pyproject.toml uv.lock
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --locked
	@touch $@

demo: setup
	$(UV) run phongdich serve --demo

# Browser tests drive Debian's Chromium; posters need a Unicode font.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
	  echo "Installing Debian packages: chromium fonts-dejavu-core"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium fonts-dejavu-core; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium fonts-dejavu-core; fi; \
	fi

test: setup browser-deps
	$(UV) run pytest

check: setup
	$(UV) run ruff check src tests bench
	$(UV) run ruff format --check src tests bench
	$(UV) run mypy
	$(UV) run lint-imports
