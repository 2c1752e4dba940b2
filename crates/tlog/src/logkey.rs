//! The keys that sign a log's checkpoints (and Rekor v1 signed entry timestamps): ECDSA
//! P-256 (what Rekor v1 uses) or Ed25519 (what Rekor v2 and the C2SP witness network use).
//!
//! * **Storage**: PKCS#8 PEM for both types ([`LogKey::generate`] writes it,
//!   [`LogKey::from_pem`] reads it back and tells the type from the key itself; a SEC1
//!   `EC PRIVATE KEY` is also read). Public keys as SPKI PEM ([`LogVerifier::from_pem`]).
//! * **Key ID** (the 4-byte hint of a signed-note signature line, [`LogVerifier::key_id`]):
//!   Ed25519 uses C2SP signed-note's typed ID `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]`,
//!   which commits to the key *name*; ECDSA uses the Sigstore rule `SHA-256(SPKI)[:4]`.
//! * **Log ID** (bundles' and trusted roots' `logId.keyId`, [`LogVerifier::log_id`]): the
//!   full 32-byte hash behind the key ID. For ECDSA that is `SHA-256(SPKI)` (Rekor v1);
//!   for Ed25519 it is the typed hash, as Rekor v2 trusted roots carry it: sigstore-python
//!   finds the checkpoint line by `logId[:4]`, sigstore-go and sigstore-rust require the
//!   bundle's `logId` to equal the trusted root's. [`LogVerifier::spki_id`] is
//!   `SHA-256(SPKI)` for both (sigstore-python's keyring index, a fingerprint).

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ED25519, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _,
    UnparsedPublicKey,
};
use hallmark_crypto::{Curve, PublicKey, SigningKey};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::merkle::{Hash, sha256};

/// Signature type byte of an Ed25519 note signature.
pub const SIG_ED25519: u8 = 0x01;
/// Signature type byte of an ECDSA note signature (key ID from the SPKI alone).
pub const SIG_ECDSA: u8 = 0x02;
/// Signature type byte of a C2SP tlog-cosignature/v1 (Ed25519, timestamped).
pub const SIG_COSIGNATURE_V1: u8 = 0x04;

/// DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32-byte key follows.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// `SHA-256(name ‖ 0x0A ‖ type ‖ key)`: the full hash behind a typed key ID (Rekor v2's
/// log ID for an Ed25519 checkpoint key).
#[must_use]
pub fn key_hash(name: &str, sig_type: u8, key: &[u8]) -> Hash {
    let mut data = Vec::with_capacity(name.len() + 2 + key.len());
    data.extend_from_slice(name.as_bytes());
    data.push(b'\n');
    data.push(sig_type);
    data.extend_from_slice(key);
    sha256(&data)
}

/// The 4-byte key ID of a typed note key: [`key_hash`]'s first four bytes.
#[must_use]
pub fn key_id(name: &str, sig_type: u8, key: &[u8]) -> [u8; 4] {
    let [a, b, c, d, ..] = key_hash(name, sig_type, key);
    [a, b, c, d]
}

/// Verifies a raw Ed25519 signature by `key` over `msg`.
#[must_use]
pub fn verify_ed25519(key: &[u8; 32], msg: &[u8], sig: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, key)
        .verify(msg, sig)
        .is_ok()
}

/// The type of a log key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum LogKeyType {
    /// ECDSA P-256 with SHA-256 (Rekor v1).
    #[default]
    EcdsaP256,
    /// Ed25519 (Rekor v2, C2SP witness network).
    Ed25519,
}

impl LogKeyType {
    /// Every type, in the order `--help` lists them.
    pub const ALL: [Self; 2] = [Self::EcdsaP256, Self::Ed25519];

    /// The command-line and config name: `ecdsa-p256` or `ed25519`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ecdsa-p256",
            Self::Ed25519 => "ed25519",
        }
    }

    /// The trusted root's `publicKey.keyDetails`.
    #[must_use]
    pub fn key_details(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "PKIX_ECDSA_P256_SHA_256",
            Self::Ed25519 => "PKIX_ED25519",
        }
    }

    /// The signed-note signature type byte ([`SIG_ECDSA`] or [`SIG_ED25519`]).
    #[must_use]
    pub fn note_sig_type(self) -> u8 {
        match self {
            Self::EcdsaP256 => SIG_ECDSA,
            Self::Ed25519 => SIG_ED25519,
        }
    }
}

