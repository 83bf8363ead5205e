#!/usr/bin/env bash
# `npm start`: install what is missing, bring the native stack up, build, and run every service
# (platform simulator, ingest, processors, API, gateway) in one process until Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/install.sh
# First start: a local .env (git-ignored, mode 0600) with a freshly generated token-encryption key.
bash scripts/init-env.sh
bash infra/stack.sh up
npx tsc -p tsconfig.json
exec node --enable-source-maps "$ROOT/dist/cli/spacehub.js" all "$@"
