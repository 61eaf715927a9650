#!/usr/bin/env bash
# Set everything up on a fresh machine and run the whole suite: lint, types, layering, tests.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_venv
apt_install chromium chromium
ensure_services
cd "$ROOT"
export PATH="$VENV/bin:$PATH"
log "ruff";   ruff check . && ruff format --check .
log "mypy";   mypy
log "import-linter"; lint-imports
log "pytest"; pytest "$@"
