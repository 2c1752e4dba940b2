#!/usr/bin/env bash
# Starts a throwaway single-node Garage (S3-compatible object store) for tests and prints,
# as shell assignments, how to reach it:
#   HALLMARK_TEST_S3=s3://BUCKET?endpoint=http://127.0.0.1:PORT&region=garage
#   AWS_ACCESS_KEY_ID=...  AWS_SECRET_ACCESS_KEY=...
# Usage: scripts/garage-start.sh DIR [PORT]      (stop: scripts/garage-stop.sh DIR)
# The binary is $GARAGE, else garage on PATH, else $HOME/.cache/hallmark-tools/bin/garage.
set -euo pipefail
DIR=$(realpath -m "${1:?usage: garage-start.sh DIR [PORT]}")
PORT=${2:-3900}
GARAGE=${GARAGE:-$(command -v garage || echo "$HOME/.cache/hallmark-tools/bin/garage")}
[ -x "$GARAGE" ] || { echo "garage binary not found (looked at $GARAGE)" >&2; exit 1; }
BUCKET=${GARAGE_BUCKET:-hallmark}
mkdir -p "$DIR/meta" "$DIR/data"
CFG="$DIR/garage.toml"
if [ ! -f "$CFG" ]; then
  cat >"$CFG" <<TOML
metadata_dir = "$DIR/meta"
data_dir = "$DIR/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$((PORT + 1))"
rpc_public_addr = "127.0.0.1:$((PORT + 1))"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$PORT"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$((PORT + 3))"
TOML
fi
g() { "$GARAGE" -c "$CFG" "$@"; }
if ! { [ -f "$DIR/pid" ] && kill -0 "$(cat "$DIR/pid")" 2>/dev/null; }; then
  nohup "$GARAGE" -c "$CFG" server >"$DIR/server.log" 2>&1 &
  echo $! >"$DIR/pid"
fi
for _ in $(seq 1 100); do
  g status >/dev/null 2>&1 && break
  sleep 0.2
done
NODE=$(g node id -q 2>/dev/null | cut -d@ -f1)
[ -n "$NODE" ] || { echo "garage did not start; see $DIR/server.log" >&2; exit 1; }
if ! g layout show 2>/dev/null | grep -q "$(echo "$NODE" | cut -c1-16)"; then
  g layout assign -z dc1 -c 1G "$NODE" >/dev/null
  g layout apply --version 1 >/dev/null
fi
if [ ! -f "$DIR/key" ]; then
  g bucket create "$BUCKET" >/dev/null
  g key create hallmark-test >"$DIR/key"
  KEY=$(awk '/Key ID/ {print $NF}' "$DIR/key")
  g bucket allow --read --write --owner "$BUCKET" --key "$KEY" >/dev/null
fi
KEY=$(awk '/Key ID/ {print $NF}' "$DIR/key")
SECRET=$(awk '/Secret key/ {print $NF}' "$DIR/key")
echo "HALLMARK_TEST_S3='s3://$BUCKET?endpoint=http://127.0.0.1:$PORT&region=garage'"
echo "AWS_ACCESS_KEY_ID=$KEY"
echo "AWS_SECRET_ACCESS_KEY=$SECRET"
