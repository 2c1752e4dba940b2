//! [`hallmark_tlog::ObjectStore`] through [`object_store`].

use std::sync::Arc;

use hallmark_tlog::{Error, ObjectStore as LogObjects, PutOutcome, TileFetch};
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use tokio::runtime::Handle;

use super::storage_error;

/// Key prefix of the logs inside the hub's blob store (each log under `log/<tree id>/`).
pub const LOG_PREFIX: &str = "log";

/// One log's objects in an [`object_store`] (local directory or S3), under
/// `log/<tree id>/` — so two hubs that share a bucket prefix by mistake keep apart logs.
///
/// Writes are plain PUTs: S3-compatible stores differ in their support for conditional
/// writes (Garage 2.x ignores `If-None-Match`), and the shared sequencer does not need
/// them — it writes a tile key only after the commit that fixes its content. So
/// [`LogObjects::put_if_absent`] here is a read-compare-write, correct only for a single
/// writer; [`hallmark_tlog::Sequencer`] (one node) should use a local `DirStore`.
pub struct TileStore {
    store: Arc<dyn ObjectStore>,
    rt: Handle,
}

impl std::fmt::Debug for TileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileStore").finish_non_exhaustive()
    }
}

impl TileStore {
    /// Log `tree_id` inside the blob store `store` (under `log/<tree_id>/`); blocking
    /// calls run on `rt`.
    #[must_use]
    pub fn new(store: Arc<dyn ObjectStore>, tree_id: u64, rt: Handle) -> Self {
        Self {
            store: Arc::new(PrefixStore::new(store, format!("{LOG_PREFIX}/{tree_id}"))),
            rt,
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
            .map_err(|e| storage_error("put log object", format!("{key}: {e}")))
    }

    async fn delete_at(&self, key: &str) -> Result<(), Error> {
        let path = Self::path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(storage_error("delete log object", format!("{key}: {e}"))),
        }
    }
}

impl TileFetch for TileStore {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let path = Self::path(key)?;
        self.rt.block_on(async {
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

impl LogObjects for TileStore {
    fn put_if_absent(&self, key: &str, data: &[u8]) -> Result<PutOutcome, Error> {
        match self.fetch(key)? {
            Some(existing) if existing == data => Ok(PutOutcome::Identical),
            Some(_) => Ok(PutOutcome::Differs),
            None => self
                .rt
                .block_on(self.put_at(key, data))
                .map(|()| PutOutcome::Created),
        }
    }

    fn overwrite(&self, key: &str, data: &[u8]) -> Result<(), Error> {
        self.rt.block_on(self.put_at(key, data))
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        use futures_util::TryStreamExt as _;
        let path = Self::path(prefix.trim_end_matches('/'))?;
        let metas: Vec<object_store::ObjectMeta> = self
            .rt
            .block_on(self.store.list(Some(&path)).try_collect())
            .map_err(|e| storage_error("list log objects", format!("{prefix}: {e}")))?;
        Ok(metas.into_iter().map(|m| m.location.to_string()).collect())
    }

    fn delete(&self, key: &str) -> Result<(), Error> {
        self.rt.block_on(self.delete_at(key))
    }

    fn overwrite_many(
        &self,
        objects: &[(String, Vec<u8>)],
        delete: Option<&str>,
    ) -> Result<(), Error> {
        // Refuse a bad key before writing anything.
        for k in objects.iter().map(|(k, _)| k.as_str()).chain(delete) {
            Self::path(k)?;
        }
        self.rt.block_on(async {
            let writes = objects.iter().map(|(k, d)| self.put_at(k, d));
            let removal = async {
                match delete {
                    Some(k) => self.delete_at(k).await,
                    None => Ok(()),
                }
            };
            let (w, r) =
                futures_util::future::join(futures_util::future::try_join_all(writes), removal)
                    .await;
            w?;
            r
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::local::LocalFileSystem;

    #[test]
    fn objects_round_trip_under_the_log_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        let fs: Arc<dyn ObjectStore> =
            Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
        let s = TileStore::new(fs, 7, rt.handle().clone());
        assert_eq!(s.fetch("tile/0/000").unwrap(), None);
        assert_eq!(
            s.put_if_absent("tile/0/000", b"a").unwrap(),
            PutOutcome::Created
        );
        assert_eq!(
            s.put_if_absent("tile/0/000", b"a").unwrap(),
            PutOutcome::Identical
        );
        assert_eq!(
            s.put_if_absent("tile/0/000", b"b").unwrap(),
            PutOutcome::Differs
        );
        s.overwrite("tile/0/000", b"c").unwrap();
        assert_eq!(s.fetch("tile/0/000").unwrap().as_deref(), Some(&b"c"[..]));
        assert!(dir.path().join("log/7/tile/0/000").is_file());
        s.overwrite("hallmark/staging/1-aa-1", b"s").unwrap();
        assert_eq!(
            s.list("hallmark/staging/").unwrap(),
            ["hallmark/staging/1-aa-1"]
        );
        assert!(s.list("nothing/").unwrap().is_empty());
        s.delete("tile/0/000").unwrap();
        s.delete("tile/0/000").unwrap();
        assert!(s.fetch("../x").is_err());
    }
}
