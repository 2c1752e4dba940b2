//! Signing with a key on a PKCS#11 token (`sign pkcs11-key`, `sign pkcs11-certificate`):
//! `uri` parses RFC 7512 URIs as model_signing 1.1.1 does, `token` finds and uses the
//! key through the `cryptoki` crate. The bundles are those of `sign key` / `sign
//! certificate`, so `model_signing verify key|certificate` accepts them.

pub(crate) mod token;
pub(crate) mod uri;

pub(crate) use token::{TokenError, TokenKey};

/// Opens the token key a `--pkcs11-uri` names.
pub(crate) fn open(uri: &str) -> Result<TokenKey, TokenError> {
    TokenKey::open(&uri::Pkcs11Uri::parse(uri)?)
}
