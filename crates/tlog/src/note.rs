//! Log keys, C2SP signed notes and C2SP tlog-checkpoint bodies, in the form Rekor v1 and
//! the Sigstore verifiers use.
//!
//! * Key: ECDSA P-256 with SHA-256 (`PKIX_ECDSA_P256_SHA_256` in a trusted root). The
//!   Sigstore log ID is `SHA-256(DER SubjectPublicKeyInfo)`; the signed-note key hint is its
//!   first four bytes (the Sigstore convention for ECDSA note keys, sigstore-infra.md §3.3).
//! * Note: `body` (lines ending in `\n`, no blank line) + `\n` + signature lines
//!   `— <key name> <base64(hint ‖ DER signature)>\n`; the signature covers the body bytes.
//! * Checkpoint body: origin, decimal size, base64 root, optional extension lines. Rekor v1
//!   origins are `"<host> - <tree id>"` and the key name is `<host>`; sigstore-go routes to
//!   its Rekor v1 path only for origins matching `.* - [0-9]+$`.

use std::fmt::Write as _;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hallmark_crypto::{Curve, PublicKey, SigningKey};

use crate::error::Error;
use crate::merkle::{Hash, sha256};

/// Most signature lines a note may carry before it is refused.
pub const MAX_NOTE_SIGNATURES: usize = 100;
/// Largest note accepted.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

/// The log's private key (ECDSA P-256).
pub struct LogKey {
    signer: SigningKey,
    verifier: LogVerifier,
    pkcs8_pem: Option<String>,
}

impl std::fmt::Debug for LogKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogKey")
            .field("log_id", &hex::encode(self.verifier.log_id()))
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// A fresh random key.
    ///
    /// # Errors
    /// Only if aws-lc-rs fails.
    pub fn generate() -> Result<Self, Error> {
        let doc =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                .map_err(|_| Error::Key("cannot generate a P-256 key".into()))?;
        let pem =
            pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, doc.as_ref())
                .map_err(|e| Error::Key(format!("cannot encode the key: {e}")))?;
        let mut key = Self::from_pem(pem.as_bytes())?;
        key.pkcs8_pem = Some(pem);
        Ok(key)
    }

    /// Loads a PEM private key (PKCS#8 or SEC1), which must be P-256.
    ///
    /// # Errors
    /// Unparseable key or another curve.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let signer = SigningKey::from_pem_with_source(pem, None, "log key")
            .map_err(|e| Error::Key(e.to_string()))?;
        if signer.curve() != Curve::P256 {
            return Err(Error::Key(format!(
                "the log key must be P-256, not {}",
                signer.curve().name()
            )));
        }
        let verifier = LogVerifier::new(signer.public_key())?;
        Ok(Self {
            signer,
            verifier,
            pkcs8_pem: Some(String::from_utf8_lossy(pem).into_owned()),
        })
    }

    /// The PEM the key was generated or loaded from.
    #[must_use]
    pub fn private_pem(&self) -> Option<&str> {
        self.pkcs8_pem.as_deref()
    }

    /// The public half.
    #[must_use]
    pub fn verifier(&self) -> &LogVerifier {
        &self.verifier
    }

    /// DER ECDSA signature over `msg` (SHA-256).
    ///
    /// # Errors
    /// Only if aws-lc-rs fails.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        self.signer.sign(msg).map_err(|e| Error::Key(e.to_string()))
    }
}

/// The log's public key, log ID and note key hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogVerifier {
    public: PublicKey,
    log_id: Hash,
}

impl LogVerifier {
    /// Wraps a P-256 public key.
    ///
    /// # Errors
    /// Another curve.
    pub fn new(public: PublicKey) -> Result<Self, Error> {
        if public.curve() != Curve::P256 {
            return Err(Error::Key("the log key must be P-256".into()));
        }
        let log_id = sha256(public.spki_der());
        Ok(Self { public, log_id })
    }

