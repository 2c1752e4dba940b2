//! C2SP signed notes and C2SP tlog-checkpoint bodies, in the form Rekor and the Sigstore
//! verifiers use.
//!
//! * Key: a [`LogKey`], ECDSA P-256 or Ed25519 ([`crate::logkey`]); the signed-note key
//!   hint is [`LogVerifier::key_id`] of the key name (`SHA-256(SPKI)[:4]` for ECDSA, the
//!   Sigstore convention, sigstore-infra.md §3.3; the C2SP typed key ID for Ed25519).
//! * Note: `body` (lines ending in `\n`, no blank line) + `\n` + signature lines
//!   `— <key name> <base64(hint ‖ signature)>\n`; the signature covers the body bytes.
//! * Checkpoint body: origin, decimal size, base64 root, optional extension lines. Rekor v1
//!   origins are `"<host> - <tree id>"` and the key name is `<host>`; sigstore-go routes to
//!   its Rekor v1 path only for origins matching `.* - [0-9]+$`.

use std::fmt::Write as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::error::Error;
pub use crate::logkey::{LogKey, LogVerifier};
use crate::merkle::Hash;

/// Most signature lines a note may carry before it is refused.
pub const MAX_NOTE_SIGNATURES: usize = 100;
/// Largest note accepted.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

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
    sign_checkpoint_with(cp, key_name, key.verifier().key_id(key_name), |m| {
        key.sign(m)
    })
}

/// Signs a checkpoint as a one-signature note under `key_name` with key ID `id`, the
/// signature made by `sign` over the body.
pub(crate) fn sign_checkpoint_with(
    cp: &Checkpoint,
    key_name: &str,
    id: [u8; 4],
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, Error>,
) -> Result<SignedCheckpoint, Error> {
    if cp.origin.is_empty() || cp.origin.contains('\n') {
        return Err(Error::BadCheckpoint(
            "origin must be one non-empty line".into(),
        ));
    }
    check_key_name(key_name)?;
    let body = cp.body();
    let sig = sign(body.as_bytes())?;
    let mut blob = id.to_vec();
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
        key_name.is_none_or(|n| n == s.name)
            && s.hint == verifier.key_id(&s.name)
            && verifier.verify(body.as_bytes(), &s.signature)
    });
    if !ok {
        return Err(Error::BadCheckpoint(format!(
            "no valid signature by {} log key {} ({} signature line(s))",
            verifier.key_type(),
            hex::encode(verifier.spki_id()),
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
        for kind in crate::LogKeyType::ALL {
            sign_verify_and_tamper_with(kind);
        }
    }

    fn sign_verify_and_tamper_with(kind: crate::LogKeyType) {
        let key = LogKey::generate(kind).unwrap();
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
        let other = LogKey::generate(kind).unwrap();
        assert!(verify_checkpoint(&s.text, other.verifier(), None, None).is_err());
        let tampered = s.text.replacen("\n7\n", "\n8\n", 1);
        assert!(verify_checkpoint(&tampered, key.verifier(), None, None).is_err());
        // The line's key ID commits to its name (Ed25519) or to the key alone (ECDSA).
        let renamed = s
            .text
            .replace("\u{2014} log.example ", "\u{2014} log.other ");
        assert_eq!(
            verify_checkpoint(&renamed, key.verifier(), None, None).is_ok(),
            kind == crate::LogKeyType::EcdsaP256
        );
        let reloaded = LogKey::from_pem(key.private_pem().as_bytes()).unwrap();
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
