"""Verify on download against a live local hub (`hallmark hub serve`, started by
tests/python/run.sh): a good model is returned, a tampered file and a wrong signer are
refused with the reasons."""

import os
import pathlib

import pytest

from conftest import env

huggingface_hub = pytest.importorskip("huggingface_hub")
from hallmark import hf  # noqa: E402
from hallmark.model_signing import VerificationError  # noqa: E402


@pytest.fixture
def pin():
    hub = env("HALLMARK_TEST_HUB")
    os.environ["HF_ENDPOINT"] = hub
    return dict(identity=f"{hub}/alice", oidc_issuer=hub, trust_config=env("HALLMARK_TEST_HUB_TC"))


def test_a_good_model_is_returned(pin, tmp_path):
    path = hf.snapshot_download("acme/demo", cache_dir=tmp_path, **pin)
    assert (pathlib.Path(path) / "config.json").is_file()
    f = hf.hf_hub_download("acme/demo", "config.json", cache_dir=tmp_path, **pin)
    assert pathlib.Path(f).read_text().startswith("{")
    local = hf.snapshot_download("acme/demo", local_dir=tmp_path / "local", **pin)
    assert (pathlib.Path(local) / "config.json").is_file()


def test_the_context_manager_verifies_plain_huggingface_hub_calls(pin, tmp_path):
    with hf.verified_downloads(**pin):
        path = huggingface_hub.snapshot_download("acme/demo", cache_dir=tmp_path)
        with pytest.raises(VerificationError):
            huggingface_hub.snapshot_download("carol/other", cache_dir=tmp_path)
    assert (pathlib.Path(path) / "model.sig").is_file()
    # outside the block, huggingface_hub is itself again
    huggingface_hub.snapshot_download("carol/other", cache_dir=tmp_path)


def test_a_wrong_signer_is_refused(pin, tmp_path):
    with pytest.raises(VerificationError) as e:
        hf.snapshot_download("carol/other", cache_dir=tmp_path, **pin)
    assert "alice" in str(e.value) or "identity" in str(e.value), e.value.reasons


def test_a_tampered_file_is_refused(pin, tmp_path):
    path = pathlib.Path(hf.snapshot_download("acme/demo", cache_dir=tmp_path, **pin))
    blob = (path / "weights" / "model.safetensors").resolve()  # the cache's blob behind the symlink
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[1234] ^= 1
    blob.write_bytes(bytes(data))
    with pytest.raises(VerificationError) as e:
        hf.snapshot_download("acme/demo", cache_dir=tmp_path, **pin)
    assert any("weights/model.safetensors" in r for r in e.value.reasons), e.value.reasons
    with pytest.raises(VerificationError):
        hf.hf_hub_download("acme/demo", "config.json", cache_dir=tmp_path, **pin)


def test_an_unsigned_repository_and_an_unpinned_call_are_refused(pin, tmp_path):
    with pytest.raises(ValueError, match="pin the signer"):
        hf.snapshot_download("acme/demo", cache_dir=tmp_path)
    (tmp_path / "bare").mkdir()
    with pytest.raises(VerificationError, match="not signed"):
        hf.verify_snapshot(tmp_path / "bare", **pin)
