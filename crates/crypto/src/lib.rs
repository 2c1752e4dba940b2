//! Cryptography for Hallmark: the key handling, signatures and X.509 chain
//! validation needed to sign and verify models in the OpenSSF Model Signing
//! (OMS) v1.0 format, byte-compatible with the Python reference
//! `model_signing` 1.1.1.
//!
//! What it implements:
//!
//! * **ECDSA for DSSE** (OMS v1.0; oms-spec §1.2, §3.1): P-256, P-384 and
//!   P-521 keys only, DER (ASN.1) signatures, hash fixed by the curve
//!   (P-256→SHA-256, P-384→SHA-384, P-521→SHA-512); [`PublicKey::verify_with_digest`]
//!   covers the v0.2.0 compatibility path (SHA-256 on any curve).
//! * **Key files** ([`SigningKey::from_pem`], [`PublicKey::from_pem`]):
//!   PKCS#8, SEC1 and encrypted PKCS#8 (PBES2) private keys, SPKI public
//!   keys; text before, between and after PEM blocks is ignored (the
//!   reference's keys carry GnuTLS `certtool` output before the block).
//! * **`publicKey.hint`** ([`PublicKey::hint`]): hex SHA-256 of the SPKI PEM
//!   text exactly as OpenSSL writes it (oms-spec §9 fact 8).
//! * **Certificate path validation** ([`verify_certificate_chain`]): an RFC
//!   5280 subset with the semantics of OpenSSL `X509_verify_cert` as the
//!   reference runs it through pyOpenSSL (oms-spec §3.2, §9 fact 10): the
//!   path must end at a *self-signed* certificate from the trust-anchor set
//!   (no partial chains), validity is checked at the leaf's `notBefore` by
//!   default, a `CA:TRUE` leaf is accepted, RSA (PKCS#1 v1.5 and PSS, at
//!   least 2048 bits), ECDSA and Ed25519 certificate signatures are checked.
//!
//! All primitives come from `aws-lc-rs`; parsing uses the RustCrypto
//! `der`/`spki`/`pkcs8`/`sec1`/`x509-cert` crates.
//!
//! Deviations from the reference / OpenSSL, all deliberate:
//!
//! * Legacy OpenSSL-encrypted PEM (`Proc-Type: 4,ENCRYPTED`) private keys are
//!   rejected with a hint to convert them to encrypted PKCS#8; a password
//!   given for an unencrypted key is ignored (the reference raises an error).
//! * SHA-1 certificate signatures and RSA keys under 2048 bits are rejected
//!   (OpenSSL at security level 1 accepts SHA-1). The trust anchor's own
//!   self-signature is not checked, as in OpenSSL.
//! * Certificates carrying `nameConstraints` are rejected as unsupported
//!   (OpenSSL enforces them). Certificate policies are not processed
//!   (OpenSSL only does so when asked to).
//! * Issuer lookup compares the DER of the names (OpenSSL compares a
//!   canonicalised form, e.g. case-insensitively), plus AKI/SKI when both are
//!   present; alternative issuers are tried (backtracking) up to depth 10.
//! * A leaf with neither keyUsage nor extendedKeyUsage is accepted for
//!   signing (the reference only logs a warning); callers may warn using
//!   [`Certificate::has_usage_extensions`].
//! * Revocation (CRL/OCSP) is not checked, as in the reference.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cert;
mod certsig;
mod chain;
mod curve;
mod digest;
mod error;
mod keys;
mod oids;
mod pem;
mod rng;
mod token;

pub use cert::{Certificate, load_certificates_pem, load_certificates_pem_with_source};
pub use chain::{ChainPolicy, ChainTime, MAX_DEPTH, ValidatedChain, verify_certificate_chain};
pub use error::{
    CaRefusal, CertSignatureRefusal, ChainError, CryptoError, DerError, Malformation,
    PasswordRefusal, PathStop,
};
pub use keys::{PublicKey, SigningKey};

pub use curve::Curve;
pub use digest::{DigestAlg, MessageHasher, ct_eq, sha256};
pub use rng::{random_fill, warm_up_rng};
pub use token::ecdsa_der_from_raw;
