//! `hallmark sign … --incremental` and `hallmark verify … --incremental` (issue 21):
//! reuse the digests of files that have not changed since they were last hashed on this
//! machine, judged by a stat cache ([`hallmark_hash::StatCache`]: device, inode, size,
//! mtime and ctime in nanoseconds; racily clean entries are not trusted) **and** the
//! manifest of the signature at hand (the previous signature at the output path when
//! signing, the signature being checked when verifying): a digest is reused only if the
//! cache and that manifest record the same value.
//!
//! The cache lives in `$XDG_CACHE_HOME/hallmark/statcache/` (else `~/.cache/…`), one
//! file per model root, serialization and hash, never next to the signature (which may
//! lie inside the model and would then become part of it). It is written atomically
//! after a successful run; a cache that is corrupt or written for another model is
//! ignored with a warning and everything is hashed.
//!
//! When signing, the previous signature is not parsed if it holds the statement signed
//! with the cache: [`StatCache::bind`] writes that statement again from the cache's
//! entries and compares it with the signature's payload as both stream by (a cache
//! whose digests were edited, or a signature swapped, no longer compares equal, and
//! then the signature's manifest is parsed and every reused digest compared with it,
//! as when verifying). Nothing is read whole: memory stays flat at any file count.

use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use hallmark_format::bundle::Bundle;
use hallmark_format::limits::Limits;
use hallmark_format::statement::parse_statement;
use hallmark_format::{HashAlgorithm, Manifest, Serialization};
use hallmark_hash::{EngineOptions, Frame, StatCache};

/// One run's stat cache.
pub(crate) struct Incremental {
    cache: Arc<StatCache>,
}

impl Incremental {
    /// The cache for signing `model` with `method`/`hash`, reusing digests only where the
    /// signature now at `signature` (if any) records them.
    pub(crate) fn for_sign(
        model: &Path,
        method: Serialization,
        hash: HashAlgorithm,
        signature: &Path,
    ) -> anyhow::Result<Self> {
        let (mut cache, root, found) = Self::open(model, method, hash)?;
        if found && cache.bind(signature) {
            hallmark_hash::timing::mark("incremental: cache bound to previous signature");
        } else if found {
            let previous = std::fs::read(signature).ok().and_then(|b| {
                let m = manifest_of(&b);
                if m.is_none() {
                    errln!(
                        "warning: --incremental: previous signature {} is unreadable; hashing every file",
                        signature.display()
                    );
                }
                m
            });
            hallmark_hash::timing::mark("incremental: previous signature");
            if let Some(m) = previous {
                cache.expect_resources(m.params.method, m.params.hash, m.resources, !root.is_dir());
            }
        }
        Ok(Self {
            cache: Arc::new(cache),
        })
    }

    /// The cache for verifying `model` against the signature `bundle` (whose manifest
    /// gives the serialization and hash, and the only digests that may be reused).
    pub(crate) fn for_verify(model: &Path, bundle: &[u8]) -> anyhow::Result<Option<Self>> {
        let Some(m) = manifest_of(bundle) else {
            // Verification reports what is wrong with the signature.
            return Ok(None);
        };
        let (mut cache, root, _) = Self::open(model, m.params.method, m.params.hash)?;
        cache.expect_resources(m.params.method, m.params.hash, m.resources, !root.is_dir());
        Ok(Some(Self {
            cache: Arc::new(cache),
        }))
    }

