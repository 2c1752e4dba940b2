#!/usr/bin/env bash
# Claims end to end (issue 16 §3/§4) with real processes and the reference client:
#   a model signed with `hallmark sign key` (its model.sig inside the directory) →
#   `hallmark hub admin org trust` (the org trusts the publisher's key) → `hallmark push` →
#   repo info lists a verified publisher-signature, the hub-signature and the scan claim →
#   `hallmark pull --require publisher-signature --require scan=clean` →
#   the publisher's bundle, downloaded from the hub, passes `model_signing verify key`
#   (reference 1.1.1) on the pulled files, and fails with another key →
#   the revision's model.sig still passes `model_signing verify sigstore`.
#   usage: tests/hub/claims.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: claims.sh path/to/hallmark}")
REF_VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
bash "$(dirname "$0")/../../scripts/ref-venv.sh" "$REF_VENV"
PY="$REF_VENV/bin/python"
MS="$REF_VENV/bin/model_signing"
W=$(mktemp -d)
source "$(dirname "$0")/hubcheck.sh"

# the publisher's key (and another one), PKCS#8 P-256
for k in pub other; do
  openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$k.key"
  openssl pkey -in "$k.key" -pubout -out "$k.pem"
done
check "hallmark hub admin org trust acme --public-key" "$HM" hub admin org trust acme --public-key pub.pem

mkdir -p model/weights
echo '{"hidden_size": 64}' > model/config.json
"$PY" - <<'PYEOF'
import json, struct
h = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
open("model/weights/model.safetensors", "wb").write(struct.pack("<Q", len(h)) + h + bytes(8))
PYEOF
check "hallmark sign key (model.sig inside the model)" "$HM" sign key model --private-key pub.key --signature model/model.sig
check "model_signing verify key accepts the local signature" "$MS" verify key model --signature model/model.sig --public_key pub.pem
check "hallmark push (model.sig goes as the publisher's signature)" "$HM" push model acme/signed --token "$ALICE"
check "repo info: verified publisher-signature, hub-signature, clean scan" "$PY" - "$HUB" <<'PYEOF'
import json, sys, urllib.request
hub = sys.argv[1]
d = json.load(urllib.request.urlopen(f"{hub}/api/models/acme/signed"))
claims = {c["kind"]: c for c in d["hallmark"]["claims"]}
assert set(claims) == {"publisher-signature", "hub-signature", "scan"}, claims
p = claims["publisher-signature"]
assert p["status"] == "verified" and p["signer"].startswith("key "), p
assert p["log_index"] is not None, p
assert claims["hub-signature"]["signer"] == f"{hub}/alice", claims
assert claims["scan"]["status"] == "verified", claims
open("publisher-url.txt", "w").write(p["url"])
PYEOF
check "hallmark pull --require publisher-signature --require scan=clean" "$HM" pull acme/signed dl --require publisher-signature --require scan=clean
check "download the publisher's bundle from the hub" curl -sfo publisher.sig "$(cat publisher-url.txt)"
check "model_signing verify key accepts the publisher's bundle on the pulled files" "$MS" verify key dl --signature publisher.sig --public_key pub.pem --ignore-paths dl/model.sig
refuse "model_signing verify key refuses it with another key" "$MS" verify key dl --signature publisher.sig --public_key other.pem --ignore-paths dl/model.sig
curl -sfo tc.json "$HUB/trust-config.json"
check "the revision's model.sig still passes model_signing verify sigstore" "$MS" verify sigstore dl --signature dl/model.sig --trust_config tc.json --identity "$HUB/alice" --identity_provider "$HUB"
refuse "hallmark pull --require provenance: none attached, refused" "$HM" pull acme/signed dl2 --require provenance
cp "$W/out.txt" "$W/req.txt"
check "… naming the missing claim" grep -q "required claim provenance is missing" "$W/req.txt"
check "… and nothing was written" test ! -e dl2

echo "claims e2e: $pass passed, $fail failed"
[ "$fail" = 0 ]
