#!/usr/bin/env bash
# `npm run bench`: bring the native stack up (or use the configured endpoints), run every bench in
# sequence and write bench/reports/latest.{md,json}. Extra arguments go to bench/report.ts
# (e.g. `npm run bench -- --only api,models`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash infra/stack.sh up >/dev/null
exec npx tsx bench/report.ts "$@"
