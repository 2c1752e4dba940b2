#!/usr/bin/env bash
# Shared transparency log benchmark for issue 10 (not a timed test): log entries per second
# and latency (submission -> committed, proof checked) for
#   * the one-node log (DirStore + DirLock, every batch fsynced) — the baseline,
#   * the shared log (PostgreSQL coordinator + tiles in S3) with 1 and with 3 replicas
#     (in one process, each replica with its own coordinator connection and LISTEN),
# CLIENTS threads each appending 2 KiB entries back to back for SECS seconds; ratios are
# against the one-node figure of the same run. Starts a throwaway PostgreSQL cluster and a
# single-node Garage (scripts/pg-start.sh, scripts/garage-start.sh) unless
# HALLMARK_TEST_PG_URL / HALLMARK_TEST_S3 (+ AWS_*) name running ones.
# usage: benches/shared-log.sh [CLIENTS ...]   (default: 16 256)   env: SECS (default 10)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo build --release --locked -q -p hallmark-store --example shared_log_bench
BIN=$CARGO_TARGET_DIR/release/examples/shared_log_bench
W=$(mktemp -d)
[ "$(id -u)" = 0 ] && chmod 755 "$W"
cleanup() {
  [ -n "${OWN_S3:-}" ] && bash "$ROOT/scripts/garage-stop.sh" "$W/garage" 2>/dev/null
  [ -n "${OWN_PG:-}" ] && bash "$ROOT/scripts/pg-stop.sh" "$W/pg" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
if [ -z "${HALLMARK_TEST_PG_URL:-}" ]; then
  OWN_PG=1
  HALLMARK_TEST_PG_URL=$(bash scripts/pg-start.sh "$W/pg" $((56000 + RANDOM % 1000)))
fi
if [ -z "${HALLMARK_TEST_S3:-}" ]; then
  OWN_S3=1
  export GARAGE=${GARAGE:-$HOME/.cache/hallmark-tools/bin/garage}
  eval "$(bash scripts/garage-start.sh "$W/garage" $((39000 + RANDOM % 500 * 4)))"
fi
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for clients in "${@:-16 256}"; do
  for c in $clients; do
    db="bench_$$_$c"
    psql -q "$HALLMARK_TEST_PG_URL" -c "CREATE DATABASE $db"
    echo "--- $c clients, ${SECS:-10} s per configuration"
    "$BIN" "${HALLMARK_TEST_PG_URL%/*}/$db" "$HALLMARK_TEST_S3" "$c" "${SECS:-10}" 2>&1 | grep -v '^hallmark log:'
  done
done
