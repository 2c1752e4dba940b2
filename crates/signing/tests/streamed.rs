//! The streamed bundle writer ([`write_signed_manifest`]) writes the bytes of the
//! in-memory path ([`sign_manifest`]), for every kind of key signer, and what it writes
//! verifies.
//!
//! ECDSA signatures are randomised, so two signings of one payload differ in `sig`
//! alone. An external key that remembers the signature it gave for a digest makes both
//! paths produce the same signature iff they signed the same digest: the bundles are
//! then compared byte for byte.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use hallmark_crypto::{Curve, PublicKey, SigningKey};
use hallmark_format::Manifest;
use hallmark_signing::verify::KeyVerifier;
use hallmark_signing::{
    ExternalKey, SignError, SignOptions, Signer, VerifyOptions, hash_model, sign_manifest,
    verify_model, write_signed_manifest,
};

/// A key that signs each digest once and gives the same signature again after.
#[derive(Debug)]
struct Memo {
    key: SigningKey,
    public: PublicKey,
    given: Mutex<HashMap<Vec<u8>, Vec<u8>>>,
}

impl Memo {
    fn new(curve: Curve) -> Self {
        let key = SigningKey::generate(curve).unwrap();
        Self {
            public: key.public_key(),
            key,
            given: Mutex::default(),
        }
    }
}

impl ExternalKey for Memo {
    fn public_key(&self) -> &PublicKey {
        &self.public
    }

    fn sign_digest(&self, digest: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut given = self.given.lock().unwrap();
        if let Some(sig) = given.get(digest) {
            return Ok(sig.clone());
        }
        let sig = self.key.sign_digest(digest)?;
        given.insert(digest.to_vec(), sig.clone());
        Ok(sig)
    }
}

/// A model of a few files, names needing escapes and nesting included.
fn model(dir: &Path) {
    for (name, bytes) in [
        ("config.json", &b"{}"[..]),
        ("weights/a.bin", &[7u8; 5000][..]),
        ("weights/sub/b \"q\".bin", b"b"),
        ("ünï/é.txt", b""),
        (".hidden", b"h"),
    ] {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

fn manifest(dir: &Path) -> Manifest {
    hash_model(dir, &SignOptions::default()).unwrap()
}

fn streamed(m: &Manifest, signer: &Signer) -> Vec<u8> {
    let mut out = Vec::new();
    write_signed_manifest(m, signer, &mut out).unwrap();
    out
}

fn verifies(model: &Path, bundle: &[u8], key: PublicKey) {
    verify_model(
        model,
        bundle,
        &KeyVerifier { key },
        &VerifyOptions::default(),
    )
    .unwrap();
}

#[test]
fn streamed_bundle_is_byte_identical_to_the_in_memory_one() {
    let dir = tempfile::tempdir().unwrap();
    model(dir.path());
    let m = manifest(dir.path());
    assert_eq!(m.resources.len(), 5);
    for curve in [Curve::P256, Curve::P384, Curve::P521] {
        let signer = Signer::ExternalKey(Box::new(Memo::new(curve)));
        let in_memory = sign_manifest(m.clone(), &signer).unwrap().bundle_json;
        let out = streamed(&m, &signer);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            String::from_utf8(in_memory).unwrap(),
            "{curve:?}"
        );
        let Signer::ExternalKey(k) = &signer else {
            unreachable!()
        };
        verifies(dir.path(), &out, k.public_key().clone());
    }
}

#[test]
fn a_manifest_too_large_to_hold_is_streamed_to_the_same_bytes() {
    // Over the writer's in-memory threshold (40,000 resources): the statement is written
    // from the manifest on each pass instead of once into memory.
    let dir = tempfile::tempdir().unwrap();
    model(dir.path());
    for i in 0..40_000u32 {
        let sub = dir.path().join(format!("many/{:02}", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        std::fs::write(sub.join(format!("{i:05}.bin")), i.to_le_bytes()).unwrap();
    }
    let m = manifest(dir.path());
    assert_eq!(m.resources.len(), 40_005);
    let signer = Signer::ExternalKey(Box::new(Memo::new(Curve::P256)));
    let in_memory = sign_manifest(m.clone(), &signer).unwrap().bundle_json;
    let out = streamed(&m, &signer);
    assert!(
        out == in_memory,
        "the streamed bundle differs from the in-memory one"
    );
    let Signer::ExternalKey(k) = &signer else {
        unreachable!()
    };
    verifies(dir.path(), &out, k.public_key().clone());
}

#[test]
fn a_local_key_streams_the_same_bundle_but_its_own_signature() {
    let dir = tempfile::tempdir().unwrap();
    model(dir.path());
    let m = manifest(dir.path());
    let key = SigningKey::generate(Curve::P256).unwrap();
    let public = key.public_key();
    let signer = Signer::Key(key);
    let out = streamed(&m, &signer);
    verifies(dir.path(), &out, public.clone());
    // Everything but the (randomised) signature is the in-memory bundle's.
    let without_sig = |b: &[u8]| {
        let mut v: serde_json::Value = serde_json::from_slice(b).unwrap();
        v["dsseEnvelope"]["signatures"][0]["sig"] = "".into();
        v
    };
    let in_memory = sign_manifest(m, &signer).unwrap().bundle_json;
    assert_eq!(without_sig(&out), without_sig(&in_memory));
    verifies(dir.path(), &in_memory, public);
}

#[test]
fn a_failing_writer_is_a_write_error() {
    let dir = tempfile::tempdir().unwrap();
    model(dir.path());
    let m = manifest(dir.path());
    let signer = Signer::Key(SigningKey::generate(Curve::P256).unwrap());
    /// Accepts `0` more bytes, then fails.
    struct Full(usize);
    impl std::io::Write for Full {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Err(std::io::Error::other("no space left"));
            }
            let n = buf.len().min(self.0);
            self.0 -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    for room in [0, 300, 1500] {
        let err = write_signed_manifest(&m, &signer, &mut Full(room)).unwrap_err();
        assert!(
            matches!(&err, SignError::Write(e) if e.to_string().contains("no space left")),
            "{room}: {err}"
        );
    }
}
