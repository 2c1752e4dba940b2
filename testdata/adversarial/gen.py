#!/usr/bin/env python3
"""Regenerate the adversarial OMS signature fixtures in this folder (see README.md).

Every scenario starts from a valid bundle that `hallmark sign key` made over the small
model below with the committed TEST-ONLY key `keys/test.key`, then changes one thing.
Statements that must be *properly signed* (so that only the check under test can refuse
them) are re-signed here with `openssl dgst -sha256 -sign` over the DSSE PAE, which is
exactly what a P-256 OMS signer does (ECDSA P-256/SHA-256, DER signature).

Needs: Python 3 (stdlib only), openssl, and a built hallmark binary:

    cargo build --release -p hallmark-cli
    python3 testdata/adversarial/gen.py            # or HALLMARK=/path/to/hallmark python3 ...

Keys under keys/ are made once with openssl and then reused; delete them to start over.
ECDSA signatures are randomised, so bundle bytes change on every run; the outcomes do not.
The scenario table in README.md is written from SCENARIOS below.
"""
import base64
import copy
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
KEYS = HERE / "keys"
INTOTO = "application/vnd.in-toto+json"
MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"

b64 = lambda b: base64.b64encode(b).decode()
sha256 = lambda b: hashlib.sha256(b).digest()

# The model every scenario ships (small, deterministic).
MODEL = {
    "config.json": b'{"hidden_size": 64, "layers": 2}\n',
    "weights.bin": bytes((i * 7 + 3) % 256 for i in range(2048)),
    "layers/0.bin": bytes((i * 13 + 1) % 256 for i in range(512)),
}
# A file next to the model (outside it), named by the path-traversal scenario.
OUTSIDE = b"secret outside the model\n"


def run(cmd, data=None):
    return subprocess.run(cmd, input=data, capture_output=True, check=True).stdout


def hallmark_bin():
    if os.environ.get("HALLMARK"):
        return os.environ["HALLMARK"]
    target = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    exe = target / "release" / "hallmark"
    if not exe.exists():
        sys.exit(f"{exe} not found: run `cargo build --release -p hallmark-cli` or set HALLMARK")
    return str(exe)


