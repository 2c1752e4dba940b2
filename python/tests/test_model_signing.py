"""The reference's documented examples (model_signing 1.1.1 README and module
docstrings), run unchanged through `from hallmark import model_signing`, against
fixtures the reference made; and the reference verifies what the module signs."""

import os
import pathlib
import shutil
import sys
import threading
import time

import pytest

from hallmark import model_signing
from conftest import OMS, TESTDATA, env, reference


# --- fixtures made by the reference ------------------------------------------------


def test_readme_elliptic_key_verify_of_a_reference_signature(work):
    model_signing.verifying.Config().use_elliptic_key_verifier(
        public_key="key.pub"
    ).verify("finbert", "finbert.sig")


def test_docstring_shard_hashing_config_verifies_a_reference_shard_signature(work):
    shutil.copytree(OMS / "case06-shards-sha256" / "model", "sharded")
    shutil.copy(OMS / "case06-shards-sha256" / "model.sig", "sharded.sig")
    model_signing.verifying.Config().use_elliptic_key_verifier(
        public_key="key.pub"
    ).set_hashing_config(
        model_signing.hashing.Config().use_shard_serialization(shard_size=262144)
    ).verify("sharded", "sharded.sig")
    # The automatic guess works too (the reference's own guess crashes on the float
    # shard_size it wrote; see testdata/oms/README.md).
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify("sharded", "sharded.sig")
    # A hashing configuration other than the signature's is a mismatch, as in the reference.
    with pytest.raises(ValueError, match="Signature mismatch"):
        model_signing.verifying.Config().use_elliptic_key_verifier(
            public_key="key.pub"
        ).set_hashing_config(model_signing.hashing.Config().use_file_serialization()).verify("sharded", "sharded.sig")


def test_certificate_verifier_on_a_reference_certificate_signature(work):
    case = OMS / "case04-cert-chain-p256"
    config = model_signing.verifying.Config().use_certificate_verifier(certificate_chain=[case / "root-ca.crt"])
    config.verify(case / "model", case / "model.sig")
    assert config.last_result["signer"]["kind"] == "certificate"


def test_readme_sigstore_verifier_with_a_private_trust_config(work):
    # case40: signed by the reference against a private instance; its model is case01's
    # without model-big.safetensors.
    os.remove("finbert/model-big.safetensors")
    case = OMS / "case40-sigstore-private-offline"
    identity, oidc_provider = "model-signer@example.com", "https://oidc.oms-fixtures.test"
    model_signing.verifying.Config().use_sigstore_verifier(
        identity=identity, oidc_issuer=oidc_provider, trust_config=case / "sigstore" / "trust_config.json"
    ).verify("finbert", case / "model.sig")
    with pytest.raises(ValueError) as e:
        model_signing.verifying.Config().use_sigstore_verifier(
            identity="someone-else@example.com", oidc_issuer=oidc_provider,
            trust_config=case / "sigstore" / "trust_config.json",
        ).verify("finbert", case / "model.sig")
    assert "someone-else@example.com" in str(e.value) or "identity" in str(e.value)


# --- refusals: ValueError, as the reference -----------------------------------------


def test_a_flipped_byte_is_a_signature_mismatch_naming_the_file(work):
    data = bytearray(pathlib.Path("finbert/weights/layer1.bin").read_bytes())
    data[100] ^= 1
    pathlib.Path("finbert/weights/layer1.bin").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="Signature mismatch") as e:
        model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify("finbert", "finbert.sig")
    assert isinstance(e.value, model_signing.VerificationError)
    assert any("weights/layer1.bin" in r for r in e.value.reasons), e.value.reasons


def test_an_added_file_and_the_wrong_key_are_refused(work):
    pathlib.Path("finbert/extra.bin").write_bytes(b"x")
    with pytest.raises(ValueError) as e:
        model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify("finbert", "finbert.sig")
    assert any("extra.bin" in r for r in e.value.reasons)
    model_signing.verifying.Config().use_elliptic_key_verifier(
        public_key="key.pub").set_ignore_unsigned_files(True).verify("finbert", "finbert.sig")
    with pytest.raises(ValueError, match="key mismatch"):
        model_signing.verifying.Config().use_elliptic_key_verifier(
            public_key=OMS / "case26-neg-wrong-public-key" / "other-p256.pub"
        ).verify("finbert", "finbert.sig")


def test_verify_without_a_verifier_raises_the_reference_value_error(work):
    with pytest.raises(ValueError, match="no configured verifier"):
        model_signing.verifying.Config().verify("finbert", "finbert.sig")


def test_missing_model_is_file_not_found(work):
    with pytest.raises(FileNotFoundError):
        model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify("nope", "finbert.sig")


# --- what the module signs, the reference verifies -----------------------------------


def test_readme_elliptic_key_signer_and_the_reference_verifies(work):
    model_signing.signing.Config().use_elliptic_key_signer(
        private_key="key.priv"
    ).sign(
        "finbert", "finbert.sig"
    )
    r = reference('model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify("finbert", "finbert.sig")', work)
    assert r.returncode == 0, r.stderr


def test_readme_signing_loop_over_models_and_the_reference_verifies(work):
    shutil.copytree("finbert", "bert")
    all_models = ["finbert", "bert"]
    signing_config = model_signing.signing.Config().use_elliptic_key_signer(
        private_key="key.priv"
    )
    for model in all_models:
        signing_config.sign(model, f"{model}_sharded.sig")
    # The README's verification loop calls model_signing.signing.Config().use_elliptic_key_verifier,
    # which does not exist in the reference either (AttributeError in both); verifying.Config is meant.
    with pytest.raises(AttributeError):
        model_signing.signing.Config().use_elliptic_key_verifier(public_key="key.pub")
    verifying_config = model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub")
    for model in all_models:
        verifying_config.verify(model, f"{model}_sharded.sig")
        r = reference(f'model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify("{model}", "{model}_sharded.sig")', work)
        assert r.returncode == 0, r.stderr


