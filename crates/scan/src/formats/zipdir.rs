//! The central directory of a zip archive: end-of-central-directory (EOCD) records,
//! zip64 records and the directory entries. Read the way miniz (PyTorch) and Python's
//! `zipfile` (NumPy, Keras) read it: a zip64 locator right before the classic EOCD is
//! always followed, whether or not a classic field is saturated — PyTorch's writer emits
//! the zip64 records in every file (`MZ_ZIP_FLAG_WRITE_ZIP64`), and both readers then take
//! the counts, size and offset from the zip64 record. Where the records disagree with each
//! other, the directory carries a note (a parser differential) for the caller to report.

use crate::error::{Result, ScanError};
use crate::io::{ReadSeek, le_u16, le_u32, le_u64, read_at};
use crate::limits::Limits;

/// One central-directory entry.
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) flags: u16,
    pub(crate) method: u16,
    pub(crate) csize: u64,
    pub(crate) usize_: u64,
    pub(crate) lho: u64,
    pub(crate) external_attr: u32,
}

/// A parsed central directory.
pub(crate) struct Directory {
    pub(crate) entries: Vec<Entry>,
    /// Bytes prepended to the archive (offsets are relative to this).
    pub(crate) base: u64,
    /// Inconsistencies between the end records that readers resolve differently.
    pub(crate) notes: Vec<String>,
}

const FORMAT: &str = "zip";
const EOCD_SIG: &[u8] = b"PK\x05\x06";
const LOCATOR_SIG: &[u8] = b"PK\x06\x07";
const ZIP64_EOCD_SIG: &[u8] = b"PK\x06\x06";
const LOCATOR_LEN: u64 = 20;
/// A zip64 EOCD record without extensible data (its size field then says 44).
const ZIP64_EOCD_LEN: u64 = 56;

fn bad(detail: impl Into<String>) -> ScanError {
    ScanError::malformed(FORMAT, detail)
}

fn find_eocd(r: &mut dyn ReadSeek, len: u64) -> Result<(u64, Vec<u8>)> {
    let tail = len.min(65_557);
    let buf = read_at(r, len - tail, usize::try_from(tail).unwrap_or(0))?;
    let pos = buf
        .windows(4)
        .rposition(|w| w == EOCD_SIG)
        .ok_or_else(|| bad("no end-of-central-directory record"))?;
    let rec = buf.get(pos..).unwrap_or_default().to_vec();
    Ok((len - tail + pos as u64, rec))
}

/// Where the central directory is, as the end records say.
struct End {
    count: u64,
    cd_size: u64,
    cd_off: u64,
    /// Where the central directory ends (the zip64 record, or the classic EOCD).
    end_of_cd: u64,
}

/// The zip64 end records, when a locator sits right before the classic EOCD at
/// `eocd_pos`. `classic` is what the classic EOCD says (used to report disagreement).
fn zip64_end(
    r: &mut dyn ReadSeek,
    eocd_pos: u64,
    classic: &End,
    notes: &mut Vec<String>,
) -> Result<Option<End>> {
    let Some(loc_pos) = eocd_pos.checked_sub(LOCATOR_LEN) else {
        return Ok(None);
    };
    let loc = read_at(r, loc_pos, 20)?;
    if !loc.starts_with(LOCATOR_SIG) {
        return Ok(None);
    }
    let f = |o| le_u32(&loc, o).unwrap_or(0);
    let (disk, disks) = (f(4), f(16));
    if disk != 0 || disks > 1 {
        return Err(ScanError::unsupported(
            FORMAT,
            format!("multi-disk zip64 archive (disk {disk} of {disks})"),
        ));
    }
    let written = le_u64(&loc, 8).unwrap_or(u64::MAX);
    // miniz reads the record where the locator says; zipfile reads the 56 bytes before the
    // locator (which also finds it when bytes were prepended to the archive).
    let adjacent = loc_pos.checked_sub(ZIP64_EOCD_LEN);
    let mut e64_pos = None;
    for pos in [Some(written), adjacent].into_iter().flatten() {
        if pos
            .checked_add(ZIP64_EOCD_LEN)
            .is_some_and(|e| e <= loc_pos)
            && read_at(r, pos, 4)? == ZIP64_EOCD_SIG
        {
            e64_pos = Some(pos);
            break;
        }
    }
    let e64_pos = e64_pos.ok_or_else(|| {
        bad(format!(
            "zip64 locator at {loc_pos} points to {written}, where no zip64 end-of-central-directory record is"
        ))
    })?;
    let e64 = read_at(r, e64_pos, 56)?;
    let g = |o| le_u64(&e64, o).unwrap_or(0);
    let size = g(4);
    let record_end = e64_pos.checked_add(12).and_then(|p| p.checked_add(size));
    match record_end {
        Some(end) if size >= ZIP64_EOCD_LEN - 12 && end <= loc_pos => {
            if end != loc_pos {
                notes.push(format!(
                    "{} bytes between the zip64 end-of-central-directory record (at {e64_pos}) and its locator",
                    loc_pos - end
                ));
            }
        }
        _ => {
            return Err(bad(format!(
                "zip64 end-of-central-directory record at {e64_pos} declares {size} bytes"
            )));
        }
    }
    if e64_pos != written {
        notes.push(format!(
            "zip64 locator points to {written}, the zip64 record is at {e64_pos}"
        ));
    }
    let end = End {
        count: g(32),
        cd_size: g(40),
        cd_off: g(48),
        end_of_cd: e64_pos,
    };
    if g(24) != end.count {
        notes.push(format!(
            "zip64 record counts {} entries on this disk and {} in all",
            g(24),
            end.count
        ));
    }
    for (what, c, z, saturated) in [
        ("entry count", classic.count, end.count, 0xffff),
        ("directory size", classic.cd_size, end.cd_size, 0xffff_ffff),
        ("directory offset", classic.cd_off, end.cd_off, 0xffff_ffff),
    ] {
        if c != z && c != saturated {
            notes.push(format!(
                "classic end record gives {what} {c}, the zip64 record {z} (readers without zip64 see another directory)"
            ));
        }
    }
    Ok(Some(end))
}

