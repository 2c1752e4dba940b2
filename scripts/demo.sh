#!/usr/bin/env bash
# The main job, on the embedded defaults: build hallmark, make a fresh P-256 key with
# openssl, sign the sample model, verify it, then show that a tampered copy fails.
# HALLMARK_BIN=path runs an already built binary (CI: the verify-only build) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${HALLMARK_BIN:-}
if [ -z "$BIN" ]; then
  cargo build --release --locked -q -p hallmark-cli
  BIN=${CARGO_TARGET_DIR:-target}/release/hallmark
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

echo "== key pair (openssl, EC P-256)"
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/ec.pem"
openssl pkcs8 -topk8 -nocrypt -in "$WORK/ec.pem" -out "$WORK/signing.key"
openssl pkey -in "$WORK/signing.key" -pubout -out "$WORK/signing.pub"
cp -r examples/sample-model "$WORK/model"

echo "== sign"
"$BIN" sign key "$WORK/model" --private-key "$WORK/signing.key" --signature "$WORK/model.sig"

echo "== verify"
"$BIN" verify key "$WORK/model" --signature "$WORK/model.sig" --public-key "$WORK/signing.pub"

echo "== tamper with one weight file, verify again (must fail)"
printf 'X' | dd of="$WORK/model/weights/layer1.bin" bs=1 seek=100 conv=notrunc status=none
if "$BIN" verify key "$WORK/model" --signature "$WORK/model.sig" --public-key "$WORK/signing.pub"; then
  echo "ERROR: a tampered model verified" >&2
  exit 1
fi
echo "== demo OK: the signed model verified and the tampered one was rejected"
