#!/usr/bin/env bash
# Creates DIR/.env (default: the repository) from .env.example on first start, with a freshly generated
# TOKEN_ENCRYPTION_KEYS, readable by its owner only (0600: it holds the key ring that decrypts every
# stored platform token and webhook secret). An existing .env is kept as it is, only tightened to 0600.
set -euo pipefail
DIR="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
env_file="$DIR/.env"
if [[ ! -f "$env_file" ]]; then
  key="$(node -e "console.log(require('crypto').randomBytes(32).toString('base64'))")"
  # umask first: the file never exists with wider permissions, not even for a moment.
  (umask 077 && sed "s|^TOKEN_ENCRYPTION_KEYS=.*|TOKEN_ENCRYPTION_KEYS=k1:$key|" "$DIR/.env.example" > "$env_file")
  echo "[start] wrote .env (mode 0600) with a new TOKEN_ENCRYPTION_KEYS" >&2
fi
chmod 600 "$env_file"
