#!/usr/bin/env bash
# Regenerates the generated fixtures in this folder (see README.md).
# Requires OpenSSL 3. Outputs are random: re-running changes every file.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p keys pki
# --- private keys that must be rejected or need a password ---
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out keys/rsa-pkcs8.key
openssl rsa -in keys/rsa-pkcs8.key -traditional -out keys/rsa-traditional.key
openssl genpkey -algorithm ED25519 -out keys/ed25519.key
openssl pkey -in keys/ed25519.key -pubout -out keys/ed25519.pub
openssl ecparam -name secp256k1 -genkey -out keys/secp256k1.key   # has an EC PARAMETERS block first
openssl ec -in keys/secp256k1.key -pubout -out keys/secp256k1.pub
openssl ecparam -name prime256v1 -genkey -noout -out keys/p256-sec1.key
openssl pkcs8 -topk8 -in keys/p256-sec1.key -v2 aes-256-cbc -passout pass:hallmark-test -out keys/p256-encrypted-pkcs8.key
openssl ec -in keys/p256-sec1.key -aes256 -passout pass:hallmark-test -out keys/p256-legacy-encrypted.key
openssl ec -in keys/p256-sec1.key -pubout -out keys/p256-sec1.pub
# --- a small PKI with explicit validity dates (openssl ca) ---
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir "$W/newcerts"; : > "$W/index.txt"; echo 1000 > "$W/serial"
cat > "$W/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $W/index.txt
new_certs_dir = $W/newcerts
serial = $W/serial
default_md = sha256
policy = p
unique_subject = no
email_in_dn = no
[p]
commonName = supplied
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[int]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[subca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = email:signer@example.com,URI:https://example.com/signer
[leaf_nosign]
basicConstraints = critical,CA:FALSE
keyUsage = critical,keyEncipherment
extendedKeyUsage = serverAuth
[leaf_critical]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
1.3.6.1.4.1.99999.1 = critical,ASN1:NULL
[leaf_noext]
subjectKeyIdentifier = hash
[leaf_fulcio]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
subjectAltName = critical,URI:https://ci.example/builder
1.3.6.1.4.1.57264.1.1 = DER:$(printf %s https://issuer-v1.example | od -An -tx1 | tr -d ' \n' | sed 's/../&:/g; s/:$//')
1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:https://issuer-v2.example
[leaf_fulcio_v1]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectAltName = critical,URI:https://ci.example/builder
1.3.6.1.4.1.57264.1.1 = DER:$(printf %s https://issuer-v1.example | od -An -tx1 | tr -d ' \n' | sed 's/../&:/g; s/:$//')
CNF
key() { openssl ecparam -name "$1" -genkey -noout | openssl pkcs8 -topk8 -nocrypt -out "pki/$2.key"; }
csr() { openssl req -new -key "pki/$1.key" -subj "/CN=$2" -out "$W/$1.csr"; }
sign() { # name issuer ext start end [md]
  openssl ca -batch -notext -config "$W/ca.cnf" -in "$W/$1.csr" -cert "pki/$2.crt" -keyfile "pki/$2.key" \
    -extensions "$3" -startdate "$4" -enddate "$5" -md "${6:-sha256}" -out "pki/$1.crt" 2>/dev/null; }
key prime256v1 root; csr root "Hallmark Test Root"
openssl ca -batch -notext -config "$W/ca.cnf" -selfsign -in "$W/root.csr" -keyfile pki/root.key \
  -extensions root -startdate 20200101000000Z -enddate 20450101000000Z -out pki/root.crt 2>/dev/null
key secp384r1 int; csr int "Hallmark Test Intermediate"
sign int root int 20200101000000Z 20400101000000Z sha384
key prime256v1 leaf-expired; csr leaf-expired "Hallmark Expired Leaf"
sign leaf-expired int leaf 20210101000000Z 20210102000000Z
key prime256v1 leaf-nosign; csr leaf-nosign "Hallmark No-Sign Leaf"
sign leaf-nosign int leaf_nosign 20220101000000Z 20350101000000Z
key prime256v1 leaf-critical; csr leaf-critical "Hallmark Critical Leaf"
sign leaf-critical int leaf_critical 20220101000000Z 20350101000000Z
key prime256v1 leaf-noext; csr leaf-noext "Hallmark No-Usage Leaf"
sign leaf-noext int leaf_noext 20220101000000Z 20350101000000Z
# pathlen violation: int (pathlen:0) -> subca -> leaf
key prime256v1 subca; csr subca "Hallmark Sub CA"
sign subca int subca 20220101000000Z 20350101000000Z
key prime256v1 leaf-deep; csr leaf-deep "Hallmark Deep Leaf"
sign leaf-deep subca leaf 20220101000000Z 20340101000000Z
# SHA-1 signed leaf directly under the root
key prime256v1 leaf-sha1; csr leaf-sha1 "Hallmark SHA1 Leaf"
sign leaf-sha1 root leaf 20220101000000Z 20350101000000Z sha1
# RSA-1024 root with a P-256 leaf
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out pki/rsa1024-root.key
openssl req -new -key pki/rsa1024-root.key -subj "/CN=Hallmark Weak Root" -out "$W/rsa1024-root.csr"
openssl ca -batch -notext -config "$W/ca.cnf" -selfsign -in "$W/rsa1024-root.csr" -keyfile pki/rsa1024-root.key \
  -extensions root -startdate 20200101000000Z -enddate 20450101000000Z -out pki/rsa1024-root.crt 2>/dev/null
key prime256v1 leaf-weak; csr leaf-weak "Hallmark Weak-Root Leaf"
sign leaf-weak rsa1024-root leaf 20220101000000Z 20350101000000Z
# RSA-PSS root (3072) with a P-256 leaf
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out pki/pss-root.key
openssl req -new -key pki/pss-root.key -subj "/CN=Hallmark PSS Root" -out "$W/pss-root.csr"
openssl ca -batch -notext -config "$W/ca.cnf" -selfsign -in "$W/pss-root.csr" -keyfile pki/pss-root.key \
  -extensions root -startdate 20200101000000Z -enddate 20450101000000Z -out pki/pss-root.crt 2>/dev/null
key prime256v1 leaf-pss; csr leaf-pss "Hallmark PSS Leaf"
openssl ca -batch -notext -config "$W/ca.cnf" -in "$W/leaf-pss.csr" -cert pki/pss-root.crt -keyfile pki/pss-root.key \
  -extensions leaf -startdate 20220101000000Z -enddate 20350101000000Z -md sha256 \
  -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -out pki/leaf-pss.crt 2>/dev/null
# Fulcio-style leaves: OIDC issuer in 1.3.6.1.4.1.57264.1.8 (UTF8String) and the legacy .1.1
# (raw bytes, a different value so tests see which one is read), or only the legacy one
key prime256v1 leaf-fulcio; csr leaf-fulcio "Hallmark Fulcio-style Leaf"
sign leaf-fulcio int leaf_fulcio 20220101000000Z 20350101000000Z
key prime256v1 leaf-fulcio-v1; csr leaf-fulcio-v1 "Hallmark Legacy Fulcio-style Leaf"
sign leaf-fulcio-v1 int leaf_fulcio_v1 20220101000000Z 20350101000000Z
echo done
