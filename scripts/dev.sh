#!/usr/bin/env bash
# Set everything up on a fresh machine and start `opsbot dev`: a local Slack workspace in
# the browser, the bot connected to it, and the sandbox shop (Prometheus, Alertmanager,
# OpenSearch-API, Jaeger and Kubernetes stand-ins) with healthy traffic (`--bare`: none).
# Installs only what running needs (the `sandbox` extra), not the test tools.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
ensure_venv sandbox
case " $* " in
  *" --bare "*) ;;
  *) apt_install prometheus prometheus
     apt_install prometheus-alertmanager prometheus-alertmanager ;;
esac
cd "$ROOT"
exec "$VENV/bin/opsbot" dev "$@"
