#!/usr/bin/env python3
"""Builds the seed corpus (fuzz/corpus/<target>/, gitignored) from the repository alone:
signing fixtures under testdata/, the scanner fixtures written by the real tools
(testdata/scan/: joblib in every compressor, 7z, bombs) and the scanner's generated test
corpus (`cargo run --example scan_corpus`: PyTorch zip64 archives laid out as torch.save
writes them, npz, Keras, ONNX, GGUF, safetensors, pickles...). Each scanner target gets the
real files of its format with the magic bytes the target prepends removed, and the pickles,
.npy files and zip members found inside them. Python stdlib only; safe to re-run."""
import base64
import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import pathlib
import subprocess
import tempfile
import zipfile
import zlib

FUZZ = pathlib.Path(__file__).resolve().parent
REPO = FUZZ.parent
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


roots = [REPO / "testdata"]
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


# Scanner targets: what each one prepends to its input (see fuzz_targets/scan_*.rs).
PREFIX = {"scan_zip": b"PK\x03\x04", "scan_pickle": b"\x80\x04", "scan_npy": b"\x93NUMPY\x01\x00",
          "scan_gguf": b"GGUF\x03\x00\x00\x00"}


def add_scan(data, depth=0):
    """Routes one real file (or member) to the targets of its format, recursing into it."""
    if not data or depth > 3:
        return
    add("scan_any", data)
    if data.startswith(b"PK\x03\x04"):
        add("scan_zip", data[4:])
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for info in z.infolist()[:32]:
                    add_scan(z.read(info), depth + 1)
        except Exception:
            pass
    elif data[:1] == b"\x80" and len(data) > 2:
        add("scan_pickle", data[2:])
    elif data.startswith(b"\x93NUMPY"):
        add("scan_npy", data[8:])
    elif data.startswith(b"GGUF"):
        add("scan_gguf", data[8:])
    elif len(data) > 9 and data[8:9] == b"{":
        n = int.from_bytes(data[:8], "little")
        add("scan_safetensors", data[9:8 + n])
    for magic, decode in [(b"\x1f\x8b", gzip.decompress), (b"BZh", bz2.decompress),
                          (b"\xfd7zXZ\x00", lzma.decompress), (b"\x5d\x00", lzma.decompress),
                          (b"\x78", zlib.decompress)]:
        if data.startswith(magic):
            try:
                inner = decode(data)
            except Exception:
                continue
            if len(inner) <= MAX:
                add_scan(inner, depth + 1)


def generated_corpus():
    """The scanner's test corpus, written by its example (None if cargo is unavailable)."""
    out = pathlib.Path(tempfile.mkdtemp(prefix="scan-corpus-"))
    cmd = ["cargo", "run", "-q", "-p", "hallmark-scan", "--example", "scan_corpus", "--", str(out)]
    try:
        subprocess.run(cmd, cwd=REPO, check=True, env=os.environ)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"seed: scanner corpus not generated ({e})")
        return []
    return sorted(p for p in out.rglob("*") if p.is_file() and p.name != "manifest.tsv")


for p in list(files(REPO / "testdata" / "scan", ["*"])) + generated_corpus():
    if p.suffix not in (".py", ".md"):
        add_scan(p.read_bytes())

for t in sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []:
    print(f"seed corpus {t.name}: {sum(1 for _ in t.iterdir())} files")
