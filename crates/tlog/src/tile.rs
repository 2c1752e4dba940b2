//! C2SP tlog-tiles layout: tile paths, hash tiles, entry bundles, and a tile-backed source
//! of subtree hashes for proofs.
//!
//! A hash tile at level `L`, index `N` holds up to 256 hashes of tree level `8·L`
//! (leaf hashes for `L = 0`), indexes `N·256 ..`; a partial tile of width `W < 256` is
//! `tile/L/N.p/W`. An entry bundle `tile/entries/N[.p/W]` holds the leaf data of entries
//! `N·256 ..`, each prefixed by its big-endian `u16` length. Index path elements are
//! three-digit groups, all but the last prefixed by `x` (`1234067` → `x001/x234/067`).
//! Besides the spec's resources this log writes `hallmark/time/N[.p/W]` with each entry's
//! Rekor `integratedTime` (big-endian `u64` seconds), laid out like entry bundles.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Error;
use crate::merkle::{Hash, SubtreeHashes, node_hash};

/// Key of the public copy of the latest checkpoint (`<prefix>/checkpoint`).
pub const CHECKPOINT_KEY: &str = "checkpoint";

/// Hashes per full tile (tile height 8).
pub const TILE_WIDTH: u64 = 256;
/// Tile height in tree levels.
pub const TILE_HEIGHT: u8 = 8;
/// Largest entry an entry bundle can carry (`u16` length prefix).
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// Which series of tiles a path belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TileKind {
    /// Hash tile at this tile level.
    Hash(u8),
    /// Entry bundle (`tile/entries/...`).
    Entries,
    /// Integrated-time sidecar (`hallmark/time/...`, not part of the spec).
    Time,
}

/// One tile resource: kind, index and width (`1..=256`; 256 = full).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TilePath {
    /// The series.
    pub kind: TileKind,
    /// Tile index `N`.
    pub index: u64,
    /// Number of hashes or entries.
    pub width: u16,
}

/// Formats a tile index as tlog-tiles path elements.
#[must_use]
pub fn encode_index(mut n: u64) -> String {
    let mut s = format!("{:03}", n % 1000);
    n /= 1000;
    while n > 0 {
        s = format!("x{:03}/{s}", n % 1000);
        n /= 1000;
    }
    s
}

fn parse_index(parts: &[&str]) -> Option<u64> {
    let (last, xs) = parts.split_last()?;
    let mut n: u64 = 0;
    for (i, p) in xs.iter().enumerate() {
        let d = p.strip_prefix('x')?;
        if d.len() != 3 || !d.bytes().all(|b| b.is_ascii_digit()) || (i == 0 && d == "000") {
            return None;
        }
        n = n.checked_mul(1000)?.checked_add(d.parse::<u64>().ok()?)?;
    }
    if last.len() != 3 || !last.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.checked_mul(1000)?.checked_add(last.parse::<u64>().ok()?)
}

impl TilePath {
    /// A full or partial hash tile.
    #[must_use]
    pub fn hash(level: u8, index: u64, width: u16) -> Self {
        Self {
            kind: TileKind::Hash(level),
            index,
            width,
        }
    }

    /// The object key / URL path (without a leading slash).
    #[must_use]
    pub fn key(&self) -> String {
        let prefix = match self.kind {
            TileKind::Hash(l) => format!("tile/{l}/"),
            TileKind::Entries => "tile/entries/".to_owned(),
            TileKind::Time => "hallmark/time/".to_owned(),
        };
        let mut s = prefix + &encode_index(self.index);
        if u64::from(self.width) < TILE_WIDTH {
            s.push_str(&format!(".p/{}", self.width));
        }
        s
    }

