#!/usr/bin/env python3
"""Writes the scanner fixtures of this directory with the real writers (see README.md).

Nothing here is ever loaded: the malicious objects are pickled by reference (their
__reduce__ names os.system), never called. Needs joblib, numpy, scikit-learn, lz4, py7zr.
"""
import bz2
import io
import lzma
import os
import pathlib
import pickle

import joblib
import numpy as np
import py7zr
from sklearn.linear_model import LinearRegression

HERE = pathlib.Path(__file__).resolve().parent
CODECS = ["zlib", "gzip", "bz2", "xz", "lzma", "lz4"]


class Payload:
    """Pickles as os.system("echo pwned"): what a malicious model file carries."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


def model():
    m = LinearRegression()
    m.fit(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
    return m


def write(name, data):
    (HERE / name).write_bytes(data)
    print(f"{name}: {len(data)} bytes")


def joblib_bytes(obj, compress):
    buf = io.BytesIO()
    joblib.dump(obj, buf, compress=compress)
    return buf.getvalue()


def main():
    benign = {"model": model(), "scale": np.arange(4, dtype=np.float32)}
    malicious = {"model": model(), "hook": Payload()}
    for codec in CODECS:
        write(f"sklearn-{codec}.joblib", joblib_bytes(benign, (codec, 3)))
        write(f"payload-{codec}.joblib", joblib_bytes(malicious, (codec, 3)))
    write("sklearn.joblib", joblib_bytes(benign, 0))
    # 7z-wrapped models (the "nullifAI" wrapping): LZMA2, py7zr's default.
    for name, obj in [("sklearn", benign), ("payload", malicious)]:
        buf = io.BytesIO()
        with py7zr.SevenZipFile(buf, "w") as z:
            z.writestr(joblib_bytes(obj, 0), f"{name}.joblib")
            z.writestr(pickle.dumps(obj, protocol=4), f"models/{name}.pkl")
        write(f"{name}.7z", buf.getvalue())
    # Decompression bombs: a valid pickle (64 MiB of zero bytes, then STOP) squeezed
    # into a few hundred bytes (bz2) or about ten KiB (xz).
    big = b"\x80\x04\x8e" + (64 << 20).to_bytes(8, "little") + bytes(64 << 20) + b"."
    write("bomb-64mib.pkl.bz2", bz2.compress(big, 9))
    write("bomb-64mib.pkl.xz", lzma.compress(big, preset=9))


if __name__ == "__main__":
    main()
