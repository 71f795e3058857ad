#!/usr/bin/env bash
# Install ptk with its test extra into a fresh virtual environment and run the test suite.
# Extra arguments go to pytest (e.g. `scripts/test.sh -m "not slow"`).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${PTK_VENV:-.venv}"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q -e ".[test]"
exec "$venv/bin/python" -m pytest "$@"
