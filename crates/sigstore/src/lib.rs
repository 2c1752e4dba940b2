//! # hallmark-sigstore
//!
//! WIP
mod error;
mod trust;
mod verify;

pub use error::SigstoreError;
pub use trust::{
    CLIENT_TRUST_CONFIG_MEDIA_TYPE, PUBLIC_GOOD_SNAPSHOT_DATE, PUBLIC_GOOD_SNAPSHOT_SOURCE,
    TRUSTED_ROOT_MEDIA_TYPE, TrustedRoot,
};
pub use verify::{
    Check, IdentityPolicy, MAX_BUNDLE_BYTES, SigstoreVerified, check, verify_dsse_bundle,
};
