//! Content-addressed blobs through `object_store`.
//!
//! Keys: `blobs/sha256/<first 2 hex>/<64 hex>` for content, `staging/<random>` while a
//! blob streams in. A blob becomes visible under its digest only after every byte was
//! hashed by us and the staging object was complete, by a create-if-absent rename; a
//! second upload of the same content is deduplicated. Hashing runs on the blocking pool
//! in [`PART_SIZE`] pieces, never on async worker threads.

use std::ops::Range;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lc_rs::digest::{Context, SHA256};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, GetResultPayload, MultipartUpload, ObjectStore, ObjectStoreExt, PutMode,
    PutOptions, PutPayload,
};

use crate::error::{Result, StoreError};

/// Bytes hashed and written per step (also the multipart part size, above S3's 5 MiB minimum).
pub const PART_SIZE: usize = 8 << 20;

/// A stored blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// Lower-case hex SHA-256.
    pub sha256: String,
    /// Bytes.
    pub size: u64,
    /// The content was already present.
    pub deduplicated: bool,
}

/// Blob storage over any [`ObjectStore`].
#[derive(Clone, Debug)]
pub struct BlobStore {
    pub(crate) store: Arc<dyn ObjectStore>,
    local_root: Option<PathBuf>,
}

fn random_hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| StoreError::Task("random number generator failed".into()))?;
    Ok(hex::encode(buf))
}

/// Whether `s` is 64 lower-case hex digits.
fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

async fn hash_on_pool(mut ctx: Context, data: Vec<u8>) -> Result<(Context, Vec<u8>)> {
    tokio::task::spawn_blocking(move || {
        ctx.update(&data);
        (ctx, data)
    })
    .await
    .map_err(|e| StoreError::Task(e.to_string()))
}

impl BlobStore {
    /// Blobs in a local directory (created if missing). `fsync` makes every completed
    /// blob durable before it is acknowledged.
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn local(root: &FsPath, fsync: bool) -> Result<Self> {
        std::fs::create_dir_all(root).map_err(|source| StoreError::Io {
            path: root.display().to_string(),
            source,
        })?;
        let fs = LocalFileSystem::new_with_prefix(root)?
            .with_fsync(fsync)
            .with_automatic_cleanup(true);
        Ok(Self {
            store: Arc::new(fs),
            local_root: Some(root.to_path_buf()),
        })
    }

