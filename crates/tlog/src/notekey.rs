//! C2SP signed-note keys with typed key IDs: Ed25519 log keys (type `0x01`, what Rekor v2
//! and the C2SP witness network use), the verifier-key (*vkey*) text form, and one
//! verifier type over Ed25519 and the ECDSA keys of [`crate::note`].
//!
//! * **Key ID** (signed-note v1.0.0): `SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]`
//!   ([`key_id`]); the full hash ([`key_hash`]) is Rekor v2's 32-byte log ID. ECDSA (type
//!   `0x02`) is the exception: its ID is `SHA-256(DER SPKI)[:4]`, no name, no type byte.
//! * **vkey**: `name+hex8(key ID)+base64(type ‖ key)`; an Ed25519 key is its 32 raw bytes,
//!   an ECDSA key its DER SubjectPublicKeyInfo ([`Vkey`]).
//! * **Private key text** (Go `x/mod/sumdb/note` form, also read by azul's `signed_note`):
//!   `PRIVATE+KEY+name+hex8(key ID)+base64(type ‖ 32-byte seed)` ([`Ed25519NoteKey::skey`]).
//! * **Verification** ([`NoteVerifier::verify_note`]): signature lines from other keys are
//!   ignored; a line whose name *and* ID match the key must verify, else the whole note is
//!   refused (signed-note "clients SHOULD reject the whole note"; tlog-witness answers 403).

use std::fmt;

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::logkey::{LogKeyType, LogVerifier};
pub use crate::logkey::{
    SIG_COSIGNATURE_V1, SIG_ECDSA, SIG_ED25519, key_hash, key_id, verify_ed25519,
};
use crate::merkle::Hash;
use crate::note::{
    Checkpoint, NoteSignature, SignedCheckpoint, check_key_name, parse_note, sign_checkpoint_with,
};

/// A verifier key in its C2SP text form, parsed but not interpreted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vkey {
    /// Key name (what signature lines carry).
    pub name: String,
    /// The 4-byte key ID written in the vkey.
    pub key_id: [u8; 4],
    /// Signature type byte.
    pub sig_type: u8,
    /// Public key material after the type byte.
    pub key: Vec<u8>,
}

impl Vkey {
    /// Parses `name+hex8+base64(type ‖ key)`. For Ed25519 and cosignature/v1 keys the ID
    /// is recomputed and must match.
    ///
    /// # Errors
    /// [`Error::Key`] naming the malformed part.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let bad = |m: &str| Error::Key(format!("vkey {text:?}: {m}"));
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected name+keyid+key"));
        };
        check_key_name(name)?;
        let key_id: [u8; 4] = (id.len() == 8
            && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        .then(|| hex::decode(id).ok()?.try_into().ok())
        .flatten()
        .ok_or_else(|| bad("key ID is not 8 lowercase hex digits"))?;
        let raw = B64.decode(b64).map_err(|_| bad("key is not base64"))?;
        let (&sig_type, key) = raw.split_first().ok_or_else(|| bad("empty key"))?;
        let v = Self {
            name: name.to_owned(),
            key_id,
            sig_type,
            key: key.to_vec(),
        };
        if matches!(sig_type, SIG_ED25519 | SIG_COSIGNATURE_V1) {
            if key.len() != 32 {
                return Err(bad("an Ed25519 key is 32 bytes"));
            }
            if key_id != self::key_id(name, sig_type, key) {
                return Err(bad("key ID does not match the name and key"));
            }
        }
        Ok(v)
    }
}

impl fmt::Display for Vkey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut raw = Vec::with_capacity(1 + self.key.len());
        raw.push(self.sig_type);
        raw.extend_from_slice(&self.key);
        write!(
            f,
            "{}+{}+{}",
            self.name,
            hex::encode(self.key_id),
            B64.encode(raw)
        )
    }
}

/// An Ed25519 private note key: a log's checkpoint key (type `0x01`) or a witness's
/// cosigning key (type `0x04`, see [`SIG_COSIGNATURE_V1`]). Debug shows the vkey only.
pub struct Ed25519NoteKey {
    name: String,
    sig_type: u8,
    seed: Zeroizing<[u8; 32]>,
    pair: Ed25519KeyPair,
    public: [u8; 32],
}

impl fmt::Debug for Ed25519NoteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ed25519NoteKey")
            .field("vkey", &self.vkey().to_string())
            .finish_non_exhaustive()
    }
}

impl Ed25519NoteKey {
    /// A fresh random key named `name` for signatures of type `sig_type`
    /// ([`SIG_ED25519`] or [`SIG_COSIGNATURE_V1`]).
    ///
    /// # Errors
    /// An invalid name or type; aws-lc-rs failures.
    pub fn generate(name: &str, sig_type: u8) -> Result<Self, Error> {
        let mut seed = Zeroizing::new([0u8; 32]);
        SystemRandom::new()
            .fill(seed.as_mut())
            .map_err(|_| Error::Key("cannot draw a random Ed25519 seed".into()))?;
        Self::from_seed(name, sig_type, seed)
    }

