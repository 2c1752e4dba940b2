//! Size limits applied before and while parsing untrusted signature files.

/// Limits on untrusted input. The defaults admit models with a million files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest signature bundle accepted, in bytes.
    pub max_bundle_bytes: usize,
    /// Most resources a manifest may list.
    pub max_resources: usize,
    /// Most certificates in a chain.
    pub max_certificates: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_bundle_bytes: 256 * 1024 * 1024,
            max_resources: 2_000_000,
            max_certificates: 16,
        }
    }
}
