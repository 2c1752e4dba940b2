"""Verify on download: ``huggingface_hub`` downloads that check ``model.sig`` first.

Works against the Hallmark hub and any hub speaking the Hugging Face API
(``HF_ENDPOINT`` / ``endpoint=``). The signer is pinned by the caller: identity, OIDC
issuer and the Sigstore trust config (for a Hallmark hub: its ``/trust-config.json``,
saved once and shipped with your code). Nothing is trusted from the hub itself::

    from hallmark import hf
    pin = dict(identity="https://hub.example/alice", oidc_issuer="https://hub.example",
               trust_config="hub-trust-config.json")
    path = hf.snapshot_download("acme/demo", **pin)   # raises VerificationError otherwise
    with hf.verified_downloads(**pin): transformers.AutoModel.from_pretrained("acme/demo")

Or with a key: ``public_key="key.pub"`` instead of identity/issuer/trust_config.
"""

import contextlib
import os
import pathlib
from typing import Iterator, Optional, Union

from hallmark import _native
from hallmark._errors import VerificationError

PathLike = Union[str, os.PathLike]

SIGNATURE = "model.sig"


def _verifier(identity, oidc_issuer, trust_config, public_key) -> dict:
    spec = {"method": "sigstore", "public_key": None, "certificate_chain": [], "identity": identity,
            "oidc_issuer": oidc_issuer, "trust_config": None if trust_config is None else os.fspath(trust_config)}
    if public_key is not None:
        spec.update(method="key", public_key=os.fspath(public_key))
    elif not identity or not oidc_issuer:
        raise ValueError("pin the signer: identity= and oidc_issuer= (with trust_config=), or public_key=")
    return spec


def verify_snapshot(path: PathLike, *, identity: Optional[str] = None, oidc_issuer: Optional[str] = None,
                    trust_config: Optional[PathLike] = None, public_key: Optional[PathLike] = None,
                    signature: str = SIGNATURE) -> dict:
    """Verifies a downloaded repository folder against its ``model.sig``; returns the
    report, raises :class:`VerificationError` (a ``ValueError``) with every reason."""
    root = pathlib.Path(path)
    sig = root / signature
    if not sig.is_file():
        msg = f"{root} has no {signature}: the repository is not signed"
        raise VerificationError(msg, [msg])
    # HF cache snapshots are symlinks into blobs/; local_dir downloads keep .cache/.
    hashing = {"method": None, "hashing_algorithm": "sha256", "shard_size": 1, "allow_symlinks": True,
               "ignore_paths": [".cache"], "ignore_git_paths": True, "max_workers": None}
    import json

    return json.loads(_native.verify(root, sig, _verifier(identity, oidc_issuer, trust_config, public_key),
                                     hashing, False))


def snapshot_download(repo_id: str, *, identity: Optional[str] = None, oidc_issuer: Optional[str] = None,
                      trust_config: Optional[PathLike] = None, public_key: Optional[PathLike] = None,
                      **kwargs) -> str:
    """``huggingface_hub.snapshot_download`` that returns the path only once the whole
    snapshot verifies against ``model.sig`` with the pinned signer."""
    import huggingface_hub

    if kwargs.get("allow_patterns") or kwargs.get("ignore_patterns"):
        raise ValueError("a partial snapshot cannot be verified as a whole; download it all")
    download = _originals.get("snapshot_download", huggingface_hub.snapshot_download)
    path = download(repo_id, **kwargs)
    verify_snapshot(path, identity=identity, oidc_issuer=oidc_issuer, trust_config=trust_config,
                    public_key=public_key)
    return path


def hf_hub_download(repo_id: str, filename: str, *, identity: Optional[str] = None,
                    oidc_issuer: Optional[str] = None, trust_config: Optional[PathLike] = None,
                    public_key: Optional[PathLike] = None, **kwargs) -> str:
    """``huggingface_hub.hf_hub_download`` that verifies first. The signature covers the
    repository as a whole, so the revision is downloaded and verified whole (cached)
    and the path of ``filename`` in it is returned."""
    keep = {k: kwargs[k] for k in ("revision", "repo_type", "cache_dir", "local_dir", "token", "endpoint",
                                   "force_download", "local_files_only", "etag_timeout", "library_name",
                                   "library_version", "user_agent", "headers") if k in kwargs}
    if kwargs.get("subfolder"):
        filename = f"{kwargs['subfolder']}/{filename}"
    root = snapshot_download(repo_id, identity=identity, oidc_issuer=oidc_issuer, trust_config=trust_config,
                             public_key=public_key, **keep)
    path = pathlib.Path(root) / filename
    if not path.exists():
        raise FileNotFoundError(f"{filename} is not in the verified snapshot of {repo_id}")
    return str(path)


_originals: dict = {}


@contextlib.contextmanager
def verified_downloads(*, identity: Optional[str] = None, oidc_issuer: Optional[str] = None,
                       trust_config: Optional[PathLike] = None,
                       public_key: Optional[PathLike] = None) -> Iterator[None]:
    """Within the block, ``huggingface_hub.snapshot_download`` and ``hf_hub_download``
    (also as imported by libraries that call them through the module, e.g.
    transformers' ``cached_file``) verify with the pinned signer before returning."""
    import huggingface_hub
    import huggingface_hub.file_download as fd

    _verifier(identity, oidc_issuer, trust_config, public_key)  # refuse an unpinned block early
    pin = dict(identity=identity, oidc_issuer=oidc_issuer, trust_config=trust_config, public_key=public_key)
    _originals.setdefault("snapshot_download", huggingface_hub.snapshot_download)
    saved = {(m, n): getattr(m, n) for m in (huggingface_hub, fd) for n in ("snapshot_download", "hf_hub_download")
             if hasattr(m, n)}
    for (m, n) in saved:
        wrapper = snapshot_download if n == "snapshot_download" else hf_hub_download
        setattr(m, n, lambda *a, _w=wrapper, **k: _w(*a, **pin, **k))
    try:
        yield
    finally:
        for (m, n), f in saved.items():
            setattr(m, n, f)


def enable_from_env() -> Optional[contextlib.AbstractContextManager]:
    """Env switch: with ``HALLMARK_VERIFY_IDENTITY`` + ``HALLMARK_VERIFY_ISSUER`` (+
    ``HALLMARK_VERIFY_TRUST_CONFIG``) or ``HALLMARK_VERIFY_PUBLIC_KEY`` set, patches the
    downloads for the rest of the process (returns the entered context, or None)."""
    e = os.environ
    if not (e.get("HALLMARK_VERIFY_PUBLIC_KEY") or e.get("HALLMARK_VERIFY_IDENTITY")):
        return None
    ctx = verified_downloads(identity=e.get("HALLMARK_VERIFY_IDENTITY"), oidc_issuer=e.get("HALLMARK_VERIFY_ISSUER"),
                             trust_config=e.get("HALLMARK_VERIFY_TRUST_CONFIG"),
                             public_key=e.get("HALLMARK_VERIFY_PUBLIC_KEY"))
    ctx.__enter__()
    return ctx
