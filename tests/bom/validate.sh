#!/usr/bin/env bash
# AI-BOM stage of the CI gate: `hallmark bom` output validated by third-party tools.
#   * CycloneDX 1.6 ML-BOM -> cyclonedx-python-lib's JsonStrictValidator (PyPI, pinned);
#   * SPDX 3.0.1 AI/Dataset -> python-jsonschema against testdata/bom/schemas/spdx-json-schema.json.
# The Rust tests (crates/bom) validate against the same official schemas with the jsonschema crate;
# this stage checks that an independent implementation agrees.
# Usage: tests/bom/validate.sh [path/to/hallmark]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/hallmark-target}/release/hallmark}
[ -x "$BIN" ] || { echo "hallmark binary not found at $BIN (build it first)" >&2; exit 2; }
VENV="$HOME/.cache/hallmark-bom-venv"
CDX_LIB="cyclonedx-python-lib[json-validation]==11.12.0"

if ! "$VENV/bin/python" -c 'import cyclonedx.validation.json, jsonschema' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "$CDX_LIB"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
mkdir -p model train/data test
printf '{"hidden_size": 8}\n' > model/config.json
printf '\x02\x00\x00\x00\x00\x00\x00\x00{}' > model/model.safetensors   # empty safetensors file
printf 'text,label\nhi,1\n' > train/data/part-0.csv
printf 'text,label\nok,0\n' > test/test.csv
KEYS="$ROOT/testdata/adversarial/keys"   # TEST-ONLY keys
"$BIN" sign key model --private-key "$KEYS/test.key" --signature model.sig -q >/dev/null
rc=0; "$BIN" scan --json model > scan.json || rc=$?   # 0 clean, 1 flagged, 3 unverified: all recordable
[ "$rc" != 2 ] || { echo "hallmark scan failed (exit 2)" >&2; exit 1; }
export SOURCE_DATE_EPOCH=1767225599
COMMON=(model --signature model.sig --scan-report scan.json --trained-on train --tested-on test
  --base-model pkg:huggingface/google-bert/bert-base-uncased@86b5e09 --license Apache-2.0
  --supplier acme --task text-classification --architecture-family bert --approach supervised)
"$BIN" bom "${COMMON[@]}" --format cyclonedx -o bom.cdx.json
"$BIN" bom "${COMMON[@]}" --format spdx -o bom.spdx.json

"$VENV/bin/python" - "$ROOT/testdata/bom/schemas/spdx-json-schema.json" <<'PY'
import json, sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
import jsonschema

with open("bom.cdx.json") as f:
    cdx = f.read()
error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx)
if error is not None:
    print("CycloneDX:", error)
    sys.exit(1)
doc = json.loads(cdx)
assert doc["metadata"]["component"]["type"] == "machine-learning-model", doc["metadata"]["component"]["type"]
print("CycloneDX 1.6 ML-BOM: valid (cyclonedx-python-lib JsonStrictValidator)")

with open(sys.argv[1]) as f:
    schema = json.load(f)
with open("bom.spdx.json") as f:
    spdx = json.load(f)
problems = sorted(jsonschema.Draft202012Validator(schema).iter_errors(spdx), key=lambda e: list(e.path))
for e in problems[:20]:
    print("SPDX:", e.json_path, e.message[:200])
if problems:
    sys.exit(1)
print("SPDX 3.0.1 AI/Dataset: valid (python-jsonschema, Draft 2020-12)")
PY
echo "2 passed, 0 failed"