impl fmt::Display for LogKeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogKeyType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                Error::Key(format!(
                    "log key type {s:?}: expected ecdsa-p256 or ed25519"
                ))
            })
    }
}

enum Signer {
    Ecdsa(SigningKey),
    Ed25519(Ed25519KeyPair),
}

/// A log's private key. Debug shows the type and public fingerprint only.
pub struct LogKey {
    signer: Signer,
    verifier: LogVerifier,
    pkcs8_pem: Zeroizing<String>,
}

impl fmt::Debug for LogKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogKey")
            .field("type", &self.verifier.key_type().name())
            .field("spki_id", &hex::encode(self.verifier.spki_id()))
            .finish_non_exhaustive()
    }
}

impl LogKey {
    /// A fresh random key of type `kind`.
    ///
    /// # Errors
    /// Only if aws-lc-rs fails.
    pub fn generate(kind: LogKeyType) -> Result<Self, Error> {
        let rng = SystemRandom::new();
        let doc = match kind {
            LogKeyType::EcdsaP256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
                    .map(|d| Zeroizing::new(d.as_ref().to_vec()))
            }
            LogKeyType::Ed25519 => {
                Ed25519KeyPair::generate_pkcs8(&rng).map(|d| Zeroizing::new(d.as_ref().to_vec()))
            }
        }
        .map_err(|_| Error::Key(format!("cannot generate an {kind} key")))?;
        let pem = pem_rfc7468::encode_string("PRIVATE KEY", pem_rfc7468::LineEnding::LF, &doc)
            .map_err(|e| Error::Key(format!("cannot encode the key: {e}")))?;
        Self::from_pem(pem.as_bytes())
    }

    /// Loads a PEM private key: PKCS#8 Ed25519, or P-256 in PKCS#8 or SEC1.
    ///
    /// # Errors
    /// [`Error::Key`]: unparseable, or another algorithm or curve (never the key bytes).
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let pkcs8_pem = Zeroizing::new(String::from_utf8_lossy(pem).into_owned());
        if let Some(pair) = ed25519_from_pem(&pkcs8_pem) {
            let public: [u8; 32] = pair
                .public_key()
                .as_ref()
                .try_into()
                .map_err(|_| Error::Key("the Ed25519 public key is not 32 bytes".into()))?;
            return Ok(Self {
                signer: Signer::Ed25519(pair),
                verifier: LogVerifier::ed25519(public),
                pkcs8_pem,
            });
        }
        let signer = SigningKey::from_pem_with_source(pem, None, "log key").map_err(|e| {
            Error::Key(format!(
                "the log key must be ECDSA P-256 or Ed25519 (PKCS#8): {e}"
            ))
        })?;
        if signer.curve() != Curve::P256 {
            return Err(Error::Key(format!(
                "the log key must be ECDSA P-256 or Ed25519, not ECDSA {}",
                signer.curve().name()
            )));
        }
        let verifier = LogVerifier::ecdsa(signer.public_key())?;
        Ok(Self {
            signer: Signer::Ecdsa(signer),
            verifier,
            pkcs8_pem,
        })
    }

    /// The PEM the key was generated as or loaded from (keep it secret).
    #[must_use]
    pub fn private_pem(&self) -> &str {
        &self.pkcs8_pem
    }

    /// The public half.
    #[must_use]
    pub fn verifier(&self) -> &LogVerifier {
        &self.verifier
    }

    /// The key's type.
    #[must_use]
    pub fn key_type(&self) -> LogKeyType {
        self.verifier.key_type()
    }

    /// A signature over `msg`: DER ECDSA/SHA-256, or the 64-byte Ed25519 signature.
    ///
    /// # Errors
    /// Only if aws-lc-rs fails.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        match &self.signer {
            Signer::Ecdsa(k) => k.sign(msg).map_err(|e| Error::Key(e.to_string())),
            Signer::Ed25519(k) => Ok(k.sign(msg).as_ref().to_vec()),
        }
    }
}

/// The Ed25519 key pair of a PKCS#8 PEM (v1 as OpenSSL writes it, or v2), if it is one.
fn ed25519_from_pem(pem: &str) -> Option<Ed25519KeyPair> {
    let (label, der) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).ok()?;
    let der = Zeroizing::new(der);
    (label == "PRIVATE KEY")
        .then(|| Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der).ok())
        .flatten()
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Public {
    Ecdsa(PublicKey),
    Ed25519 { key: [u8; 32], spki: Vec<u8> },
}