    /// The object store underneath (the shared log keeps its tiles under `log/` in it).
    #[must_use]
    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        Arc::clone(&self.store)
    }

    /// Blobs in any object store (S3-compatible, in-memory for tests, …).
    #[must_use]
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            local_root: None,
        }
    }

    /// The key of a blob.
    #[must_use]
    pub fn key(sha256_hex: &str) -> Path {
        let prefix = sha256_hex.get(..2).unwrap_or("xx");
        Path::from(format!("blobs/sha256/{prefix}/{sha256_hex}"))
    }

    /// Where a blob lies on disk, when the store is a local directory (readers that need
    /// to seek, like the scanner, open it directly).
    #[must_use]
    pub fn local_path(&self, sha256_hex: &str) -> Option<PathBuf> {
        let root = self.local_root.as_ref()?;
        is_sha256_hex(sha256_hex).then(|| root.join(Self::key(sha256_hex).as_ref()))
    }

    /// Starts streaming a new blob of at most `max_size` bytes.
    ///
    /// # Errors
    /// The random staging name cannot be drawn.
    pub fn writer(&self, max_size: u64) -> Result<BlobWriter> {
        Ok(BlobWriter {
            store: Arc::clone(&self.store),
            staging: Path::from(format!("staging/{}", random_hex(16)?)),
            hasher: Some(Context::new(&SHA256)),
            buf: Vec::new(),
            size: 0,
            max_size,
            upload: None,
        })
    }

    /// Stores a small blob held in memory.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn put_bytes(&self, data: Bytes) -> Result<StoredBlob> {
        let mut w = self.writer(u64::MAX)?;
        w.write(&data).await?;
        w.finish(None).await
    }

    /// The size of a stored blob, or `None` if absent.
    ///
    /// # Errors
    /// Storage failure other than "not found".
    pub async fn size(&self, sha256_hex: &str) -> Result<Option<u64>> {
        if !is_sha256_hex(sha256_hex) {
            return Ok(None);
        }
        match self.store.head(&Self::key(sha256_hex)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Streams a blob, or the byte `range` of it.
    ///
    /// # Errors
    /// The blob is absent or storage fails.
    pub async fn get(
        &self,
        sha256_hex: &str,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes>>> {
        let opts = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let got = self.store.get_opts(&Self::key(sha256_hex), opts).await?;
        #[cfg(unix)]
        if let GetResultPayload::File(file, path) = got.payload {
            let path = path.display().to_string();
            return Ok(crate::filestream::FileChunks::new(file, &path, got.range).boxed());
        }
        Ok(got
            .into_stream()
            .map(|r| r.map_err(StoreError::from))
            .boxed())
    }

    /// Reads a whole (small) blob into memory.
    ///
    /// # Errors
    /// The blob is absent or storage fails.
    pub async fn read_all(&self, sha256_hex: &str) -> Result<Bytes> {
        Ok(self
            .store
            .get(&Self::key(sha256_hex))
            .await?
            .bytes()
            .await?)
    }

    /// Re-hashes a stored blob and returns its SHA-256 (detects tampering in storage).
    ///
    /// # Errors
    /// The blob is absent or storage fails.
    pub async fn rehash(&self, sha256_hex: &str) -> Result<String> {
        self.rehash_paced(sha256_hex, None).await
    }

    /// [`BlobStore::rehash`] reading at most `bytes_per_sec` on average (`None`: as fast
    /// as storage allows): the pace of a background scrub, which must leave disk and CPU
    /// to the requests being served.
    ///
    /// # Errors
    /// The blob is absent or storage fails.
    pub async fn rehash_paced(
        &self,
        sha256_hex: &str,
        bytes_per_sec: Option<u64>,
    ) -> Result<String> {
        let mut stream = self.get(sha256_hex, None).await?;
        let mut ctx = Context::new(&SHA256);
        let mut buf = Vec::with_capacity(PART_SIZE);
        let start = tokio::time::Instant::now();
        let mut read = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            read += chunk.len() as u64;
            buf.extend_from_slice(&chunk);
            if let Some(rate) = bytes_per_sec.filter(|r| *r > 0) {
                // u64 nanoseconds cover 584 years of reading
                let due = Duration::from_nanos(
                    u64::try_from(u128::from(read) * 1_000_000_000 / u128::from(rate))
                        .unwrap_or(u64::MAX),
                );
                if let Some(at) = start.checked_add(due) {
                    tokio::time::sleep_until(at).await;
                }
            }
            if buf.len() >= PART_SIZE {
                let (c, mut b) = hash_on_pool(ctx, buf).await?;
                b.clear();
                (ctx, buf) = (c, b);
            }
        }
        let (ctx, _) = hash_on_pool(ctx, buf).await?;
        Ok(hex::encode(ctx.finish()))
    }

    /// Removes staging objects older than `age` (left by a crash or an abandoned upload).
    /// For a local directory this includes half-written multipart files.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn sweep_staging(&self, age: Duration) -> Result<u64> {
        if let Some(root) = &self.local_root {
            let dir = root.join("staging");
            return tokio::task::spawn_blocking(move || sweep_dir(&dir, age))
                .await
                .map_err(|e| StoreError::Task(e.to_string()))?;
        }
        let cutoff = chrono_cutoff(age);
        let mut list = self.store.list(Some(&Path::from("staging")));
        let mut n = 0;
        while let Some(meta) = list.next().await {
            let meta = meta?;
            if meta.last_modified.timestamp() < cutoff {
                self.store.delete(&meta.location).await?;
                n += 1;
            }
        }
        Ok(n)
    }
}

pub(crate) fn chrono_cutoff(age: Duration) -> i64 {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(now.saturating_sub(age.as_secs())).unwrap_or(i64::MAX)
}

fn sweep_dir(dir: &FsPath, age: Duration) -> Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(source) => {
            return Err(StoreError::Io {
                path: dir.display().to_string(),
                source,
            });
        }
    };
    let now = SystemTime::now();
    let mut n = 0;
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_none_or(|d| d >= age);
        if old && std::fs::remove_file(entry.path()).is_ok() {
            n += 1;
        }
    }
    Ok(n)
}

/// Whether an existing blob was last written more than [`REFRESH_AFTER`] ago. An upload
/// that finds its content already stored rewrites such a blob (same key, same bytes), so
/// the garbage collector, which spares blobs younger than its grace period, never
/// collects content an upload in flight has just been told is stored.
async fn stale(store: &dyn ObjectStore, key: &Path) -> Result<bool> {
    match store.head(key).await {
        Ok(meta) => Ok(meta.last_modified.timestamp() < chrono_cutoff(REFRESH_AFTER)),
        Err(object_store::Error::NotFound { .. }) => Ok(true),
        Err(e) => Err(e.into()),
    }
}

/// How old an existing blob may be before an upload of the same content rewrites it
/// (see [`crate::BlobStore::collect_garbage`]: its grace period must exceed this).
pub const REFRESH_AFTER: Duration = Duration::from_secs(3600);

