#!/usr/bin/env bash
# `npm test`: install what is missing, bring the native stack up (or use the configured endpoints),
# type-check, run the whole suite. Services this run started are stopped at the end; a stack that
# was already running (npm start) is left as it was.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/install.sh
before="$(bash infra/stack.sh status 2>/dev/null | awk '$2 ~ /^up/ {print $1}' | tr '\n' ' ')" || true
cleanup() {
  local started=()
  for s in kafka registry clickhouse redis; do [[ " $before " == *" $s "* ]] || started+=("$s"); done
  [[ -n "${KEEP_STACK:-}" || ${#started[@]} -eq 0 ]] || bash infra/stack.sh down "${started[*]}" >/dev/null 2>&1 || true
}
trap cleanup EXIT
bash infra/stack.sh up
echo "[test] type-check" >&2
npx tsc -p tsconfig.json --noEmit
echo "[test] jest" >&2
npx jest --ci --forceExit "$@"
