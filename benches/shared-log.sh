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
source "$ROOT/scripts/test-servers.sh"
W=$(mktemp -d)
[ "$(id -u)" = 0 ] && chmod 755 "$W"
cleanup() {
  servers_down "$W"
  rm -rf "$W"
}
trap cleanup EXIT
servers_up "$W"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for clients in "${@:-16 256}"; do
  for c in $clients; do
    db="bench_$$_$c"
    psql -q "$HALLMARK_TEST_PG_URL" -c "CREATE DATABASE $db"
    echo "--- $c clients, ${SECS:-10} s per configuration"
    "$BIN" "${HALLMARK_TEST_PG_URL%/*}/$db" "$HALLMARK_TEST_S3" "$c" "${SECS:-10}" 2>&1 | grep -v '^hallmark log:'
  done
done