    fn from_seed(name: &str, sig_type: u8, seed: Zeroizing<[u8; 32]>) -> Result<Self, Error> {
        check_key_name(name)?;
        if !matches!(sig_type, SIG_ED25519 | SIG_COSIGNATURE_V1) {
            return Err(Error::Key(format!(
                "note key {name}: signature type {sig_type:#04x} is not an Ed25519 type"
            )));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(seed.as_ref())
            .map_err(|e| Error::Key(format!("note key {name}: {e}")))?;
        let public: [u8; 32] = pair
            .public_key()
            .as_ref()
            .try_into()
            .map_err(|_| Error::Key(format!("note key {name}: public key is not 32 bytes")))?;
        Ok(Self {
            name: name.to_owned(),
            sig_type,
            seed,
            pair,
            public,
        })
    }

    /// Parses the private key text `PRIVATE+KEY+name+hex8+base64(type ‖ seed)` (the ID must
    /// match the name, type and derived public key).
    ///
    /// # Errors
    /// [`Error::Key`] naming the malformed part (never the secret).
    pub fn from_skey(text: &str) -> Result<Self, Error> {
        let bad = |m: &str| Error::Key(format!("private note key: {m}"));
        let rest = text
            .trim_end_matches('\n')
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("does not start with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected PRIVATE+KEY+name+keyid+key"));
        };
        let raw = Zeroizing::new(B64.decode(b64).map_err(|_| bad("key is not base64"))?);
        let (&sig_type, seed) = raw.split_first().ok_or_else(|| bad("empty key"))?;
        let seed: [u8; 32] = seed.try_into().map_err(|_| bad("seed is not 32 bytes"))?;
        let key = Self::from_seed(name, sig_type, Zeroizing::new(seed))?;
        if hex::encode(key.key_id()) != id {
            return Err(bad(&format!("key ID of {name} does not match the key")));
        }
        Ok(key)
    }

    /// The private key text (see [`Self::from_skey`]); keep it secret.
    #[must_use]
    pub fn skey(&self) -> Zeroizing<String> {
        let mut raw = Zeroizing::new(Vec::with_capacity(33));
        raw.push(self.sig_type);
        raw.extend_from_slice(self.seed.as_ref());
        Zeroizing::new(format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex::encode(self.key_id()),
            B64.encode(&*raw)
        ))
    }

    /// Key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Signature type byte.
    #[must_use]
    pub fn sig_type(&self) -> u8 {
        self.sig_type
    }

    /// Raw 32-byte public key.
    #[must_use]
    pub fn public_key(&self) -> [u8; 32] {
        self.public
    }

    /// The typed key ID.
    #[must_use]
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, self.sig_type, &self.public)
    }

    /// The public verifier key.
    #[must_use]
    pub fn vkey(&self) -> Vkey {
        Vkey {
            name: self.name.clone(),
            key_id: self.key_id(),
            sig_type: self.sig_type,
            key: self.public.to_vec(),
        }
    }

    /// The verifier of this key's plain note signatures (type `0x01`).
    ///
    /// # Errors
    /// A cosigning (type `0x04`) key: its signatures are over a different message.
    pub fn verifier(&self) -> Result<NoteVerifier, Error> {
        NoteVerifier::from_vkey(&self.vkey().to_string())
    }

    /// A raw Ed25519 signature over `msg`.
    #[must_use]
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        out.copy_from_slice(self.pair.sign(msg).as_ref());
        out
    }

    /// Signs a checkpoint as a one-signature note (`— name base64(ID ‖ sig)`).
    ///
    /// # Errors
    /// A cosigning key, or an origin that is not one non-empty line.
    pub fn sign_checkpoint(&self, cp: &Checkpoint) -> Result<SignedCheckpoint, Error> {
        if self.sig_type != SIG_ED25519 {
            return Err(Error::Key(format!(
                "note key {} is a cosigning key, not a checkpoint key",
                self.name
            )));
        }
        sign_checkpoint_with(cp, &self.name, self.key_id(), |m| Ok(self.sign(m).to_vec()))
    }
}

/// The public key that signs a log's checkpoints, with the key name its signature lines
/// carry: Ed25519 (type `0x01`) or ECDSA P-256 (type `0x02`). Parsed from and printed as
/// a vkey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    verifier: LogVerifier,
}

