//! The process-wide random generator (aws-lc-rs).

use crate::error::CryptoError;

/// Seeds the process-wide random generator on a background thread.
///
/// aws-lc seeds its DRBG on first use. The workspace builds it without CPU jitter
/// entropy (`.cargo/config.toml`: the kernel's generator and the CPU's RNG seed it,
/// which takes microseconds rather than the jitter collector's tens of milliseconds);
/// a signer still calls this before hashing a model so that a build with jitter
/// entropy does not pay for it on the first ECDSA signature.
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
