//! How the synchronous log traits reach the async engines (a leaf of the log module).

/// The one place where the synchronous log traits wait for the async engines: futures run
/// on the runtime behind the handle (where the pools' connections live), the caller's
/// thread blocks until they finish. tokio panics if that thread is an async worker.
#[derive(Clone, Debug)]
pub(crate) struct Bridge(tokio::runtime::Handle);

impl Bridge {
    pub(crate) fn new(rt: tokio::runtime::Handle) -> Self {
        Self(rt)
    }

    /// Runs `fut` to completion from a synchronous caller.
    pub(crate) fn wait<F: std::future::Future>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }
}

/// Maps a backend failure into the log's error type, naming what was being done.
pub(crate) fn storage_error(op: &'static str, e: impl std::fmt::Display) -> hallmark_tlog::Error {
    hallmark_tlog::Error::Storage {
        op,
        reason: e.to_string(),
    }
}
