#!/usr/bin/env bash
# One-time set-up of the compose file's single-node Garage: layout, bucket `hallmark`, and
# the S3 key from .env (S3_KEY_ID / S3_SECRET) with read/write on it. Run in deploy/ after
# `docker compose up -d postgres garage`. Generate the key with:
#   echo "S3_KEY_ID=GK$(openssl rand -hex 12)"; echo "S3_SECRET=$(openssl rand -hex 32)"
set -euo pipefail
cd "$(dirname "$0")"
set -a; . ./.env; set +a
g() { docker compose exec -T garage /garage "$@"; }
for _ in $(seq 50); do g status >/dev/null 2>&1 && break; sleep 0.5; done
NODE=$(g node id -q | cut -d@ -f1)
if ! g layout show | grep -q "${NODE:0:16}.*dc1"; then
  g layout assign -z dc1 -c "${GARAGE_CAPACITY:-100G}" "$NODE"
  g layout apply --version 1
fi
g bucket info hallmark >/dev/null 2>&1 || g bucket create hallmark
g key info "$S3_KEY_ID" >/dev/null 2>&1 || g key import --yes -n hallmark "$S3_KEY_ID" "$S3_SECRET"
g bucket allow --read --write --owner hallmark --key "$S3_KEY_ID"
echo "garage ready: bucket hallmark, key $S3_KEY_ID"
