#!/usr/bin/env bash
# `npm run stop`: stops the services `npm start` runs, then the native stack (data is kept).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkill -TERM -f "$ROOT/dist/cli/spacehub.js all" 2>/dev/null || true
bash "$ROOT/infra/stack.sh" down