impl NoteVerifier {
    /// Parses a vkey of type `0x01` or `0x02`.
    ///
    /// # Errors
    /// [`Error::Key`]: malformed, another type, or an ID that does not match the key.
    pub fn from_vkey(text: &str) -> Result<Self, Error> {
        let v = Vkey::parse(text)?;
        let verifier = match v.sig_type {
            SIG_ED25519 => LogVerifier::ed25519(
                v.key
                    .as_slice()
                    .try_into()
                    .map_err(|_| Error::Key("an Ed25519 key is 32 bytes".into()))?,
            ),
            SIG_ECDSA => {
                let verifier = LogVerifier::from_spki_der(&v.key)
                    .map_err(|e| Error::Key(format!("vkey {}: {e}", v.name)))?;
                if verifier.key_type() != LogKeyType::EcdsaP256 {
                    return Err(Error::Key(format!(
                        "vkey {}: type 0x02 carries an ECDSA key",
                        v.name
                    )));
                }
                verifier
            }
            t => {
                return Err(Error::Key(format!(
                    "vkey {}: signature type {t:#04x} is not a checkpoint key type (0x01 Ed25519, 0x02 ECDSA)",
                    v.name
                )));
            }
        };
        if verifier.key_id(&v.name) != v.key_id {
            return Err(Error::Key(format!(
                "vkey {}: key ID does not match the key",
                v.name
            )));
        }
        Ok(Self {
            name: v.name,
            verifier,
        })
    }

    /// A log key under `name` (Rekor v1 logs name it after their host; a v2 log after its
    /// origin).
    ///
    /// # Errors
    /// An invalid name.
    pub fn named(name: &str, verifier: LogVerifier) -> Result<Self, Error> {
        check_key_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            verifier,
        })
    }

    /// Key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public key.
    #[must_use]
    pub fn verifier(&self) -> &LogVerifier {
        &self.verifier
    }

    /// The 4-byte key ID signature lines carry.
    #[must_use]
    pub fn key_id(&self) -> [u8; 4] {
        self.verifier.key_id(&self.name)
    }

    /// The 32-byte log ID: Rekor v2's typed key hash for Ed25519, `SHA-256(SPKI)` for ECDSA.
    #[must_use]
    pub fn log_id(&self) -> Hash {
        self.verifier.log_id(&self.name)
    }

    /// The vkey.
    #[must_use]
    pub fn vkey(&self) -> Vkey {
        let key = match self.verifier.ed25519_key() {
            Some(k) => k.to_vec(),
            None => self.verifier.spki_der().to_vec(),
        };
        Vkey {
            name: self.name.clone(),
            key_id: self.key_id(),
            sig_type: self.verifier.key_type().note_sig_type(),
            key,
        }
    }

    /// Verifies a raw signature over `msg`.
    #[must_use]
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.verifier.verify(msg, sig)
    }

    /// Verifies a signed note: at least one line by this key (name and key ID match) and
    /// every such line verifies; other lines are ignored. Returns the text and all lines.
    ///
    /// # Errors
    /// [`Error::BadCheckpoint`]: malformed note, no line by this key, or a line by this key
    /// that does not verify (each named).
    pub fn verify_note<'a>(&self, text: &'a str) -> Result<(&'a str, Vec<NoteSignature>), Error> {
        let (body, sigs) = parse_note(text)?;
        let id = self.key_id();
        let mut mine = 0usize;
        for s in sigs
            .iter()
            .filter(|s| s.name == self.name() && s.hint == id)
        {
            if !self.verify(body.as_bytes(), &s.signature) {
                return Err(Error::BadCheckpoint(format!(
                    "the signature by {}+{} does not verify",
                    self.name(),
                    hex::encode(id)
                )));
            }
            mine += 1;
        }
        if mine == 0 {
            return Err(Error::BadCheckpoint(format!(
                "no signature by {}+{} ({} signature line(s))",
                self.name(),
                hex::encode(id),
                sigs.len()
            )));
        }
        Ok((body, sigs))
    }

    /// Verifies a checkpoint note ([`Self::verify_note`]) and its origin, if given.
    ///
    /// # Errors
    /// As [`Self::verify_note`]; a malformed body; another origin.
    pub fn verify_checkpoint(
        &self,
        text: &str,
        origin: Option<&str>,
    ) -> Result<SignedCheckpoint, Error> {
        let (body, _) = self.verify_note(text)?;
        let checkpoint = Checkpoint::parse_body(body)?;
        if let Some(o) = origin
            && o != checkpoint.origin
        {
            return Err(Error::BadCheckpoint(format!(
                "origin is {:?}, expected {o:?}",
                checkpoint.origin
            )));
        }
        Ok(SignedCheckpoint {
            checkpoint,
            text: text.to_owned(),
        })
    }
}

