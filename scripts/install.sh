#!/usr/bin/env bash
# Installs what the project needs, from its own files, idempotently: npm dependencies (from the
# lockfile), then the native stack's servers (Debian redis-server, Kafka and the Schema Registry via
# Maven). Re-runs are cheap: each step checks what is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
stamp=node_modules/.spacehub-install-stamp
if [[ ! -f "$stamp" || package-lock.json -nt "$stamp" || package.json -nt "$stamp" ]]; then
  echo "[install] npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
bash infra/stack.sh install
# Headless Chromium for the web dashboard's browser test (dashboards/web; playwright-core drives the
# Debian package, it downloads no browser of its own).
if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
  echo "[install] apt-get install chromium" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ||
    echo "[install] warning: could not install chromium; the web dashboard's browser test will fail" >&2
fi