/// One blob being streamed in; see [`BlobStore::writer`].
pub struct BlobWriter {
    store: Arc<dyn ObjectStore>,
    staging: Path,
    hasher: Option<Context>,
    buf: Vec<u8>,
    size: u64,
    max_size: u64,
    upload: Option<Box<dyn MultipartUpload>>,
}

impl std::fmt::Debug for BlobWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobWriter")
            .field("staging", &self.staging)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl BlobWriter {
    /// Bytes received so far.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends bytes; every [`PART_SIZE`] they are hashed and written out.
    ///
    /// # Errors
    /// The size limit is exceeded or storage fails.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        self.size = self.size.saturating_add(chunk.len() as u64);
        if self.size > self.max_size {
            return Err(StoreError::TooLarge {
                limit: self.max_size,
            });
        }
        self.buf.extend_from_slice(chunk);
        if self.buf.len() >= PART_SIZE {
            self.flush_part().await?;
        }
        Ok(())
    }

    async fn hash_buf(&mut self) -> Result<Vec<u8>> {
        let ctx = self
            .hasher
            .take()
            .ok_or_else(|| StoreError::Task("blob writer used after an error".into()))?;
        let (ctx, data) = hash_on_pool(ctx, std::mem::take(&mut self.buf)).await?;
        self.hasher = Some(ctx);
        Ok(data)
    }

    async fn flush_part(&mut self) -> Result<()> {
        let data = self.hash_buf().await?;
        if self.upload.is_none() {
            self.upload = Some(self.store.put_multipart(&self.staging).await?);
        }
        if let Some(up) = self.upload.as_mut() {
            up.put_part(PutPayload::from(data)).await?;
        }
        Ok(())
    }

    /// Finishes the blob: checks the digest the client announced (if any) and makes
    /// the blob visible under its digest.
    ///
    /// # Errors
    /// [`StoreError::DigestMismatch`] (nothing is stored), or a storage failure.
    pub async fn finish(mut self, announced: Option<&str>) -> Result<StoredBlob> {
        let tail = self.hash_buf().await?;
        let digest = self
            .hasher
            .take()
            .map(|c| hex::encode(c.finish()))
            .ok_or_else(|| StoreError::Task("blob writer used after an error".into()))?;
        if let Some(want) = announced
            && !want.eq_ignore_ascii_case(&digest)
        {
            if let Some(mut up) = self.upload.take() {
                let _ = up.abort().await;
            }
            return Err(StoreError::DigestMismatch {
                announced: want.to_owned(),
                received: digest,
            });
        }
        let key = BlobStore::key(&digest);
        let blob = |deduplicated| StoredBlob {
            sha256: digest.clone(),
            size: self.size,
            deduplicated,
        };
        let Some(mut up) = self.upload.take() else {
            // Everything is in memory and already hashed: write it straight to its key.
            let opts = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            let tail = Bytes::from(tail);
            return match self
                .store
                .put_opts(&key, PutPayload::from(tail.clone()), opts)
                .await
            {
                Ok(_) => Ok(blob(false)),
                Err(object_store::Error::AlreadyExists { .. }) => {
                    if stale(&*self.store, &key).await? {
                        self.store.put(&key, PutPayload::from(tail)).await?;
                    }
                    Ok(blob(true))
                }
                Err(e) => Err(e.into()),
            };
        };
        if !tail.is_empty() {
            up.put_part(PutPayload::from(tail)).await?;
        }
        up.complete().await?;
        let renamed = match self.store.rename_if_not_exists(&self.staging, &key).await {
            // S3 has no create-if-absent copy without vendor extensions. The key is the
            // content's digest, so an unconditional copy can only ever write the same
            // bytes: check for an existing blob (dedupe), else copy over.
            Err(
                object_store::Error::NotSupported { .. }
                | object_store::Error::NotImplemented { .. },
            ) => match self.store.head(&key).await {
                Ok(_) => Err(object_store::Error::AlreadyExists {
                    path: key.to_string(),
                    source: "content already stored".into(),
                }),
                Err(object_store::Error::NotFound { .. }) => {
                    self.store.rename(&self.staging, &key).await
                }
                Err(e) => Err(e),
            },
            other => other,
        };
        match renamed {
            Ok(()) => Ok(blob(false)),
            Err(object_store::Error::AlreadyExists { .. }) => {
                if stale(&*self.store, &key).await? {
                    // The same bytes, written anew: the blob is fresh again for the GC.
                    self.store.rename(&self.staging, &key).await?;
                } else {
                    let _ = self.store.delete(&self.staging).await;
                }
                Ok(blob(true))
            }
            Err(e) => {
                let _ = self.store.delete(&self.staging).await;
                Err(e.into())
            }
        }
    }
}
