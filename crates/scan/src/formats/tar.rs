//! Tar archives (POSIX ustar, pax `path`/`size` records, GNU long names, v7). Members are
//! scanned in place through a window; links and escaping names are reported.

use crate::ctx::{Ctx, Role, join};
use crate::error::{Result, ScanError};
use crate::io::{ReadSeek, Window, read_at};
use crate::report::{Rule, Severity};

/// Parses an octal (or GNU base-256) numeric header field.
pub(crate) fn octal(f: &[u8]) -> Option<u64> {
    if f.first().is_some_and(|b| b & 0x80 != 0) {
        let mut v: u64 = 0;
        for (i, b) in f.iter().enumerate() {
            let b = if i == 0 { b & 0x7f } else { *b };
            v = v.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(v);
    }
    let s = std::str::from_utf8(f).ok()?;
    let s = s.trim_matches(|c: char| c == '\0' || c == ' ');
    if s.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(s, 8).ok()
}

fn cstr(f: &[u8]) -> String {
    let end = f.iter().position(|&b| b == 0).unwrap_or(f.len());
    String::from_utf8_lossy(f.get(..end).unwrap_or_default()).into_owned()
}

fn pax_records(data: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(sp) = rest.iter().position(|&b| b == b' ') {
        let Some(n) = std::str::from_utf8(rest.get(..sp).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse::<usize>().ok())
        else {
            break;
        };
        let Some(rec) = rest.get(sp + 1..n.max(sp + 1)) else {
            break;
        };
        let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
        if let Some(eq) = rec.iter().position(|&b| b == b'=') {
            out.push((
                String::from_utf8_lossy(rec.get(..eq).unwrap_or_default()).into_owned(),
                String::from_utf8_lossy(rec.get(eq + 1..).unwrap_or_default()).into_owned(),
            ));
        }
        rest = rest.get(n.max(sp + 1)..).unwrap_or_default();
    }
    out
}

/// Scans a tar archive.
pub(crate) fn scan(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
) -> Result<()> {
    let mut pos = 0u64;
    let mut count = 0u64;
    let mut long_name: Option<String> = None;
    let mut pax: Vec<(String, String)> = Vec::new();
    while pos.checked_add(512).is_some_and(|e| e <= len) {
        let h = read_at(r, pos, 512)?;
        if h.iter().all(|&b| b == 0) {
            break;
        }
        count += 1;
        if count > ctx.limits.max_entries {
            return Err(ScanError::Limit(format!(
                "more than {} tar entries",
                ctx.limits.max_entries
            )));
        }
        let field = |a: usize, b: usize| h.get(a..b).unwrap_or_default();
        let mut size = octal(field(124, 136))
            .ok_or_else(|| ScanError::malformed("tar", format!("bad size at offset {pos}")))?;
        let typeflag = h.get(156).copied().unwrap_or(0);
        let mut name = cstr(field(0, 100));
        if field(257, 262) == b"ustar" {
            let prefix = cstr(field(345, 500));
            if !prefix.is_empty() {
                name = format!("{prefix}/{name}");
            }
        }
        if let Some(n) = long_name.take() {
            name = n;
        }
        for (k, v) in pax.drain(..) {
            match k.as_str() {
                "path" => name = v,
                "size" => size = v.parse().unwrap_or(size),
                _ => {}
            }
        }
        let data = pos + 512;
        if data.checked_add(size).is_none_or(|e| e > len) {
            return Err(ScanError::malformed(
                "tar",
                format!("member {name} runs past the end"),
            ));
        }
        let child = join(member, &name);
        match typeflag {
            b'L' | b'x' | b'g' => {
                let body = read_at(r, data, usize::try_from(size.min(1 << 20)).unwrap_or(0))?;
                if typeflag == b'L' {
                    long_name = Some(cstr(&body));
                } else if typeflag == b'x' {
                    pax = pax_records(&body);
                }
            }
            b'1' | b'2' => {
                let target = cstr(field(157, 257));
                let what = if typeflag == b'1' {
                    "hard link"
                } else {
                    "symbolic link"
                };
                ctx.add(
                    Rule::ArchiveTraversal,
                    Severity::Suspicious,
                    &child,
                    Some(pos),
                    format!("{what} to {target}"),
                );
            }
            b'0' | 0 | b'7' => {
                if name.starts_with('/') || name.split('/').any(|c| c == "..") {
                    ctx.add(
                        Rule::ArchiveTraversal,
                        Severity::Suspicious,
                        &child,
                        Some(pos),
                        "member name escapes the archive root".into(),
                    );
                }
                let mut w = Window::new(r, data, size);
                ctx.scan_member(&mut w, size, &child, depth + 1, Role::Plain);
            }
            b'3' | b'4' | b'6' => {
                ctx.add(
                    Rule::ArchiveTraversal,
                    Severity::Suspicious,
                    &child,
                    Some(pos),
                    "device or FIFO member".into(),
                );
            }
            _ => {}
        }
        pos = data + size.div_ceil(512) * 512;
    }
    Ok(())
}
