"""The ``hallmark`` console command: execs the CLI binary shipped in this wheel.

The binary is the same ``hallmark`` that ``cargo build -p hallmark-cli`` produces: it
starts without a Python interpreter in the way, and the wheel needs no second
build of the CLI's code as a Python extension.
"""

import os
import pathlib
import shutil
import sys


def binary() -> str:
    """Path of the bundled ``hallmark`` binary (or ``$HALLMARK_BIN``, or one on PATH)."""
    env = os.environ.get("HALLMARK_BIN")
    if env:
        return env
    bundled = pathlib.Path(__file__).parent / "bin" / "hallmark"
    if bundled.is_file():
        return str(bundled)
    found = shutil.which("hallmark")
    if found and pathlib.Path(found).resolve() != pathlib.Path(sys.argv[0]).resolve():
        return found
    raise FileNotFoundError(
        "the hallmark CLI binary is not bundled in this installation (set HALLMARK_BIN)"
    )


def main() -> None:
    exe = binary()
    os.execv(exe, [exe, *sys.argv[1:]])