    /// Parses a `PUBLIC KEY` PEM.
    ///
    /// # Errors
    /// Unparseable or not P-256.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        Self::new(
            PublicKey::from_pem_with_source(pem, "log public key")
                .map_err(|e| Error::Key(e.to_string()))?,
        )
    }

    /// `SHA-256(SPKI DER)`: Rekor's log ID and the trusted root's `logId.keyId`.
    #[must_use]
    pub fn log_id(&self) -> Hash {
        self.log_id
    }

    /// Signed-note key hint: the log ID's first four bytes.
    #[must_use]
    pub fn hint(&self) -> [u8; 4] {
        let [a, b, c, d, ..] = self.log_id;
        [a, b, c, d]
    }

    /// SubjectPublicKeyInfo DER (the trusted root's `publicKey.rawBytes`).
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        self.public.spki_der()
    }

    /// PEM of the public key.
    #[must_use]
    pub fn to_pem(&self) -> String {
        self.public.to_pem()
    }

    /// Verifies a DER ECDSA/SHA-256 signature.
    #[must_use]
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        self.public.verify(msg, sig).is_ok()
    }
}

/// A checkpoint body (C2SP tlog-checkpoint).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Line 1: the log's origin.
    pub origin: String,
    /// Line 2: tree size.
    pub size: u64,
    /// Line 3: root hash.
    pub root: Hash,
}

impl Checkpoint {
    /// The note body: three lines, each ending in `\n`.
    #[must_use]
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }

    /// Parses a note body (extension lines are accepted and ignored).
    ///
    /// # Errors
    /// [`Error::BadCheckpoint`] naming the bad line.
    pub fn parse_body(body: &str) -> Result<Self, Error> {
        let bad = |m: &str| Error::BadCheckpoint(m.to_owned());
        let body = body
            .strip_suffix('\n')
            .ok_or_else(|| bad("body does not end in a newline"))?;
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("empty origin line"))?;
        let size_s = lines.next().ok_or_else(|| bad("no tree size line"))?;
        if size_s.is_empty()
            || !size_s.bytes().all(|b| b.is_ascii_digit())
            || (size_s.len() > 1 && size_s.starts_with('0'))
        {
            return Err(bad("tree size is not a canonical decimal number"));
        }
        let size = size_s
            .parse::<u64>()
            .map_err(|_| bad("tree size overflows"))?;
        let root_s = lines.next().ok_or_else(|| bad("no root hash line"))?;
        let root: Hash = B64
            .decode(root_s)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| bad("root hash is not 32 bytes of base64"))?;
        if lines.any(str::is_empty) {
            return Err(bad("empty extension line"));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// A checkpoint together with its signed-note text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The parsed body.
    pub checkpoint: Checkpoint,
    /// The whole note, byte for byte (what `/checkpoint` serves and bundles embed).
    pub text: String,
}

/// Signs a checkpoint as a one-signature note under `key_name`.
///
/// # Errors
/// Key failures; [`Error::BadCheckpoint`] for an origin or name that would not parse.
pub fn sign_checkpoint(
    cp: &Checkpoint,
    key_name: &str,
    key: &LogKey,
) -> Result<SignedCheckpoint, Error> {
    if cp.origin.is_empty() || cp.origin.contains('\n') {
        return Err(Error::BadCheckpoint(
            "origin must be one non-empty line".into(),
        ));
    }
    check_key_name(key_name)?;
    let body = cp.body();
    let sig = key.sign(body.as_bytes())?;
    let mut blob = key.verifier().hint().to_vec();
    blob.extend_from_slice(&sig);
    let mut text = body;
    let _ = write!(text, "\n\u{2014} {key_name} {}\n", B64.encode(blob));
    Ok(SignedCheckpoint {
        checkpoint: cp.clone(),
        text,
    })
}

