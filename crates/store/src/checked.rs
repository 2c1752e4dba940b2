//! Serving a whole blob only if it still hashes to its name.
//!
//! [`checked`] hashes a blob's bytes as they stream out (on the blocking pool, one read
//! chunk at a time, each chunk hashed while the one before it is sent and the one after
//! it is read) and holds back the last chunk until the digest is known: when the
//! stored bytes no longer match, the stream ends with [`StoreError::Altered`] *before*
//! its final bytes, so a response with a `Content-Length` is cut short and every client
//! sees a failed transfer, never a complete body of altered bytes. [`VerifiedBlobs`]
//! remembers blobs verified since their last write, for serving ranges.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_lc_rs::digest::{Context, SHA256};
use bytes::Bytes;
use futures_util::stream::{BoxStream, StreamExt};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::task::JoinHandle;

use crate::error::{Result, StoreError};
use crate::stamp::{BlobStamp, RACY_MARGIN};

struct State {
    inner: BoxStream<'static, Result<Bytes>>,
    expected: String,
    /// The digest so far, or the hashing of the latest chunk into it, in flight.
    ctx: Option<Hashing>,
    held: Option<Bytes>,
    /// Called once the whole digest matched, before the last chunk is yielded.
    on_verified: Option<Box<dyn FnOnce() + Send>>,
}

enum Hashing {
    Idle(Context),
    Busy(JoinHandle<Context>),
}

impl Hashing {
    async fn wait(self) -> Result<Context> {
        match self {
            Self::Idle(ctx) => Ok(ctx),
            Self::Busy(task) => task.await.map_err(|e| StoreError::Task(e.to_string())),
        }
    }
}

/// Starts hashing `chunk` into `ctx` on the blocking pool.
fn hash_chunk(mut ctx: Context, chunk: Bytes) -> Hashing {
    Hashing::Busy(tokio::task::spawn_blocking(move || {
        ctx.update(&chunk);
        ctx
    }))
}

/// One step: waits for the previous chunk's hashing, starts hashing the chunk just read
/// (it runs while the one before it is sent and the next one is read), and yields the one
/// before it; the last chunk is yielded only once the whole digest matches.
async fn step(mut s: State) -> Option<(Result<Bytes>, State)> {
    let mut hashing = s.ctx.take()?;
    loop {
        match s.inner.next().await {
            Some(Ok(chunk)) if chunk.is_empty() => {}
            Some(Ok(chunk)) => {
                let ctx = match hashing.wait().await {
                    Ok(ctx) => ctx,
                    Err(e) => return Some((Err(e), s)),
                };
                hashing = hash_chunk(ctx, chunk.clone());
                if let Some(prev) = s.held.replace(chunk) {
                    s.ctx = Some(hashing);
                    return Some((Ok(prev), s));
                }
            }
            Some(Err(e)) => return Some((Err(e), s)),
            None => {
                let ctx = match hashing.wait().await {
                    Ok(ctx) => ctx,
                    Err(e) => return Some((Err(e), s)),
                };
                let found = hex::encode(ctx.finish());
                if found != s.expected {
                    let expected = std::mem::take(&mut s.expected);
                    return Some((Err(StoreError::Altered { expected, found }), s));
                }
                if let Some(verified) = s.on_verified.take() {
                    verified();
                }
                return s.held.take().map(|last| (Ok(last), s));
            }
        }
    }
}

/// Wraps the stream of a whole blob named `expected_sha256` (lower-case hex) so that it
/// fails with [`StoreError::Altered`] instead of yielding its last bytes when the content
/// does not hash to that name. After an error the stream ends.
#[must_use]
pub fn checked(
    inner: BoxStream<'static, Result<Bytes>>,
    expected_sha256: &str,
) -> BoxStream<'static, Result<Bytes>> {
    checked_then(inner, expected_sha256, || {})
}

/// [`checked`], calling `on_verified` once the whole content matched its name (before
/// the last chunk is yielded: a consumer that stops after the last byte it expects,
/// as hyper does with a `Content-Length`, never polls the stream's end).
#[must_use]
pub fn checked_then(
    inner: BoxStream<'static, Result<Bytes>>,
    expected_sha256: &str,
    on_verified: impl FnOnce() + Send + 'static,
) -> BoxStream<'static, Result<Bytes>> {
    let state = State {
        inner,
        expected: expected_sha256.to_owned(),
        ctx: Some(Hashing::Idle(Context::new(&SHA256))),
        held: None,
        on_verified: Some(Box::new(on_verified)),
    };
    futures_util::stream::unfold(state, step).boxed()
}

/// Blobs remembered as verified; when full the set starts over (costing re-hashes, never
/// trusting an unverified blob).
pub const MAX_VERIFIED: usize = 65_536;
/// Whole-blob verifications running at once (each is disk- and CPU-bound).
pub const VERIFY_SLOTS: usize = 2;

