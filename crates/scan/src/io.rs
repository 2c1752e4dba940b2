//! Readers: a seekable window over a parent reader (archive members are never copied or
//! extracted), bounded reads, and little-endian helpers.

use std::io::{self, BufRead, Read, Seek, SeekFrom};

use crate::error::{Result, ScanError};

/// A byte source that can seek.
pub trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// A window `[start, start + len)` of a parent reader, itself `Read + Seek`.
pub(crate) struct Window<'a> {
    inner: &'a mut dyn ReadSeek,
    start: u64,
    len: u64,
    pos: u64,
    synced: bool,
}

impl<'a> Window<'a> {
    pub(crate) fn new(inner: &'a mut dyn ReadSeek, start: u64, len: u64) -> Self {
        Self {
            inner,
            start,
            len,
            pos: 0,
            synced: false,
        }
    }
}

impl Read for Window<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        if left == 0 || buf.is_empty() {
            return Ok(0);
        }
        if !self.synced {
            self.inner
                .seek(SeekFrom::Start(self.start.saturating_add(self.pos)))?;
            self.synced = true;
        }
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(buf.get_mut(..want).unwrap_or_default())?;
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl Seek for Window<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let new =
            new.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))?;
        if new != self.pos {
            self.synced = false;
        }
        self.pos = new;
        Ok(new)
    }
}

/// Reads exactly `n` bytes at `offset` (n must be small: callers bound it).
pub(crate) fn read_at(r: &mut dyn ReadSeek, offset: u64, n: usize) -> Result<Vec<u8>> {
    r.seek(SeekFrom::Start(offset))?;
    let mut buf = vec![0u8; n];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Reads up to `n` bytes from the start (fewer at end of input).
pub(crate) fn read_prefix(r: &mut dyn ReadSeek, n: usize) -> Result<Vec<u8>> {
    r.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::with_capacity(n);
    r.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// Length of a seekable reader.
pub(crate) fn stream_len(r: &mut dyn ReadSeek) -> Result<u64> {
    Ok(r.seek(SeekFrom::End(0))?)
}

/// Little-endian integer at `off` in `b`.
pub(crate) fn le_u16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_le_bytes(
        b.get(off..off.checked_add(2)?)?.try_into().ok()?,
    ))
}
/// Little-endian integer at `off` in `b`.
pub(crate) fn le_u32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}
/// Little-endian integer at `off` in `b`.
pub(crate) fn le_u64(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_le_bytes(
        b.get(off..off.checked_add(8)?)?.try_into().ok()?,
    ))
}

/// Sequential input of a pickle (or any stream parser): buffered, position-tracking,
/// skipping large payloads by seeking when the source allows it.
pub(crate) struct Input<'a> {
    inner: InputKind<'a>,
    pos: u64,
    /// Known end (for seekable sources), used to reject skips past the end.
    end: Option<u64>,
}

enum InputKind<'a> {
    Seek(io::BufReader<&'a mut dyn ReadSeek>),
    Stream(io::BufReader<&'a mut dyn Read>),
}

impl<'a> Input<'a> {
    /// Seekable input starting at the reader's current position `pos`, ending at `end`.
    pub(crate) fn seekable(r: &'a mut dyn ReadSeek, pos: u64, end: u64) -> Self {
        Self {
            inner: InputKind::Seek(io::BufReader::with_capacity(64 << 10, r)),
            pos,
            end: Some(end),
        }
    }

    /// Forward-only input.
    pub(crate) fn stream(r: &'a mut dyn Read) -> Self {
        Self {
            inner: InputKind::Stream(io::BufReader::with_capacity(64 << 10, r)),
            pos: 0,
            end: None,
        }
    }

    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    fn buf(&mut self) -> &mut dyn BufRead {
        match &mut self.inner {
            InputKind::Seek(b) => b,
            InputKind::Stream(b) => b,
        }
    }

    /// Next byte, or `None` at end of input.
    pub(crate) fn byte(&mut self) -> Result<Option<u8>> {
        let b = self.buf();
        let avail = b.fill_buf()?;
        let Some(&c) = avail.first() else {
            return Ok(None);
        };
        b.consume(1);
        self.pos = self.pos.saturating_add(1);
        Ok(Some(c))
    }

    /// Peeks at the next byte.
    pub(crate) fn peek(&mut self) -> Result<Option<u8>> {
        Ok(self.buf().fill_buf()?.first().copied())
    }

    pub(crate) fn exact<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        self.buf().read_exact(&mut a)?;
        self.pos = self.pos.saturating_add(N as u64);
        Ok(a)
    }

    /// Reads `n` bytes, keeping at most `keep` of them (the rest is skipped).
    pub(crate) fn bytes(&mut self, n: u64, keep: usize) -> Result<Vec<u8>> {
        if let Some(end) = self.end
            && self.pos.checked_add(n).is_none_or(|e| e > end)
        {
            return Err(ScanError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        let k = usize::try_from(n).unwrap_or(usize::MAX).min(keep);
        let mut v = vec![0u8; k];
        self.buf().read_exact(&mut v)?;
        self.pos = self.pos.saturating_add(k as u64);
        self.skip(n.saturating_sub(k as u64))?;
        Ok(v)
    }

    /// Skips `n` bytes (seeks when possible).
    pub(crate) fn skip(&mut self, n: u64) -> Result<()> {
        if n == 0 {
            return Ok(());
        }
        if let Some(end) = self.end
            && self.pos.checked_add(n).is_none_or(|e| e > end)
        {
            return Err(ScanError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
        match &mut self.inner {
            InputKind::Seek(b) => {
                let d = i64::try_from(n).map_err(|_| ScanError::Limit("skip too large".into()))?;
                b.seek_relative(d)?;
            }
            InputKind::Stream(b) => {
                let copied = io::copy(&mut b.take(n), &mut io::sink())?;
                if copied != n {
                    return Err(ScanError::Io(io::ErrorKind::UnexpectedEof.into()));
                }
            }
        }
        self.pos = self.pos.saturating_add(n);
        Ok(())
    }

    /// Reads a line ending in `\n` (not included), at most `max` bytes.
    pub(crate) fn line(&mut self, max: usize) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        loop {
            let b = self.buf();
            let avail = b.fill_buf()?;
            if avail.is_empty() {
                return Err(ScanError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
            let (chunk, found) = match avail.iter().position(|&c| c == b'\n') {
                Some(i) => (avail.get(..i).unwrap_or_default(), true),
                None => (avail, false),
            };
            if out.len().saturating_add(chunk.len()) > max {
                return Err(ScanError::Limit(format!("line longer than {max} bytes")));
            }
            out.extend_from_slice(chunk);
            let used = chunk.len() + usize::from(found);
            b.consume(used);
            self.pos = self.pos.saturating_add(used as u64);
            if found {
                return Ok(out);
            }
        }
    }
}
