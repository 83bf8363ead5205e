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
