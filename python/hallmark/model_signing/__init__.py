"""Drop-in for the reference ``model_signing`` 1.1.1 API, implemented by Hallmark.

Replace ``import model_signing`` with ``from hallmark import model_signing``; the
``signing``, ``verifying`` and ``hashing`` Config builders take the same arguments
and the reference's documented examples run unchanged::

    model_signing.signing.Config().use_elliptic_key_signer(private_key="key").sign(
        "finbert", "finbert.sig"
    )
    model_signing.verifying.Config().use_elliptic_key_verifier(
        public_key="key.pub"
    ).verify("finbert", "finbert.sig")

Failures raise ``ValueError`` (as the reference does); verification failures are
``hallmark.model_signing.VerificationError`` with a ``reasons`` list.
"""

from hallmark._errors import VerificationError
from hallmark.model_signing import hashing
from hallmark.model_signing import manifest
from hallmark.model_signing import signing
from hallmark.model_signing import verifying

__version__ = "1.1.1"

__all__ = ["hashing", "signing", "verifying", "manifest", "VerificationError"]
