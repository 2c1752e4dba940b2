#!/usr/bin/env python3
"""Builds the seed corpus (fuzz/corpus/<target>/, gitignored) from the repository's
fixtures and ../shared, if present. Python stdlib only; safe to re-run."""
import base64
import hashlib
import json
import pathlib

FUZZ = pathlib.Path(__file__).resolve().parent
REPO = FUZZ.parent
SHARED = REPO.parent / "shared"
MAX = 64 * 1024  # bigger seeds (the recursion bombs) only slow the run down
CORPUS = FUZZ / "corpus"


def add(target, data):
    if 0 < len(data) <= MAX:
        d = CORPUS / target
        d.mkdir(parents=True, exist_ok=True)
        (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def files(root, patterns):
    if root.is_dir():
        for pat in patterns:
            yield from sorted(p for p in root.rglob(pat) if p.is_file())


roots = [REPO / "testdata", SHARED / "fixtures"]
for root in roots:
    for sig in files(root, ["*.sig"]):
        data = sig.read_bytes()
        add("bundle_parse", data)
        try:
            bundle = json.loads(data)
            env = bundle["dsseEnvelope"]
            payload = base64.b64decode(env["payload"])
        except Exception:
            continue
        add("statement_parse", payload)
        try:
            st = json.loads(payload)
            names = [r["name"] for r in st["predicate"]["resources"]]
        except Exception:
            names = []
        for n in names[:20]:
            add("resource_name", n.encode())
        vm = bundle.get("verificationMaterial", {})
        certs = vm.get("x509CertificateChain", {}).get("certificates", [])
        certs += [vm["certificate"]] if "certificate" in vm else []
        for c in certs:
            add("pem_keys", base64.b64decode(c["rawBytes"]))
    for p in files(root, ["payload.json"]):
        add("statement_parse", p.read_bytes())
    for p in files(root, ["*.pem", "*.pub", "*.crt", "*.key"]):
        add("pem_keys", p.read_bytes())

for n in ["config.json", "./a//b/", ".", "..", "../x", "/etc/passwd", "a\\b", "w.bin:0:8",
          "a:b.bin:0:10", "w.bin:8:4", "w.bin:x:1", "layers/a.bin\nlayers.bin",
          "d/f:16:24\nd/f:8:16", "na\u00efve \u00fc.bin"]:
    add("resource_name", n.encode())

for t in sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []:
    print(f"seed corpus {t.name}: {sum(1 for _ in t.iterdir())} files")
