#!/usr/bin/env bash
# Set everything up on a fresh machine and start `opsbot dev`: a local Slack workspace
# in the browser with the bot connected, on embedded defaults (SQLite, in-process cache).
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_venv
cd "$ROOT"
exec "$VENV/bin/opsbot" dev "$@"
