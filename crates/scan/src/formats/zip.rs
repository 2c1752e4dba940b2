//! Zip archives (PKWARE APPNOTE 6.3.10 subset: stored/deflate, zip64), including PyTorch's
//! `torch.save` zips, NumPy `.npz` and Keras v3 `.keras`. Parsed from the central directory
//! in memory; members are scanned in place (stored) or inflated under a budget — never
//! extracted to disk. Flag bits and CRCs are not trusted nor required (loaders ignore
//! them), so a bad CRC cannot hide a member.

use std::collections::HashSet;
use std::io::SeekFrom;

use crate::ctx::{Ctx, Role, join};
use crate::error::{Result, ScanError};
use crate::io::{ReadSeek, Window, le_u16, le_u32, le_u64, read_at};
use crate::limits::Limits;
use crate::report::{Rule, Severity};

struct Entry {
    name: String,
    flags: u16,
    method: u16,
    csize: u64,
    usize_: u64,
    lho: u64,
    external_attr: u32,
}

struct Directory {
    entries: Vec<Entry>,
    /// Bytes prepended to the archive (offsets are relative to this).
    base: u64,
}

const FORMAT: &str = "zip";

fn find_eocd(r: &mut dyn ReadSeek, len: u64) -> Result<(u64, Vec<u8>)> {
    let tail = len.min(65_557);
    let buf = read_at(r, len - tail, usize::try_from(tail).unwrap_or(0))?;
    let pos = buf
        .windows(4)
        .rposition(|w| w == b"PK\x05\x06")
        .ok_or_else(|| ScanError::malformed(FORMAT, "no end-of-central-directory record"))?;
    let rec = buf.get(pos..).unwrap_or_default().to_vec();
    Ok((len - tail + pos as u64, rec))
}

