//! Errors of the issuer and of token validation.

use std::path::PathBuf;

use thiserror::Error;

/// What went wrong. Token refusals say which check failed; none carries a token or key.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OidcError {
    /// Reading or writing key material failed.
    #[error("OIDC key store {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A key file could not be used.
    #[error("OIDC signing key {path} is not a usable P-256 PKCS#8 key")]
    BadKey {
        /// The file.
        path: PathBuf,
    },
    /// Key generation or export failed in the crypto library.
    #[error("OIDC crypto failure: {0}")]
    Crypto(#[source] aws_lc_rs::error::Unspecified),
    /// A freshly generated key was rejected by the crypto library.
    #[error("OIDC crypto failure: {0}")]
    KeyRejected(#[source] aws_lc_rs::error::KeyRejected),
    /// Signing the token failed.
    #[error("OIDC crypto failure: {0}")]
    Sign(#[source] jsonwebtoken::errors::Error),
    /// The key ring holds no signing key.
    #[error("OIDC crypto failure: the key ring is empty")]
    EmptyKeyRing,
    /// The token is not a well-formed JWT, or uses another algorithm than ES256.
    #[error("identity token is malformed: {0}")]
    Malformed(String),
    /// The token names a key the issuer does not publish.
    #[error("identity token is signed by an unknown key (kid {kid:?})")]
    UnknownKey {
        /// The `kid` in the token header.
        kid: Option<String>,
    },
    /// The signature does not verify.
    #[error("identity token signature does not verify")]
    BadSignature,
    /// `exp` is in the past.
    #[error("identity token has expired")]
    Expired,
    /// `nbf` or `iat` is in the future.
    #[error("identity token is not valid yet")]
    NotYetValid,
    /// `aud` does not contain the expected audience.
    #[error("identity token audience is {found}, expected {expected:?}")]
    WrongAudience {
        /// What the token says.
        found: String,
        /// What was required.
        expected: String,
    },
    /// `iss` is not the expected issuer.
    #[error("identity token issuer is {found:?}, expected {expected:?}")]
    WrongIssuer {
        /// What the token says.
        found: String,
        /// What was required.
        expected: String,
    },
    /// A required claim is missing or empty.
    #[error("identity token has no usable `{0}` claim")]
    MissingClaim(&'static str),
}
