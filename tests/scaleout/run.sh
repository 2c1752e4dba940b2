#!/usr/bin/env bash
# CI stage "scale-out": the hub and its storage on real PostgreSQL + S3 servers.
#   1. Garage (a production S3-compatible object store written in Rust) from the tools
#      cache (or $GARAGE), built once with the exact command below if missing. A debug build
#      (13 min on 2 loaded cores, against 18.5 for --release) is fast enough for test objects.
#   2. A throwaway PostgreSQL cluster (scripts/pg-start.sh) and a single-node Garage
#      (scripts/garage-start.sh).
#   3. The PG/S3-gated Rust tests (HALLMARK_TEST_PG_URL, HALLMARK_TEST_S3 set).
#   4. The full hub end to end (tests/hub/e2e.sh: push → huggingface_hub download →
#      model_signing verify sigstore) with --database postgres://… --blob-store s3://….
# Usage: tests/scaleout/run.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: run.sh path/to/hallmark}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=$HOME/.cache/hallmark-tools
export GARAGE=${GARAGE:-$TOOLS/bin/garage}
if [ ! -x "$GARAGE" ]; then
  echo "installing garage into $TOOLS (cached across runs)"
  cargo install garage@2.5.0 --debug --locked --root "$TOOLS" --no-default-features --features bundled-libs,sqlite
fi
W=$(mktemp -d)
[ "$(id -u)" = 0 ] && chmod 755 "$W"
PG_PORT=${PG_PORT:-$((56000 + RANDOM % 1000))}
S3_PORT=${S3_PORT:-$((39000 + RANDOM % 500 * 4))}
cleanup() {
  bash "$ROOT/scripts/garage-stop.sh" "$W/garage" 2>/dev/null || true
  bash "$ROOT/scripts/pg-stop.sh" "$W/pg" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

PG_URL=$(bash "$ROOT/scripts/pg-start.sh" "$W/pg" "$PG_PORT")
eval "$(bash "$ROOT/scripts/garage-start.sh" "$W/garage" "$S3_PORT")"
export HALLMARK_TEST_PG_URL=$PG_URL HALLMARK_TEST_S3 AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
echo "PostgreSQL: $PG_URL   S3 (Garage): $HALLMARK_TEST_S3"

echo "--- PG/S3-gated Rust tests"
cd "$ROOT"
cargo nextest run --workspace --locked --no-fail-fast -E 'test(/pg|postgres|s3|scaleout/)'

echo "--- hub end to end on PostgreSQL + S3"
DB=e2e_$$
psql -q "$PG_URL" -c "CREATE DATABASE $DB"
export HALLMARK_HUB_DATABASE="${PG_URL%/*}/$DB"
HALLMARK_HUB_BLOB_STORE="s3://$(echo "$HALLMARK_TEST_S3" | sed -e 's|^s3://||' -e "s|?|/e2e-$$?|")"
export HALLMARK_HUB_BLOB_STORE
bash "$ROOT/tests/hub/e2e.sh" "$HM"

echo "--- three hub replicas, one log: 16 clients, 300 pushes, SIGKILL of the sequencer"
bash "$ROOT/tests/scaleout/replicas.sh" "$HM"
