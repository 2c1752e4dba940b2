#!/usr/bin/env bash
# Private Sigstore end to end, against a `hallmark sigstore serve` started here on 127.0.0.1:
#   * the stock reference (model_signing 1.1.1) signs against our instance with a token from our
#     issuer, and verifies offline (inside `unshare -n` when available);
#   * hallmark signs against our instance; model_signing and hallmark both verify;
#   * wrong identity or wrong issuer: both refuse; a tampered model: both refuse;
#   * the instance's signing config lists Rekor v1 and v2 + its TSA: both signers pick Rekor v2
#     (hashedrekord 0.0.2, no SET) with an RFC 3161 timestamp; with the v2 log removed from the
#     signing config both log to Rekor v1 (dsse 0.0.1 + SET); every bundle verifies offline
#     with both verifiers; `openssl ts -verify` accepts the TSA's tokens; an unreachable TSA
#     stops `hallmark sign` with exit 2 and no signature file;
#   * log key types: by default the v1 log is ECDSA P-256 and the v2 log Ed25519 (trust root
#     keyDetails); a second instance started with `--log-key-type ed25519` has an Ed25519
#     Rekor v1 log too: model_signing signs on it (dsse 0.0.1 + SET + checkpoint signed with
#     the C2SP key ID) and both verifiers accept the bundle offline; the log audits clean.
#   usage: tests/sigstore/e2e.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: e2e.sh path/to/hallmark}")
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
bash "$HERE/../../scripts/ref-venv.sh" "$VENV"
MS="$VENV/bin/model_signing"
W=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
"$HM" sigstore serve --data-dir "$W/data" --listen "127.0.0.1:$PORT" >"$W/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 50); do curl -sf "$URL/trust-config.json" -o "$W/tc.json" && break; sleep 0.2; done
[ -s "$W/tc.json" ] || { cat "$W/serve.log"; echo "instance did not start" >&2; exit 1; }
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
cd "$W"
OFFLINE=()
if unshare -n true 2>/dev/null; then OFFLINE=(unshare -n); fi
mkdir -p model/weights
echo '{"hidden_size": 8}' > model/config.json
head -c 200000 /dev/urandom > model/weights/w.bin

ALICE=$("$HM" sigstore token --data-dir data --email alice@example.com)
verdict 0 "model_signing signs against the hallmark instance" "$MS" sign sigstore model --signature ref.sig --trust_config tc.json --identity_token "$ALICE"
verdict 0 "model_signing verifies it offline" "${OFFLINE[@]}" "$MS" verify sigstore model --signature ref.sig --trust_config tc.json --identity alice@example.com --identity_provider "$URL"
verdict 0 "hallmark verifies the reference's signature offline" "${OFFLINE[@]}" "$HM" verify sigstore model --signature ref.sig --trust-config tc.json --identity alice@example.com --identity-provider "$URL"

kind() { python3 -c 'import json,sys; b=json.load(open(sys.argv[1])); e=b["verificationMaterial"]["tlogEntries"][0]; t=b["verificationMaterial"].get("timestampVerificationData",{}).get("rfc3161Timestamps",[]); print(e["kindVersion"]["kind"], e["kindVersion"]["version"], "set" if e.get("inclusionPromise") else "noset", len(t))' "$1"; }
verdict 0 "model_signing logged on Rekor v2 with a TSA timestamp (hashedrekord 0.0.2, no SET)" test "$(kind ref.sig)" = "hashedrekord 0.0.2 noset 1"

BOB=$("$HM" sigstore token --data-dir data --email bob@example.com)
verdict 0 "hallmark signs against the instance" "$HM" sign sigstore model --signature hm.sig --trust-config tc.json --identity-token "$BOB"
verdict 0 "model_signing verifies hallmark's keyless signature offline" "${OFFLINE[@]}" "$MS" verify sigstore model --signature hm.sig --trust_config tc.json --identity bob@example.com --identity_provider "$URL"
verdict 0 "hallmark verifies its own keyless signature offline" "${OFFLINE[@]}" "$HM" verify sigstore model --signature hm.sig --trust-config tc.json --identity bob@example.com --identity-provider "$URL"
verdict 0 "hallmark logged on Rekor v2 with a TSA timestamp (hashedrekord 0.0.2, no SET)" test "$(kind hm.sig)" = "hashedrekord 0.0.2 noset 1"