    /// Parses a key made by [`TilePath::key`]; `None` for anything else (strict).
    #[must_use]
    pub fn parse(key: &str) -> Option<Self> {
        let (kind, rest) = if let Some(r) = key.strip_prefix("tile/entries/") {
            (TileKind::Entries, r)
        } else if let Some(r) = key.strip_prefix("hallmark/time/") {
            (TileKind::Time, r)
        } else {
            let r = key.strip_prefix("tile/")?;
            let (l, r) = r.split_once('/')?;
            if l.is_empty() || l.len() > 2 || !l.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            if l.len() > 1 && l.starts_with('0') {
                return None;
            }
            let level: u8 = l.parse().ok()?;
            if level > 7 {
                return None;
            }
            (TileKind::Hash(level), r)
        };
        let (idx, width) = match rest.split_once(".p/") {
            Some((i, w)) => {
                if w.starts_with('0') || w.is_empty() || !w.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let w: u16 = w.parse().ok()?;
                if !(1..256).contains(&w) {
                    return None;
                }
                (i, w)
            }
            None => (rest, 256),
        };
        let parts: Vec<&str> = idx.split('/').collect();
        Some(Self {
            kind,
            index: parse_index(&parts)?,
            width,
        })
    }

    /// The same tile at full width.
    #[must_use]
    pub fn full(&self) -> Self {
        Self {
            width: 256,
            ..*self
        }
    }
}

/// Width of tile `index` of `kind` in a tree of `size` (0 if it does not exist yet).
#[must_use]
pub fn width_in_tree(kind: TileKind, index: u64, size: u64) -> u16 {
    let count = match kind {
        TileKind::Hash(l) => size >> (u32::from(l) * 8),
        TileKind::Entries | TileKind::Time => size,
    };
    let start = index.saturating_mul(TILE_WIDTH);
    // min(...) ≤ 256 always fits in u16.
    count.saturating_sub(start).min(TILE_WIDTH) as u16
}

/// Source of tile bytes by key: a local store, a directory, or an HTTP server.
pub trait TileFetch: Send + Sync {
    /// The object at `key`, or `None` if it does not exist.
    ///
    /// # Errors
    /// I/O or transport failures (not "missing").
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error>;
}

/// Tree size named by the stored public checkpoint, **unverified**: used only to find
/// which width of a partial object is stored now; what is then read is checked by the
/// caller against its own verified checkpoint.
fn published_size(fetch: &dyn TileFetch) -> Result<Option<u64>, Error> {
    let Some(note) = fetch.fetch(CHECKPOINT_KEY)? else {
        return Ok(None);
    };
    Ok(std::str::from_utf8(&note)
        .ok()
        .and_then(|t| t.lines().nth(1))
        .and_then(|l| l.parse().ok()))
}

/// The object at `path` or, when the log has deleted that partial object since, the
/// wider one that replaced it: its full tile, or the partial of the published checkpoint
/// (looked up again if the log moved on meanwhile). Tiles and bundles are prefix-stable,
/// so the first `path.width` hashes or entries of the wider object are those asked for;
/// decoders take them, [`truncate_to_width`] cuts the bytes. `None` if neither exists.
///
/// The sequencers keep one partial object per tile series (see [`crate::sequencer`]);
/// this is how readers that verified an older checkpoint still find theirs.
///
/// # Errors
/// Fetch failures.
pub fn fetch_tile(fetch: &dyn TileFetch, path: TilePath) -> Result<Option<Vec<u8>>, Error> {
    if let Some(d) = fetch.fetch(&path.key())? {
        return Ok(Some(d));
    }
    if u64::from(path.width) == TILE_WIDTH {
        return Ok(None);
    }
    let mut tried = path.width;
    for _ in 0..4 {
        if let Some(d) = fetch.fetch(&path.full().key())? {
            return Ok(Some(d));
        }
        let Some(size) = published_size(fetch)? else {
            return Ok(None);
        };
        let w = width_in_tree(path.kind, path.index, size);
        if w <= tried {
            return Ok(None);
        }
        tried = w;
        if let Some(d) = fetch.fetch(&TilePath { width: w, ..path }.key())? {
            return Ok(Some(d));
        }
    }
    Ok(None)
}

/// The bytes of exactly `path.width` items from an object at least that wide (what
/// [`fetch_tile`] may return): hashes, length-prefixed entries or 8-byte times.
///
/// # Errors
/// [`Error::Corrupt`] if the object holds fewer items.
pub fn truncate_to_width(path: &TilePath, mut data: Vec<u8>) -> Result<Vec<u8>, Error> {
    let w = usize::from(path.width);
    let len = match path.kind {
        TileKind::Hash(_) => w * 32,
        TileKind::Time => w * 8,
        TileKind::Entries => {
            let mut at = 0usize;
            for _ in 0..w {
                let n = data
                    .get(at..at + 2)
                    .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])));
                at = n.map_or(usize::MAX, |n| at + 2 + n);
            }
            at
        }
    };
    if len > data.len() {
        return Err(Error::Corrupt(format!(
            "{} is shorter than its width",
            path.key()
        )));
    }
    data.truncate(len);
    Ok(data)
}

