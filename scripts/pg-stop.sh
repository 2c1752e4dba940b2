#!/usr/bin/env bash
# Stops a cluster started by scripts/pg-start.sh DIR.
set -euo pipefail
DIR=$(realpath -m "${1:?usage: pg-stop.sh DIR}")
BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null; else "$BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null; fi
