#!/usr/bin/env bash
# `npm run bench`: bring the native stack up (or use the configured endpoints), run every bench of
# bench/report.ts within its budget (≤ 5 minutes in all on a quiet 2-core box), write
# bench/reports/latest.{md,json} and regenerate the README's "Latest run" table. Extra arguments go to
# bench/report.ts (e.g. `npm run bench -- --only api,models`, which leaves the README alone).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash infra/stack.sh up >/dev/null
exec npx tsx bench/report.ts "$@"
