//! Size limits on untrusted input.

/// Largest signature bundle accepted, in bytes (the same default as `hallmark-format`).
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024 * 1024;
