#!/usr/bin/env bash
# Set everything up on a fresh machine and run the whole suite: lint, types, layering, tests.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_venv
apt_install chromium chromium
apt_install_font "Noto Color Emoji" fonts-noto-color-emoji
apt_install prometheus prometheus
apt_install prometheus-alertmanager prometheus-alertmanager
apt_install kubectl kubernetes-client
ensure_services
cd "$ROOT"
export PATH="$VENV/bin:$PATH"
log "ruff";   ruff check . && ruff format --check .
log "mypy";   mypy
log "import-linter"; lint-imports
log "pytest"; pytest "$@"
