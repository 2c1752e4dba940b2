#!/usr/bin/env bash
# Interop, both directions, against the reference model_signing 1.1.1 from PyPI:
#   reference signs -> hallmark verifies, and hallmark signs -> reference verifies,
# for the key and certificate methods, files and shards serializations (plus blake2),
# and tampered models must fail on both sides.
#   usage: tests/interop/run.sh path/to/hallmark
set -euo pipefail
HM=$(realpath "${1:?usage: run.sh path/to/hallmark}")
HERE=$(cd "$(dirname "$0")" && pwd)
VENV=${OMS_REF_VENV:-$HOME/.cache/hallmark-oms-ref}
bash "$HERE/../../scripts/ref-venv.sh" "$VENV"
PY="$VENV/bin/python"
MS="$VENV/bin/model_signing"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# shellcheck source=tests/lib/check.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/check.sh"
cd "$W"

# --- material: a P-256 key, and a PKI root (P-384) -> intermediate (P-256) -> leaf (P-256)
openssl ecparam -name prime256v1 -genkey -noout -out ec.pem
openssl pkcs8 -topk8 -nocrypt -in ec.pem -out key.pem && openssl pkey -in key.pem -pubout -out pub.pem
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:secp384r1 -nodes -keyout root.key -out root.pem \
  -days 3650 -subj "/CN=interop root" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout int.key -out int.csr -subj "/CN=interop intermediate" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > int.ext
openssl x509 -req -in int.csr -CA root.pem -CAkey root.key -CAcreateserial -days 3000 -out int.pem -extfile int.ext 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=interop signer" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nsubjectAltName=email:signer@example.com\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -CAcreateserial -days 365 -out leaf.pem -extfile leaf.ext 2>/dev/null

# --- a model with nesting, an empty file, a non-ASCII name, a git file and a 3 MB weight file
mkmodel() {
  rm -rf "$1"; mkdir -p "$1/weights/sub dir" "$1/layers" "$1/.cache"
  echo '{"hidden_size": 64}' > "$1/config.json"
  : > "$1/empty.bin"
  printf 'a' > "$1/layers/a.bin"; printf 'bb' > "$1/layers.bin"
  echo "hidden" > "$1/.cache/meta"
  echo "*.bin filter=lfs" > "$1/.gitattributes"
  head -c 3000000 /dev/urandom > "$1/weights/model.safetensors"
  head -c 70000 /dev/urandom > "$1/weights/sub dir/naïve ü.bin"
}
tamper() { python3 "$HERE/../flip-bit.py" "$1/weights/model.safetensors" 1234567; }

key_sign_args=(--private-key key.pem)
cert_sign_args=(--private-key leaf.key --signing-certificate leaf.pem --certificate-chain int.pem)

for method in key certificate; do
  for ser in files shards blake2; do
    case $ser in
      files)  hm_ser=(--serialization files); ref_ser=(--serialization files) ;;
      shards) hm_ser=(--serialization shards --shard-size 1048576); ref_ser=(--serialization shards --shard-size 1048576) ;;
      blake2) hm_ser=(--serialization files --hash blake2b); ref_ser=(--serialization files --hash blake2) ;;
    esac
    if [ $method = key ]; then sargs=("${key_sign_args[@]}"); hv=(--public-key pub.pem); rv=(--public-key pub.pem)
    else sargs=("${cert_sign_args[@]}"); hv=(--certificate-chain root.pem); rv=(--certificate-chain root.pem); fi

    # reference signs -> hallmark verifies
    mkmodel m1
    verdict 0 "ref signs $method/$ser" "$PY" "$HERE/ref.py" sign --method $method --model m1 --signature r.sig "${sargs[@]}" "${ref_ser[@]}"
    verdict 0 "ref-signed $method/$ser verifies with hallmark" "$HM" verify $method m1 --signature r.sig "${hv[@]}"
    tamper m1
    verdict 1 "ref-signed $method/$ser, tampered, fails with hallmark" "$HM" verify $method m1 --signature r.sig "${hv[@]}"

    # hallmark signs -> reference verifies (the real CLI for files/sha256, the library API otherwise)
    mkmodel m2
    verdict 0 "hallmark signs $method/$ser" "$HM" sign $method m2 --signature h.sig "${sargs[@]}" "${hm_ser[@]}"
    if [ $ser = files ]; then
      if [ $method = key ]; then rcmd=("$MS" verify key m2 --signature h.sig --public_key pub.pem)
      else rcmd=("$MS" verify certificate m2 --signature h.sig --certificate_chain root.pem); fi
    else
      rcmd=("$PY" "$HERE/ref.py" verify --method $method --model m2 --signature h.sig "${rv[@]}" "${ref_ser[@]}")
    fi
    verdict 0 "hallmark-signed $method/$ser verifies with the reference" "${rcmd[@]}"
    tamper m2
    verdict 1 "hallmark-signed $method/$ser, tampered, fails with the reference" "${rcmd[@]}"
  done
done

# A single-file model, P-384 and P-521 keys, signed by hallmark, verified by the reference CLI.
for curve in secp384r1 secp521r1; do
  openssl ecparam -name $curve -genkey -noout -out c.pem
  openssl pkcs8 -topk8 -nocrypt -in c.pem -out ck.pem && openssl pkey -in ck.pem -pubout -out cp.pem
  head -c 100000 /dev/urandom > single.bin
  verdict 0 "hallmark signs a single file with $curve" "$HM" sign key single.bin --signature s.sig --private-key ck.pem
  verdict 0 "reference CLI verifies the $curve single-file signature" "$MS" verify key single.bin --signature s.sig --public_key cp.pem
done

echo "interop: $pass passed, $fail failed"
[ "$fail" = 0 ]