# Rekor v1: the same trust config with the v2 log taken out of the signing config.
python3 - <<'PYEOF'
import json
t = json.load(open("tc.json"))
t["signingConfig"]["rekorTlogUrls"] = [s for s in t["signingConfig"]["rekorTlogUrls"] if s["majorApiVersion"] == 1]
json.dump(t, open("tc-v1.json", "w"))
t = json.load(open("tc.json"))
t["signingConfig"]["tsaUrls"][0]["url"] = "http://127.0.0.1:9/api/v1/timestamp"
json.dump(t, open("tc-notsa.json", "w"))
PYEOF
verdict 0 "model_signing signs on Rekor v1 (v1-only signing config)" "$MS" sign sigstore model --signature ref1.sig --trust_config tc-v1.json --identity_token "$ALICE"
verdict 0 "hallmark signs on Rekor v1 (v1-only signing config)" "$HM" sign sigstore model --signature hm1.sig --trust-config tc-v1.json --identity-token "$BOB"
verdict 0 "both Rekor v1 bundles are dsse 0.0.1 entries with a SET" test "$(kind ref1.sig) $(kind hm1.sig)" = "dsse 0.0.1 set 1 dsse 0.0.1 set 1"
verdict 0 "model_signing verifies the Rekor v1 bundles offline" "${OFFLINE[@]}" "$MS" verify sigstore model --signature hm1.sig --trust_config tc.json --identity bob@example.com --identity_provider "$URL"
verdict 0 "hallmark verifies model_signing's Rekor v1 bundle offline" "${OFFLINE[@]}" "$HM" verify sigstore model --signature ref1.sig --trust-config tc.json --identity alice@example.com --identity-provider "$URL"
rc=0; "$HM" sign sigstore model --signature notsa.sig --trust-config tc-notsa.json --identity-token "$BOB" 2>"$W/err.txt" || rc=$?
verdict 0 "an unreachable TSA: exit 2, one line naming the TSA URL, no signature file" test "$rc $(wc -l <"$W/err.txt") $(grep -c '127.0.0.1:9/api/v1/timestamp' "$W/err.txt") $([ -e notsa.sig ] && echo written || echo none)" = "2 1 1 none"

# The TSA against openssl: a query openssl made, answered by the instance, verified by openssl
# with the trust config's TSA chain.
python3 - <<'PYEOF'
import json, textwrap
t = json.load(open("tc.json"))["trustedRoot"]
pem = lambda b, l: f"-----BEGIN {l}-----\n" + "\n".join(textwrap.wrap(b, 64)) + f"\n-----END {l}-----\n"
c = t["timestampAuthorities"][0]["certChain"]["certificates"]
open("tsa.pem", "w").write(pem(c[0]["rawBytes"], "CERTIFICATE"))
open("tsaroot.pem", "w").write(pem(c[1]["rawBytes"], "CERTIFICATE"))
open("log2.pub", "w").write(pem(t["tlogs"][1]["publicKey"]["rawBytes"], "PUBLIC KEY"))
PYEOF
head -c 71 /dev/urandom > sig.bin
openssl ts -query -data sig.bin -sha256 -cert -out q.tsq 2>/dev/null
curl -sf -H 'Content-Type: application/timestamp-query' --data-binary @q.tsq "$URL/api/v1/timestamp" -o r.tsr || true
verdict 0 "openssl ts -verify accepts the instance's timestamp" openssl ts -verify -data sig.bin -in r.tsr -CAfile tsaroot.pem -untrusted tsa.pem
verdict 0 "the Rekor v2 log audits clean (hallmark log audit URL/rekor2)" "$HM" log audit "$URL/rekor2" --public-key log2.pub