def test_init_docstring_ignored_paths_and_shards_and_the_reference_verifies(work):
    model_signing.signing.Config().use_elliptic_key_signer(
        private_key="key.priv"
    ).set_hashing_config(
        model_signing.hashing.Config().set_ignored_paths(
            paths=["README.md"], ignore_git_paths=True
        )
    ).sign("finbert", "finbert.sig")
    pathlib.Path("finbert/README.md").write_text("changed after signing")
    model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify("finbert", "finbert.sig")
    r = reference('model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").verify("finbert", "finbert.sig")', work)
    assert r.returncode == 0, r.stderr
    # shards: the reference library verifies them given the hashing config
    model_signing.signing.Config().use_elliptic_key_signer(private_key="key.priv").set_hashing_config(
        model_signing.hashing.Config().use_shard_serialization(shard_size=1 << 20)
    ).sign("finbert", "shards.sig")
    r = reference('model_signing.verifying.Config().use_elliptic_key_verifier(public_key="key.pub").set_hashing_config('
                  'model_signing.hashing.Config().use_shard_serialization(shard_size=1 << 20)).verify("finbert", "shards.sig")', work)
    assert r.returncode == 0, r.stderr


def test_certificate_signer_and_the_reference_verifies(work):
    pki = TESTDATA / "python"
    model_signing.signing.Config().use_certificate_signer(
        private_key=pki / "leaf.key",
        signing_certificate=pki / "leaf.crt",
        certificate_chain=[pki / "intermediate-ca.crt"],
    ).sign("finbert", "cert.sig")
    root = OMS / "case04-cert-chain-p256" / "root-ca.crt"
    model_signing.verifying.Config().use_certificate_verifier(certificate_chain=[root]).verify("finbert", "cert.sig")
    r = reference(f'model_signing.verifying.Config().use_certificate_verifier(certificate_chain=["{root}"]).verify("finbert", "cert.sig")', work)
    assert r.returncode == 0, r.stderr


def test_sigstore_signer_with_a_private_trust_config_and_the_reference_verifies(work):
    tc, token = env("HALLMARK_TEST_SIGSTORE_TC"), env("HALLMARK_TEST_SIGSTORE_TOKEN")
    issuer, identity = env("HALLMARK_TEST_SIGSTORE_ISSUER"), env("HALLMARK_TEST_SIGSTORE_IDENTITY")
    model_signing.signing.Config().use_sigstore_signer(
        identity_token=token, trust_config=pathlib.Path(tc)
    ).sign("finbert", "keyless.sig")
    model_signing.verifying.Config().use_sigstore_verifier(
        identity=identity, oidc_issuer=issuer, trust_config=pathlib.Path(tc)
    ).verify("finbert", "keyless.sig")
    r = reference(f'model_signing.verifying.Config().use_sigstore_verifier(identity="{identity}", oidc_issuer="{issuer}", '
                  f'trust_config=__import__("pathlib").Path("{tc}")).verify("finbert", "keyless.sig")', work)
    assert r.returncode == 0, r.stderr
    with pytest.raises(ValueError):
        model_signing.verifying.Config().use_sigstore_verifier(
            identity="mallory@example.com", oidc_issuer=issuer, trust_config=pathlib.Path(tc)
        ).verify("finbert", "keyless.sig")


def test_hashing_hash_matches_the_signed_manifest(work):
    m = model_signing.hashing.hash("finbert")
    names = {r.identifier for r in m.resource_descriptors()}
    assert "weights/layer1.bin" in names and "model-big.safetensors" in names


# --- the GIL is released while hashing ------------------------------------------------


def test_other_threads_run_while_a_model_is_verified(tmp_path):
    """Counts how often another Python thread runs while verify hashes 64 MiB. With a
    30 s switch interval a thread gives the GIL up only when it blocks or releases it
    (the counting loop does, in sleep(0), every iteration), so if verify held the GIL the
    loop could not run at all between the verifying thread's two reads of the counter:
    0 when measured with the GIL held; released, 1,633 on a loaded 2-core VM."""
    model = tmp_path / "big"
    model.mkdir()
    with open(model / "w.bin", "wb") as f:
        f.write(os.urandom(1 << 20) * 64)
    key = TESTDATA / "python" / "p256.key"
    pub = OMS / "case01-key-p256" / "p256.pub"
    model_signing.signing.Config().use_elliptic_key_signer(private_key=key).sign(model, tmp_path / "big.sig")
    config = model_signing.verifying.Config().use_elliptic_key_verifier(public_key=pub)
    count = [0]
    window = {}
    done = threading.Event()

    def run():
        window["start"] = count[0]
        config.verify(model, tmp_path / "big.sig")
        window["end"] = count[0]
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(30.0)  # far longer than this verify (0.1 s; a few s on a loaded CI core)
    try:
        t = threading.Thread(target=run)
        t.start()
        while not done.is_set():
            count[0] += 1
            time.sleep(0)  # releases the GIL: the verifying thread gets it back at once
        t.join()
    finally:
        sys.setswitchinterval(old)
    during = window["end"] - window["start"]
    assert during >= 10, f"only {during} iterations of another thread ran during verify"
