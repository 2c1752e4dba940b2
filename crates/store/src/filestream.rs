//! Streaming a local blob file out (downloads, scrubbing): positional reads of
//! [`READ_CHUNK`] bytes on the blocking pool, the next read always started as a chunk is
//! handed out (so the disk read of one chunk overlaps the sending of the one before it),
//! into a few buffers recycled from chunks already sent.
//!
//! `object_store`'s own local stream reads 8 KiB per blocking task, which caps downloads
//! far below disk and loopback speed; a fresh buffer per chunk costs a page-faulting,
//! zeroing allocation per chunk and keeps the copy out of the CPU caches. Here the memory
//! of one stream is bounded: one read in flight, the chunks its consumer still holds
//! (hyper holds one or two while writing them to the socket), and at most
//! [`SPARE_BUFFERS`] buffers waiting for reuse. A consumer that stops reading stops the
//! reads: nothing is read more than one chunk ahead of what was taken.

use std::fs::File;
use std::ops::Range;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::Stream;
use tokio::task::JoinHandle;

use crate::error::{Result, StoreError};

/// Bytes read per step (small enough for the buffers in rotation to stay in the CPU
/// caches, large enough that a blocking-pool hand-off per chunk costs little).
pub(crate) const READ_CHUNK: usize = 256 << 10;
/// Buffers of sent chunks kept per stream for the next reads.
pub(crate) const SPARE_BUFFERS: usize = 2;

type Pool = Arc<Mutex<Vec<Vec<u8>>>>;

/// A chunk's buffer; given back to its stream's pool when the last handle to the chunk
/// is dropped.
struct Recycled {
    buf: Vec<u8>,
    len: usize,
    pool: Pool,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        let mut pool = self.pool.lock().unwrap_or_else(PoisonError::into_inner);
        if pool.len() < SPARE_BUFFERS {
            pool.push(buf);
        }
    }
}

/// The chunks of a byte range of a local file; see the module documentation.
pub(crate) struct FileChunks {
    file: Arc<File>,
    path: Arc<str>,
    /// Where the next read starts.
    pos: u64,
    end: u64,
    pool: Pool,
    ahead: Option<JoinHandle<std::io::Result<Bytes>>>,
    /// Buffers this stream allocated (the rest were recycled).
    allocated: usize,
}

impl FileChunks {
    /// Streams `range` of `file` (its `path` names it in errors).
    pub(crate) fn new(file: File, path: &str, range: Range<u64>) -> Self {
        Self {
            file: Arc::new(file),
            path: path.into(),
            pos: range.start,
            end: range.end,
            pool: Arc::default(),
            ahead: None,
            allocated: 0,
        }
    }

    /// Starts reading the next chunk, unless one is in flight or the range is done.
    fn read_ahead(&mut self) {
        if self.ahead.is_some() || self.pos >= self.end {
            return;
        }
        let len = usize::try_from(self.end - self.pos)
            .unwrap_or(usize::MAX)
            .min(READ_CHUNK);
        let spare = self
            .pool
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let buf = spare.unwrap_or_else(|| {
            self.allocated += 1;
            vec![0u8; READ_CHUNK]
        });
        let (file, pool, pos) = (Arc::clone(&self.file), Arc::clone(&self.pool), self.pos);
        self.ahead = Some(tokio::task::spawn_blocking(move || {
            use std::os::unix::fs::FileExt as _;
            let mut chunk = Recycled { buf, len, pool };
            file.read_exact_at(&mut chunk.buf[..len], pos)?;
            Ok(Bytes::from_owner(chunk))
        }));
        self.pos += len as u64;
    }
}

impl Stream for FileChunks {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.read_ahead();
        let Some(read) = self.ahead.as_mut() else {
            return Poll::Ready(None);
        };
        let done = ready!(Pin::new(read).poll(cx));
        self.ahead = None;
        let item = match done {
            Ok(Ok(chunk)) => {
                self.read_ahead();
                Ok(chunk)
            }
            Ok(Err(source)) => Err(StoreError::Io {
                path: self.path.to_string(),
                source,
            }),
            Err(e) => Err(StoreError::Task(e.to_string())),
        };
        if item.is_err() {
            self.pos = self.end;
        }
        Poll::Ready(Some(item))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use futures_util::StreamExt as _;

    use super::*;

    fn file_of(len: usize) -> (tempfile::NamedTempFile, Vec<u8>) {
        let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&data).unwrap();
        (f, data)
    }

    fn chunks(f: &tempfile::NamedTempFile, range: Range<u64>) -> FileChunks {
        FileChunks::new(f.reopen().unwrap(), "blob", range)
    }

    #[tokio::test]
    async fn streams_ranges_exactly() {
        let len = 3 * READ_CHUNK + 1234;
        let (f, data) = file_of(len);
        let n = len as u64;
        for r in [
            0..n,
            0..0,
            5..6,
            100..n - 1,
            READ_CHUNK as u64..2 * READ_CHUNK as u64 + 1,
        ] {
            let mut s = chunks(&f, r.clone());
            let mut out = Vec::new();
            while let Some(c) = s.next().await {
                let c = c.unwrap();
                assert!(!c.is_empty() && c.len() <= READ_CHUNK);
                out.extend_from_slice(&c);
            }
            let (a, b) = (r.start as usize, r.end as usize);
            assert_eq!(out, data[a..b], "range {r:?}");
        }
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_range_fails() {
        let (f, _) = file_of(1000);
        let mut s = chunks(&f, 0..5000);
        assert!(matches!(s.next().await, Some(Err(StoreError::Io { .. }))));
        assert!(s.next().await.is_none(), "the stream ends after an error");
    }

    /// Memory per response: streaming 64 chunks while the consumer holds one at a time
    /// allocates a handful of buffers, not one per chunk.
    #[tokio::test]
    async fn buffers_are_recycled() {
        let (f, _) = file_of(64 * READ_CHUNK);
        let mut s = chunks(&f, 0..64 * READ_CHUNK as u64);
        let mut n = 0;
        while let Some(c) = s.next().await {
            drop(c.unwrap());
            n += 1;
        }
        assert_eq!(n, 64);
        assert!(
            s.allocated <= SPARE_BUFFERS + 2,
            "{} buffers of {READ_CHUNK} bytes allocated for 64 chunks",
            s.allocated
        );
    }

    /// A consumer that stops reading stops the reads: at most one chunk is read ahead
    /// of what it took, however long it waits.
    #[tokio::test]
    async fn a_stalled_consumer_stops_the_reads() {
        let (f, _) = file_of(16 * READ_CHUNK);
        let mut s = chunks(&f, 0..16 * READ_CHUNK as u64);
        let first = s.next().await.unwrap().unwrap();
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
        assert_eq!(s.pos, 2 * READ_CHUNK as u64, "one chunk read ahead");
        assert_eq!(s.allocated, 2);
        let second = s.next().await.unwrap().unwrap();
        assert_eq!(s.pos, 3 * READ_CHUNK as u64);
        assert_eq!(s.allocated, 3, "both chunks still held, one in flight");
        drop((first, second));
    }
}
