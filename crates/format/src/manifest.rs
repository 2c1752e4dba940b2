//! The manifest: what was hashed, how, and every resource's digest
//! (OMS spec §5.2, §6.3–§6.5; `docs/oms-spec.md` §1.4–§1.5, §2).

use std::collections::HashMap;

use crate::digest::HashAlgorithm;
use crate::error::FormatError;
use crate::resource::ResourceName;

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
        match self.method {
            Serialization::Files => self.hash.name().to_owned(),
            Serialization::Shards { shard_size } => {
                format!("{}-sharded-{shard_size}", self.hash.name())
            }
        }
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

/// One manifest entry: a resource and its digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceDigest {
    /// Which file or shard.
    pub name: ResourceName,
    /// The recorded algorithm string (e.g. `sha256`, `sha256-sharded-1000000000`).
    pub algorithm: String,
    /// Raw digest bytes.
    pub digest: Vec<u8>,
}

/// A model manifest: serialization parameters and resources in a fixed order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    /// Informational model name (`subject[0].name`).
    pub model_name: String,
    /// How the model was hashed.
    pub params: SerializationParams,
    /// Resources in the order they are (or will be) listed in the payload.
    pub resources: Vec<ResourceDigest>,
}

impl Manifest {
    /// The bytes whose SHA-256 is the root (subject) digest: the raw resource digests
    /// concatenated in list order, with no separators (OMS spec §6.5.1).
    #[must_use]
    pub fn root_digest_input(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.resources.iter().map(|r| r.digest.len()).sum());
        for r in &self.resources {
            out.extend_from_slice(&r.digest);
        }
        out
    }

    /// Sorts resources into the reference's canonical order.
    pub fn sort_reference_order(&mut self) {
        self.resources.sort_by(|a, b| a.name.reference_cmp(&b.name));
    }

    /// Indexes resources by name, refusing duplicates.
    pub fn by_name(&self) -> Result<HashMap<&ResourceName, &ResourceDigest>, FormatError> {
        let mut map = HashMap::with_capacity(self.resources.len());
        for r in &self.resources {
            if map.insert(&r.name, r).is_some() {
                return Err(FormatError::DuplicateResource {
                    name: r.name.to_string(),
                });
            }
        }
        Ok(map)
    }
}
