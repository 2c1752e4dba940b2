"""Shared fixtures. tests/python/run.sh sets the environment: HALLMARK_TESTDATA (the
repository's testdata/), REF_PYTHON (a venv with the reference model-signing 1.1.1),
and for the live tests a private Sigstore instance and a hub (HALLMARK_TEST_*)."""

import os
import pathlib
import shutil
import subprocess

import pytest

TESTDATA = pathlib.Path(os.environ.get("HALLMARK_TESTDATA", pathlib.Path(__file__).parents[2] / "testdata"))
OMS = TESTDATA / "oms"


def ref_python() -> str:
    p = os.environ.get("REF_PYTHON")
    if not p:
        pytest.skip("REF_PYTHON (a venv with model-signing==1.1.1) not set")
    return p


def reference(code: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    """Runs `code` with `import model_signing` = the reference library."""
    return subprocess.run([ref_python(), "-c", "import model_signing\n" + code],
                          cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A scratch directory holding copies of the reference-made fixtures; the README
    examples use relative names ("finbert", "key.pub"), so it is also the CWD."""
    monkeypatch.chdir(tmp_path)
    shutil.copytree(OMS / "case01-key-p256" / "model", tmp_path / "finbert")
    shutil.copy(OMS / "case01-key-p256" / "model.sig", tmp_path / "finbert.sig")
    shutil.copy(OMS / "case01-key-p256" / "p256.pub", tmp_path / "key.pub")
    shutil.copy(TESTDATA / "python" / "p256.key", tmp_path / "key.priv")
    return tmp_path


def env(name: str) -> str:
    v = os.environ.get(name)
    if not v:
        pytest.skip(f"{name} not set (tests/python/run.sh starts the services)")
    return v
