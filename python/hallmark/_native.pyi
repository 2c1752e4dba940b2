"""Type stubs of the Rust extension ``hallmark._native`` (crates/python)."""

from os import PathLike
from typing import Optional, TypedDict, Union

_Path = Union[str, PathLike[str]]

__version__: str

class HashingOptions(TypedDict):
    method: str
    hashing_algorithm: str
    shard_size: int
    allow_symlinks: bool
    ignore_paths: list[str]
    ignore_git_paths: bool
    max_workers: Optional[int]

class SignerSpec(TypedDict):
    method: str
    private_key: str
    password: Optional[str]
    signing_certificate: Optional[str]
    certificate_chain: list[str]

class VerifierSpec(TypedDict):
    method: str
    public_key: Optional[str]
    certificate_chain: list[str]
    identity: Optional[str]
    oidc_issuer: Optional[str]
    trust_config: Optional[str]

def sign(model: _Path, signature: _Path, signer: SignerSpec, hashing: HashingOptions) -> str:
    """Hashes and signs; writes the bundle; returns the root digest (hex). GIL released."""

def verify(
    model: _Path,
    signature: _Path,
    verifier: VerifierSpec,
    hashing: Optional[HashingOptions],
    ignore_unsigned_files: bool,
) -> str:
    """Verifies; returns the report as JSON; raises VerificationError. GIL released."""

def hash(model: _Path, hashing: HashingOptions) -> tuple[str, str, list[tuple[str, str, str]]]:
    """(model name, serialization method, [(resource, algorithm, hex digest)])."""