/// Checks a note key name: non-empty, no whitespace, no `+` (signed-note).
pub(crate) fn check_key_name(name: &str) -> Result<(), Error> {
    if name.is_empty() || name.contains('+') || name.chars().any(char::is_whitespace) {
        return Err(Error::BadCheckpoint(format!(
            "invalid note key name {name:?}"
        )));
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// Key name.
    pub name: String,
    /// 4-byte key hint.
    pub hint: [u8; 4],
    /// Signature bytes.
    pub signature: Vec<u8>,
}

/// Splits a signed note into body and signatures (C2SP signed-note; also sigstore-python's
/// rule that the blank-line separator occurs exactly once).
///
/// # Errors
/// [`Error::BadCheckpoint`] for any malformation.
pub fn parse_note(text: &str) -> Result<(&str, Vec<NoteSignature>), Error> {
    let bad = |m: &str| Error::BadCheckpoint(m.to_owned());
    if text.len() > MAX_NOTE_BYTES {
        return Err(bad("note is too large"));
    }
    if text.matches("\n\n").count() != 1 {
        return Err(bad("note must contain exactly one blank line"));
    }
    let (body, sigs) = text
        .split_once("\n\n")
        .ok_or_else(|| bad("no blank line"))?;
    let body = &text[..=body.len()];
    let sigs = sigs
        .strip_suffix('\n')
        .ok_or_else(|| bad("note does not end in a newline"))?;
    let mut out = Vec::new();
    for line in sigs.split('\n') {
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| bad("signature line does not start with an em dash"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("signature line has no key name"))?;
        check_key_name(name)?;
        let blob = B64
            .decode(b64)
            .map_err(|_| bad("signature is not base64"))?;
        let (hint, sig) = blob
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("signature is too short"))?;
        if sig.is_empty() {
            return Err(bad("signature is too short"));
        }
        out.push(NoteSignature {
            name: name.to_owned(),
            hint: *hint,
            signature: sig.to_vec(),
        });
        if out.len() > MAX_NOTE_SIGNATURES {
            return Err(bad("too many signatures"));
        }
    }
    Ok((body, out))
}

/// Verifies a checkpoint note: a signature by `verifier` (matched by key hint, and by
/// `key_name` if given), and the origin if `origin` is given.
///
/// # Errors
/// [`Error::BadCheckpoint`] naming what failed.
pub fn verify_checkpoint(
    text: &str,
    verifier: &LogVerifier,
    key_name: Option<&str>,
    origin: Option<&str>,
) -> Result<SignedCheckpoint, Error> {
    let (body, sigs) = parse_note(text)?;
    let ok = sigs.iter().any(|s| {
        s.hint == verifier.hint()
            && key_name.is_none_or(|n| n == s.name)
            && verifier.verify(body.as_bytes(), &s.signature)
    });
    if !ok {
        return Err(Error::BadCheckpoint(format!(
            "no valid signature by log key {} ({} signature line(s))",
            hex::encode(verifier.log_id()),
            sigs.len()
        )));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_tamper() {
        let key = LogKey::generate().unwrap();
        let cp = Checkpoint {
            origin: "log.example - 42".into(),
            size: 7,
            root: [3u8; 32],
        };
        let s = sign_checkpoint(&cp, "log.example", &key).unwrap();
        assert!(s.text.starts_with("log.example - 42\n7\nAwMD"));
        let v = verify_checkpoint(
            &s.text,
            key.verifier(),
            Some("log.example"),
            Some("log.example - 42"),
        )
        .unwrap();
        assert_eq!(v.checkpoint, cp);
        assert!(verify_checkpoint(&s.text, key.verifier(), None, Some("other - 1")).is_err());
        let other = LogKey::generate().unwrap();
        assert!(verify_checkpoint(&s.text, other.verifier(), None, None).is_err());
        let tampered = s.text.replacen("\n7\n", "\n8\n", 1);
        assert!(verify_checkpoint(&tampered, key.verifier(), None, None).is_err());
        let reloaded = LogKey::from_pem(key.private_pem().unwrap().as_bytes()).unwrap();
        assert_eq!(reloaded.verifier(), key.verifier());
    }

    #[test]
    fn parse_rejects_malformed() {
        for bad in [
            "a\n1\nAA==\n",
            "a\n\n1\n\n\u{2014} k AAAAAAA=\n",
            "a\n01\nAA==\n",
        ] {
            assert!(
                parse_note(bad).is_err() || Checkpoint::parse_body(bad).is_err(),
                "{bad:?}"
            );
        }
    }
}
