//! C2SP tlog-cosignature v1.0.1, Ed25519 (`cosignature/v1`, signature type `0x04`).
//!
//! * Key ID: `SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte key)[:4]`; vkey
//!   `name+hex8(ID)+base64(0x04 ‖ key)`.
//! * Signed message: `cosignature/v1\n` + `time <T>\n` + the whole checkpoint note text
//!   (with extension lines and its final newline, without signature lines).
//! * Signature line: `— name base64(ID ‖ u64 BE timestamp ‖ 64-byte Ed25519 signature)`.
//!
//! The message does not commit to the cosigner's name: one key per cosigner.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hallmark_tlog::notekey::{Ed25519NoteKey, SIG_COSIGNATURE_V1, Vkey, key_id};
use zeroize::Zeroizing;

use crate::error::CosignatureError;

/// The domain-separation header line (without its newline).
pub const HEADER: &str = "cosignature/v1";

/// Bytes after the key ID in a cosignature/v1 line: timestamp + signature.
const PAYLOAD: usize = 8 + 64;

/// The message a cosigner signs: header, `time T`, then the checkpoint note text.
#[must_use]
pub fn signed_message(timestamp: u64, checkpoint_text: &str) -> Vec<u8> {
    format!("{HEADER}\ntime {timestamp}\n{checkpoint_text}").into_bytes()
}

/// One cosignature/v1 signature line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureLine {
    /// The cosigner's key name.
    pub name: String,
    /// Its 4-byte key ID.
    pub key_id: [u8; 4],
    /// POSIX seconds at which it cosigned.
    pub timestamp: u64,
    /// Ed25519 signature over [`signed_message`].
    pub signature: [u8; 64],
}

impl CosignatureLine {
    /// Parses `— name base64(…)` (a trailing newline is allowed); the payload must be 76
    /// bytes (cosignature/v1 Ed25519).
    ///
    /// # Errors
    /// [`CosignatureError::Malformed`] naming what is wrong.
    pub fn parse(line: &str) -> Result<Self, CosignatureError> {
        let bad = |m: &str| CosignatureError::Malformed(m.to_owned());
        let line = line.strip_suffix('\n').unwrap_or(line);
        let rest = line
            .strip_prefix("\u{2014} ")
            .ok_or_else(|| bad("signature line does not start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("signature line has no key name"))?;
        if name.is_empty() || name.contains('+') {
            return Err(bad("invalid key name"));
        }
        let blob = B64
            .decode(b64)
            .map_err(|_| bad("signature is not base64"))?;
        if blob.len() != 4 + PAYLOAD {
            return Err(CosignatureError::Malformed(format!(
                "signature by {name} is {} bytes, a cosignature/v1 is {}",
                blob.len(),
                4 + PAYLOAD
            )));
        }
        let mut key_id = [0u8; 4];
        let mut ts = [0u8; 8];
        let mut signature = [0u8; 64];
        key_id.copy_from_slice(&blob[..4]);
        ts.copy_from_slice(&blob[4..12]);
        signature.copy_from_slice(&blob[12..]);
        Ok(Self {
            name: name.to_owned(),
            key_id,
            timestamp: u64::from_be_bytes(ts),
            signature,
        })
    }
}

/// `— name base64(ID ‖ timestamp ‖ signature)` without a newline.
impl fmt::Display for CosignatureLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut blob = Vec::with_capacity(4 + PAYLOAD);
        blob.extend_from_slice(&self.key_id);
        blob.extend_from_slice(&self.timestamp.to_be_bytes());
        blob.extend_from_slice(&self.signature);
        write!(f, "\u{2014} {} {}", self.name, B64.encode(blob))
    }
}

/// A witness's private cosigning key. Debug shows the vkey only.
#[derive(Debug)]
pub struct Cosigner {
    key: Ed25519NoteKey,
}

impl Cosigner {
    /// A fresh random key named `name`.
    ///
    /// # Errors
    /// An invalid name; aws-lc-rs failures.
    pub fn generate(name: &str) -> Result<Self, CosignatureError> {
        Ok(Self {
            key: Ed25519NoteKey::generate(name, SIG_COSIGNATURE_V1)?,
        })
    }

    /// Loads the private key text ([`Self::skey`]).
    ///
    /// # Errors
    /// Malformed text, or a key that is not a cosignature/v1 key.
    pub fn from_skey(text: &str) -> Result<Self, CosignatureError> {
        let key = Ed25519NoteKey::from_skey(text)?;
        if key.sig_type() != SIG_COSIGNATURE_V1 {
            return Err(CosignatureError::Malformed(format!(
                "key {} is not a cosignature/v1 (type 0x04) key",
                key.name()
            )));
        }
        Ok(Self { key })
    }

