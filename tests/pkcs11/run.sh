#!/usr/bin/env bash
# PKCS#11 signing against SoftHSM2 (Debian's softhsm2), checked by the reference:
#   hallmark sign pkcs11-key (P-256, P-384, P-521)  -> model_signing 1.1.1 verify key
#   hallmark sign pkcs11-certificate (root -> int -> leaf on the token) -> model_signing verify certificate
#   tampered model -> refused; wrong PIN / no such key / missing module -> exit 2, no model.sig, PIN not shown;
#   then the SoftHSM-backed Rust tests (cargo nextest … pkcs11) with HALLMARK_REQUIRE_SOFTHSM=1.
# Installs softhsm2 with apt-get when it is missing. Without root or apt-get it skips, but only
# outside CI: with CI set (.ci/run sets it) a missing SoftHSM2 is a failure.
#   usage: tests/pkcs11/run.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: run.sh path/to/hallmark}")
HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=/usr/lib/softhsm/libsofthsm2.so
if [ ! -f "$MODULE" ] || ! command -v softhsm2-util >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing softhsm2 with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q softhsm2 >/dev/null ||
      { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q softhsm2 >/dev/null; }
  elif [ -z "${CI:-}" ]; then
    echo "SKIPPED: SoftHSM2 is not installed and cannot be (needs root and apt-get); not in CI"
    exit 0
  else
    echo "ERROR: SoftHSM2 is missing and cannot be installed (root: $(id -u), apt-get: $(command -v apt-get || echo none))" >&2
    exit 1
  fi
fi
VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
bash "$HERE/../../scripts/ref-venv.sh" "$VENV"
MS="$VENV/bin/model_signing"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
cd "$W"

PIN=hm-ci-pin-5150
mkdir tokens
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$W" > softhsm2.conf
export SOFTHSM2_CONF="$W/softhsm2.conf"
softhsm2-util --init-token --free --label hallmark --pin "$PIN" --so-pin "$PIN" >/dev/null
printf '%s' "$PIN" > pin
printf '%s\n' "$PIN" > pin-with-newline
uri() { echo "pkcs11:token=hallmark;$1?module-path=$MODULE&pin-source=file:$W/${2:-pin}"; }

# --- a model (nested, empty file, non-ASCII name, git file)
mkdir -p model/sub "model/we ird"
echo '{"hidden_size": 8}' > model/config.json
: > model/empty.bin
head -c 300000 /dev/urandom > model/sub/weights.bin
echo x > "model/we ird/naïve.txt"
echo "*.bin filter=lfs" > model/.gitattributes

# --- keys on the token: one per curve, imported as PKCS#8 (softhsm2-util makes both objects)
n=0
for curve in prime256v1 secp384r1 secp521r1; do
  n=$((n+1))
  openssl ecparam -name "$curve" -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "$curve.key"
  openssl pkey -in "$curve.key" -pubout -out "$curve.pub"
  softhsm2-util --import "$curve.key" --token hallmark --label "$curve" --id "0$n" --pin "$PIN" >/dev/null
  expect 0 "pkcs11-key $curve: hallmark signs" "$HM" sign pkcs11-key model -q --pkcs11_uri "$(uri "object=$curve")" --signature "$curve.sig"
  expect 0 "pkcs11-key $curve: model_signing verify key accepts" "$MS" verify key model --signature "$curve.sig" --public_key "$curve.pub"
  expect 0 "pkcs11-key $curve: hallmark verify key accepts" "$HM" verify key model --signature "$curve.sig" --public-key "$curve.pub"
done
# by id, with the module found by name in a directory
expect 0 "pkcs11-key by id=%02 and module-name" "$HM" sign pkcs11-key model -q --signature id.sig \
  --pkcs11-uri "pkcs11:token=hallmark;id=%02?module-path=/usr/lib/softhsm&module-name=softhsm2&pin-value=$PIN"
expect 0 "pkcs11-key by id: model_signing verify key accepts" "$MS" verify key model --signature id.sig --public_key secp384r1.pub

# --- certificate: root (P-384) -> intermediate (P-256) -> leaf (key on the token)
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -keyout root.key -out root.pem \
  -days 30 -subj "/CN=pkcs11 root" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout int.key -out int.csr -subj "/CN=pkcs11 int" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > int.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30 -out int.pem -extfile int.ext 2>/dev/null
openssl req -new -key prime256v1.key -subj "/CN=pkcs11 signer" -out leaf.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 10 -out leaf.pem -extfile leaf.ext 2>/dev/null
expect 0 "pkcs11-certificate: hallmark signs" "$HM" sign pkcs11-certificate model -q --pkcs11_uri "$(uri object=prime256v1)" \
  --signing_certificate leaf.pem --certificate_chain int.pem --signature cert.sig
expect 0 "pkcs11-certificate: model_signing verify certificate accepts" "$MS" verify certificate model --signature cert.sig --certificate_chain root.pem
expect 0 "pkcs11-certificate: hallmark verify certificate accepts" "$HM" verify certificate model --signature cert.sig --certificate-chain root.pem

# --- tampering is caught by the reference
cp -r model tampered && printf 'y' >> tampered/sub/weights.bin
expect 1 "tampered model: model_signing verify key refuses" "$MS" verify key tampered --signature prime256v1.sig --public_key prime256v1.pub
expect 1 "tampered model: model_signing verify certificate refuses" "$MS" verify certificate tampered --signature cert.sig --certificate_chain root.pem

# --- bad input: exit 2, one line naming what, no signature, PIN not shown
refuse_uri() { # refuse_uri description words uri
  local what=$1 words=$2 u=$3 rc=0
  rm -f bad.sig
  "$HM" sign pkcs11-key model -q --pkcs11-uri "$u" --signature bad.sig >out.txt 2>&1 || rc=$?
  if [ "$rc" = 2 ] && grep -q -- "$words" out.txt && [ ! -e bad.sig ] && ! grep -q -- "$PIN" out.txt \
     && [ "$(wc -l < out.txt)" = 1 ]; then ok "$what"
  else bad "$what (exit $rc)"; sed 's/^/    /' out.txt | tail -5; fi
}
refuse_uri "no such key" "has no private key with label 'nokey'" "$(uri object=nokey)"
refuse_uri "wrong PIN" "the PIN is incorrect" "pkcs11:token=hallmark;object=prime256v1?module-path=$MODULE&pin-value=hm-wrong-1"
refuse_uri "PIN file with a trailing newline" "ends with a newline" "$(uri object=prime256v1 pin-with-newline)"
refuse_uri "missing module" "module-path /nonexistent/libp11.so does not exist" \
  "pkcs11:token=hallmark;object=prime256v1?module-path=/nonexistent/libp11.so&pin-value=$PIN"
refuse_uri "no such token" "no token 'nosuch'" "pkcs11:token=nosuch;object=prime256v1?module-path=$MODULE&pin-value=$PIN"

# --- the SoftHSM-backed Rust tests, which skip when SoftHSM2 is absent, must run here
if command -v cargo >/dev/null && [ -f "$HERE/../../Cargo.toml" ]; then
  echo "cargo nextest run -p hallmark-cli pkcs11 (HALLMARK_REQUIRE_SOFTHSM=1)"
  if (cd "$HERE/../.." && HALLMARK_REQUIRE_SOFTHSM=1 cargo nextest run -p hallmark-cli --locked pkcs11 >"$W/nextest.txt" 2>&1); then
    ok "Rust SoftHSM tests"
  else bad "Rust SoftHSM tests"; tail -20 "$W/nextest.txt"; fi
fi

echo "pkcs11: $pass passed, $fail failed"
[ "$fail" = 0 ]
