#!/usr/bin/env python3
"""Regenerate the adversarial Sigstore bundles in this folder (see README.md).

Each scenario is a mutated copy of the reference-signed bundle
../../../shared/fixtures/oms/case40-sigstore-private-offline/model.sig, re-signed with that
private instance's TEST-ONLY keys where needed so that exactly one check fails.
Needs only Python 3 and `cryptography`. Run from anywhere:  python3 testdata/sigstore/gen.py
Fresh keys are random, so the bytes change on every run; the expected outcomes do not.
"""
import base64, copy, hashlib, json, pathlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

HERE = pathlib.Path(__file__).resolve().parent
CASE = HERE.parent.parent.parent / "shared/fixtures/oms/case40-sigstore-private-offline"
b64 = lambda b: base64.b64encode(b).decode()
unb64 = base64.b64decode
H = lambda b: hashlib.sha256(b).digest()

bundle = json.loads((CASE / "model.sig").read_text())
trust = json.loads((CASE / "sigstore/trust_config.json").read_text())
seed = [unb64(s) for s in json.loads((CASE / "sigstore/log-seed.json").read_text())]
rekor_key = serialization.load_pem_private_key((CASE / "sigstore/rekor.key").read_bytes(), None)
entry0 = bundle["verificationMaterial"]["tlogEntries"][0]


def sign(key, data):
    return key.sign(data, ec.ECDSA(hashes.SHA256()))


def subtree_root(leaves):
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return H(b"\1" + subtree_root(leaves[:k]) + subtree_root(leaves[k:]))


def audit_path(index, leaves):
    """RFC 6962 inclusion proof, leaf to root."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if index < k:
        return audit_path(index, leaves[:k]) + [subtree_root(leaves[k:])]
    return audit_path(index - k, leaves[k:]) + [subtree_root(leaves[:k])]


def checkpoint(origin, size, root, key, hint):
    note = f"{origin}\n{size}\n{b64(root)}\n"
    name = origin.split(" ")[0]
    return note + "\n" + f"\u2014 {name} {b64(hint + sign(key, note.encode()))}\n"


def set_for(entry, key):
    """Signed entry timestamp over the RFC 8785 JSON of body, integratedTime, logID, logIndex."""
    doc = {
        "body": entry["canonicalizedBody"],
        "integratedTime": int(entry["integratedTime"]),
        "logID": unb64(entry["logId"]["keyId"]).hex(),
        "logIndex": int(entry["logIndex"]),
    }
    canon = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return b64(sign(key, canon))


def relog(b, body_bytes, key=rekor_key, extra_leaves=()):
    """Append body_bytes at the entry's index after the seed leaves; fresh proof, checkpoint, SET."""
    e = b["verificationMaterial"]["tlogEntries"][0]
    e["canonicalizedBody"] = b64(body_bytes)
    leaves = seed + [H(b"\0" + body_bytes)] + list(extra_leaves)
    index = len(seed)
    root = subtree_root(leaves)
    origin = e["inclusionProof"]["checkpoint"]["envelope"].split("\n")[0]
    hint = unb64(e["logId"]["keyId"])[:4]
    e["logIndex"] = str(index)
    e["inclusionProof"] = {
        "logIndex": str(index),
        "rootHash": b64(root),
        "treeSize": str(len(leaves)),
        "hashes": [b64(h) for h in audit_path(index, leaves)],
        "checkpoint": {"envelope": checkpoint(origin, len(leaves), root, key, hint)},
    }
    e["inclusionPromise"] = {"signedEntryTimestamp": set_for(e, key)}


def write(name, b, trust_config=None):
    d = HERE / name
    d.mkdir(exist_ok=True)
    (d / "model.sig").write_text(json.dumps(b, indent=2) + "\n")
    if trust_config is not None:
        (d / "trust_config.json").write_text(json.dumps(trust_config, indent=2) + "\n")


# Sanity: the original tree is seed leaves + our body.
body = unb64(entry0["canonicalizedBody"])
leaves = seed + [H(b"\0" + body)]
assert b64(subtree_root(leaves)) == entry0["inclusionProof"]["rootHash"]
assert [b64(h) for h in audit_path(6, leaves)] == entry0["inclusionProof"]["hashes"]

# 0. control: relogging the unchanged body with the real keys must still verify.
b = copy.deepcopy(bundle)
relog(b, body)
write("control-relogged", b)