    /// `PRIVATE+KEY+name+hex8+base64(0x04 ‖ seed)`: keep it secret.
    #[must_use]
    pub fn skey(&self) -> Zeroizing<String> {
        self.key.skey()
    }

    /// The public half.
    #[must_use]
    pub fn verifier(&self) -> CosignerKey {
        CosignerKey {
            name: self.key.name().to_owned(),
            key: self.key.public_key(),
        }
    }

    /// Cosigns a checkpoint note text (body only, ending in a newline) at `timestamp`.
    #[must_use]
    pub fn cosign(&self, checkpoint_text: &str, timestamp: u64) -> CosignatureLine {
        CosignatureLine {
            name: self.key.name().to_owned(),
            key_id: self.key.key_id(),
            timestamp,
            signature: self.key.sign(&signed_message(timestamp, checkpoint_text)),
        }
    }
}

/// A witness's public cosigning key (what policies and clients hold).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignerKey {
    name: String,
    key: [u8; 32],
}

impl CosignerKey {
    /// Parses a type `0x04` vkey.
    ///
    /// # Errors
    /// Malformed, another type, or an ID that does not match.
    pub fn from_vkey(text: &str) -> Result<Self, CosignatureError> {
        let v = Vkey::parse(text)?;
        if v.sig_type != SIG_COSIGNATURE_V1 {
            return Err(CosignatureError::Malformed(format!(
                "vkey {}: signature type {:#04x} is not cosignature/v1 (0x04)",
                v.name, v.sig_type
            )));
        }
        let key: [u8; 32] = v
            .key
            .as_slice()
            .try_into()
            .map_err(|_| CosignatureError::Malformed("an Ed25519 key is 32 bytes".into()))?;
        Ok(Self { name: v.name, key })
    }

    /// Key name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Raw Ed25519 public key.
    #[must_use]
    pub fn public_key(&self) -> [u8; 32] {
        self.key
    }

    /// The key ID its lines carry.
    #[must_use]
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, SIG_COSIGNATURE_V1, &self.key)
    }

    /// The vkey.
    #[must_use]
    pub fn vkey(&self) -> Vkey {
        Vkey {
            name: self.name.clone(),
            key_id: self.key_id(),
            sig_type: SIG_COSIGNATURE_V1,
            key: self.key.to_vec(),
        }
    }

    /// Whether `line` is by this key (name and key ID).
    #[must_use]
    pub fn is_mine(&self, line: &CosignatureLine) -> bool {
        line.name == self.name && line.key_id == self.key_id()
    }

    /// Verifies `line` (by this key) over the checkpoint note text.
    ///
    /// # Errors
    /// [`CosignatureError::WrongKey`] for another key's line,
    /// [`CosignatureError::BadSignature`] if it does not verify.
    pub fn verify(
        &self,
        line: &CosignatureLine,
        checkpoint_text: &str,
    ) -> Result<(), CosignatureError> {
        if !self.is_mine(line) {
            return Err(CosignatureError::WrongKey {
                name: line.name.clone(),
                expected: self.vkey().to_string(),
            });
        }
        hallmark_tlog::notekey::verify_ed25519(
            &self.key,
            &signed_message(line.timestamp, checkpoint_text),
            &line.signature,
        )
        .then_some(())
        .ok_or_else(|| CosignatureError::BadSignature {
            name: self.name.clone(),
        })
    }

    /// Finds this key's cosignature among a note's signature lines and verifies it; returns
    /// its timestamp, or `None` if the note has no line by this key.
    ///
    /// # Errors
    /// A line by this key that does not parse or does not verify.
    pub fn find(
        &self,
        body: &str,
        lines: &[hallmark_tlog::note::NoteSignature],
    ) -> Result<Option<u64>, CosignatureError> {
        let id = self.key_id();
        let Some(sig) = lines.iter().find(|s| s.name == self.name && s.hint == id) else {
            return Ok(None);
        };
        let mut blob = sig.hint.to_vec();
        blob.extend_from_slice(&sig.signature);
        let line = CosignatureLine::parse(&format!("\u{2014} {} {}", sig.name, B64.encode(blob)))?;
        self.verify(&line, body)?;
        Ok(Some(line.timestamp))
    }
}

impl fmt::Display for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.vkey().fmt(f)
    }
}