impl fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.vkey().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LogKeyType;

    /// signed-note v1.0.0 §"Example" (c2sp.org/signed-note).
    const SPEC_VKEY: &str = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
    const SPEC_NOTE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn spec_example_verifies() {
        let v = NoteVerifier::from_vkey(SPEC_VKEY).unwrap();
        assert_eq!(v.to_string(), SPEC_VKEY);
        let (body, sigs) = v.verify_note(SPEC_NOTE).unwrap();
        assert_eq!(body, "This is an example message.\n");
        assert_eq!(sigs.len(), 1);
        let tampered = SPEC_NOTE.replace("example message", "exemple message");
        let e = v.verify_note(&tampered).unwrap_err().to_string();
        assert!(e.contains("does not verify"), "{e}");
        // A bad ID in the vkey is refused.
        assert!(NoteVerifier::from_vkey(&SPEC_VKEY.replace("530d903a", "530d903b")).is_err());
    }

    /// Go `x/mod/sumdb/note`'s example key and note (also in azul `signed_note`'s docs).
    #[test]
    fn go_note_vector_signs_identically() {
        let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
        let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
        let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
        let want = "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";
        let key = Ed25519NoteKey::from_skey(skey).unwrap();
        assert_eq!(key.vkey().to_string(), vkey);
        assert_eq!(*key.skey(), skey);
        let mut blob = key.key_id().to_vec();
        blob.extend_from_slice(&key.sign(text.as_bytes()));
        assert_eq!(B64.encode(blob), want);
        let note = format!("{text}\n\u{2014} PeterNeumann {want}\n");
        NoteVerifier::from_vkey(vkey)
            .unwrap()
            .verify_note(&note)
            .unwrap();
    }

    #[test]
    fn ed25519_round_trip_and_foreign_lines_ignored() {
        let key = Ed25519NoteKey::generate("log.example/a", SIG_ED25519).unwrap();
        let again = Ed25519NoteKey::from_skey(&key.skey()).unwrap();
        assert_eq!(again.vkey(), key.vkey());
        assert!(!format!("{key:?}").contains(&key.skey()[20..]));
        let cp = Checkpoint {
            origin: "log.example/a".into(),
            size: 3,
            root: [9; 32],
        };
        let signed = key.sign_checkpoint(&cp).unwrap();
        let v = key.verifier().unwrap();
        assert_eq!(Vkey::parse(&v.to_string()).unwrap(), key.vkey());
        assert_eq!(
            v.verify_checkpoint(&signed.text, Some("log.example/a"))
                .unwrap()
                .checkpoint,
            cp
        );
        assert!(v.verify_checkpoint(&signed.text, Some("other")).is_err());
        // Another key's line (same name, other ID) is ignored, not fatal.
        let other = Ed25519NoteKey::generate("log.example/a", SIG_ED25519).unwrap();
        let extra = other.sign_checkpoint(&cp).unwrap();
        let both = format!(
            "{}{}",
            signed.text,
            extra.text.split_once("\n\n").unwrap().1
        );
        assert!(v.verify_checkpoint(&both, None).is_ok());
        assert!(v.verify_checkpoint(&extra.text, None).is_err());
        // A cosigning key cannot sign checkpoints.
        let cosigner = Ed25519NoteKey::generate("w.example", SIG_COSIGNATURE_V1).unwrap();
        assert!(cosigner.sign_checkpoint(&cp).is_err());
        assert!(cosigner.verifier().is_err());
    }

    /// A log key of either type, named, round-trips through its vkey and verifies the
    /// checkpoints the sequencer's signer makes; an Ed25519 log key's vkey is the one an
    /// [`Ed25519NoteKey`] with the same key would print.
    #[test]
    fn log_key_vkeys_match_note_hints() {
        for kind in LogKeyType::ALL {
            let key = crate::LogKey::generate(kind).unwrap();
            let v = NoteVerifier::named("log.example", key.verifier().clone()).unwrap();
            let parsed = NoteVerifier::from_vkey(&v.to_string()).unwrap();
            assert_eq!(parsed, v);
            assert_eq!(parsed.vkey().sig_type, kind.note_sig_type());
            let cp = Checkpoint {
                origin: "log.example - 1".into(),
                size: 1,
                root: [1; 32],
            };
            let s = crate::note::sign_checkpoint(&cp, "log.example", &key).unwrap();
            assert_eq!(
                parsed.verify_checkpoint(&s.text, None).unwrap().checkpoint,
                cp
            );
            assert_eq!(parsed.log_id(), key.verifier().log_id("log.example"));
        }
        let note_key = Ed25519NoteKey::generate("log.example", SIG_ED25519).unwrap();
        let as_log =
            NoteVerifier::named("log.example", LogVerifier::ed25519(note_key.public_key()))
                .unwrap();
        assert_eq!(as_log.vkey(), note_key.vkey());
    }
}
