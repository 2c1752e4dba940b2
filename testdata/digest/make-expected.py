"""Writes expected.tsv: the root digest the reference library (PyPI model-signing 1.1.1)
computes for every model in testdata/oms and testdata/golden -- the subject digest of
the in-toto statement its `sign` writes, which `model_signing digest` (upstream main)
prints. Run ONCE, from the repository root, in the reference venv that
tests/interop/run.sh creates:

    ~/.cache/hallmark-oms-ref/bin/python testdata/digest/make-expected.py

Each line: `sha256:<hex> <TAB> <model path> <TAB> <hallmark digest arguments>`; the
arguments are passed to `hallmark digest` as they are (paths relative to the repository
root, which is where the test runs it) and mapped here onto the library's hashing config.
"""

import pathlib
import sys

from model_signing import hashing
from model_signing._signing import signing

ROOT = pathlib.Path(__file__).resolve().parents[2]


def cases():
    for case in sorted((ROOT / "testdata/oms").glob("case*/model")):
        rel = case.relative_to(ROOT)
        name = case.parent.name
        if name.startswith("case06"):
            yield rel, ["--serialization", "shards", "--shard-size", "262144"]
        elif name.startswith("case07"):
            yield rel, ["--hash", "blake2b"]
        else:
            yield rel, []
        if name.startswith("case11"):
            yield rel, ["--no-ignore-git-paths"]
        if name.startswith("case10"):
            yield rel, ["--ignore-paths", str(rel / "cache"), "--ignore-paths", str(rel / "README.md")]
    for golden in sorted((ROOT / "testdata/golden").glob("v*")):
        rel = golden.relative_to(ROOT)
        if (golden / "signme-2").exists():
            args = ["--ignore-paths", str(rel / "model.sig")]
            yield rel, args
            if (golden / "ignore-me").exists():
                yield rel, args + ["--ignore-paths", str(rel / "ignore-me")]
        else:
            yield rel / "signme-1", []


def reference_digest(model, args):
    hash_alg, shards, shard_size, git, ignored = "sha256", False, None, True, []
    it = iter(args)
    for a in it:
        if a == "--hash":
            hash_alg = {"blake2b": "blake2"}.get(next(it), None) or hash_alg
        elif a == "--serialization":
            shards = next(it) == "shards"
        elif a == "--shard-size":
            shard_size = int(next(it))
        elif a == "--no-ignore-git-paths":
            git = False
        elif a == "--ignore-paths":
            ignored.append(pathlib.Path(next(it)).relative_to(model))
        else:
            sys.exit(f"unknown argument {a}")
    cfg = hashing.Config()
    if shards:
        cfg.use_shard_serialization(hashing_algorithm=hash_alg, shard_size=shard_size)
    else:
        cfg.use_file_serialization(hashing_algorithm=hash_alg)
    cfg.set_ignored_paths(paths=ignored, ignore_git_paths=git)
    manifest = cfg.hash(ROOT / model)
    payload = signing.Payload(manifest)
    return "sha256:" + payload.statement.pb.subject[0].digest["sha256"]


lines = []
for model, args in cases():
    lines.append("\t".join([reference_digest(model, args), str(model), " ".join(args)]))
(ROOT / "testdata/digest/expected.tsv").write_text("\n".join(lines) + "\n")
print(f"{len(lines)} cases")
