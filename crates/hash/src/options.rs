//! How callers configure the engine: [`EngineOptions`], the [`Progress`] sink and
//! the [`MmapChoice`]. A leaf module: the engine and its read paths depend on it,
//! it depends only on the stat cache's type.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::statcache::StatCache;

/// Receives progress reports; called from worker threads.
pub trait Progress: Send + Sync {
    /// Called once, before any byte is read.
    fn start(&self, total_bytes: u64, total_units: usize);
    /// Called as bytes are hashed; the sum of all calls is `total_bytes` on success.
    fn advance(&self, bytes: u64);
}

/// Whether the engine reads files through memory maps (default: it does not).
///
/// Mapping saves the copy `pread` makes (about 10 % of one SHA-256 stream), but it
/// is only sound when nobody changes the files while they are hashed, so turning
/// it on is [`unsafe`](MmapChoice::always), as in ripgrep's `MmapChoice::auto`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MmapChoice(bool);

impl MmapChoice {
    /// Read with `pread` into a buffer (the default). A file that changes size
    /// while it is hashed is reported as [`crate::HashError::FileChanged`].
    #[must_use]
    pub const fn never() -> Self {
        Self(false)
    }

    /// Read every file through a read-only memory map.
    ///
    /// # Safety
    ///
    /// No file being hashed may be truncated or modified, by this or any other
    /// process, while the engine runs. The engine checks each file's size just
    /// before mapping it, which narrows but cannot close the window: a file
    /// truncated while mapped raises SIGBUS on the next read past its new end and
    /// kills the process, and a file written while mapped changes memory behind a
    /// shared slice (undefined behaviour; in practice, a digest of a mix of old and
    /// new bytes). Use it only for trusted local trees nobody else writes to.
    #[must_use]
    #[allow(unsafe_code)]
    pub const unsafe fn always() -> Self {
        Self(true)
    }

    /// Whether files are mapped.
    #[must_use]
    pub const fn is_enabled(self) -> bool {
        self.0
    }
}

/// How to run the engine.
#[derive(Clone, Default)]
pub struct EngineOptions {
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    /// Read through memory maps instead of `pread`; see [`MmapChoice::always`]
    /// for why that is `unsafe` to ask for.
    pub mmap: MmapChoice,
    /// Progress sink.
    pub progress: Option<Arc<dyn Progress>>,
    /// Raise to stop: workers check it between chunks and the call returns
    /// [`crate::HashError::Cancelled`].
    pub cancel: Option<Arc<AtomicBool>>,
    /// Reuse the digests of unchanged files recorded in this stat cache and record
    /// the others in it (incremental signing and verification; see [`StatCache`]).
    pub incremental: Option<Arc<StatCache>>,
}

impl std::fmt::Debug for EngineOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineOptions")
            .field("threads", &self.threads)
            .field("mmap", &self.mmap.is_enabled())
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .field("incremental", &self.incremental.is_some())
            .finish()
    }
}

impl EngineOptions {
    /// The number of worker threads `threads` resolves to.
    #[must_use]
    pub fn effective_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        }
    }
}
