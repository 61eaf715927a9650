#!/usr/bin/env bash
# Idempotent set-up shared by scripts/dev.sh and scripts/test.sh:
# a virtualenv with opsbot installed, the Debian packages the tests drive, and the local
# PostgreSQL and Redis running. Sourced, not executed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

pick_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "opsbot needs Python >= 3.11" >&2; return 1
}

ensure_venv() {  # ensure_venv [extras]: opsbot installed editable with these extras (default dev)
  local extras="${1-dev}"
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv in .venv"
    "$(pick_python)" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
  fi
  local stamp="$VENV/.opsbot-install-stamp" want have=""
  want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1) [$extras]"
  [ -f "$stamp" ] && have="$(cat "$stamp")"
  # a venv set up with the dev extras also serves dev.sh (which needs only sandbox)
  if [ "$have" != "$want" ] && [ "$have" != "${want%\[*}[dev]" ]; then
    log "installing opsbot${extras:+ with extras [$extras]}"
    "$VENV/bin/pip" install -q -e "$ROOT${extras:+[$extras]}"
    echo "$want" >"$stamp"
  fi
}

apt_get() {  # apt_get <debian-package>: install it (updating the lists once if needed)
  local pkg="$1"
  log "installing Debian package $pkg"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q "$pkg" >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q "$pkg" >/dev/null; }
}

apt_install() {  # apt_install <command-that-must-exist> <debian-package>
  command -v "$1" >/dev/null 2>&1 || apt_get "$2"
}

apt_install_font() {  # apt_install_font <font-family> <debian-package>
  # headless Chromium draws emoji from the fonts fontconfig knows; without a colour emoji
  # font the workspace page's emoji (and the screenshots in docs/) are empty boxes
  fc-list 2>/dev/null | grep -qiF "$1" || dpkg -s "$2" >/dev/null 2>&1 || apt_get "$2"
}

ensure_services() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start
  fi
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  fi
}
