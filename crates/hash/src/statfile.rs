//! The stat cache's file format (see [`crate::StatCache`]): binary, written and read as a
//! stream, so a run holds one entry of it at a time whatever the model's size.
//!
//! ```text
//! header  "hallmark-statcache 3\n", u32 len + params, u32 len + root, i128 stamp,
//!         u32 digest length
//! entry   u64 dev, u64 ino, u64 size, i64 mtime_ns, i64 ctime_ns, u32 name length,
//!         u32 digest count, the name (UTF-8), the digests back to back
//!         … one per file, in reference order (names strictly increasing) …
//! end     an entry whose name length is u32::MAX (48 bytes)
//! frame   u8 0 (none), or u8 1, the root digest (32 bytes), u32 len + model name,
//!         u8 allow_symlinks, u32 count, count × (u32 len + ignore path)
//! footer  u64 offset of the frame, "hmscend\n"
//! ```
//!
//! All integers little-endian. The frame is what a signature's statement records
//! besides its resources: with it, the statement signed alongside the cache can be
//! written again from the cache's entries ([`crate::statbind`]). Every length is
//! bounded before anything is allocated; anything malformed, out of order or for
//! another model root or parameters is a [`StatCacheError`] and the caller ignores
//! the whole file.

use std::cmp::Ordering as CmpOrdering;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use aws_lc_rs::digest::{Context, SHA256};
use hallmark_format::resource::compare_paths;

use crate::model::FileStat;

/// Largest file name, ignore path, params or root string in a cache file.
pub const MAX_NAME_BYTES: usize = 64 << 10;

/// Largest run of one file's digests (all its shards).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Largest frame (model name and ignore paths).
const MAX_FRAME_BYTES: u64 = 1 << 20;

pub(crate) const MAGIC: &str = "hallmark-statcache 3";
const FOOTER: &[u8; 8] = b"hmscend\n";
const RECORD: usize = 48;

/// Why a cache file was not used (the caller warns and hashes everything).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatCacheError {
    /// The file could not be read or written.
    #[error("stat cache {op}: {kind}")]
    Io {
        /// What was being done (`read`, `write`, `rename`).
        op: &'static str,
        /// What went wrong.
        kind: io::ErrorKind,
    },
    /// Entry `entry` (1-based; 0 for the header, the frame or the footer) is not what
    /// the format allows.
    #[error("stat cache entry {entry}: {reason}")]
    Malformed {
        /// 1-based entry number, 0 outside the entries.
        entry: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The header names another model root, serialization or hash.
    #[error("stat cache was written for another {field}")]
    Foreign {
        /// `root`, `params` or `format`.
        field: &'static str,
    },
}

fn io_err(op: &'static str) -> impl Fn(io::Error) -> StatCacheError {
    move |e| match e.kind() {
        io::ErrorKind::UnexpectedEof => StatCacheError::Malformed {
            entry: 0,
            reason: "truncated",
        },
        kind => StatCacheError::Io { op, kind },
    }
}

/// What a signature's statement records besides its resources (the cache's
/// serialization and hash are the rest).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The statement's subject digest.
    pub root_digest: [u8; 32],
    /// The subject's name.
    pub model_name: String,
    /// `serialization.allow_symlinks`.
    pub allow_symlinks: bool,
    /// `serialization.ignore_paths`.
    pub ignore_paths: Vec<String>,
}

/// Reads a cache file one entry at a time, in order; the entries' bytes are hashed as
/// they are read ([`Reader::finish`]), so two passes can tell they read the same file.
pub(crate) struct Reader {
    r: BufReader<File>,
    digest_len: usize,
    stamp: i128,
    entries_at: u64,
    /// Entries read so far (the current one's number).
    n: usize,
    done: bool,
    key: FileStat,
    name: String,
    last: String,
    digests: Vec<u8>,
    count: usize,
    sum: Context,
}

