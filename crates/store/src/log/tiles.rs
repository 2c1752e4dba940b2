//! [`hallmark_tlog::TileStorage`] through [`object_store`].

use std::sync::Arc;

use hallmark_tlog::{Error, TileFetch, TileStorage, Upload, Uploaded, compare_existing};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use tokio::runtime::Handle;

use super::bridge::{Bridge, storage_error, write_error};

/// Key prefix of the logs inside the hub's blob store (each log under `log/<tree id>/`).
pub const LOG_PREFIX: &str = "log";

/// One log's objects in an [`object_store`] (local directory or S3), under
/// `log/<tree id>/` — so two hubs that share a bucket prefix by mistake keep apart logs.
///
/// Writes are plain PUTs: S3-compatible stores differ in their support for conditional
/// writes (Garage 2.x ignores `If-None-Match`), and the shared sequencer does not need
/// them — it writes a tile key only after the commit that fixes its content. So
/// [`Upload::IfAbsent`] here is a read-compare-write, correct only for a single writer;
/// [`hallmark_tlog::Sequencer`] (one node) should use a local `DirStore`.
pub struct ObjectStoreTiles {
    store: Arc<dyn ObjectStore>,
    rt: Bridge,
}

impl std::fmt::Debug for ObjectStoreTiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreTiles").finish_non_exhaustive()
    }
}

impl ObjectStoreTiles {
    /// Log `tree_id` inside the blob store `store` (under `log/<tree_id>/`); blocking
    /// calls run on `rt`.
    #[must_use]
    pub fn new(store: Arc<dyn ObjectStore>, tree_id: u64, rt: Handle) -> Self {
        Self {
            store: Arc::new(PrefixStore::new(store, format!("{LOG_PREFIX}/{tree_id}"))),
            rt: Bridge::new(rt),
        }
    }

    fn path(key: &str) -> Result<Path, Error> {
        let ok = !key.is_empty()
            && key
                .split('/')
                .all(|c| !c.is_empty() && c != "." && c != "..");
        if !ok {
            return Err(Error::InvalidEntry(format!("invalid object key {key:?}")));
        }
        Path::parse(key).map_err(|e| Error::InvalidEntry(format!("object key {key:?}: {e}")))
    }

    async fn put_at(&self, key: &str, data: &[u8]) -> Result<(), Error> {
        let path = Self::path(key)?;
        self.store
            .put(&path, PutPayload::from(data.to_vec()))
            .await
            .map(|_| ())
            .map_err(|e| write_error("put log object", key, &e))
    }

    async fn delete_at(&self, key: &str) -> Result<(), Error> {
        let path = Self::path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage_error("delete log object", format!("{key}: {e}"))),
        }
    }
}

impl TileFetch for ObjectStoreTiles {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = Self::path(key)?;
        self.rt.wait(async {
            match self.store.get(&path).await {
                Ok(r) => r
                    .bytes()
                    .await
                    .map(|b| Some(b.to_vec()))
                    .map_err(|e| storage_error("read log object", format!("{key}: {e}"))),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(storage_error("get log object", format!("{key}: {e}"))),
            }
        })
    }
}

impl TileStorage for ObjectStoreTiles {
    fn upload(&self, key: &str, data: &[u8], mode: Upload) -> Result<Uploaded, Error> {
        if mode == Upload::IfAbsent
            && let Some(existing) = self.fetch(key)?
        {
            return Ok(compare_existing(&existing, data));
        }
        self.rt
            .wait(self.put_at(key, data))
            .map(|()| Uploaded::Written)
    }

    fn discard(&self, key: &str) -> Result<(), Error> {
        self.rt.wait(self.delete_at(key))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        use futures_util::TryStreamExt as _;
        let path = Self::path(prefix.trim_end_matches('/'))?;
        let metas: Vec<object_store::ObjectMeta> = self
            .rt
            .wait(self.store.list(Some(&path)).try_collect())
            .map_err(|e| storage_error("list log objects", format!("{prefix}: {e}")))?;
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }

    /// Replacements go out concurrently (put-if-absent, single-writer only, one at a time).
    fn upload_all(
        &self,
        objects: &[(String, Vec<u8>)],
        mode: Upload,
    ) -> Result<Vec<Uploaded>, Error> {
        if mode == Upload::IfAbsent {
            return hallmark_tlog::upload_each(self, objects, mode);
        }
        // Refuse a bad key before writing anything.
        for (k, _) in objects {
            Self::path(k)?;
        }
        let writes = objects.iter().map(|(k, d)| self.put_at(k, d));
        self.rt
            .wait(futures_util::future::try_join_all(writes))
            .map(|done| vec![Uploaded::Written; done.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::local::LocalFileSystem;

    #[test]
    fn objects_live_under_the_log_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let fs: Arc<dyn ObjectStore> =
            Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        let s = ObjectStoreTiles::new(fs, 7, rt.handle().clone());
        s.upload("tile/0/000", b"c", Upload::Replace).unwrap();
        assert_eq!(s.fetch("tile/0/000").unwrap().as_deref(), Some(&b"c"[..]));
        assert!(dir.path().join("log/7/tile/0/000").is_file());
        assert!(s.fetch("../x").is_err());
        assert!(s.upload("a//b", b"x", Upload::Replace).is_err());
    }
}