/// A log's public key: verifies its checkpoints and SETs, names its key ID and log ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogVerifier {
    public: Public,
    spki_id: Hash,
}

impl LogVerifier {
    /// Wraps a P-256 public key.
    ///
    /// # Errors
    /// Another curve.
    pub fn ecdsa(public: PublicKey) -> Result<Self, Error> {
        if public.curve() != Curve::P256 {
            return Err(Error::Key(format!(
                "the log key must be ECDSA P-256 or Ed25519, not ECDSA {}",
                public.curve().name()
            )));
        }
        let spki_id = sha256(public.spki_der());
        Ok(Self {
            public: Public::Ecdsa(public),
            spki_id,
        })
    }

    /// Wraps a raw 32-byte Ed25519 public key.
    #[must_use]
    pub fn ed25519(key: [u8; 32]) -> Self {
        let mut spki = ED25519_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(&key);
        let spki_id = sha256(&spki);
        Self {
            public: Public::Ed25519 { key, spki },
            spki_id,
        }
    }

    /// Parses a DER SubjectPublicKeyInfo (Ed25519 or P-256).
    ///
    /// # Errors
    /// [`Error::Key`]: unparseable, or another algorithm or curve.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        if let Some(key) = der.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
            let key = key
                .try_into()
                .map_err(|_| Error::Key("an Ed25519 public key is 32 bytes".into()))?;
            return Ok(Self::ed25519(key));
        }
        Self::ecdsa(
            PublicKey::from_spki_der_with_source(der, "log public key")
                .map_err(|e| Error::Key(format!("not an Ed25519 or P-256 log key: {e}")))?,
        )
    }

    /// Parses a `PUBLIC KEY` PEM (Ed25519 or P-256).
    ///
    /// # Errors
    /// Unparseable, or another algorithm or curve.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        let text = std::str::from_utf8(pem)
            .map_err(|_| Error::Key("the log public key is not PEM text".into()))?;
        let start = text
            .find("-----BEGIN PUBLIC KEY-----")
            .ok_or_else(|| Error::Key("no PUBLIC KEY PEM block in the log public key".into()))?;
        let end = text[start..]
            .find("-----END PUBLIC KEY-----")
            .map(|e| start + e + "-----END PUBLIC KEY-----".len())
            .ok_or_else(|| Error::Key("the PUBLIC KEY PEM block has no end line".into()))?;
        let (_, der) = pem_rfc7468::decode_vec(&text.as_bytes()[start..end])
            .map_err(|e| Error::Key(format!("log public key PEM: {e}")))?;
        Self::from_spki_der(&der)
    }

    /// The key's type.
    #[must_use]
    pub fn key_type(&self) -> LogKeyType {
        match self.public {
            Public::Ecdsa(_) => LogKeyType::EcdsaP256,
            Public::Ed25519 { .. } => LogKeyType::Ed25519,
        }
    }

    /// The raw 32-byte key of an Ed25519 verifier.
    #[must_use]
    pub fn ed25519_key(&self) -> Option<&[u8; 32]> {
        match &self.public {
            Public::Ed25519 { key, .. } => Some(key),
            Public::Ecdsa(_) => None,
        }
    }

    /// The signed-note key ID of this key under the key name `name` (ignored for ECDSA).
    #[must_use]
    pub fn key_id(&self, name: &str) -> [u8; 4] {
        let [a, b, c, d, ..] = self.log_id(name);
        [a, b, c, d]
    }

    /// The log ID of the log whose checkpoints this key signs under `name` (see the
    /// module documentation): `SHA-256(SPKI)` for ECDSA, the typed key hash for Ed25519.
    #[must_use]
    pub fn log_id(&self, name: &str) -> Hash {
        match &self.public {
            Public::Ecdsa(_) => self.spki_id,
            Public::Ed25519 { key, .. } => key_hash(name, SIG_ED25519, key),
        }
    }

    /// `SHA-256(SPKI DER)`, whatever the type.
    #[must_use]
    pub fn spki_id(&self) -> Hash {
        self.spki_id
    }

    /// SubjectPublicKeyInfo DER (the trusted root's `publicKey.rawBytes`).
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        match &self.public {
            Public::Ecdsa(p) => p.spki_der(),
            Public::Ed25519 { spki, .. } => spki,
        }
    }

    /// PEM of the public key.
    #[must_use]
    pub fn to_pem(&self) -> String {
        match &self.public {
            Public::Ecdsa(p) => p.to_pem(),
            Public::Ed25519 { spki, .. } => {
                pem_rfc7468::encode_string("PUBLIC KEY", pem_rfc7468::LineEnding::LF, spki)
                    .unwrap_or_default()
            }
        }
    }

    /// Verifies a signature: DER ECDSA/SHA-256, or raw Ed25519.
    #[must_use]
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.public {
            Public::Ecdsa(p) => p.verify(msg, sig).is_ok(),
            Public::Ed25519 { key, .. } => verify_ed25519(key, msg, sig),
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD as B64;

    use super::*;

    /// Sigstore staging's Rekor v2 shard as its trusted root lists it (sigstore-python
    /// 4.5.1 wheel, `tuf-repo-cdn.sigstage.dev/trusted_root.json`): SPKI and `logId`.
    #[test]
    fn ed25519_log_id_matches_sigstore_staging() {
        let spki = B64
            .decode("MCowBQYDK2VwAyEAPn+AREHoBaZ7wgS1zBqpxmLSGnyhxXj4lFxSdWVB8o8=")
            .unwrap();
        let v = LogVerifier::from_spki_der(&spki).unwrap();
        assert_eq!(v.key_type(), LogKeyType::Ed25519);
        assert_eq!(v.spki_der(), spki.as_slice());
        let name = "log2025-alpha1.rekor.sigstage.dev";
        assert_eq!(
            B64.encode(v.log_id(name)),
            "8w1amZ2S5mJIQkQmPxdMuOrL/oJkvFg9MnQXmeOCXck="
        );
        assert_eq!(hex::encode(v.key_id(name)), "f30d5a99");
        assert_eq!(v.spki_id(), sha256(&spki));
        assert_eq!(LogVerifier::from_pem(v.to_pem().as_bytes()).unwrap(), v);
    }

    #[test]
    fn both_types_generate_save_load_sign() {
        for kind in LogKeyType::ALL {
            let key = LogKey::generate(kind).unwrap();
            assert_eq!(key.key_type(), kind);
            assert!(key.private_pem().starts_with("-----BEGIN PRIVATE KEY-----"));
            let again = LogKey::from_pem(key.private_pem().as_bytes()).unwrap();
            assert_eq!(again.verifier(), key.verifier());
            let sig = again.sign(b"msg").unwrap();
            assert!(key.verifier().verify(b"msg", &sig));
            assert!(!key.verifier().verify(b"msh", &sig));
            let public = LogVerifier::from_pem(key.verifier().to_pem().as_bytes()).unwrap();
            assert_eq!(&public, key.verifier());
            assert_eq!(kind.name().parse::<LogKeyType>().unwrap(), kind);
            let debug = format!("{key:?}");
            let body: String = key.private_pem().lines().skip(1).take(1).collect();
            assert!(!debug.contains(&body[..20]), "{debug}");
        }
        let ec = LogKey::generate(LogKeyType::EcdsaP256).unwrap();
        let v = ec.verifier();
        // ECDSA: one ID whatever the name, equal to SHA-256(SPKI).
        assert_eq!(v.log_id("a"), v.log_id("b"));
        assert_eq!(v.log_id("a"), v.spki_id());
        let ed = LogKey::generate(LogKeyType::Ed25519).unwrap();
        // Ed25519: the ID commits to the name.
        assert_ne!(ed.verifier().log_id("a"), ed.verifier().log_id("b"));
        assert!("rsa".parse::<LogKeyType>().is_err());
    }

    /// A PKCS#8 v1 Ed25519 key as `openssl genpkey -algorithm ed25519` writes it (RFC 8410
    /// §10.3's example key).
    #[test]
    fn reads_openssl_ed25519_pkcs8() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let key = LogKey::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(key.key_type(), LogKeyType::Ed25519);
        // RFC 8410 §10.1's public key of that private key.
        assert_eq!(
            B64.encode(key.verifier().spki_der()),
            "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE="
        );
        let p384 = hallmark_crypto::SigningKey::generate(Curve::P384).unwrap();
        let pem = pem_rfc7468::encode_string(
            "PRIVATE KEY",
            pem_rfc7468::LineEnding::LF,
            &p384.to_pkcs8_der().unwrap(),
        )
        .unwrap();
        let e = LogKey::from_pem(pem.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("not ECDSA P-384"), "{e}");
    }
}
