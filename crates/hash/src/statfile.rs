//! The stat cache's file format (see [`crate::StatCache`]): a bounded line format
//! ([`MAX_CACHE_BYTES`], [`MAX_LINE_BYTES`]), a header naming the format, the
//! parameters, the model root and the stamp of the run that wrote it, then one line per
//! file in reference order,
//!
//! ```text
//! DEV INO SIZE MTIME_NS CTIME_NS HEX(NAME) HEX(DIGEST)[,HEX(DIGEST)…]|-
//! ```
//!
//! read into two buffers (names, digests) and one fixed-size record per file, with no
//! allocation per line. Anything malformed or out of order refuses the whole file.

use std::cmp::Ordering as CmpOrdering;
use std::ops::Range;

use hallmark_format::resource::compare_paths;

use crate::model::FileStat;

/// Largest cache file read or written (about a million files of typical names).
pub const MAX_CACHE_BYTES: u64 = 256 << 20;

/// Largest line of a cache file (one file's name and all its shard digests).
pub const MAX_LINE_BYTES: usize = 1 << 20;

pub(crate) const MAGIC: &str = "hallmark-statcache 2";

/// Why a cache file was not used (the caller warns and hashes everything).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StatCacheError {
    /// The file is larger than [`MAX_CACHE_BYTES`] (or would be, when writing).
    #[error("stat cache is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// [`MAX_CACHE_BYTES`].
        limit: u64,
    },
    /// A line is not what the format allows.
    #[error("stat cache line {line}: {reason}")]
    Malformed {
        /// 1-based line number.
        line: usize,
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

/// One file of the previous run: where its name and digests lie in [`Previous`].
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) key: FileStat,
    /// Racily clean: never reused, kept to say why.
    pub(crate) racy: bool,
    name: Range<usize>,
    /// The digests, concatenated, and how many there are.
    digests: Range<usize>,
    count: usize,
}

/// The entries a cache file holds (racily clean ones left out), in reference order.
#[derive(Debug, Default)]
pub(crate) struct Previous {
    names: String,
    digests: Vec<u8>,
    pub(crate) entries: Vec<Entry>,
}

impl Previous {
    pub(crate) fn name(&self, e: &Entry) -> &str {
        self.names.get(e.name.clone()).unwrap_or_default()
    }

    /// The entry's digests, one slice per unit.
    pub(crate) fn digests<'a>(&'a self, e: &Entry) -> impl Iterator<Item = &'a [u8]> + 'a {
        let all = self.digests.get(e.digests.clone()).unwrap_or_default();
        all.chunks(all.len().checked_div(e.count).unwrap_or(1).max(1))
    }

    pub(crate) fn count(e: &Entry) -> usize {
        e.count
    }
}

/// Builds a cache file line by line, in reference order.
pub(crate) struct Writer {
    out: String,
}

impl Writer {
    /// A writer whose file starts with `header`, room for about `files` lines.
    pub(crate) fn new(header: &str, files: usize) -> Self {
        let mut out = String::with_capacity(files.saturating_mul(160).min(1 << 26));
        out.push_str(header);
        Self { out }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.out.into_bytes()
    }

    /// Appends `name`'s entry (a line longer than [`MAX_LINE_BYTES`] is left out).
    pub(crate) fn entry<'a>(
        &mut self,
        name: &str,
        k: &FileStat,
        digests: impl Iterator<Item = &'a [u8]>,
    ) {
        use std::fmt::Write as _;
        let start = self.out.len();
        // Times as i64 when they fit (always, until 2262): i128 formatting is slow.
        let t = |v: i128| i64::try_from(v).map_err(|_| v);
        let _ = match (t(k.mtime), t(k.ctime)) {
            (Ok(m), Ok(c)) => write!(self.out, "{} {} {} {m} {c} ", k.dev, k.ino, k.size),
            _ => write!(
                self.out,
                "{} {} {} {} {} ",
                k.dev, k.ino, k.size, k.mtime, k.ctime
            ),
        };
        hex_into(&mut self.out, name.as_bytes());
        self.out.push(' ');
        let mut any = false;
        for d in digests {
            if any {
                self.out.push(',');
            }
            hex_into(&mut self.out, d);
            any = true;
        }
        if !any {
            self.out.push('-');
        }
        self.out.push('\n');
        if self.out.len() - start > MAX_LINE_BYTES {
            self.out.truncate(start);
        }
    }
}

fn hex_into(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
}