verdict 1 "model_signing refuses the wrong identity" "$MS" verify sigstore model --signature hm.sig --trust_config tc.json --identity mallory@example.com --identity_provider "$URL"
verdict 1 "hallmark refuses the wrong identity" "$HM" verify sigstore model --signature hm.sig --trust-config tc.json --identity mallory@example.com --identity-provider "$URL"
verdict 1 "model_signing refuses the wrong issuer" "$MS" verify sigstore model --signature hm.sig --trust_config tc.json --identity bob@example.com --identity_provider https://accounts.example.com
verdict 1 "hallmark refuses the wrong issuer" "$HM" verify sigstore model --signature hm.sig --trust-config tc.json --identity bob@example.com --identity-provider https://accounts.example.com
verdict 1 "hallmark refuses the signature under the public-good trust root" "$HM" verify sigstore model --signature hm.sig --identity bob@example.com --identity-provider "$URL"
python3 "$HERE/../flip-bit.py" model/weights/w.bin 777
verdict 1 "model_signing refuses a tampered model" "$MS" verify sigstore model --signature hm.sig --trust_config tc.json --identity bob@example.com --identity_provider "$URL"
verdict 1 "hallmark refuses a tampered model" "$HM" verify sigstore model --signature hm.sig --trust-config tc.json --identity bob@example.com --identity-provider "$URL"
python3 - <<'PYEOF'
import base64, json, textwrap
k = json.load(open("tc.json"))["trustedRoot"]["tlogs"][0]["publicKey"]["rawBytes"]
open("log.pub", "w").write("-----BEGIN PUBLIC KEY-----\n" + "\n".join(textwrap.wrap(k, 64)) + "\n-----END PUBLIC KEY-----\n")
PYEOF
verdict 0 "the log audits clean (hallmark log audit over HTTP)" "$HM" log audit "$URL" --public-key log.pub --since-checkpoint seen.cp
verdict 0 "an incremental audit is consistent with the checkpoint seen before" "$HM" log audit "$URL" --public-key log.pub --since-checkpoint seen.cp

keytypes() { python3 -c 'import json,sys; print(" ".join(t["publicKey"]["keyDetails"] for t in json.load(open(sys.argv[1]))["trustedRoot"]["tlogs"]))' "$1"; }
verdict 0 "default log keys: Rekor v1 ECDSA P-256, Rekor v2 Ed25519" test "$(keytypes tc.json)" = "PKIX_ECDSA_P256_SHA_256 PKIX_ED25519"
# A second instance whose logs are all Ed25519, signed on with its Rekor v1 log.
PORT2=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL2="http://127.0.0.1:$PORT2"
"$HM" sigstore serve --data-dir "$W/data2" --listen "127.0.0.1:$PORT2" --log-key-type ed25519 >"$W/serve2.log" 2>&1 &
SERVER2=$!
trap 'kill $SERVER $SERVER2 2>/dev/null; rm -rf "$W"' EXIT
for _ in $(seq 50); do curl -sf "$URL2/trust-config.json" -o "$W/tc2.json" && break; sleep 0.2; done
python3 - <<'PYEOF'
import json, textwrap
t = json.load(open("tc2.json"))
t["signingConfig"]["rekorTlogUrls"] = [s for s in t["signingConfig"]["rekorTlogUrls"] if s["majorApiVersion"] == 1]
json.dump(t, open("tc2-v1.json", "w"))
k = t["trustedRoot"]["tlogs"][0]["publicKey"]["rawBytes"]
open("log-ed.pub", "w").write("-----BEGIN PUBLIC KEY-----\n" + "\n".join(textwrap.wrap(k, 64)) + "\n-----END PUBLIC KEY-----\n")
PYEOF
verdict 0 "--log-key-type ed25519: both logs Ed25519 in the trust root" test "$(keytypes tc2.json)" = "PKIX_ED25519 PKIX_ED25519"
CAROL=$("$HM" sigstore token --data-dir data2 --email carol@example.com)
verdict 0 "model_signing signs on an Ed25519 Rekor v1 log" "$MS" sign sigstore model --signature ed1.sig --trust_config tc2-v1.json --identity_token "$CAROL"
verdict 0 "the Ed25519 Rekor v1 bundle is a dsse 0.0.1 entry with a SET" test "$(kind ed1.sig)" = "dsse 0.0.1 set 1"
verdict 0 "model_signing verifies the Ed25519 Rekor v1 bundle offline" "${OFFLINE[@]}" "$MS" verify sigstore model --signature ed1.sig --trust_config tc2.json --identity carol@example.com --identity_provider "$URL2"
verdict 0 "hallmark verifies the Ed25519 Rekor v1 bundle offline" "${OFFLINE[@]}" "$HM" verify sigstore model --signature ed1.sig --trust-config tc2.json --identity carol@example.com --identity-provider "$URL2"
verdict 0 "the Ed25519 Rekor v1 log audits clean" "$HM" log audit "$URL2" --public-key log-ed.pub
verdict 1 "model_signing refuses it under the first instance's trust root" "$MS" verify sigstore model --signature ed1.sig --trust_config tc.json --identity carol@example.com --identity_provider "$URL2"
echo "sigstore e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