    /// The cache of `model` for `method`/`hash`, its file opened if there is a usable
    /// one (the model's canonical path and whether there is come along).
    fn open(
        model: &Path,
        method: Serialization,
        hash: HashAlgorithm,
    ) -> anyhow::Result<(StatCache, PathBuf, bool)> {
        let root = std::fs::canonicalize(model)
            .with_context(|| format!("cannot resolve the model path {}", model.display()))?;
        let dir = cache_dir()?;
        std::fs::DirBuilder::new()
            .recursive(true)
            .create(&dir)
            .with_context(|| format!("cannot create the stat cache directory {}", dir.display()))?;
        let probe = StatCache::new(&root, method, hash, 0, &dir);
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, probe.identity().as_bytes());
        let file = dir.join(format!("{}.cache", hex::encode(digest.as_ref())));
        let mut cache = StatCache::new(&root, method, hash, stamp(&dir)?, &file);
        let found = cache.open().unwrap_or_else(|e| {
            errln!(
                "warning: --incremental: ignoring {}: {e}; hashing every file",
                file.display()
            );
            false
        });
        hallmark_hash::timing::mark("incremental: open stat cache");
        Ok((cache, root, found))
    }

    /// Engine options that consult and fill this cache.
    pub(crate) fn attach(&self, opts: &EngineOptions) -> EngineOptions {
        EngineOptions {
            incremental: Some(Arc::clone(&self.cache)),
            ..opts.clone()
        }
    }

    /// Writes the cache for the next run, with the `frame` of the statement signed from
    /// this run's manifest (`None` when verifying); a failure is only a warning: the
    /// signature or verdict stands. Returns the one-line summary to print and the
    /// counts as JSON (`{"reused": files, "hashed": files}`).
    pub(crate) fn save(&self, frame: Option<&Frame>) -> (String, serde_json::Value) {
        let written = self.cache.save(frame);
        hallmark_hash::timing::mark("incremental: write stat cache");
        if let Err(e) = written {
            errln!("warning: --incremental: stat cache not written: {e}");
        }
        self.summary()
    }

    /// [`Self::save`] after signing `m`, whose statement's subject digest is `root`.
    pub(crate) fn save_signed(&self, m: &Manifest, root: [u8; 32]) -> (String, serde_json::Value) {
        self.save(Some(&Frame {
            root_digest: root,
            model_name: m.model_name.clone(),
            allow_symlinks: m.params.allow_symlinks,
            ignore_paths: m.params.ignore_paths.clone(),
        }))
    }

    /// What this run read and what it trusted from the cache, as a line to print and
    /// as JSON (`reused`, `hashed`, `hashed_because`, `hashed_first`).
    pub(crate) fn summary(&self) -> (String, serde_json::Value) {
        let (reused, hashed) = (self.cache.reused_files(), self.cache.hashed_files());
        let why = self.cache.rehashed();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let mut summary = format!(
            "{reused} file{} not read: digests trusted from the stat cache (device, inode, size, mtime and ctime unchanged since hashed on this machine, digests as the signature records); {hashed} file{} hashed",
            plural(reused),
            plural(hashed),
        );
        if hashed > 0 {
            let counts: Vec<String> = why
                .counts
                .iter()
                .map(|(r, n)| format!("{n} {}", r.describe()))
                .collect();
            let names: Vec<String> = why
                .names
                .iter()
                .map(|(name, r)| format!("{name} ({})", r.describe()))
                .collect();
            let more = if hashed > names.len() { ", …" } else { "" };
            summary.push_str(&format!(
                " ({}): {}{more}",
                counts.join(", "),
                names.join(", ")
            ));
        }
        let reasons: serde_json::Map<String, serde_json::Value> = why
            .counts
            .iter()
            .map(|(r, n)| (r.describe().to_owned(), (*n).into()))
            .collect();
        (
            summary,
            serde_json::json!({
                "reused": reused,
                "hashed": hashed,
                "hashed_because": reasons,
                "hashed_first": why.names.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            }),
        )
    }
}

/// The manifest a signature's statement records (not authenticated: it only restricts
/// which cached digests may be reused).
fn manifest_of(bundle: &[u8]) -> Option<Manifest> {
    let limits = Limits::default();
    let bundle = Bundle::parse(bundle, &limits).ok()?;
    Some(
        parse_statement(&bundle.envelope.payload, &limits)
            .ok()?
            .manifest,
    )
}

/// `$XDG_CACHE_HOME/hallmark/statcache`, else `$HOME/.cache/hallmark/statcache`.
fn cache_dir() -> anyhow::Result<PathBuf> {
    let abs = |k: &str| {
        std::env::var_os(k)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = abs("XDG_CACHE_HOME")
        .or_else(|| abs("HOME").map(|h| h.join(".cache")))
        .context("--incremental: neither XDG_CACHE_HOME nor HOME is set")?;
    Ok(base.join("hallmark").join("statcache"))
}

/// The filesystem's current time, as the mtime of a file created now: later changes to
/// any file get a timestamp at least this large, earlier ones a smaller one unless made
/// in this very tick (which is why entries not strictly older are re-hashed).
fn stamp(dir: &Path) -> anyhow::Result<i128> {
    let tmp = tempfile::Builder::new()
        .prefix(".stamp-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    let m = tmp.as_file().metadata()?;
    Ok(i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()))
}