pub(crate) fn parse(bytes: &[u8], params: &str, root: &str) -> Result<Previous, StatCacheError> {
    let size = bytes.len() as u64;
    if size > MAX_CACHE_BYTES {
        return Err(StatCacheError::TooLarge {
            size,
            limit: MAX_CACHE_BYTES,
        });
    }
    let bad = |line: usize, reason| StatCacheError::Malformed { line, reason };
    let text = std::str::from_utf8(bytes).map_err(|_| bad(0, "not UTF-8"))?;
    if !text.ends_with('\n') {
        return Err(bad(0, "truncated (no final newline)"));
    }
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let mut header = |want: &str, field| match lines.next() {
        Some((_, l)) if l == want => Ok(()),
        Some((_, l)) if l.split(' ').next() == want.split(' ').next() => {
            Err(StatCacheError::Foreign { field })
        }
        Some((n, _)) => Err(bad(n, "unexpected header line")),
        None => Err(bad(0, "empty")),
    };
    header(MAGIC, "format")?;
    header(params, "params")?;
    header(root, "root")?;
    let stamp: i128 = match lines.next() {
        Some((n, l)) => l
            .strip_prefix("stamp ")
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(n, "bad stamp"))?,
        None => return Err(bad(0, "no stamp")),
    };
    let mut out = Previous::default();
    let mut last: Option<Range<usize>> = None;
    let mut scratch = Vec::new();
    for (n, l) in lines {
        if l.len() > MAX_LINE_BYTES {
            return Err(bad(n, "line too long"));
        }
        let mut f = l.split(' ');
        let mut field = || f.next().ok_or_else(|| bad(n, "not 7 fields"));
        let num = |s: &str| s.parse::<u64>().map_err(|_| bad(n, "bad number"));
        let time = |s: &str| s.parse::<i128>().map_err(|_| bad(n, "bad time"));
        let key = FileStat {
            dev: num(field()?)?,
            ino: num(field()?)?,
            size: num(field()?)?,
            mtime: time(field()?)?,
            ctime: time(field()?)?,
        };
        let (name_hex, digests_hex) = (field()?, field()?);
        if f.next().is_some() {
            return Err(bad(n, "not 7 fields"));
        }
        let name = decode_into(&mut out.names, &mut scratch, name_hex)
            .ok_or_else(|| bad(n, "bad name"))?;
        if let Some(prev) = &last {
            let (a, b) = (out.names.get(prev.clone()), out.names.get(name.clone()));
            if compare_paths(a.unwrap_or_default(), b.unwrap_or_default()) != CmpOrdering::Less {
                return Err(bad(n, "names out of order or repeated"));
            }
        }
        last = Some(name.clone());
        let start = out.digests.len();
        let mut count = 0;
        if digests_hex != "-" {
            for d in digests_hex.split(',') {
                let len = d.len() / 2;
                if count > 0 && len * count != out.digests.len() - start {
                    return Err(bad(n, "bad digest"));
                }
                let at = out.digests.len();
                out.digests.resize(at + len, 0);
                if !unhex(d, out.digests.get_mut(at..).unwrap_or_default()) {
                    return Err(bad(n, "bad digest"));
                }
                count += 1;
            }
        }
        out.entries.push(Entry {
            key,
            // Racily clean: changed in the tick the run that wrote it started, or later.
            racy: key.mtime >= stamp || key.ctime >= stamp,
            name,
            digests: start..out.digests.len(),
            count,
        });
    }
    Ok(out)
}

/// Decodes lowercase hex into `out` (exactly half its length); false if it is not.
fn unhex(hex: &str, out: &mut [u8]) -> bool {
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    hex.len() == out.len() * 2
        && hex
            .as_bytes()
            .chunks_exact(2)
            .zip(out.iter_mut())
            .all(|(p, o)| match p {
                [h, l] if let (Some(h), Some(l)) = (nibble(*h), nibble(*l)) => {
                    *o = h << 4 | l;
                    true
                }
                _ => false,
            })
}

/// Appends the UTF-8 text `hex` encodes to `names`; where it lies.
fn decode_into(names: &mut String, scratch: &mut Vec<u8>, hex: &str) -> Option<Range<usize>> {
    scratch.clear();
    scratch.resize(hex.len() / 2, 0);
    if !unhex(hex, scratch) {
        return None;
    }
    let s = std::str::from_utf8(scratch).ok()?;
    let start = names.len();
    names.push_str(s);
    Some(start..names.len())
}
