"""Hallmark: sign and verify ML models in the OpenSSF Model Signing (OMS) format.

``from hallmark import model_signing`` is a drop-in for the reference library
``model_signing`` 1.1.1 (its ``signing``, ``verifying`` and ``hashing`` Config
builders); hashing and verification run in Rust with the GIL released.
``hallmark.hf`` verifies models as ``huggingface_hub`` downloads them.
"""

from hallmark._native import __version__

__all__ = ["__version__", "model_signing", "hf"]


def __getattr__(name: str):
    # Imported lazily: `hallmark.hf` needs huggingface_hub, model_signing does not.
    if name in ("model_signing", "hf"):
        import importlib

        return importlib.import_module(f"hallmark.{name}")
    raise AttributeError(name)
