//! Issue 16 §2, the range blind spot: a blob rewritten in the same tick of the storage's
//! clock as its last change keeps its stamp (same inode and size, the modification time
//! set back, the status-change time still in its tick), so a verification remembered by
//! that stamp would let later ranges serve the rewritten bytes unchecked. The hub applies
//! git's racy rule ([`hallmark_store::RACY_MARGIN`]).
//!
//! Linux 6.13+ gives a file whose times were just read a fine-grained time at its next
//! change (this machine's ext4 does), so the same-tick rewrite cannot be staged on a local
//! directory here; the test stores blobs through [`OneSecondClock`], the view of a store
//! whose clock ticks once a second (ext3 or HFS+, an NFS export of one, a WebDAV store
//! whose entity tag is built from times and size as Apache's and nginx's are).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::http::StatusCode;
use futures_util::stream::BoxStream;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result,
};

use crate::harness::{Hub, hub};

/// A local directory seen through one-second clocks: `Last-Modified` in whole seconds and
/// an entity tag of inode, size and the modification and status-change seconds.
#[derive(Debug)]
struct OneSecondClock {
    inner: LocalFileSystem,
    root: PathBuf,
}

impl std::fmt::Display for OneSecondClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OneSecondClock({})", self.root.display())
    }
}

impl OneSecondClock {
    fn coarse(&self, meta: &mut ObjectMeta) {
        use std::os::unix::fs::MetadataExt as _;
        let Ok(m) = std::fs::metadata(self.root.join(meta.location.as_ref())) else {
            return;
        };
        let subsec = meta.last_modified.timestamp_subsec_nanos();
        meta.last_modified -= Duration::from_nanos(u64::from(subsec));
        meta.e_tag = Some(format!(
            "\"{:x}-{:x}-{:x}-{:x}\"",
            m.ino(),
            m.size(),
            m.mtime(),
            m.ctime()
        ));
    }
}

#[async_trait]
impl ObjectStore for OneSecondClock {
    async fn put_opts(&self, l: &Path, p: PutPayload, o: PutOptions) -> Result<PutResult> {
        self.inner.put_opts(l, p, o).await
    }
    async fn put_multipart_opts(
        &self,
        l: &Path,
        o: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(l, o).await
    }
    async fn get_opts(&self, l: &Path, o: GetOptions) -> Result<GetResult> {
        let mut got = self.inner.get_opts(l, o).await?;
        self.coarse(&mut got.meta);
        Ok(got)
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }
    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list(prefix)
    }
    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }
    async fn copy_opts(&self, from: &Path, to: &Path, o: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, o).await
    }
    async fn rename_opts(&self, from: &Path, to: &Path, o: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, o).await
    }
}

/// [`hub`] with its blobs in `coarse/` through [`OneSecondClock`].
async fn coarse_hub() -> (Hub, PathBuf) {
    let h = hub().await;
    let root = h.dir.path().join("coarse");
    std::fs::create_dir_all(&root).unwrap();
    let store = OneSecondClock {
        inner: LocalFileSystem::new_with_prefix(&root).unwrap(),
        root: root.clone(),
    };
    let state = hallmark_hub::with_parts(
        Arc::clone(&h.state.meta),
        hallmark_store::BlobStore::new(Arc::new(store)),
        Arc::clone(&h.state.signer),
        h.state.config.clone(),
    );
    let h = Hub {
        app: hallmark_hub::app(state.clone()),
        state,
        ..h
    };
    (h, root)
}

/// Sleeps until just past the next whole second, so that what follows has most of a
/// second's tick to itself.
async fn start_of_a_tick() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let left = Duration::from_secs(1) - Duration::from_nanos(u64::from(now.subsec_nanos()));
    tokio::time::sleep(left + Duration::from_millis(5)).await;
}

/// Verify a blob by a range request, rewrite a byte of that range in place with the old
/// modification time restored, in the same tick; the next range must not serve the
/// rewritten bytes. Before the fix: 206 with the changed byte, the revision still
/// verified. After: the verification was never remembered (the blob had changed less
/// than `RACY_MARGIN` before it), so the range re-hashes the blob: 500
/// `StoredContentAltered` and the revision failed naming the file.
#[tokio::test]
async fn a_rewrite_in_the_tick_of_the_verification_is_not_served_to_ranges() {
    let (h, root) = coarse_hub().await;
    // Bounded: each attempt either lands in one tick (then it decides) or starts over
    // with another repo; nearly every attempt lands.
    for attempt in 0..5u8 {
        let repo = format!("alice/racy{attempt}");
        let uri = format!("/{repo}/resolve/main/a.bin");
        let data: Vec<u8> = (0..256u32 << 10)
            .map(|i| (i % 251) as u8 ^ attempt)
            .collect();
        let sha = hex::encode(hallmark_crypto::sha256(&data));
        let path = root.join(format!("blobs/sha256/{}/{sha}", &sha[..2]));
        start_of_a_tick().await;
        let r = h.push(&h.alice, &repo, &[("a.bin", &data)], false).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        // the verification: the whole blob re-hashed, then the range served
        let part = h.range(&uri, "bytes=10-19").await;
        assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.body, &data[10..20]);
        // the rewrite, in place, modification time restored
        let before = h.state.blobs.stamp(&sha).await.unwrap();
        {
            use std::io::{Seek, SeekFrom, Write};
            let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
            let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            f.seek(SeekFrom::Start(15)).unwrap();
            f.write_all(&[data[15] ^ 0xff]).unwrap();
            f.set_modified(mtime).unwrap();
        }
        let after = h.state.blobs.stamp(&sha).await.unwrap();
        if after.token() != before.token() {
            eprintln!("attempt {attempt}: the rewrite fell in the next tick; again");
            continue;
        }
        let part = h.range(&uri, "bytes=10-19").await;
        let served_changed = part.status == StatusCode::PARTIAL_CONTENT
            && part.body.get(5) == Some(&(data[15] ^ 0xff));
        assert!(
            !served_changed,
            "the rewritten byte was served as verified: {} {:?}",
            part.status, part.body
        );
        assert_eq!(
            part.status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{}",
            part.text()
        );
        assert_eq!(part.header("x-error-code"), Some("StoredContentAltered"));
        let sig = h.get(&format!("/api/models/{repo}"), None).await.json()["hallmark"]["signature"]
            .clone();
        assert_eq!(sig["status"], "failed", "{sig}");
        assert!(sig["detail"].as_str().unwrap().contains("a.bin"), "{sig}");
        return;
    }
    panic!("in 5 attempts the rewrite never landed in the tick of the blob's last change");
}