/// Encodes hashes as tile bytes.
#[must_use]
pub fn encode_hashes(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.iter().copied()).collect()
}

/// Decodes tile bytes into exactly `width` hashes (a longer, full tile is truncated).
///
/// # Errors
/// [`Error::Corrupt`] on a wrong length.
pub fn decode_hashes(key: &str, data: &[u8], width: u16) -> Result<Vec<Hash>, Error> {
    let need = usize::from(width) * 32;
    if !data.len().is_multiple_of(32) || data.len() < need || data.len() > 256 * 32 {
        return Err(Error::Corrupt(format!(
            "tile {key} has {} bytes, expected {need}",
            data.len()
        )));
    }
    Ok(data[..need]
        .chunks_exact(32)
        .map(|c| {
            let mut h = [0u8; 32];
            h.copy_from_slice(c);
            h
        })
        .collect())
}

/// Encodes an entry bundle.
#[must_use]
pub fn encode_bundle<T: AsRef<[u8]>>(entries: &[T]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.iter().map(|e| e.as_ref().len() + 2).sum());
    for e in entries {
        let e = e.as_ref();
        // Callers enforce MAX_ENTRY_BYTES on submission.
        out.extend_from_slice(&(e.len().min(MAX_ENTRY_BYTES) as u16).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

/// Decodes an entry bundle into at least `width` entries (extra ones are dropped).
///
/// # Errors
/// [`Error::Corrupt`] on truncation or too few entries.
pub fn decode_bundle(key: &str, data: &[u8], width: u16) -> Result<Vec<Vec<u8>>, Error> {
    let mut out = Vec::with_capacity(usize::from(width));
    let mut rest = data;
    while !rest.is_empty() && out.len() < usize::from(width) {
        let (len, tail) = rest
            .split_first_chunk::<2>()
            .ok_or_else(|| Error::Corrupt(format!("entry bundle {key} is truncated")))?;
        let len = usize::from(u16::from_be_bytes(*len));
        let (entry, tail) = tail
            .split_at_checked(len)
            .ok_or_else(|| Error::Corrupt(format!("entry bundle {key} is truncated")))?;
        out.push(entry.to_vec());
        rest = tail;
    }
    if out.len() != usize::from(width) {
        return Err(Error::Corrupt(format!(
            "entry bundle {key} holds {} entries, expected {width}",
            out.len()
        )));
    }
    Ok(out)
}

/// A hash tile with all eight levels inside it precomputed (level `r` holds the roots of
/// the complete `2^r`-hash groups), so a subtree lookup is one index.
#[derive(Clone, Debug)]
pub struct ExpandedTile {
    levels: Vec<Vec<Hash>>,
}

impl ExpandedTile {
    /// Expands the tile's own hashes (≤ 256).
    #[must_use]
    pub fn new(hashes: Vec<Hash>) -> Self {
        let mut levels = vec![hashes];
        for _ in 1..TILE_HEIGHT {
            let prev = levels.last().map(Vec::as_slice).unwrap_or_default();
            let next: Vec<Hash> = prev
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
            levels.push(next);
        }
        Self { levels }
    }

    /// Number of base hashes.
    #[must_use]
    pub fn width(&self) -> usize {
        self.levels.first().map_or(0, Vec::len)
    }

    /// The tile's base hashes.
    #[must_use]
    pub fn hashes(&self) -> &[Hash] {
        self.levels.first().map_or(&[], Vec::as_slice)
    }

    /// Root of the whole tile (only meaningful for a full tile).
    #[must_use]
    pub fn root(&self) -> Option<Hash> {
        let top = self.levels.last()?;
        let [a, b] = top.as_slice() else { return None };
        Some(node_hash(a, b))
    }
}

/// Complete-subtree hashes of a tree of a given size, read from hash tiles (with a cache).
pub struct TileReader {
    fetch: Arc<dyn TileFetch>,
    size: u64,
    cache: HashMap<(u8, u64), Arc<ExpandedTile>>,
    capacity: usize,
}

impl std::fmt::Debug for TileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TileReader")
            .field("size", &self.size)
            .field("cached", &self.cache.len())
            .finish()
    }
}

