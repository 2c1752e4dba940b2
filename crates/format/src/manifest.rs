//! The manifest: what was hashed, how, and every resource's digest
//! (OMS spec §5.2, §6.3–§6.5; `docs/oms-spec.md` §1.4–§1.5, §2).

use std::collections::HashSet;

use crate::digest::HashAlgorithm;
use crate::error::FormatError;
pub use crate::resources::ResourceDigest;
use crate::resources::{NamesFull, Resources};

/// Default shard size of the reference: 1,000,000,000 bytes (decimal).
pub const DEFAULT_SHARD_SIZE: u64 = 1_000_000_000;

/// The top-level paths ignored unless `--no-ignore-git-paths` is given.
pub const DEFAULT_GIT_IGNORES: [&str; 4] = [".git", ".gitattributes", ".github", ".gitignore"];

/// How a model is cut into resources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Serialization {
    /// One resource per file (`method: "files"`).
    Files,
    /// One resource per byte range of each non-empty file (`method: "shards"`).
    Shards {
        /// Bytes per shard; the last shard of a file may be shorter.
        shard_size: u64,
    },
}

impl Serialization {
    /// The `method` string recorded in the predicate.
    #[must_use]
    pub fn method(self) -> &'static str {
        match self {
            Self::Files => "files",
            Self::Shards { .. } => "shards",
        }
    }
}

/// `predicate.serialization`: everything a verifier needs to re-hash the model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerializationParams {
    /// Files or shards.
    pub method: Serialization,
    /// The content hash.
    pub hash: HashAlgorithm,
    /// Whether symbolic links to files were followed when signing.
    pub allow_symlinks: bool,
    /// Model-relative paths that were excluded (a set; kept sorted).
    pub ignore_paths: Vec<String>,
}

impl SerializationParams {
    /// The `algorithm` string each resource carries: the hash name for `files`,
    /// `<hash>-sharded-<shard_size>` for shards (as the reference writes it).
    #[must_use]
    pub fn resource_algorithm(&self) -> String {
        resource_algorithm(self.method, self.hash)
    }

    /// Whether a recorded resource `algorithm` is consistent with these parameters.
    /// For shards the plain hash name (what the OMS spec text says) is accepted too.
    #[must_use]
    pub fn accepts_algorithm(&self, algorithm: &str) -> bool {
        algorithm == self.resource_algorithm()
            || (matches!(self.method, Serialization::Shards { .. })
                && algorithm == self.hash.name())
    }
}

/// The `algorithm` string each resource of a model hashed as `method` with `hash`
/// carries: the hash name for `files`, `<hash>-sharded-<shard_size>` for shards (as
/// the reference writes it).
#[must_use]
pub fn resource_algorithm(method: Serialization, hash: HashAlgorithm) -> String {
    match method {
        Serialization::Files => hash.name().to_owned(),
        Serialization::Shards { shard_size } => format!("{}-sharded-{shard_size}", hash.name()),
    }
}

/// A model manifest: serialization parameters and resources in a fixed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Informational model name (`subject[0].name`).
    pub model_name: String,
    /// How the model was hashed.
    pub params: SerializationParams,
    /// Resources in the order they are (or will be) listed in the payload.
    pub resources: Resources,
}

impl Manifest {
    /// The bytes whose SHA-256 is the root (subject) digest: the raw resource digests
    /// concatenated in list order, with no separators (OMS spec §6.5.1).
    #[must_use]
    pub fn root_digest_input(&self) -> &[u8] {
        self.resources.digest_bytes()
    }

    /// Sorts resources into the reference's canonical order.
    ///
    /// # Errors
    /// Never in practice (the same names fit again): [`NamesFull`].
    pub fn sort_reference_order(&mut self) -> Result<(), NamesFull> {
        self.resources = self.resources.sorted_by(|a, b| a.reference_cmp(b))?;
        Ok(())
    }

    /// Refuses a manifest that names a resource twice.
    ///
    /// # Errors
    /// [`FormatError::DuplicateResource`] naming it.
    pub fn check_unique(&self) -> Result<(), FormatError> {
        let mut seen = HashSet::with_capacity(self.resources.len());
        for r in &self.resources {
            if !seen.insert((r.path, r.range)) {
                return Err(FormatError::DuplicateResource {
                    name: r.to_string(),
                });
            }
        }
        Ok(())
    }
}