def make_keys():
    KEYS.mkdir(exist_ok=True)
    for name in ("test", "other", "root", "leaf"):
        key = KEYS / f"{name}.key"
        if not key.exists():
            pem = run(["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout"])
            key.write_bytes(run(["openssl", "pkcs8", "-topk8", "-nocrypt"], pem))
        pub = KEYS / f"{name}.pub"
        if not pub.exists():
            pub.write_bytes(run(["openssl", "pkey", "-in", str(key), "-pubout"]))
    root = KEYS / "root.pem"
    if not root.exists():
        run(["openssl", "req", "-x509", "-new", "-key", str(KEYS / "root.key"), "-sha256",
             "-subj", "/CN=hallmark adversarial test root", "-days", "36500",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out", str(root)])
    leaf = KEYS / "leaf.pem"
    if not leaf.exists():
        with tempfile.TemporaryDirectory() as t:
            ext = pathlib.Path(t) / "ext"
            ext.write_text("basicConstraints=critical,CA:FALSE\n"
                           "keyUsage=critical,digitalSignature\n"
                           "extendedKeyUsage=codeSigning\n"
                           "subjectAltName=email:signer@adversarial.test\n")
            csr = run(["openssl", "req", "-new", "-key", str(KEYS / "leaf.key"),
                       "-subj", "/CN=hallmark adversarial test signer"])
            leaf.write_bytes(run(["openssl", "x509", "-req", "-CA", str(root), "-CAkey",
                                  str(KEYS / "root.key"), "-CAcreateserial", "-days", "36500",
                                  "-sha256", "-extfile", str(ext), "-out", "/dev/stdout"], csr))
        (KEYS / "root.srl").unlink(missing_ok=True)


def hint(pub):
    return hashlib.sha256((KEYS / pub).read_bytes()).hexdigest()


def sign(key, data):
    """ECDSA P-256 / SHA-256, DER: what an OMS P-256 signer produces."""
    return run(["openssl", "dgst", "-sha256", "-sign", str(KEYS / key)], data)


def pae(payload_type, payload):
    return b"DSSEv1 %d %s %d " % (len(payload_type), payload_type.encode(), len(payload)) + payload


def compat_pae(payload_type, payload):
    """model_signing 0.2.0's non-standard encoding: DSSEV1 + Python repr of the payload."""
    head = "DSSEV1 %d %s %d " % (len(payload_type), payload_type, len(payload))
    return head.encode() + repr(payload).encode()


def key_bundle(payload, sig, *, hint_of="test.pub", payload_type=INTOTO, public_key=None):
    return {
        "mediaType": MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": public_key if public_key is not None else {"hint": hint(hint_of)},
            "tlogEntries": [],
        },
        "dsseEnvelope": {
            "payload": b64(payload),
            "payloadType": payload_type,
            "signatures": [{"sig": b64(sig), "keyid": ""}],
        },
    }


def signed(payload, *, key="test.key", payload_type=INTOTO, **kw):
    return key_bundle(payload, sign(key, pae(payload_type, payload)), payload_type=payload_type, **kw)


def dumps(bundle):
    return json.dumps(bundle, separators=(",", ":")).encode()


def statement_bytes(st):
    return json.dumps(st, indent=2).encode()


def with_root(st):
    """Recomputes subject[0].digest.sha256 over the listed resources (raw, in list order)."""
    raw = b"".join(bytes.fromhex(r["digest"]) for r in st["predicate"]["resources"])
    st["subject"][0]["digest"]["sha256"] = sha256(raw).hex()
    return st


def resource(name, data, algorithm="sha256"):
    return {"name": name, "algorithm": algorithm, "digest": hashlib.sha256(data).hexdigest()}


# name -> (how it was made, expected outcome with the words the error must contain,
#          verification: "key" (key.pub) or "certificate" (root.pem))
SCENARIOS = {}


def scenario(name, how, expected, verify="key"):
    def register(fn):
        SCENARIOS[name] = (how, expected, verify, fn)
        return fn
    return register


def main():
    make_keys()
    exe = hallmark_bin()
    with tempfile.TemporaryDirectory() as t:
        t = pathlib.Path(t)
        model = t / "model"
        for name, data in MODEL.items():
            (model / name).parent.mkdir(parents=True, exist_ok=True)
            (model / name).write_bytes(data)
        run([exe, "sign", "key", str(model), "--private-key", str(KEYS / "test.key"),
             "--signature", str(t / "key.sig"), "--quiet"])
        run([exe, "sign", "certificate", str(model), "--private-key", str(KEYS / "leaf.key"),
             "--signing-certificate", str(KEYS / "leaf.pem"), "--signature",
             str(t / "cert.sig"), "--quiet"])
        run([exe, "sign", "key", str(model), "--private-key", str(KEYS / "test.key"),
             "--signature", str(t / "shards.sig"), "--serialization", "shards",
             "--shard-size", "2048", "--quiet"])
        base = (t / "key.sig").read_bytes()
        cert = (t / "cert.sig").read_bytes()
        shards = (t / "shards.sig").read_bytes()
    ctx = {
        "base": base,
        "bundle": json.loads(base),
        "cert": cert,
        "shards": shards,
        "payload": base64.b64decode(json.loads(base)["dsseEnvelope"]["payload"]),
    }
    ctx["statement"] = json.loads(ctx["payload"])

    for old in HERE.iterdir():
        if old.is_dir() and old.name != "keys":
            shutil.rmtree(old)
    for name, (how, expected, verify, fn) in SCENARIOS.items():
        d = HERE / name
        for rel, data in MODEL.items():
            (d / "model" / rel).parent.mkdir(parents=True, exist_ok=True)
            (d / "model" / rel).write_bytes(data)
        if verify == "key":
            shutil.copy(KEYS / "test.pub", d / "key.pub")
        else:
            shutil.copy(KEYS / "root.pem", d / "root.pem")
        out = fn(ctx, d)
        (d / "model.sig").write_bytes(out if isinstance(out, bytes) else dumps(out))
    write_readme()


def st(ctx):
    return copy.deepcopy(ctx["statement"])


# ---------------------------------------------------------------- controls
@scenario("valid", "`hallmark sign key` over `model/` with `keys/test.key` (the base of every key scenario)",
          "**verifies** (exit 0)")
def _(ctx, d):
    return ctx["base"]


@scenario("valid-certificate", "`hallmark sign certificate` with `keys/leaf.key` + `keys/leaf.pem` (issued by `keys/root.pem`)",
          "**verifies** (exit 0) with `--certificate-chain root.pem`", verify="certificate")
def _(ctx, d):
    return ctx["cert"]


# ---------------------------------------------------------------- bundle layer (unsigned)
@scenario("truncated-bundle", "the valid bundle cut in half", "malformed: `not valid JSON`")
def _(ctx, d):
    return ctx["base"][: len(ctx["base"]) // 2]


@scenario("wrong-media-type", "`mediaType` = `application/vnd.dev.sigstore.bundle+json;version=0.3` (the other legal Sigstore spelling, which the reference key/cert path refuses)",
          "malformed: `mediaType`, the value found")
def _(ctx, d):
    b = copy.deepcopy(ctx["bundle"])
    b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.3"
    return b


@scenario("unknown-field-top-level", "valid bundle plus a top-level `\"extra\": 1`",
          "malformed: ``unknown field `extra` ``")
def _(ctx, d):
    b = copy.deepcopy(ctx["bundle"])
    b["extra"] = 1
    return b


@scenario("unknown-field-nested", "valid bundle plus `dsseEnvelope.signatures[0].comment`",
          "malformed: ``unknown field `dsseEnvelope.signatures[0].comment` ``")
def _(ctx, d):
    b = copy.deepcopy(ctx["bundle"])
    b["dsseEnvelope"]["signatures"][0]["comment"] = "trust me"
    return b


@scenario("empty-signatures", "`dsseEnvelope.signatures` = `[]`", "malformed: `signatures`, `no signature`")
def _(ctx, d):
    b = copy.deepcopy(ctx["bundle"])
    b["dsseEnvelope"]["signatures"] = []
    return b


@scenario("bad-base64", "first four characters of `dsseEnvelope.payload` replaced by URL-safe `-_-_`",
          "malformed: `dsseEnvelope.payload`, `base64`")
def _(ctx, d):
    b = copy.deepcopy(ctx["bundle"])
    b["dsseEnvelope"]["payload"] = "-_-_" + b["dsseEnvelope"]["payload"][4:]
    return b


@scenario("deeply-nested-bundle", "`{\"mediaType\": [[[…]]]}` nested 100,000 deep (recursion bomb)",
          "malformed: `not valid JSON`, `recursion limit`; no stack overflow")
def _(ctx, d):
    return b'{"mediaType":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


@scenario("too-many-certificates", "the valid certificate bundle with its leaf repeated 17 times in `x509CertificateChain` (limit 16)",
          "malformed: `certificates`, `over the limit of 16`", verify="certificate")
def _(ctx, d):
    b = json.loads(ctx["cert"])
    chain = b["verificationMaterial"]["x509CertificateChain"]["certificates"]
    b["verificationMaterial"]["x509CertificateChain"]["certificates"] = chain[:1] * 17
    return b


# ---------------------------------------------------------------- authentication
@scenario("payload-swapped", "payload replaced by a well-formed statement for a model whose `weights.bin` was altered (that altered file is in `model/`); signature and hint kept",
          "signature: `does not verify`")
def _(ctx, d):
    evil = b"\0" * len(MODEL["weights.bin"])
    (d / "model" / "weights.bin").write_bytes(evil)
    s = st(ctx)
    for r in s["predicate"]["resources"]:
        if r["name"] == "weights.bin":
            r["digest"] = hashlib.sha256(evil).hexdigest()
    b = copy.deepcopy(ctx["bundle"])
    b["dsseEnvelope"]["payload"] = b64(statement_bytes(with_root(s)))
    return b


@scenario("signature-from-another-key", "the valid statement re-signed by `keys/other.key`; `publicKey.hint` still names `keys/test.pub`",
          "signature: `does not verify with public key`")
def _(ctx, d):
    return signed(ctx["payload"], key="other.key", hint_of="test.pub")


@scenario("signature-from-another-key-own-hint", "the valid statement re-signed by `keys/other.key`, with that key's hint",
          "key: `key mismatch`, both hints")
def _(ctx, d):
    return signed(ctx["payload"], key="other.key", hint_of="other.pub")


@scenario("embedded-key-not-trusted", "re-signed by `keys/other.key`, whose PEM is embedded as the pre-1.1 `publicKey.rawBytes` (no hint)",
          "signature: `does not verify` (the embedded key is never trusted)")
def _(ctx, d):
    pk = {"rawBytes": b64((KEYS / "other.pub").read_bytes()), "keyDetails": "PKIX_ECDSA_P256_SHA_256"}
    return signed(ctx["payload"], key="other.key", public_key=pk)


@scenario("first-signature-invalid", "two signatures: `keys/other.key`'s first, then a valid one by `keys/test.key` (OMS verifiers use only `signatures[0]`)",
          "signature: `does not verify`")
def _(ctx, d):
    b = signed(ctx["payload"], key="other.key")
    b["dsseEnvelope"]["signatures"].append(ctx["bundle"]["dsseEnvelope"]["signatures"][0])
    return b


@scenario("compat-pae-on-v1-statement", "the valid v1.0 statement signed by `keys/test.key` over the v0.2.0 compatibility encoding (`DSSEV1 …` + Python `repr(payload)`, SHA-256)",
          "signature: `compatibility encoding`, `0.2.0`")
def _(ctx, d):
    b = copy.deepcopy(ctx["bundle"])
    b["dsseEnvelope"]["signatures"][0]["sig"] = b64(sign("test.key", compat_pae(INTOTO, ctx["payload"])))
    return b


@scenario("key-bundle-verified-as-certificate", "the valid key bundle, verified with `verify certificate --certificate-chain root.pem`",
          "method: `key method`, `certificate method`", verify="certificate")
def _(ctx, d):
    return ctx["base"]


@scenario("certificate-bundle-verified-as-key", "the valid certificate bundle, verified with `verify key --public-key key.pub`",
          "method: `certificate method`, `key method`")
def _(ctx, d):
    return ctx["cert"]


# ---------------------------------------------------------------- signed but malicious statements
@scenario("wrong-payload-type", "`payloadType` = `application/json`, signed by `keys/test.key` over the PAE with that type",
          "statement: `payloadType`, `application/json`")
def _(ctx, d):
    return signed(ctx["payload"], payload_type="application/json")


@scenario("payload-not-json", "payload `this is not JSON`, signed", "statement: `in-toto statement is not valid JSON`")
def _(ctx, d):
    return signed(b"this is not JSON")


@scenario("deeply-nested-payload", "signed statement whose predicate carries an extension nested 100,000 deep",
          "statement: `in-toto statement is not valid JSON`, `recursion limit`; no stack overflow")
def _(ctx, d):
    text = statement_bytes(st(ctx))
    bomb = b'{\n  "x": ' + b"[" * 100_000 + b"]" * 100_000 + b",\n"
    return signed(text.replace(b"{\n", bomb, 1))


@scenario("wrong-statement-type", "`_type` = `https://in-toto.io/Statement/v0.1`, signed", "statement: `_type`")
def _(ctx, d):
    s = st(ctx)
    s["_type"] = "https://in-toto.io/Statement/v0.1"
    return signed(statement_bytes(s))


@scenario("wrong-predicate-type", "`predicateType` = `https://slsa.dev/provenance/v1`, signed",
          "statement: `predicateType`, `https://slsa.dev/provenance/v1`")
def _(ctx, d):
    s = st(ctx)
    s["predicateType"] = "https://slsa.dev/provenance/v1"
    return signed(statement_bytes(s))


@scenario("no-subject", "`subject` = `[]`, signed", "statement: `subject`, `found 0`")
def _(ctx, d):
    s = st(ctx)
    s["subject"] = []
    return signed(statement_bytes(s))


@scenario("two-subjects", "a second subject (same digest, other name), signed", "statement: `subject`, `found 2`")
def _(ctx, d):
    s = st(ctx)
    s["subject"].append(dict(copy.deepcopy(s["subject"][0]), name="other-model"))
    return signed(statement_bytes(s))


@scenario("root-digest-mismatch", "`subject[0].digest.sha256` = SHA-256 of other bytes; resources untouched; signed",
          "manifest: `subject digest`, the recorded digest")
def _(ctx, d):
    s = st(ctx)
    s["subject"][0]["digest"]["sha256"] = sha256(b"not the resources").hex()
    return signed(statement_bytes(s))


@scenario("empty-resources", "`resources` = `[]`, root = SHA-256 of nothing, signed (a signed claim that the model has no files)",
          "model: `extra` for every file. With `--ignore-unsigned-files` it is currently **accepted** for any model (reported; test `#[ignore]`d until decided)")
def _(ctx, d):
    s = st(ctx)
    s["predicate"]["resources"] = []
    return signed(statement_bytes(with_root(s)))


@scenario("shards-data-appended", "`hallmark sign key --serialization shards --shard-size 2048` (one shard, `weights.bin:0:2048`), then 1024 bytes appended to `model/weights.bin`",
          "model: `extra`, `weights.bin:2048:3072`. With `--ignore-unsigned-files` it is currently **accepted** (BUG, reported; test `#[ignore]`d until fixed): the new shard of a *signed* file is treated as an unsigned file")
def _(ctx, d):
    with open(d / "model" / "weights.bin", "ab") as f:
        f.write(b"\xee" * 1024)
    return ctx["shards"]


@scenario("resource-path-traversal", "resource `../outside.bin` with the digest of `outside.bin` (shipped next to `model/`), root recomputed, signed",
          "statement: `../outside.bin`, `..`; also with `--ignore-unsigned-files`")
def _(ctx, d):
    (d / "outside.bin").write_bytes(OUTSIDE)
    s = st(ctx)
    s["predicate"]["resources"].append(resource("../outside.bin", OUTSIDE))
    return signed(statement_bytes(with_root(s)))


@scenario("absolute-resource-path", "resource `/etc/passwd`, root recomputed, signed",
          "statement: `/etc/passwd`, `absolute path`")
def _(ctx, d):
    s = st(ctx)
    s["predicate"]["resources"].append(resource("/etc/passwd", b"root:x:0:0::/root:/bin/sh\n"))
    return signed(statement_bytes(with_root(s)))


@scenario("duplicated-resource", "`weights.bin` listed twice (second entry with another digest, which the reference's dict would keep), root recomputed, signed",
          "statement: `weights.bin`, `more than once`")
def _(ctx, d):
    s = st(ctx)
    s["predicate"]["resources"].append(resource("weights.bin", b"something else"))
    return signed(statement_bytes(with_root(s)))


@scenario("ignore-paths-traversal", "`serialization.ignore_paths` = `[\"../model\"]`, signed",
          "statement: `ignore_paths[0]`, `..`")
def _(ctx, d):
    s = st(ctx)
    s["predicate"]["serialization"]["ignore_paths"] = ["../model"]
    return signed(statement_bytes(s))


@scenario("shard-name-malformed", "shards serialization (`shard_size` 1024) with resource `weights.bin:1024:0` (end before start), root recomputed, signed",
          "statement: `weights.bin:1024:0`, `shard end`")
def _(ctx, d):
    s = st(ctx)
    s["predicate"]["serialization"].update(method="shards", shard_size=1024)
    s["predicate"]["resources"] = [
        resource("weights.bin:0:1024", MODEL["weights.bin"][:1024], "sha256-sharded-1024"),
        resource("weights.bin:1024:0", MODEL["weights.bin"][1024:], "sha256-sharded-1024"),
    ]
    return signed(statement_bytes(with_root(s)))


@scenario("resource-algorithm-mismatch", "`weights.bin` recorded with algorithm `md5` under `hash_type` sha256, signed",
          "statement: `algorithm`, `md5`")
def _(ctx, d):
    s = st(ctx)
    for r in s["predicate"]["resources"]:
        if r["name"] == "weights.bin":
            r["algorithm"] = "md5"
    return signed(statement_bytes(s))


@scenario("digest-wrong-length", "`weights.bin` digest cut to 31 bytes, root recomputed, signed",
          "statement: `digest`, `weights.bin`, `31 bytes`")
def _(ctx, d):
    s = st(ctx)
    for r in s["predicate"]["resources"]:
        if r["name"] == "weights.bin":
            r["digest"] = r["digest"][:62]
    return signed(statement_bytes(with_root(s)))


@scenario("non-hex-digest", "`weights.bin` digest with `zz` in place of its first byte, signed",
          "statement: `digest`, `not a hex digest`")
def _(ctx, d):
    s = st(ctx)
    for r in s["predicate"]["resources"]:
        if r["name"] == "weights.bin":
            r["digest"] = "zz" + r["digest"][2:]
    return signed(statement_bytes(s))


@scenario("legacy-statement-path-traversal", "a v0.1 (`https://model_signing/Digests/v0.1`) statement with subjects `config.json` and `../outside.bin`, signed with the standard PAE",
          "statement: `../outside.bin`, `..`")
def _(ctx, d):
    (d / "outside.bin").write_bytes(OUTSIDE)
    s = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [
            {"name": "config.json", "digest": {"sha256": hashlib.sha256(MODEL["config.json"]).hexdigest()}},
            {"name": "../outside.bin", "digest": {"sha256": hashlib.sha256(OUTSIDE).hexdigest()}},
        ],
        "predicateType": "https://model_signing/Digests/v0.1",
        "predicate": {},
    }
    return signed(statement_bytes(s))


def write_readme():
    rows = "\n".join(
        f"| `{name}` | {how} | {expected} |" for name, (how, expected, _v, _f) in SCENARIOS.items()
    )
    (HERE / "README.md").write_text(f"""# Adversarial OMS signatures

One folder per scenario, tough style: `model/` (a three-file model), `model.sig` (the
bundle) and the key to verify with (`key.pub`, or `root.pem` for the certificate method).
Some folders also hold `outside.bin`, a file *next to* the model that a malicious resource
name points at. Every scenario but the two controls must be **refused** (exit 1) with an
error that names the field, digest or check involved, and never a panic.

Made by `gen.py` (Python stdlib + openssl + the hallmark binary) from a bundle that
`hallmark sign key` wrote with the TEST-ONLY key `keys/test.key`. Statements that must be
properly signed, so that only the check under test can refuse them, are re-signed by
`gen.py` with `openssl dgst -sha256 -sign keys/test.key` over the DSSE PAE. Regenerate with

    cargo build --release -p hallmark-cli && python3 testdata/adversarial/gen.py

(signatures are randomised: bytes change, outcomes do not). The huge-bundle scenario is
made at test time instead of being committed: a bundle one byte over
`Limits::max_bundle_bytes` (a small custom limit through the library, a 256 MiB + 1 sparse
file through the CLI) must be refused by size before any parsing.

Tests: `crates/signing/tests/adversarial.rs` (library: refusal and error words, one test per
scenario) and `crates/cli/tests/it/adversarial.rs` (exit status and stderr).

Reproduce one by hand:

    hallmark verify key testdata/adversarial/<scenario>/model --signature testdata/adversarial/<scenario>/model.sig --public-key testdata/adversarial/<scenario>/key.pub
    hallmark verify certificate … --certificate-chain testdata/adversarial/<scenario>/root.pem

| scenario | how it was made | expected outcome: refused by …, error words |
|---|---|---|
{rows}
| `huge-bundle` (made at test time) | valid bundle padded past the limit; a sparse 256 MiB + 1 file for the CLI | malformed: `over the … -byte limit`, refused before parsing |

Keys (`keys/`, TEST-ONLY, never trust anything they sign): `test.key`/`test.pub` (the
signer), `other.key`/`other.pub` (an attacker's key), `root.key`/`root.pem` (a P-256 CA) and
`leaf.key`/`leaf.pem` (a code-signing leaf it issued), all made with openssl by `gen.py`.
""")


if __name__ == "__main__":
    main()
