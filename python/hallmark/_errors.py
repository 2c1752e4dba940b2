"""Exceptions. The reference raises ``ValueError`` for signatures and models that do
not verify; ours are ``ValueError`` subclasses, so ``except ValueError`` keeps working."""

from typing import Iterable


class VerificationError(ValueError):
    """A signature or model that does not verify.

    ``reasons`` lists every reason (each file that differs, a wrong signer, …).
    """

    def __init__(self, message: str, reasons: Iterable[str] = ()):
        super().__init__(message)
        self.reasons: list[str] = list(reasons)
