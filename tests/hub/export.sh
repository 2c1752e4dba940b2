#!/usr/bin/env bash
# Hub export (issue 20 §4) end to end, checked by third-party tools:
#   two models pushed to a local hub (acme/one: SLSA provenance from `hallmark attest train`
#   attached, a publisher model.sig the org trusts; alice/two: plain) ->
#   `hallmark hub export --since … DIR` ->
#   every *.cdx.json valid against CycloneDX 1.6 (cyclonedx-python-lib JsonStrictValidator),
#   every *.spdx.json valid against the SPDX 3.0.1 JSON schema (python-jsonschema),
#   every exported bundle byte-identical to the hub's download, the statements their DSSE payloads,
#   the exported model.sig passes `model_signing verify sigstore` (1.1.1) on the pulled files and
#   the exported publisher bundle passes `model_signing verify key`; a second export into the
#   non-empty DIR is refused without --force.
#   usage: tests/hub/export.sh path/to/hallmark
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HM=$(realpath "${1:?usage: export.sh path/to/hallmark}")
REF_VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
bash "$ROOT/scripts/ref-venv.sh" "$REF_VENV"
BOM_VENV="$HOME/.cache/hallmark-bom-venv"   # shared with tests/bom/validate.sh
if ! "$BOM_VENV/bin/python" -c 'import cyclonedx.validation.json, jsonschema' 2>/dev/null; then
  python3 -m venv "$BOM_VENV"
  "$BOM_VENV/bin/pip" install --quiet --disable-pip-version-check "cyclonedx-python-lib[json-validation]==11.12.0"
fi
MS="$REF_VENV/bin/model_signing"
W=$(mktemp -d)
source "$ROOT/tests/hub/hubcheck.sh"
openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out pub.key
openssl pkey -in pub.key -pubout -out pub.pem
check "the org trusts the publisher's key" "$HM" hub admin org trust acme --public-key pub.pem

mkdir -p one/weights two train
echo '{"hidden_size": 64}' > one/config.json
printf '\x02\x00\x00\x00\x00\x00\x00\x00{}' > one/weights/model.safetensors
echo '{"hidden_size": 32}' > two/config.json
printf '\x02\x00\x00\x00\x00\x00\x00\x00{}' > two/model.safetensors
printf 'text,label\nhi,1\n' > train/part-0.csv
check "hallmark attest train (provenance of acme/one: a dataset, a base model)" \
  "$HM" attest train --model one --trained-on "train=pkg:huggingface/datasets/acme/train@1" \
  --base-model pkg:huggingface/google-bert/bert-base-uncased@86b5e09 \
  --code https://git.example/train@0123456789abcdef0123456789abcdef01234567 --key pub.key -o prov.sigstore.json
check "hallmark sign key (publisher model.sig)" "$HM" sign key one --private-key pub.key --signature one/model.sig
check "push acme/one with the provenance attached" "$HM" push one acme/one --token "$ALICE" --attach prov.sigstore.json
check "push alice/two" "$HM" push two alice/two --token "$ALICE"

check "hallmark hub export --since" "$HM" hub export --data-dir "$W/data" --since 2000-01-01T00:00:00Z out
refuse "a second export into the non-empty directory is refused" "$HM" hub export --data-dir "$W/data" --since 2000-01-01T00:00:00Z out
cp -r out acme-only
check "… and replaced with --force (limited to --org acme)" "$HM" hub export --data-dir "$W/data" --since 2000-01-01T00:00:00Z --org acme --force acme-only

check "every CycloneDX file valid against 1.6, every SPDX file against the 3.0.1 schema" \
  "$BOM_VENV/bin/python" - "$ROOT/testdata/bom/schemas/spdx-json-schema.json" out <<'PY'
import glob, json, os, sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
import jsonschema
schema = json.load(open(sys.argv[1]))
spdx_v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
cdx_v = JsonStrictValidator(SchemaVersion.V1_6)
out = sys.argv[2]
cdx = sorted(glob.glob(f"{out}/**/*.cdx.json", recursive=True))
spdx = sorted(glob.glob(f"{out}/**/*.spdx.json", recursive=True))
index = json.load(open(f"{out}/index.json"))
assert len(index["revisions"]) == 2 == len(cdx) == len(spdx), (len(index["revisions"]), cdx, spdx)
bad = 0
for f in cdx:
    err = cdx_v.validate_str(open(f).read())
    if err is not None:
        print("CycloneDX", f, err); bad += 1
for f in spdx:
    errs = list(spdx_v.iter_errors(json.load(open(f))))
    for e in errs[:5]:
        print("SPDX", f, e.json_path, e.message[:200])
    bad += bool(errs)
one = next(r for r in index["revisions"] if r["repo"] == "acme/one")
kinds = [c["kind"] for c in one["claims"]]
assert kinds == ["publisher-signature", "hub-signature", "scan", "provenance"], kinds
assert all(c["log_index"] is not None for c in one["claims"]), one["claims"]
doc = json.load(open(f"{out}/{one['documents']['cyclonedx']}"))
purls = {c["purl"] for c in doc["components"]}
assert "pkg:huggingface/datasets/acme/train@1" in purls and \
    "pkg:huggingface/google-bert/bert-base-uncased@86b5e09" in purls, purls
print(f"{len(cdx)} CycloneDX and {len(spdx)} SPDX documents checked")
sys.exit(1 if bad else 0)
PY
check "the --org export holds acme/one only" "$BOM_VENV/bin/python" -c '
import json, sys
r = json.load(open("acme-only/index.json"))["revisions"]
assert [x["repo"] for x in r] == ["acme/one"], r'

check "bundles byte-identical to the hub's downloads, statements their DSSE payloads" \
  "$BOM_VENV/bin/python" - "$HUB" "$ALICE" <<'PY'
import base64, json, sys, urllib.request
hub, token = sys.argv[1], sys.argv[2]
index = json.load(open("out/index.json"))
n = 0
for rev in index["revisions"]:
    req = urllib.request.Request(f"{hub}/api/models/{rev['repo']}/revision/{rev['revision']}",
                                 headers={"authorization": f"Bearer {token}"})
    served = {c["sha256"]: c["url"] for c in json.load(urllib.request.urlopen(req))["hallmark"]["claims"]}
    for c in rev["claims"]:
        mine = open(f"out/{c['bundle']}", "rb").read()
        req = urllib.request.Request(served[c["sha256"]], headers={"authorization": f"Bearer {token}"})
        assert mine == urllib.request.urlopen(req).read(), c["bundle"]
        payload = base64.b64decode(json.loads(mine)["dsseEnvelope"]["payload"])
        assert payload == open(f"out/{c['statement']}", "rb").read(), c["statement"]
        n += 1
print(n, "bundles")
PY

curl -sfo tc.json "$HUB/trust-config.json"
for repo in acme/one alice/two; do
  dl="dl-${repo#*/}"
  check "hallmark pull $repo" "$HM" pull "$repo" "$dl" --token "$ALICE"
  sig=$(echo out/"$repo"/*/model.sig)
  check "model_signing verify sigstore: the exported model.sig of $repo on the pulled files" \
    "$MS" verify sigstore "$dl" --signature "$sig" --trust_config tc.json \
    --identity "$HUB/alice" --identity_provider "$HUB" --ignore-paths "$dl/model.sig"
done
pubsig=$(echo out/acme/one/*/claims/*-publisher-signature.sigstore.json)
check "model_signing verify key: the exported publisher bundle" \
  "$MS" verify key dl-one --signature "$pubsig" --public_key pub.pem --ignore-paths dl-one/model.sig

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
