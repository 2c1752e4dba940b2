#!/usr/bin/env bash
# Private Sigstore end to end, against a `hallmark sigstore serve` started here on 127.0.0.1:
#   * the stock reference (model_signing 1.1.1) signs against our instance with a token from our
#     issuer, and verifies offline (inside `unshare -n` when available);
#   * hallmark signs against our instance; model_signing and hallmark both verify;
#   * wrong identity or wrong issuer: both refuse; a tampered model: both refuse.
#   usage: tests/sigstore/e2e.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: e2e.sh path/to/hallmark}")
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
if ! "$VENV/bin/python" -c "import model_signing, OpenSSL" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check model-signing==1.1.1 pyOpenSSL
fi
MS="$VENV/bin/model_signing"
W=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
"$HM" sigstore serve --data-dir "$W/data" --listen "127.0.0.1:$PORT" >"$W/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 50); do curl -sf "$URL/trust-config.json" -o "$W/tc.json" && break; sleep 0.2; done
[ -s "$W/tc.json" ] || { cat "$W/serve.log"; echo "instance did not start" >&2; exit 1; }
cd "$W"
OFFLINE=()
if unshare -n true 2>/dev/null; then OFFLINE=(unshare -n); fi
pass=0; fail=0
expect() {
  local want=$1 what=$2; shift 2
  local rc=0; "$@" >"$W/out.txt" 2>&1 || rc=$?
  if { [ "$want" = 0 ] && [ $rc = 0 ]; } || { [ "$want" = 1 ] && [ $rc != 0 ] && [ $rc -lt 100 ]; }; then pass=$((pass+1)); echo "PASS $what"
  else fail=$((fail+1)); echo "FAIL $what (exit $rc, wanted $want)"; tail -5 "$W/out.txt" | sed 's/^/    /'; fi
}
mkdir -p model/weights
echo '{"hidden_size": 8}' > model/config.json
head -c 200000 /dev/urandom > model/weights/w.bin

ALICE=$("$HM" sigstore token --data-dir data --email alice@example.com)
expect 0 "model_signing signs against the hallmark instance" "$MS" sign sigstore model --signature ref.sig --trust_config tc.json --identity_token "$ALICE"
expect 0 "model_signing verifies it offline" "${OFFLINE[@]}" "$MS" verify sigstore model --signature ref.sig --trust_config tc.json --identity alice@example.com --identity_provider "$URL"
expect 0 "hallmark verifies the reference's signature offline" "${OFFLINE[@]}" "$HM" verify sigstore model --signature ref.sig --trust-config tc.json --identity alice@example.com --identity-provider "$URL"

BOB=$("$HM" sigstore token --data-dir data --email bob@example.com)
expect 0 "hallmark signs against the instance" "$HM" sign sigstore model --signature hm.sig --trust-config tc.json --identity-token "$BOB"
expect 0 "model_signing verifies hallmark's keyless signature offline" "${OFFLINE[@]}" "$MS" verify sigstore model --signature hm.sig --trust_config tc.json --identity bob@example.com --identity_provider "$URL"
expect 0 "hallmark verifies its own keyless signature offline" "${OFFLINE[@]}" "$HM" verify sigstore model --signature hm.sig --trust-config tc.json --identity bob@example.com --identity-provider "$URL"
expect 1 "model_signing refuses the wrong identity" "$MS" verify sigstore model --signature hm.sig --trust_config tc.json --identity mallory@example.com --identity_provider "$URL"
expect 1 "hallmark refuses the wrong identity" "$HM" verify sigstore model --signature hm.sig --trust-config tc.json --identity mallory@example.com --identity-provider "$URL"
expect 1 "model_signing refuses the wrong issuer" "$MS" verify sigstore model --signature hm.sig --trust_config tc.json --identity bob@example.com --identity_provider https://accounts.example.com
expect 1 "hallmark refuses the wrong issuer" "$HM" verify sigstore model --signature hm.sig --trust-config tc.json --identity bob@example.com --identity-provider https://accounts.example.com
expect 1 "hallmark refuses the signature under the public-good trust root" "$HM" verify sigstore model --signature hm.sig --identity bob@example.com --identity-provider "$URL"
python3 "$HERE/../flip-bit.py" model/weights/w.bin 777
expect 1 "model_signing refuses a tampered model" "$MS" verify sigstore model --signature hm.sig --trust_config tc.json --identity bob@example.com --identity_provider "$URL"
expect 1 "hallmark refuses a tampered model" "$HM" verify sigstore model --signature hm.sig --trust-config tc.json --identity bob@example.com --identity-provider "$URL"
python3 - <<'PYEOF'
import base64, json, textwrap
k = json.load(open("tc.json"))["trustedRoot"]["tlogs"][0]["publicKey"]["rawBytes"]
open("log.pub", "w").write("-----BEGIN PUBLIC KEY-----\n" + "\n".join(textwrap.wrap(k, 64)) + "\n-----END PUBLIC KEY-----\n")
PYEOF
expect 0 "the log audits clean (hallmark log audit over HTTP)" "$HM" log audit "$URL" --public-key log.pub --since-checkpoint seen.cp
expect 0 "an incremental audit is consistent with the checkpoint seen before" "$HM" log audit "$URL" --public-key log.pub --since-checkpoint seen.cp
echo "sigstore e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
