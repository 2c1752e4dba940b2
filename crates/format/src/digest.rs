//! Content-hash algorithms that OMS manifests name.

use std::fmt;

/// A content hash an OMS manifest can record (`serialization.hash_type`).
///
/// The names are the ones the reference writes: `sha256`, `blake2b` (BLAKE2b-512,
/// unkeyed) and `blake3` (unkeyed, 32-byte output). On input `blake2` is accepted as
/// an alias of `blake2b`, because that is the reference API's spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256 (the default and the only one the reference CLI can verify).
    Sha256,
    /// BLAKE2b with a 64-byte digest.
    Blake2b,
    /// BLAKE3 with a 32-byte digest.
    Blake3,
}

impl HashAlgorithm {
    /// Every algorithm, in the order they are documented.
    pub const ALL: [Self; 3] = [Self::Sha256, Self::Blake2b, Self::Blake3];

    /// The name recorded in `hash_type` and in each resource's `algorithm`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Blake2b => "blake2b",
            Self::Blake3 => "blake3",
        }
    }

    /// Parses a recorded or user-supplied name (`blake2` is an alias of `blake2b`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Self::Sha256),
            "blake2b" | "blake2" => Some(Self::Blake2b),
            "blake3" => Some(Self::Blake3),
            _ => None,
        }
    }

    /// Length in bytes of one digest.
    #[must_use]
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 | Self::Blake3 => 32,
            Self::Blake2b => 64,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
