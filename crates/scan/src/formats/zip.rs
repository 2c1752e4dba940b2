//! Zip archives (PKWARE APPNOTE 6.3.10 subset: stored/deflate, zip64), including PyTorch's
//! `torch.save` zips, NumPy `.npz` and Keras v3 `.keras`. Parsed from the central directory
//! in memory; members are scanned in place (stored) or inflated under a budget — never
//! extracted to disk. Flag bits and CRCs are not trusted nor required (loaders ignore
//! them), so a bad CRC cannot hide a member.

use std::collections::HashSet;
use std::io::SeekFrom;

use super::zipdir::directory;
use crate::ctx::{Ctx, Role, join};
use crate::error::Result;
use crate::io::{ReadSeek, Window, le_u16, read_at};
use crate::limits::Limits;
use crate::report::{Rule, Severity};

const FORMAT: &str = "zip";

/// Whether a readable central directory ends this content.
pub(crate) fn has_directory(r: &mut dyn ReadSeek, len: u64) -> bool {
    directory(r, len, &Limits::default()).is_ok_and(|d| !d.entries.is_empty())
}

/// Why an archive member name escapes the extraction root, if it does.
pub(crate) fn unsafe_name(name: &str) -> Option<&'static str> {
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
    for note in &dir.notes {
        ctx.add(
            Rule::ArchiveDifferential,
            Severity::Suspicious,
            member,
            None,
            format!("zip end records disagree: {note}"),
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
            // miniz refuses the member, but loaders that ignore the flag (and PyTorch's
            // offset-based storage reads) take the bytes as they are: scan them in clear.
            // Really encrypted data then fails to parse and is reported unverified.
            ctx.add(
                Rule::ArchiveDifferential,
                Severity::Suspicious,
                &child,
                Some(lh_pos),
                format!(
                    "general-purpose flag 0x{:04x} marks the member encrypted; its bytes are scanned as stored (loaders that ignore the flag read them in clear)",
                    e.flags
                ),
            );
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
                if let Err(err) =
                    super::compress::scan_decoded(&mut d, e.csize, &child, depth, ctx, role)
                {
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