impl TileReader {
    /// A reader for the tree of `size` stored behind `fetch`.
    #[must_use]
    pub fn new(fetch: Arc<dyn TileFetch>, size: u64) -> Self {
        Self {
            fetch,
            size,
            cache: HashMap::new(),
            capacity: 4096,
        }
    }

    /// The tree size being read.
    #[must_use]
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Moves to a larger tree (tiles are prefix-stable, the cache stays valid).
    pub fn set_size(&mut self, size: u64) {
        self.size = size;
    }

    /// Puts a known tile into the cache (the sequencer's freshly written tiles).
    pub fn insert(&mut self, level: u8, index: u64, tile: Arc<ExpandedTile>) {
        if self.cache.len() >= self.capacity {
            self.cache.clear();
        }
        self.cache.insert((level, index), tile);
    }

    /// The hash tile `(level, index)` at the width it has in the current tree.
    ///
    /// # Errors
    /// Missing or malformed tiles.
    pub fn tile(&mut self, level: u8, index: u64) -> Result<Arc<ExpandedTile>, Error> {
        let width = width_in_tree(TileKind::Hash(level), index, self.size);
        if width == 0 {
            return Err(Error::IndexOutOfRange {
                index,
                size: self.size,
            });
        }
        if let Some(t) = self.cache.get(&(level, index))
            && t.width() >= usize::from(width)
        {
            return Ok(Arc::clone(t));
        }
        let path = TilePath::hash(level, index, width);
        let key = path.key();
        // A partial tile may have been replaced by a wider or the full tile.
        let data = fetch_tile(&*self.fetch, path)?.ok_or_else(|| Error::Missing {
            key: key.clone(),
            context: format!("needed for tree size {}", self.size),
        })?;
        let tile = Arc::new(ExpandedTile::new(decode_hashes(&key, &data, width)?));
        self.insert(level, index, Arc::clone(&tile));
        Ok(tile)
    }
}

impl SubtreeHashes for TileReader {
    fn subtree(&mut self, level: u8, index: u64) -> Result<Hash, Error> {
        let t = level / TILE_HEIGHT;
        let r = level % TILE_HEIGHT;
        let base = index << r;
        let tile = self.tile(t, base / TILE_WIDTH)?;
        let off = usize::try_from((base % TILE_WIDTH) >> r).unwrap_or(usize::MAX);
        tile.levels
            .get(usize::from(r))
            .and_then(|l| l.get(off))
            .copied()
            .ok_or_else(|| {
                Error::Corrupt(format!(
                    "subtree {level}/{index} is not in tile {t}/{} of tree size {}",
                    base / TILE_WIDTH,
                    self.size
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_round_trip() {
        assert_eq!(encode_index(1_234_067), "x001/x234/067");
        assert_eq!(
            TilePath::hash(0, 1_234_067, 256).key(),
            "tile/0/x001/x234/067"
        );
        assert_eq!(TilePath::hash(1, 5, 17).key(), "tile/1/005.p/17");
        for p in [
            TilePath::hash(0, 0, 1),
            TilePath::hash(3, 999_999, 256),
            TilePath {
                kind: TileKind::Entries,
                index: 1000,
                width: 255,
            },
            TilePath {
                kind: TileKind::Time,
                index: 7,
                width: 256,
            },
        ] {
            assert_eq!(TilePath::parse(&p.key()), Some(p));
        }
        for bad in [
            "tile/0/1",
            "tile/0/x000/001",
            "tile/0/001.p/0",
            "tile/0/001.p/256",
            "tile/00/001",
            "tile/8/001",
            "tile/0/001.p/017",
            "tile/0/0011",
            "tile/entries/x01/000",
        ] {
            assert_eq!(TilePath::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn bundle_round_trip() {
        let e = vec![b"a".to_vec(), vec![], vec![7u8; 300]];
        let b = encode_bundle(&e);
        assert_eq!(decode_bundle("k", &b, 3).unwrap(), e);
        assert!(decode_bundle("k", &b, 4).is_err());
        assert!(decode_bundle("k", &b[..b.len() - 1], 3).is_err());
    }
}