# 1. inclusion proof for another leaf: the entry is logged at index 6 of an 8-leaf tree and the
#    bundle carries the genuine audit path of leaf 7 (same length), with a valid checkpoint.
b = copy.deepcopy(bundle)
relog(b, body, extra_leaves=[H(b"\0" + b"another entry")])
e = b["verificationMaterial"]["tlogEntries"][0]
tree8 = seed + [H(b"\0" + body), H(b"\0" + b"another entry")]
assert b64(subtree_root(tree8)) == e["inclusionProof"]["rootHash"]
e["inclusionProof"]["hashes"] = [b64(h) for h in audit_path(7, tree8)]
write("inclusion-proof-other-leaf", b)

# 2. checkpoint signed by an unknown key (same key hint as the trusted log).
b = copy.deepcopy(bundle)
e = b["verificationMaterial"]["tlogEntries"][0]
rogue = ec.generate_private_key(ec.SECP256R1())
origin = e["inclusionProof"]["checkpoint"]["envelope"].split("\n")[0]
e["inclusionProof"]["checkpoint"]["envelope"] = checkpoint(
    origin, int(e["inclusionProof"]["treeSize"]), unb64(e["inclusionProof"]["rootHash"]),
    rogue, unb64(e["logId"]["keyId"])[:4])
write("checkpoint-unknown-key", b)

# 3. certificate expired at integration time: integratedTime moved to one hour after the
#    leaf's notAfter, SET re-signed by the real log key so the time itself is authentic.
b = copy.deepcopy(bundle)
e = b["verificationMaterial"]["tlogEntries"][0]
cert = x509.load_der_x509_certificate(unb64(b["verificationMaterial"]["certificate"]["rawBytes"]))
e["integratedTime"] = str(int(cert.not_valid_after_utc.timestamp()) + 3600)
e["inclusionPromise"] = {"signedEntryTimestamp": set_for(e, rekor_key)}
write("cert-expired-at-integration", b)

# 4. SCT from an unknown log: the bundle is untouched, the trust root's CT log is replaced.
tc = copy.deepcopy(trust)
other_ct = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
ct = tc["trustedRoot"]["ctlogs"][0]
ct["publicKey"]["rawBytes"] = b64(other_ct)
ct["logId"]["keyId"] = b64(H(other_ct))
write("sct-unknown-log", bundle, tc)

# 5. entry body that binds a different envelope: the body's payloadHash/envelopeHash are for
#    another payload; logged properly (proof, checkpoint, SET all valid).
b = copy.deepcopy(bundle)
other_payload = b'{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"evil","digest":{"sha256":"' + b"0" * 64 + b'"}}]}'
swapped = json.loads(body)
swapped["spec"]["payloadHash"]["value"] = H(other_payload).hex()
swapped["spec"]["envelopeHash"]["value"] = H(b"another envelope").hex()
relog(b, json.dumps(swapped, sort_keys=True, separators=(",", ":")).encode())
write("entry-binds-other-envelope", b)

# 6. envelope payload swapped (the log entry and signature are for the original payload).
b = copy.deepcopy(bundle)
stmt = json.loads(unb64(b["dsseEnvelope"]["payload"]))
stmt["subject"][0]["digest"]["sha256"] = "0" * 64
b["dsseEnvelope"]["payload"] = b64(json.dumps(stmt).encode())
write("envelope-payload-swapped", b)

# 7. envelope signature tampered: one bit of the ECDSA s value flipped (still valid DER).
b = copy.deepcopy(bundle)
sig = bytearray(unb64(b["dsseEnvelope"]["signatures"][0]["sig"]))
sig[-1] ^= 0x01
b["dsseEnvelope"]["signatures"][0]["sig"] = b64(bytes(sig))
write("envelope-signature-tampered", b)

# 8. signed entry timestamp signed by an unknown key (proof and checkpoint intact).
b = copy.deepcopy(bundle)
e = b["verificationMaterial"]["tlogEntries"][0]
e["inclusionPromise"] = {"signedEntryTimestamp": set_for(e, rogue)}
write("set-unknown-key", b)

# 9. a whole log (checkpoint + SET) signed by an unknown key that the bundle names as its log.
b = copy.deepcopy(bundle)
relog(b, body, key=rogue)
write("log-entirely-unknown-key", b)