/// Reads the central directory of the archive that ends this content.
pub(crate) fn directory(r: &mut dyn ReadSeek, len: u64, limits: &Limits) -> Result<Directory> {
    let (eocd_pos, eocd) = find_eocd(r, len)?;
    let classic = End {
        count: u64::from(le_u16(&eocd, 10).ok_or_else(|| bad("short EOCD"))?),
        cd_size: u64::from(le_u32(&eocd, 12).ok_or_else(|| bad("short EOCD"))?),
        cd_off: u64::from(le_u32(&eocd, 16).ok_or_else(|| bad("short EOCD"))?),
        end_of_cd: eocd_pos,
    };
    let mut notes = Vec::new();
    let end = zip64_end(r, eocd_pos, &classic, &mut notes)?.unwrap_or(classic);
    if end.count > limits.max_entries {
        return Err(ScanError::Limit(format!(
            "{} zip entries (limit {})",
            end.count, limits.max_entries
        )));
    }
    if end.cd_size > limits.max_header {
        return Err(ScanError::Limit(format!(
            "central directory of {} bytes (limit {})",
            end.cd_size, limits.max_header
        )));
    }
    let cd_start = end
        .end_of_cd
        .checked_sub(end.cd_size)
        .ok_or_else(|| bad("central directory larger than the file"))?;
    let base = cd_start
        .checked_sub(end.cd_off)
        .ok_or_else(|| bad("central directory offset past its position"))?;
    let cd = read_at(
        r,
        cd_start,
        usize::try_from(end.cd_size).map_err(|_| bad("size"))?,
    )?;
    let entries = entries(&cd, end.count)?;
    Ok(Directory {
        entries,
        base,
        notes,
    })
}

fn entries(cd: &[u8], count: u64) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut p = 0usize;
    while entries.len() < usize::try_from(count).unwrap_or(usize::MAX) {
        let h = cd.get(p..p + 46).ok_or_else(|| {
            bad(format!(
                "truncated central directory at entry {}",
                entries.len()
            ))
        })?;
        if !h.starts_with(b"PK\x01\x02") {
            return Err(bad(format!(
                "bad central directory signature at entry {} (directory byte {p})",
                entries.len()
            )));
        }
        let f = |o| le_u16(h, o).unwrap_or(0);
        let g = |o| le_u32(h, o).unwrap_or(0);
        let (nlen, xlen, clen) = (usize::from(f(28)), usize::from(f(30)), usize::from(f(32)));
        let name_b = cd
            .get(p + 46..p + 46 + nlen)
            .ok_or_else(|| bad("truncated name"))?;
        let extra = cd
            .get(p + 46 + nlen..p + 46 + nlen + xlen)
            .ok_or_else(|| bad("truncated extra"))?;
        let mut e = Entry {
            name: String::from_utf8_lossy(name_b).into_owned(),
            flags: f(8),
            method: f(10),
            csize: u64::from(g(20)),
            usize_: u64::from(g(24)),
            lho: u64::from(g(42)),
            external_attr: g(38),
        };
        zip64_extra(extra, &mut e);
        entries.push(e);
        p += 46 + nlen + xlen + clen;
    }
    Ok(entries)
}

fn zip64_extra(mut x: &[u8], e: &mut Entry) {
    while let (Some(id), Some(size)) = (le_u16(x, 0), le_u16(x, 2)) {
        let body = x.get(4..4 + usize::from(size)).unwrap_or_default();
        if id == 1 {
            let mut o = 0;
            for field in [&mut e.usize_, &mut e.csize, &mut e.lho] {
                if *field == 0xffff_ffff {
                    if let Some(v) = le_u64(body, o) {
                        *field = v;
                    }
                    o += 8;
                }
            }
        }
        x = x.get(4 + usize::from(size)..).unwrap_or_default();
    }
}