/// Blobs verified since their last write, with the stamp ([`crate::BlobStamp`]) they had
/// then: a server serves ranges only of these. Only settled stamps are remembered (git's
/// racy rule, see [`crate::RACY_MARGIN`]): a blob changed less than the margin before its
/// verification began is verified again at its next use.
#[derive(Debug)]
pub struct VerifiedBlobs {
    seen: Mutex<HashMap<String, String>>,
    slots: Semaphore,
}

impl Default for VerifiedBlobs {
    fn default() -> Self {
        Self {
            seen: Mutex::new(HashMap::new()),
            slots: Semaphore::new(VERIFY_SLOTS),
        }
    }
}

impl VerifiedBlobs {
    /// Waits for one of the [`VERIFY_SLOTS`] whole-blob verifications.
    pub async fn slot(&self) -> Option<SemaphorePermit<'_>> {
        self.slots.acquire().await.ok()
    }

    /// Whether `sha256` was verified when its stored object had `stamp`.
    #[must_use]
    pub fn contains(&self, sha256: &str, stamp: &BlobStamp) -> bool {
        self.seen
            .lock()
            .is_ok_and(|m| m.get(sha256).is_some_and(|s| s == stamp.token()))
    }

    /// Records `sha256` as verified with `stamp`, taken before the verification read the
    /// blob, if the stamp is settled ([`BlobStamp::settled`] by [`RACY_MARGIN`]); returns
    /// whether it was remembered.
    pub fn insert(&self, sha256: &str, stamp: &BlobStamp) -> bool {
        if !stamp.settled(RACY_MARGIN) {
            return false;
        }
        let Ok(mut m) = self.seen.lock() else {
            return false;
        };
        if m.len() >= MAX_VERIFIED {
            m.clear();
        }
        m.insert(sha256.to_owned(), stamp.token().to_owned());
        true
    }

    /// Forgets `sha256` (found altered).
    pub fn forget(&self, sha256: &str) {
        if let Ok(mut m) = self.seen.lock() {
            m.remove(sha256);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> BoxStream<'static, Result<Bytes>> {
        let v: Vec<Result<Bytes>> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        futures_util::stream::iter(v).boxed()
    }

    async fn collect(s: BoxStream<'static, Result<Bytes>>) -> (Vec<u8>, Option<StoreError>) {
        let mut s = s;
        let mut out = Vec::new();
        while let Some(r) = s.next().await {
            match r {
                Ok(b) => out.extend_from_slice(&b),
                Err(e) => return (out, Some(e)),
            }
        }
        (out, None)
    }

    #[tokio::test]
    async fn intact_content_streams_whole() {
        let sha = hex::encode(aws_lc_rs::digest::digest(&SHA256, b"abcdef"));
        let (out, err) = collect(checked(chunks(&[b"ab", b"", b"cd", b"ef"]), &sha)).await;
        assert_eq!(out, b"abcdef");
        assert!(err.is_none());
    }

    #[tokio::test]
    async fn verification_is_reported_before_the_last_chunk() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let sha = hex::encode(aws_lc_rs::digest::digest(&SHA256, b"abcdef"));
        for (parts, intact) in [
            (&[b"ab" as &'static [u8], b"cd", b"ef"], true),
            (&[b"ab" as &'static [u8], b"cd", b"eF"], false),
        ] {
            let seen = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&seen);
            let mut s = checked_then(chunks(parts), &sha, move || {
                flag.store(true, Ordering::SeqCst);
            });
            // take exactly the bytes expected, never polling the end (as hyper does)
            let mut got = 0;
            while got < 6 {
                match s.next().await {
                    Some(Ok(b)) => got += b.len(),
                    _ => break,
                }
            }
            assert_eq!(seen.load(Ordering::SeqCst), intact, "{parts:?}");
        }
    }

    #[tokio::test]
    async fn altered_content_stops_before_its_last_chunk() {
        let sha = hex::encode(aws_lc_rs::digest::digest(&SHA256, b"abcdef"));
        let (out, err) = collect(checked(chunks(&[b"ab", b"cd", b"eF"]), &sha)).await;
        assert_eq!(out, b"abcd", "the last chunk is withheld");
        match err {
            Some(StoreError::Altered { expected, found }) => {
                assert_eq!(expected, sha);
                assert_eq!(
                    found,
                    hex::encode(aws_lc_rs::digest::digest(&SHA256, b"abcdeF"))
                );
            }
            other => panic!("expected Altered, got {other:?}"),
        }
        // a one-chunk blob yields nothing at all
        let (out, err) = collect(checked(chunks(&[b"abcdeF"]), &sha)).await;
        assert!(out.is_empty());
        assert!(matches!(err, Some(StoreError::Altered { .. })));
    }
}
