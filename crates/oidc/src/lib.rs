//! # hallmark-oidc
//!
//! A small OpenID Connect **issuer** and the matching **token validation**, enough for a
//! private Sigstore instance and the model hub to vouch for their users:
//!
//! * [`keys::KeyRing`]: ES256 (ECDSA P-256) signing keys on disk (PKCS#8, file mode
//!   0600, never logged), rotated with overlap: the newest key signs, older keys stay in
//!   the JWKS until every token they signed has expired.
//! * [`issuer::Issuer`]: the discovery document (OpenID Connect Discovery 1.0 §3), the JWKS
//!   (RFC 7517; key ids are RFC 7638 thumbprints) and ID tokens (RFC 7519, OpenID Connect
//!   Core 1.0 §2) with `iss`, `sub`, `aud`, `email`, `email_verified`, `iat`, `nbf`, `exp`.
//! * [`validate::TokenValidator`]: checks signature (ES256 only: no `none`, no HMAC
//!   confusion), issuer, audience, expiry and not-before, and says which check failed.
//!
//! Crypto is aws-lc-rs throughout (JWT handling through `jsonwebtoken` with its aws-lc-rs
//! backend). Tokens are minted for principals the embedding service has authenticated: the
//! hub's users (on upload, and through its OAuth authorization-code endpoints, `hallmark-hub`
//! `oauth`), or an operator command reading the key from the data directory.

pub mod error;
pub mod issuer;
pub mod keys;
pub mod validate;

pub use error::OidcError;
pub use issuer::{Claims, Issuer};
pub use keys::KeyRing;
pub use validate::TokenValidator;

/// The audience Sigstore clients request and Fulcio expects.
pub const SIGSTORE_AUDIENCE: &str = "sigstore";
