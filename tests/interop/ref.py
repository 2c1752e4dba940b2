"""Drive the reference implementation (PyPI model-signing 1.1.1) through its library API.

Used by run.sh for what the 1.1.1 CLI cannot do: sign or verify with a chosen
serialization (shards, blake2). Everything that decides validity is done by the
model_signing library itself; this file only builds the hashing configuration.

  ref.py sign   --method key|certificate --model M --signature S --private-key K
                [--signing-certificate C] [--certificate-chain I]...
                --serialization files|shards [--shard-size N] [--hash sha256|blake2|blake3]
  ref.py verify --method key|certificate --model M --signature S
                [--public-key P] [--certificate-chain ROOT]...
                --serialization files|shards [--shard-size N] [--hash ...]
Exit 0 on success, 1 when the reference refuses.
"""

import argparse
import pathlib
import sys


def hashing_config(a):
    import model_signing

    hc = model_signing.hashing.Config()
    if a.serialization == "files":
        hc.use_file_serialization(hashing_algorithm=a.hash, allow_symlinks=False)
    else:
        hc.use_shard_serialization(hashing_algorithm=a.hash, shard_size=a.shard_size, allow_symlinks=False)
    hc.set_ignored_paths(paths=[], ignore_git_paths=True)
    return hc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("action", choices=["sign", "verify"])
    ap.add_argument("--method", required=True, choices=["key", "certificate"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--signature", required=True)
    ap.add_argument("--private-key")
    ap.add_argument("--public-key")
    ap.add_argument("--signing-certificate")
    ap.add_argument("--certificate-chain", action="append", default=[])
    ap.add_argument("--serialization", default="files", choices=["files", "shards"])
    ap.add_argument("--shard-size", type=int, default=1_000_000_000)
    ap.add_argument("--hash", default="sha256", choices=["sha256", "blake2", "blake3"])
    a = ap.parse_args()

    import model_signing

    model = pathlib.Path(a.model)
    sig = pathlib.Path(a.signature)
    try:
        if a.action == "sign":
            cfg = model_signing.signing.Config()
            if a.method == "key":
                cfg.use_elliptic_key_signer(private_key=a.private_key)
            else:
                cfg.use_certificate_signer(private_key=a.private_key,
                                           signing_certificate=a.signing_certificate,
                                           certificate_chain=a.certificate_chain)
            cfg.set_hashing_config(hashing_config(a)).sign(model, sig)
            print("reference: Signing succeeded")
        else:
            cfg = model_signing.verifying.Config()
            if a.method == "key":
                cfg.use_elliptic_key_verifier(public_key=a.public_key)
            else:
                cfg.use_certificate_verifier(certificate_chain=a.certificate_chain)
            cfg.set_hashing_config(hashing_config(a)).verify(model, sig)
            print("reference: Verification succeeded")
    except Exception as e:  # the reference signals every refusal with an exception
        print(f"reference: {a.action} failed: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
