//! # hallmark-ca
//!
//! A certificate authority in the shape of Sigstore's Fulcio, for a private Sigstore
//! instance and the model hub: an authenticated OIDC identity plus a proof of possession of
//! a fresh key becomes a 10-minute code-signing certificate naming that identity.
//!
//! * [`material::CaMaterial`]: root (ECDSA P-384) → intermediate (ECDSA P-256), and the
//!   instance's CT log key (ECDSA P-256), created on first start; private keys stored as
//!   PKCS#8 with file mode 0600 and never logged.
//! * [`issue::Ca`]: Fulcio API v2 `POST /api/v2/signingCert` request handling (a PKCS#10
//!   CSR, or a public key with a signed-subject proof of possession), issuing certificates
//!   with the Fulcio profile: empty subject, critical SAN (email, or URI for URL subjects),
//!   KeyUsage digitalSignature, EKU codeSigning, SKI/AKI, the OIDC issuer in both
//!   1.3.6.1.4.1.57264.1.1 (raw, what sigstore-python reads) and .1.8 (DER UTF8String).
//! * [`sct`]: an embedded RFC 6962 precertificate SCT signed by the CT log key, computed
//!   over the TBS without the SCT extension, so stock verifiers rebuild the same bytes.
//!
//! * [`tsa`], [`tsa_material::TsaMaterial`]: an RFC 3161 timestamp authority (its own
//!   root → signing certificate with critical EKU id-kp-timeStamping) for Rekor v2 bundles,
//!   which carry no signed entry timestamp.
//!
//! Specs: RFC 5280 (profile), RFC 6962 §3.2–§3.3 (SCT, precertificate entries), RFC 2986
//! (CSR), Fulcio API v2 JSON, Fulcio certificate extensions (OID arc 1.3.6.1.4.1.57264.1).
//! Deviations: no CT log submission endpoint (the SCT is a promise from our own log key,
//! which the trust root lists); key identifiers are truncated SHA-256 (RFC 7093 §2 method 1).

pub mod csr;
pub mod error;
pub mod issue;
pub mod material;
pub mod sct;
mod tbs;
pub mod tsa;
pub mod tsa_material;

pub use error::{CaError, IssueFailure};
pub use issue::{Ca, IssuedCertificate, SanIdentity};
pub use material::CaMaterial;
pub use tsa_material::TsaMaterial;
