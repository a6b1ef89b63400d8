#!/usr/bin/env bash
# README command 2: install everything the tests need and run the test suite.
source "$(dirname "$0")/_env.sh"
bash scripts/install_system_packages.sh
ruff check .
ruff format --check .
set +e
pytest "$@"
code=$?
set -e
if [ "$code" -eq 5 ]; then
  echo "pytest collected no tests: failing, because an empty selection proves nothing" >&2
  exit 1
fi
exit "$code"
