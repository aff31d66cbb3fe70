#!/usr/bin/env bash
# Set up, lint (ruff) and type-check (mypy), then run the whole test suite (unit tests, then Mininet integration tests).
# Extra arguments go to pytest, e.g. `scripts/test.sh -m integration` or `-m "not integration"`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/ruff check nvapps topologies bench tests
.venv/bin/mypy          # the modules listed in pyproject.toml
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