fn directory(r: &mut dyn ReadSeek, len: u64, limits: &Limits) -> Result<Directory> {
    let bad = |d: &str| ScanError::malformed(FORMAT, d.to_owned());
    let (eocd_pos, eocd) = find_eocd(r, len)?;
    let mut count = u64::from(le_u16(&eocd, 10).ok_or_else(|| bad("short EOCD"))?);
    let mut cd_size = u64::from(le_u32(&eocd, 12).ok_or_else(|| bad("short EOCD"))?);
    let mut cd_off = u64::from(le_u32(&eocd, 16).ok_or_else(|| bad("short EOCD"))?);
    let mut end_of_cd = eocd_pos;
    if (count == 0xffff || cd_size == 0xffff_ffff || cd_off == 0xffff_ffff) && eocd_pos >= 20 {
        let loc = read_at(r, eocd_pos - 20, 20)?;
        if loc.starts_with(b"PK\x06\x07") {
            let e64_pos = le_u64(&loc, 8).ok_or_else(|| bad("zip64 locator"))?;
            if e64_pos.checked_add(56).is_some_and(|e| e <= len) {
                let e64 = read_at(r, e64_pos, 56)?;
                if e64.starts_with(b"PK\x06\x06") {
                    count = le_u64(&e64, 32).ok_or_else(|| bad("zip64 EOCD"))?;
                    cd_size = le_u64(&e64, 40).ok_or_else(|| bad("zip64 EOCD"))?;
                    cd_off = le_u64(&e64, 48).ok_or_else(|| bad("zip64 EOCD"))?;
                    end_of_cd = e64_pos;
                }
            }
        }
    }
    if count > limits.max_entries {
        return Err(ScanError::Limit(format!(
            "{count} zip entries (limit {})",
            limits.max_entries
        )));
    }
    let cd_start = end_of_cd
        .checked_sub(cd_size)
        .ok_or_else(|| bad("central directory larger than the file"))?;
    let base = cd_start
        .checked_sub(cd_off)
        .ok_or_else(|| bad("central directory offset past its position"))?;
    if cd_size > limits.max_header {
        return Err(ScanError::Limit(format!(
            "central directory of {cd_size} bytes"
        )));
    }
    let cd = read_at(
        r,
        cd_start,
        usize::try_from(cd_size).map_err(|_| bad("size"))?,
    )?;
    let mut entries = Vec::new();
    let mut p = 0usize;
    while entries.len() < usize::try_from(count).unwrap_or(usize::MAX) {
        let h = cd
            .get(p..p + 46)
            .ok_or_else(|| bad("truncated central directory"))?;
        if !h.starts_with(b"PK\x01\x02") {
            return Err(bad("bad central directory signature"));
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
    Ok(Directory { entries, base })
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

/// Whether a readable central directory ends this content.
pub(crate) fn has_directory(r: &mut dyn ReadSeek, len: u64) -> bool {
    directory(r, len, &Limits::default()).is_ok_and(|d| !d.entries.is_empty())
}

fn unsafe_name(name: &str) -> Option<&'static str> {
    if name.starts_with('/') || name.starts_with('\\') || name.get(1..2) == Some(":") {
        Some("absolute path")
    } else if name.split(['/', '\\']).any(|c| c == "..") {
        Some("'..' component")
    } else if name.contains('\0') {
        Some("NUL in name")
    } else {
        None
    }
}

/// Scans a zip archive; returns the specific format (pytorch, keras, npz, zip).
pub(crate) fn scan(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
) -> Result<&'static str> {
    let dir = directory(r, len, ctx.limits)?;
    let names: HashSet<&str> = dir.entries.iter().map(|e| e.name.as_str()).collect();
    let torch_prefix = dir
        .entries
        .iter()
        .find_map(|e| {
            e.name
                .strip_suffix("data.pkl")
                .filter(|p| p.is_empty() || p.ends_with('/'))
        })
        .map(str::to_owned);
    let kind = if torch_prefix.is_some() {
        "pytorch-zip"
    } else if names.contains("config.json") && names.contains("metadata.json") {
        "keras"
    } else if !dir.entries.is_empty() && dir.entries.iter().all(|e| e.name.ends_with(".npy")) {
        "npz"
    } else {
        FORMAT
    };
    if dir.base > 0 {
        ctx.add(
            Rule::ArchiveDifferential,
            Severity::Info,
            member,
            Some(0),
            format!("{} bytes precede the zip archive", dir.base),
        );
    }
    if names.len() != dir.entries.len() {
        ctx.add(
            Rule::ArchiveDifferential,
            Severity::Suspicious,
            member,
            None,
            "duplicate member names (loaders pick different ones)".into(),
        );
    }
    let mut spans: Vec<(u64, u64, String)> = Vec::new();
    for e in &dir.entries {
        let child = join(member, &e.name);
        if let Some(why) = unsafe_name(&e.name) {
            ctx.add(
                Rule::ArchiveTraversal,
                Severity::Suspicious,
                &child,
                None,
                format!("member name escapes the archive root ({why})"),
            );
        }
        if (e.external_attr >> 16) & 0o170_000 == 0o120_000 {
            ctx.add(
                Rule::ArchiveTraversal,
                Severity::Suspicious,
                &child,
                None,
                "member is a symbolic link".into(),
            );
        }
        if e.name.ends_with('/') && e.csize == 0 {
            continue;
        }
        let lh_pos = dir
            .base
            .checked_add(e.lho)
            .filter(|p| p.checked_add(30).is_some_and(|x| x <= len));
        let Some(lh_pos) = lh_pos else {
            ctx.add(
                Rule::Unverified,
                Severity::Unverified,
                &child,
                None,
                "local header outside the file".into(),
            );
            continue;
        };
        let lh = read_at(r, lh_pos, 30)?;
        if !lh.starts_with(b"PK\x03\x04") {
            ctx.add(
                Rule::Unverified,
                Severity::Unverified,
                &child,
                Some(lh_pos),
                "bad local header signature".into(),
            );
            continue;
        }
        let (nlen, xlen) = (
            u64::from(le_u16(&lh, 26).unwrap_or(0)),
            u64::from(le_u16(&lh, 28).unwrap_or(0)),
        );
        let local_name = read_at(r, lh_pos + 30, usize::try_from(nlen).unwrap_or(0))?;
        if local_name != e.name.as_bytes() {
            ctx.add(
                Rule::ArchiveDifferential,
                Severity::Suspicious,
                &child,
                Some(lh_pos),
                format!(
                    "local header names {:?}, central directory {:?}",
                    String::from_utf8_lossy(&local_name),
                    e.name
                ),
            );
        }
        let data = lh_pos + 30 + nlen + xlen;
        if data.checked_add(e.csize).is_none_or(|end| end > len) {
            ctx.add(
                Rule::Unverified,
                Severity::Unverified,
                &child,
                Some(lh_pos),
                "member data runs past the end of the file".into(),
            );
            continue;
        }
        spans.push((lh_pos, data + e.csize, child.clone()));
        if e.flags & 1 != 0 {
            ctx.add(
                Rule::Unverified,
                Severity::Unverified,
                &child,
                None,
                "encrypted member: content cannot be checked".into(),
            );
            continue;
        }
        let storage = torch_prefix.as_deref().is_some_and(|p| {
            e.name
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with("data/") && !rest.ends_with(".pkl"))
        });
        let role = if storage {
            Role::TensorData
        } else if kind == "keras" && e.name.ends_with(".h5") {
            Role::KerasWeights
        } else {
            Role::Plain
        };
        match e.method {
            0 if storage => {
                // Raw storage bytes: torch reads them as bytes; skipped, not read.
                ctx.members.push(crate::report::MemberReport {
                    member: child,
                    format: "tensor-data".into(),
                    verdict: crate::report::Verdict::Clean,
                });
            }
            0 => {
                let mut w = Window::new(r, data, e.csize);
                ctx.scan_member(&mut w, e.csize, &child, depth + 1, role);
            }
            8 => {
                super::compress::check_ratio(ctx, &child, e.csize, e.usize_);
                r.seek(SeekFrom::Start(data))?;
                let w = Window::new(r, data, e.csize);
                let mut d = flate2::read::DeflateDecoder::new(std::io::BufReader::new(w));
                if let Err(err) = super::compress::scan_decoded(&mut d, &child, depth, ctx, role) {
                    ctx.add(
                        Rule::Unverified,
                        Severity::Unverified,
                        &child,
                        None,
                        format!("deflated member: {err}"),
                    );
                }
            }
            m => {
                ctx.add(
                    Rule::Unverified,
                    Severity::Unverified,
                    &child,
                    None,
                    format!("compression method {m} not supported"),
                );
            }
        }
    }
    spans.sort();
    for pair in spans.windows(2) {
        if let [(_, end, a), (start, _, b)] = pair
            && start < end
        {
            ctx.add(
                Rule::ArchiveBomb,
                Severity::Suspicious,
                member,
                Some(*start),
                format!("members {a} and {b} overlap (zip bomb construction)"),
            );
            break;
        }
    }
    Ok(kind)
}
