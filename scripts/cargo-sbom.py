#!/usr/bin/env python3
"""CycloneDX 1.5 SBOM of one artifact, from Cargo.lock and the crate graph.

usage: cargo-sbom.py PACKAGE ARTIFACT_NAME ARTIFACT_FILE [--no-default-features] [--features F] > sbom.cdx.json

Components are the crates `cargo tree -e normal` resolves for PACKAGE on the host
target (exactly what is compiled into the artifact), each with its purl, licence and
the registry checksum from Cargo.lock. Deterministic: sorted, no random serial
number (derived from the artifact digest), timestamp from SOURCE_DATE_EPOCH.
"""

import hashlib
import json
import os
import subprocess
import sys
import time
import tomllib
import uuid


def main() -> None:
    package, name, path = sys.argv[1:4]
    features = sys.argv[sys.argv.index("--features") + 1] if "--features" in sys.argv else None
    no_default = "--no-default-features" in sys.argv
    tree_cmd = ["cargo", "tree", "--locked", "-e", "normal", "--prefix", "none", "--no-dedupe",
                "-p", package, "--format", "{p}"]
    if features:
        tree_cmd += ["--features", features]
    if no_default:
        tree_cmd.append("--no-default-features")
    seen = set()
    for line in subprocess.run(tree_cmd, check=True, capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            seen.add((parts[0], parts[1].lstrip("v")))
    lock = tomllib.load(open("Cargo.lock", "rb"))
    checksums = {(p["name"], p["version"]): p.get("checksum") for p in lock["package"]}
    meta = json.loads(subprocess.run(["cargo", "metadata", "--locked", "--format-version", "1"],
                                     check=True, capture_output=True, text=True).stdout)
    licenses = {(p["name"], p["version"]): p.get("license") for p in meta["packages"]}
    components = []
    for n, v in sorted(seen):
        c = {"type": "library", "bom-ref": f"pkg:cargo/{n}@{v}", "name": n, "version": v,
             "purl": f"pkg:cargo/{n}@{v}"}
        if licenses.get((n, v)):
            c["licenses"] = [{"expression": licenses[(n, v)]}]
        if checksums.get((n, v)):
            c["hashes"] = [{"alg": "SHA-256", "content": checksums[(n, v)]}]
        else:
            c["properties"] = [{"name": "hallmark:source", "value": "workspace"}]
        components.append(c)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    bom = {
        "bomFormat": "CycloneDX", "specVersion": "1.5",
        "serialNumber": f"urn:uuid:{uuid.UUID(digest[:32])}", "version": 1,
        "metadata": {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch)),
            "tools": [{"name": "scripts/cargo-sbom.py"}],
            "component": {"type": "application", "bom-ref": name, "name": name,
                          "hashes": [{"alg": "SHA-256", "content": digest}]},
        },
        "components": components,
        "dependencies": [{"ref": name, "dependsOn": [c["bom-ref"] for c in components]}],
    }
    json.dump(bom, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
