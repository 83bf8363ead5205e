#!/usr/bin/env bash
# `npm start`: install what is missing, bring the native stack up, build, and run every service
# (platform simulator, ingest, processors, API, gateway) in one process until Ctrl-C.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/install.sh
if [[ ! -f .env ]]; then
  # First start: a local .env (git-ignored) with a freshly generated token-encryption key.
  key="$(node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")"
  sed "s|^TOKEN_ENCRYPTION_KEYS=.*|TOKEN_ENCRYPTION_KEYS=k1:$key|" .env.example > .env
  echo "[start] wrote .env with a new TOKEN_ENCRYPTION_KEYS" >&2
fi
bash infra/stack.sh up
npx tsc -p tsconfig.json
exec node --enable-source-maps "$ROOT/dist/cli/spacehub.js" all "$@"
