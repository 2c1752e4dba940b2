#!/usr/bin/env bash
# Stops a Garage started by scripts/garage-start.sh DIR.
set -euo pipefail
DIR=$(realpath -m "${1:?usage: garage-stop.sh DIR}")
if [ -f "$DIR/pid" ]; then
  kill "$(cat "$DIR/pid")" 2>/dev/null || true
  rm -f "$DIR/pid"
fi