impl Reader {
    /// Opens `file` and checks its header against `params` and `root`; `None` when
    /// there is no such file.
    pub(crate) fn open(
        file: &Path,
        params: &str,
        root: &str,
        digest_len: usize,
    ) -> Result<Option<Self>, StatCacheError> {
        let f = match File::open(file) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err("read")(e)),
        };
        let mut r = BufReader::with_capacity(64 << 10, f);
        let mut magic = [0u8; MAGIC.len() + 1];
        r.read_exact(&mut magic).map_err(io_err("read"))?;
        if magic.get(..MAGIC.len()) != Some(MAGIC.as_bytes()) || magic[MAGIC.len()] != b'\n' {
            return Err(StatCacheError::Foreign { field: "format" });
        }
        if read_string(&mut r)? != params {
            return Err(StatCacheError::Foreign { field: "params" });
        }
        if read_string(&mut r)? != root {
            return Err(StatCacheError::Foreign { field: "root" });
        }
        let stamp = i128::from_le_bytes(read_array(&mut r)?);
        if read_u32(&mut r)? as usize != digest_len {
            return Err(StatCacheError::Foreign { field: "params" });
        }
        let entries_at = r.stream_position().map_err(io_err("read"))?;
        Ok(Some(Self {
            r,
            digest_len,
            stamp,
            entries_at,
            n: 0,
            done: false,
            key: FileStat {
                dev: 0,
                ino: 0,
                size: 0,
                mtime: 0,
                ctime: 0,
            },
            name: String::new(),
            last: String::new(),
            digests: Vec::new(),
            count: 0,
            sum: Context::new(&SHA256),
        }))
    }

    /// Moves to the next entry; false at the end of the entries.
    pub(crate) fn advance(&mut self) -> Result<bool, StatCacheError> {
        if self.done {
            return Ok(false);
        }
        self.n += 1;
        let bad = |reason| StatCacheError::Malformed {
            entry: self.n,
            reason,
        };
        let mut rec = [0u8; RECORD];
        self.r.read_exact(&mut rec).map_err(io_err("read"))?;
        self.sum.update(&rec);
        let word = |i: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(rec.get(i * 8..i * 8 + 8).unwrap_or(&[0; 8]));
            b
        };
        let half = |i: usize| {
            let mut b = [0u8; 4];
            b.copy_from_slice(rec.get(i..i + 4).unwrap_or(&[0; 4]));
            u32::from_le_bytes(b) as usize
        };
        let (name_len, count) = (half(40), half(44));
        if name_len == u32::MAX as usize {
            self.done = true;
            return Ok(false);
        }
        if name_len > MAX_NAME_BYTES {
            return Err(bad("name too long"));
        }
        let digests = count
            .checked_mul(self.digest_len)
            .filter(|n| *n <= MAX_LINE_BYTES)
            .ok_or_else(|| bad("too many digests"))?;
        self.key = FileStat {
            dev: u64::from_le_bytes(word(0)),
            ino: u64::from_le_bytes(word(1)),
            size: u64::from_le_bytes(word(2)),
            mtime: i64::from_le_bytes(word(3)),
            ctime: i64::from_le_bytes(word(4)),
        };
        std::mem::swap(&mut self.name, &mut self.last);
        let mut name = std::mem::take(&mut self.name).into_bytes();
        name.resize(name_len, 0);
        self.r.read_exact(&mut name).map_err(io_err("read"))?;
        self.sum.update(&name);
        self.name = String::from_utf8(name).map_err(|_| bad("name not UTF-8"))?;
        if self.n > 1 && compare_paths(&self.last, &self.name) != CmpOrdering::Less {
            return Err(bad("names out of order or repeated"));
        }
        self.digests.resize(digests, 0);
        self.r
            .read_exact(&mut self.digests)
            .map_err(io_err("read"))?;
        self.sum.update(&self.digests);
        self.count = count;
        Ok(true)
    }

    /// Whether the entries are all read.
    pub(crate) fn done(&self) -> bool {
        self.done
    }

    /// The current entry's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The current entry's `stat`.
    pub(crate) fn key(&self) -> FileStat {
        self.key
    }

    /// Whether the current entry is racily clean: changed in the tick the run that
    /// wrote it started, or later (never reused, kept to say why).
    pub(crate) fn racy(&self) -> bool {
        i128::from(self.key.mtime) >= self.stamp || i128::from(self.key.ctime) >= self.stamp
    }

    /// The current entry's digests, back to back, and how many there are.
    pub(crate) fn digests(&self) -> (&[u8], usize) {
        (&self.digests, self.count)
    }

    /// Reads the rest of the entries; the SHA-256 of every entry byte read since the
    /// entries began (the end marker included).
    pub(crate) fn finish(&mut self) -> Result<[u8; 32], StatCacheError> {
        while self.advance()? {}
        let sum = std::mem::replace(&mut self.sum, Context::new(&SHA256)).finish();
        let mut out = [0u8; 32];
        out.copy_from_slice(sum.as_ref());
        Ok(out)
    }

    /// Back to the first entry.
    pub(crate) fn rewind(&mut self) -> Result<(), StatCacheError> {
        self.r
            .seek(SeekFrom::Start(self.entries_at))
            .map_err(io_err("read"))?;
        self.n = 0;
        self.done = false;
        self.last.clear();
        self.sum = Context::new(&SHA256);
        Ok(())
    }

    /// The frame at the end of the file, if the run that wrote it signed (the
    /// position is left anywhere: [`Self::rewind`] after).
    pub(crate) fn frame(&mut self) -> Result<Option<Frame>, StatCacheError> {
        let bad = |reason| StatCacheError::Malformed { entry: 0, reason };
        let end = self.r.seek(SeekFrom::End(-16)).map_err(io_err("read"))?;
        let at = u64::from_le_bytes(read_array(&mut self.r)?);
        if &read_array::<8>(&mut self.r)? != FOOTER {
            return Err(bad("no footer"));
        }
        if at < self.entries_at || at > end || end - at > MAX_FRAME_BYTES {
            return Err(bad("bad frame offset"));
        }
        self.r.seek(SeekFrom::Start(at)).map_err(io_err("read"))?;
        let r = &mut self.r;
        match read_array::<1>(r)? {
            [0] => return Ok(None),
            [1] => {}
            _ => return Err(bad("bad frame")),
        }
        let root_digest = read_array(r)?;
        let model_name = read_string(r)?;
        let allow_symlinks = match read_array::<1>(r)? {
            [0] => false,
            [1] => true,
            _ => return Err(bad("bad frame")),
        };
        let n = read_u32(r)?;
        let mut ignore_paths = Vec::new();
        for _ in 0..n {
            ignore_paths.push(read_string(r)?);
            if r.stream_position().map_err(io_err("read"))? > end {
                return Err(bad("bad frame"));
            }
        }
        Ok(Some(Frame {
            root_digest,
            model_name,
            allow_symlinks,
            ignore_paths,
        }))
    }
}

