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

/// As [`storage_error`] for a failure writing `what` (a key or database file), except that
/// running out of space — an `ENOSPC` anywhere in the error's chain, or SQLite's
/// `SQLITE_FULL` (13) — becomes [`hallmark_tlog::Error::StorageFull`], which the sequencer
/// recovers from by itself and the HTTP layers answer with 507.
pub(crate) fn write_error(
    op: &'static str,
    what: &str,
    e: &(dyn std::error::Error + 'static),
) -> hallmark_tlog::Error {
    let sqlite_full = e.downcast_ref::<sqlx::Error>().is_some_and(
        |e| matches!(e, sqlx::Error::Database(d) if d.code().as_deref() == Some("13")),
    );
    if sqlite_full || hallmark_tlog::is_out_of_space(e) {
        return hallmark_tlog::Error::StorageFull {
            op,
            path: what.to_owned(),
        };
    }
    storage_error(op, format!("{what}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_space_is_storage_full() {
        let io = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let os = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(io),
        };
        let e = write_error("put log object", "tile/0/000", &os);
        assert!(e.is_storage_full(), "{e:?}");
        let other = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(std::io::Error::from(std::io::ErrorKind::PermissionDenied)),
        };
        assert!(!write_error("put", "k", &other).is_storage_full());
    }
}
