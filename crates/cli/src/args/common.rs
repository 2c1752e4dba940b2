//! Options shared by `sign` and `verify` (hashing engine and what is part of the model)
//! and by the log monitors (watch rules).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use hallmark_format::{HashAlgorithm, Serialization};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum SerializationArg {
    /// One digest per file (the reference default; the only one its CLI verifies).
    Files,
    /// One digest per byte range of each file: hashes one big file on every core.
    Shards,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum HashArg {
    /// SHA-256 (default).
    Sha256,
    /// BLAKE2b-512.
    #[value(alias = "blake2")]
    Blake2b,
    /// BLAKE3.
    Blake3,
}

/// How the model is hashed: `sign` and `digest`.
#[derive(Debug, Args)]
pub(crate) struct HashingArgs {
    /// Serialization: files (default) or shards.
    #[arg(long, value_enum, default_value = "files")]
    pub(crate) serialization: SerializationArg,
    /// Content hash.
    #[arg(
        long = "hash",
        alias = "hash_algorithm",
        value_enum,
        default_value = "sha256"
    )]
    pub(crate) hash: HashArg,
    /// Shard size in bytes, for --serialization shards.
    #[arg(long = "shard-size", alias = "shard_size", value_name = "BYTES", default_value_t = hallmark_format::manifest::DEFAULT_SHARD_SIZE)]
    pub(crate) shard_size: u64,
}

impl HashingArgs {
    /// The serialization and content hash asked for.
    pub(crate) fn params(&self) -> anyhow::Result<(Serialization, HashAlgorithm)> {
        let serialization = match self.serialization {
            SerializationArg::Files => Serialization::Files,
            SerializationArg::Shards if self.shard_size == 0 => {
                anyhow::bail!("--shard-size must be greater than 0")
            }
            SerializationArg::Shards => Serialization::Shards {
                shard_size: self.shard_size,
            },
        };
        let hash = match self.hash {
            HashArg::Sha256 => HashAlgorithm::Sha256,
            HashArg::Blake2b => HashAlgorithm::Blake2b,
            HashArg::Blake3 => HashAlgorithm::Blake3,
        };
        Ok((serialization, hash))
    }
}

/// Hashing-engine options shared by sign and verify.
#[derive(Debug, Args)]
pub(crate) struct EngineArgs {
    /// Hashing threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Memory-map files instead of reading them (faster on some systems; only for
    /// trusted local trees: a file truncated while mapped kills the process).
    #[arg(long)]
    pub(crate) mmap: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub(crate) quiet: bool,
}

/// Options that select what is part of the model.
#[derive(Debug, Args)]
pub(crate) struct SelectionArgs {
    /// Path to exclude, relative to the current directory (repeatable).
    #[arg(long = "ignore-paths", alias = "ignore_paths", value_name = "PATH")]
    pub(crate) ignore_paths: Vec<PathBuf>,
    /// Exclude the top-level .git, .gitattributes, .github and .gitignore (default).
    #[arg(
        long = "ignore-git-paths",
        alias = "ignore_git_paths",
        overrides_with = "no_ignore_git_paths"
    )]
    pub(crate) ignore_git_paths: bool,
    /// Include git paths in the model.
    #[arg(long = "no-ignore-git-paths", alias = "no_ignore_git_paths")]
    pub(crate) no_ignore_git_paths: bool,
    /// Follow symbolic links to files (links to directories are skipped).
    #[arg(long = "allow-symlinks", alias = "allow_symlinks")]
    pub(crate) allow_symlinks: bool,
}

/// Watch rules on the command line (`log monitor`, `hub admin org watch`).
#[derive(Debug, Args)]
pub(crate) struct WatchRuleArgs {
    /// Watch this exact certificate identity (repeatable); with --expected-issuer, only
    /// signatures from another issuer alert.
    #[arg(long)]
    pub(crate) identity: Vec<String>,
    /// Watch identities matching this regex (whole value; repeatable).
    #[arg(long = "identity-regex")]
    pub(crate) identity_regex: Vec<String>,
    /// The issuer that --identity/--identity-regex must come from.
    #[arg(long = "expected-issuer")]
    pub(crate) expected_issuer: Option<String>,
    /// Alert when a watched identity (every identity, when none is watched) gets a
    /// signature from an issuer not seen for it before.
    #[arg(long = "first-signer")]
    pub(crate) first_signer: bool,
}
