"""``verifying.Config``: verify a model against its signature (mirrors
``model_signing.verifying``)."""

from collections.abc import Iterable
import json
import os
import pathlib
import sys
from typing import Optional

from hallmark import _native
from hallmark.model_signing import hashing

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self


class Config:
    """Verification configuration: the verifier, and optionally the hashing
    configuration (by default taken from the signature)."""

    def __init__(self):
        self._hashing_config: Optional[hashing.Config] = None
        self._verifier: Optional[dict] = None
        self._ignore_unsigned_files = False
        self.last_result: Optional[dict] = None

    def verify(self, model_path: hashing.PathLike, signature_path: hashing.PathLike):
        """Verifies that a model conforms to a signature.

        Raises:
            ValueError: no verifier has been configured, or a key/certificate is unusable.
            hallmark.model_signing.VerificationError (a ValueError): the signature or
              the model does not verify; ``reasons`` lists why.
        """
        if self._verifier is None:
            raise ValueError("Attempting to verify with no configured verifier")
        options = None if self._hashing_config is None else self._hashing_config._options()
        report = _native.verify(
            hashing._path(model_path),
            hashing._path(signature_path),
            self._verifier,
            options,
            self._ignore_unsigned_files,
        )
        self.last_result = json.loads(report)

    def set_hashing_config(self, hashing_config: hashing.Config) -> Self:
        self._hashing_config = hashing_config
        return self

    def set_ignore_unsigned_files(self, ignore_unsigned_files: bool) -> Self:
        self._ignore_unsigned_files = ignore_unsigned_files
        return self

    @staticmethod
    def _spec(method: str, **kw) -> dict:
        spec = {"method": method, "public_key": None, "certificate_chain": [],
                "identity": None, "oidc_issuer": None, "trust_config": None}
        spec.update(kw)
        return spec

    def use_sigstore_verifier(
        self,
        *,
        identity: str,
        oidc_issuer: str,
        use_staging: bool = False,
        trust_config: Optional[pathlib.Path] = None,
    ) -> Self:
        """Keyless signatures: the exact identity and OIDC issuer, checked offline
        against ``trust_config`` (a ClientTrustConfig) or the public-good root."""
        if use_staging:
            raise ValueError("use_staging: Sigstore's staging instance is not supported; pass trust_config")
        self._verifier = self._spec(
            "sigstore", identity=identity, oidc_issuer=oidc_issuer,
            trust_config=None if trust_config is None else os.fspath(trust_config),
        )
        return self

    def use_elliptic_key_verifier(self, *, public_key: hashing.PathLike) -> Self:
        """Signatures made with the EC private key matching ``public_key`` (PEM)."""
        self._verifier = self._spec("key", public_key=os.fspath(hashing._path(public_key)))
        return self

    def use_certificate_verifier(
        self,
        *,
        certificate_chain: Iterable[hashing.PathLike] = frozenset(),
        log_fingerprints: bool = False,
    ) -> Self:
        """Signatures made with a certificate that chains to ``certificate_chain``
        (PEM files of trusted certificates; the OS roots are not used)."""
        self._verifier = self._spec(
            "certificate", certificate_chain=[os.fspath(hashing._path(c)) for c in certificate_chain]
        )
        return self
