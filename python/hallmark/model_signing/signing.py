"""``signing.Config``: sign a model (mirrors ``model_signing.signing``)."""

from collections.abc import Iterable
import os
import pathlib
import subprocess
import sys
from typing import Optional

from hallmark import _native
from hallmark._errors import VerificationError
from hallmark.model_signing import hashing

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover
    from typing_extensions import Self


def sign(model_path: hashing.PathLike, signature_path: hashing.PathLike):
    """Signs with the default configuration (Sigstore; needs a trust config here)."""
    Config().sign(model_path, signature_path)


class _SigstoreSigner:
    """Keyless signing through the bundled ``hallmark sign sigstore`` (its Fulcio and
    Rekor client lives in the CLI); the identity token travels in the environment."""

    def __init__(self, *, identity_token, use_ambient_credentials, use_staging, trust_config):
        if use_staging:
            raise ValueError("use_staging: Sigstore's staging instance is not supported; pass trust_config")
        self.identity_token = identity_token
        self.use_ambient_credentials = use_ambient_credentials
        self.trust_config = trust_config

    def __repr__(self) -> str:  # never show the token
        return f"_SigstoreSigner(trust_config={self.trust_config!r})"

    def sign(self, model: pathlib.Path, signature: pathlib.Path, h: dict) -> None:
        from hallmark._cli import binary

        if self.trust_config is None:
            raise ValueError(
                "keyless signing needs trust_config= (a ClientTrustConfig naming the "
                "instance's Fulcio and Rekor); signing against public Sigstore is not supported"
            )
        cmd = [binary(), "sign", "sigstore", os.fspath(model), "--signature", os.fspath(signature),
               "--trust-config", os.fspath(self.trust_config), "--quiet",
               "--serialization", h["method"], "--hash", h["hashing_algorithm"],
               "--shard-size", str(h["shard_size"])]
        if h["allow_symlinks"]:
            cmd.append("--allow-symlinks")
        if not h["ignore_git_paths"]:
            cmd.append("--no-ignore-git-paths")
        if h["max_workers"]:
            cmd += ["--threads", str(h["max_workers"])]
        for p in h["ignore_paths"]:
            cmd += ["--ignore-paths", os.fspath(pathlib.Path(model) / p)]
        env = dict(os.environ)
        if self.identity_token is not None:
            env["SIGSTORE_ID_TOKEN"] = self.identity_token
        elif "SIGSTORE_ID_TOKEN" not in env:
            raise ValueError(
                "no identity token: pass identity_token= or set SIGSTORE_ID_TOKEN "
                "(the interactive OIDC flow is not supported)"
            )
        done = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            msg = (done.stderr or done.stdout).strip()
            raise VerificationError(f"keyless signing failed: {msg}", [msg])


class Config:
    """Signing configuration: the signer and the hashing configuration."""

    def __init__(self):
        self._hashing_config = hashing.Config()
        self._signer = None

    def sign(self, model_path: hashing.PathLike, signature_path: hashing.PathLike):
        """Hashes the model (GIL released) and writes the signature bundle."""
        if not self._signer:
            self.use_sigstore_signer()
        model = hashing._path(model_path)
        signature = hashing._path(signature_path)
        options = self._hashing_config._options()
        if isinstance(self._signer, _SigstoreSigner):
            self._signer.sign(model, signature, options)
        else:
            _native.sign(model, signature, self._signer, options)

    def set_hashing_config(self, hashing_config: hashing.Config) -> Self:
        self._hashing_config = hashing_config
        return self

    def use_sigstore_signer(
        self,
        *,
        oidc_issuer: Optional[str] = None,
        use_ambient_credentials: bool = False,
        use_staging: bool = False,
        force_oob: bool = False,
        identity_token: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        trust_config: Optional[pathlib.Path] = None,
    ) -> Self:
        """Keyless signing against the instance ``trust_config`` describes, with
        ``identity_token`` (or ``SIGSTORE_ID_TOKEN``). ``oidc_issuer``, ``force_oob``,
        ``client_id`` and ``client_secret`` belong to the browser flow, which is not
        supported: the token is what identifies the signer."""
        self._signer = _SigstoreSigner(
            identity_token=identity_token,
            use_ambient_credentials=use_ambient_credentials,
            use_staging=use_staging,
            trust_config=trust_config,
        )
        return self

    def use_elliptic_key_signer(
        self, *, private_key: hashing.PathLike, password: Optional[str] = None
    ) -> Self:
        """Signs with an EC private key (P-256, P-384, P-521; PEM, optionally encrypted)."""
        self._signer = {
            "method": "key",
            "private_key": os.fspath(hashing._path(private_key)),
            "password": password,
            "signing_certificate": None,
            "certificate_chain": [],
        }
        return self

    def use_certificate_signer(
        self,
        *,
        private_key: hashing.PathLike,
        signing_certificate: hashing.PathLike,
        certificate_chain: Iterable[hashing.PathLike],
    ) -> Self:
        """Signs with a private key and its certificate; ``certificate_chain`` is
        embedded after the leaf."""
        self._signer = {
            "method": "certificate",
            "private_key": os.fspath(hashing._path(private_key)),
            "password": None,
            "signing_certificate": os.fspath(hashing._path(signing_certificate)),
            "certificate_chain": [os.fspath(hashing._path(c)) for c in certificate_chain],
        }
        return self

    def use_pkcs11_signer(self, *, pkcs11_uri: str, module_paths: Iterable[str] = frozenset()) -> Self:
        raise RuntimeError("PKCS #11 signing is not available in the hallmark Python package; use the hallmark CLI")

    def use_pkcs11_certificate_signer(self, *, pkcs11_uri: str, signing_certificate: pathlib.Path,
                                      certificate_chain: Iterable[pathlib.Path],
                                      module_paths: Iterable[str] = frozenset()) -> Self:
        raise RuntimeError("PKCS #11 signing is not available in the hallmark Python package; use the hallmark CLI")