fn read_array<const N: usize>(r: &mut impl Read) -> Result<[u8; N], StatCacheError> {
    let mut b = [0u8; N];
    r.read_exact(&mut b).map_err(io_err("read"))?;
    Ok(b)
}

fn read_u32(r: &mut impl Read) -> Result<u32, StatCacheError> {
    Ok(u32::from_le_bytes(read_array(r)?))
}

fn read_string(r: &mut impl Read) -> Result<String, StatCacheError> {
    let bad = |reason| StatCacheError::Malformed { entry: 0, reason };
    let len = read_u32(r)? as usize;
    if len > MAX_NAME_BYTES {
        return Err(bad("string too long"));
    }
    let mut b = vec![0u8; len];
    r.read_exact(&mut b).map_err(io_err("read"))?;
    String::from_utf8(b).map_err(|_| bad("string not UTF-8"))
}

/// Writes a cache file entry by entry, in reference order, into a temporary file
/// beside it; [`Writer::finish`] renames it into place (a writer dropped unfinished
/// removes it).
pub(crate) struct Writer {
    w: Option<BufWriter<File>>,
    tmp: PathBuf,
    file: PathBuf,
    failed: Option<io::ErrorKind>,
    digest_len: usize,
}

impl Writer {
    /// A writer for `file`, its header naming `params`, `root` and `stamp`.
    pub(crate) fn create(
        file: &Path,
        params: &str,
        root: &str,
        stamp: i128,
        digest_len: usize,
    ) -> Self {
        let mut name = file.file_name().unwrap_or_default().to_owned();
        name.push(format!(".tmp-{}", std::process::id()));
        let tmp = file.with_file_name(name);
        let mut me = Self {
            w: None,
            tmp,
            file: file.to_owned(),
            failed: None,
            digest_len,
        };
        let opened = {
            use std::os::unix::fs::OpenOptionsExt as _;
            // Names and digests of the user's files: the user's alone.
            File::options()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&me.tmp)
        };
        match opened {
            Ok(f) => me.w = Some(BufWriter::with_capacity(64 << 10, f)),
            Err(e) => me.failed = Some(e.kind()),
        }
        let mut head = Vec::new();
        head.extend_from_slice(MAGIC.as_bytes());
        head.push(b'\n');
        for s in [params, root] {
            push_string(&mut head, s);
        }
        head.extend_from_slice(&stamp.to_le_bytes());
        head.extend_from_slice(&(digest_len as u32).to_le_bytes());
        me.write(&head);
        me
    }

    fn write(&mut self, b: &[u8]) {
        if let Some(w) = &mut self.w
            && let Err(e) = w.write_all(b)
        {
            self.failed.get_or_insert(e.kind());
            self.w = None;
        }
    }

    /// Appends `name`'s entry (left out when the name or digests pass their bounds, or
    /// a digest is not of the cache's length).
    pub(crate) fn entry(&mut self, name: &str, k: &FileStat, digests: &[u8], count: usize) {
        let (mtime, ctime) = (k.mtime, k.ctime);
        if name.len() > MAX_NAME_BYTES
            || digests.len() > MAX_LINE_BYTES
            || count.checked_mul(self.digest_len) != Some(digests.len())
        {
            return;
        }
        let mut rec = [0u8; RECORD];
        let words = [k.dev, k.ino, k.size, mtime as u64, ctime as u64];
        for (chunk, w) in rec.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        rec[40..44].copy_from_slice(&(name.len() as u32).to_le_bytes());
        rec[44..48].copy_from_slice(&(count as u32).to_le_bytes());
        self.write(&rec);
        self.write(name.as_bytes());
        self.write(digests);
    }

    /// Ends the entries, appends `frame`, and renames the file into place (not
    /// synced: a cache lost in a crash costs the next run a full hash; a torn one
    /// fails to parse).
    pub(crate) fn finish(mut self, frame: Option<&Frame>) -> Result<(), StatCacheError> {
        let mut end = [0u8; RECORD];
        end[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        self.write(&end);
        let at = match &mut self.w {
            Some(w) => w.stream_position().map_err(io_err("write"))?,
            None => 0,
        };
        let mut tail = Vec::new();
        match frame {
            None => tail.push(0),
            Some(f) => {
                tail.push(1);
                tail.extend_from_slice(&f.root_digest);
                push_string(&mut tail, &f.model_name);
                tail.push(u8::from(f.allow_symlinks));
                tail.extend_from_slice(&(f.ignore_paths.len() as u32).to_le_bytes());
                for p in &f.ignore_paths {
                    push_string(&mut tail, p);
                }
            }
        }
        tail.extend_from_slice(&at.to_le_bytes());
        tail.extend_from_slice(FOOTER);
        self.write(&tail);
        if let Some(w) = self.w.take()
            && let Err(e) = w.into_inner().map_err(|e| e.into_error())
        {
            self.failed.get_or_insert(e.kind());
        }
        if let Some(kind) = self.failed {
            return Err(StatCacheError::Io { op: "write", kind });
        }
        std::fs::rename(&self.tmp, &self.file).map_err(io_err("rename"))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Renamed away on success; otherwise the partial file goes.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

fn push_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}
