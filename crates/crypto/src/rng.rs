//! The process-wide random generator (aws-lc-rs).

use crate::error::CryptoError;

/// Seeds the process-wide random generator on a background thread.
///
/// aws-lc seeds its DRBG from CPU jitter entropy on first use, which takes tens of
/// milliseconds; a signer calls this before hashing a model so that the first ECDSA
/// signature does not pay for it afterwards.
pub fn warm_up_rng() {
    let _ = std::thread::Builder::new()
        .name("rng-seed".into())
        .spawn(|| {
            let mut buf = [0u8; 16];
            let _ = aws_lc_rs::rand::fill(&mut buf);
        });
}

/// Fills `buf` with cryptographically secure random bytes.
///
/// # Errors
/// Only if the system random generator fails.
pub fn random_fill(buf: &mut [u8]) -> Result<(), CryptoError> {
    aws_lc_rs::rand::fill(buf).map_err(|_| CryptoError::Internal("the random generator"))
}
