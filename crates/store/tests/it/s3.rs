//! Blobs on a real S3-compatible server (Garage in CI: `scripts/garage-start.sh`), when
//! `HALLMARK_TEST_S3` is set to an `s3://bucket?endpoint=…` URL (credentials in
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`); skipped, saying so, otherwise.

use hallmark_store::{BlobStore, PART_SIZE, StoreError, s3_store};
use object_store::path::Path;
use object_store::{PutMode, PutOptions, PutPayload};

/// `HALLMARK_TEST_S3` with a fresh key prefix, or `None` (skip) when unset.
pub(crate) fn fresh_s3_url(test: &str) -> Option<String> {
    let Ok(base) = std::env::var("HALLMARK_TEST_S3") else {
        eprintln!("skipped {test}: HALLMARK_TEST_S3 is not set");
        return None;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let (head, query) = base.split_once('?').unwrap_or((&base, ""));
    let head = head.trim_end_matches('/');
    Some(format!("{head}/{test}-{nanos}?{query}"))
}

#[tokio::test]
async fn s3_blobs_and_conditional_put() {
    let Some(url) = fresh_s3_url("s3_blobs") else {
        return;
    };
    let store = s3_store(&url).unwrap();
    // Whether the server honours If-None-Match: * (AWS, R2, MinIO do; Garage 2.5 ignores
    // it and overwrites). Nothing below depends on it: blob keys are content digests.
    let k = Path::from("cond/x");
    let create = || PutOptions {
        mode: PutMode::Create,
        ..PutOptions::default()
    };
    store
        .put_opts(&k, PutPayload::from_static(b"1"), create())
        .await
        .unwrap();
    let second = store
        .put_opts(&k, PutPayload::from_static(b"2"), create())
        .await;
    eprintln!(
        "S3 server honours conditional put: {}",
        matches!(second, Err(object_store::Error::AlreadyExists { .. }))
    );

    let blobs = BlobStore::new(store);
    let a = blobs.put_bytes("hello".into()).await.unwrap();
    assert!(!a.deduplicated);
    assert_eq!(
        blobs.put_bytes("hello".into()).await.unwrap().sha256,
        a.sha256
    );
    assert_eq!(blobs.size(&a.sha256).await.unwrap(), Some(5));
    let big: Vec<u8> = (0..PART_SIZE + 77).map(|i| (i % 251) as u8).collect();
    for dedup in [false, true] {
        let mut w = blobs.writer(u64::MAX).unwrap();
        for chunk in big.chunks(1 << 20) {
            w.write(chunk).await.unwrap();
        }
        let b = w.finish(None).await.unwrap();
        assert_eq!((b.size, b.deduplicated), (big.len() as u64, dedup));
        assert_eq!(blobs.read_all(&b.sha256).await.unwrap().as_ref(), big);
    }
    let mut w = blobs.writer(u64::MAX).unwrap();
    w.write(&big).await.unwrap();
    assert!(matches!(
        w.finish(Some(&"0".repeat(64))).await,
        Err(StoreError::DigestMismatch { .. })
    ));
    // no staging leftovers
    assert_eq!(
        blobs
            .sweep_staging(std::time::Duration::ZERO)
            .await
            .unwrap(),
        0
    );
}
