#!/usr/bin/env bash
# Incident-response query latency (issue 20 §1: each query over 100,000 revisions under
# 100 ms): generates REVISIONS revisions straight through the store API
# (crates/hub/examples/querybench.rs: 3 files, a hub signature and a provenance claim
# each, 200 datasets, 5 builders, fine-tune chains, 1 % flagged by a scanner rule, 5 %
# private repos), then times every query kind as an anonymous caller through the
# functions the API calls, 60 samples each: one JSON line per kind with p50/p99 in ms
# and as a ratio to the 100 ms bar. Exit 1 if any p99 misses the bar.
# SQLite always; PostgreSQL too with PG=1 (a throwaway cluster, scripts/pg-start.sh,
# unless HALLMARK_TEST_PG_URL names a running one).
# Every answer's row count is checked against the generator's model (exit 1 naming
# the kind and sample on a mismatch), so no kind can time an empty answer.
# usage: benches/query.sh [REVISIONS]   (default 100000)
#   QUERYBENCH=path: a prebuilt querybench binary (no cargo build);
#   DB=path: keep the SQLite database there (reused when it exists: times again
#   without generating).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
N=${1:-100000}
BIN=${QUERYBENCH:-}
if [ -z "$BIN" ]; then
  cargo build --release --locked -q -p hallmark-hub --example querybench
  BIN=$CARGO_TARGET_DIR/release/examples/querybench
fi
W=$(mktemp -d)
cleanup() {
  if [ -n "${PGDIR:-}" ]; then bash scripts/pg-stop.sh "$PGDIR" >/dev/null 2>&1 || true; fi
  rm -rf "$W"
}
trap cleanup EXIT
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
"$BIN" "$N" "${DB:-$W/query.db}" || status=$?
if [ "${PG:-0}" = 1 ]; then
  URL=${HALLMARK_TEST_PG_URL:-}
  if [ -z "$URL" ]; then
    PGDIR=$W/pg
    URL=$(bash scripts/pg-start.sh "$PGDIR" 55433)
  fi
  db="querybench_$$"
  psql -q "$URL" -c "CREATE DATABASE $db"
  "$BIN" "$N" --postgres "${URL%/*}/$db" || status=$?
fi
exit $status
