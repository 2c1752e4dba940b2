//! ONNX `ModelProto` (onnx.proto3, IR versions 3–11): operator domains (custom domains need
//! native libraries) and external-data locations (CVE-2022-25882 / CVE-2024-27318 class:
//! absolute paths, `..`, links). Tensor `raw_data` is skipped, never read.

use std::collections::HashSet;

use super::protobuf::{Pb, Wire};
use crate::ctx::Ctx;
use crate::error::Result;
use crate::report::{Rule, Severity};

const STANDARD_DOMAINS: &[&str] = &[
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.training",
    "ai.onnx.preview.training",
    "com.microsoft",
    "com.microsoft.nchwc",
    "com.microsoft.experimental",
    "com.ms.internal.nhwc",
];

#[derive(Default)]
struct State {
    used: Vec<(String, String, u64)>,
    functions: HashSet<String>,
    locations: Vec<(String, u64)>,
    depth: u32,
}

fn tensor(pb: &mut Pb<'_, '_>, end: u64, st: &mut State) -> Result<()> {
    let mut name = String::new();
    while let Some((f, w)) = pb.field(end)? {
        match (f, w) {
            (8, Wire::Len(n)) => name = pb.string(n)?,
            (13, Wire::Len(n)) => {
                let off = pb.inp.pos();
                let e = off + n;
                let (mut key, mut value) = (String::new(), String::new());
                while let Some((f2, w2)) = pb.field(e)? {
                    match (f2, w2) {
                        (1, Wire::Len(n)) => key = pb.string(n)?,
                        (2, Wire::Len(n)) => value = pb.string(n)?,
                        _ => pb.skip(w2)?,
                    }
                }
                if key == "location" {
                    st.locations.push((format!("{value}\u{0}{name}"), off));
                }
            }
            _ => pb.skip(w)?,
        }
    }
    Ok(())
}

fn graph(pb: &mut Pb<'_, '_>, end: u64, st: &mut State) -> Result<()> {
    st.depth += 1;
    if st.depth > 64 {
        return Err(crate::error::ScanError::Limit(
            "ONNX subgraphs nested deeper than 64".into(),
        ));
    }
    while let Some((f, w)) = pb.field(end)? {
        match (f, w) {
            (1, Wire::Len(n)) => node(pb, pb.inp.pos() + n, st)?,
            (5, Wire::Len(n)) => tensor(pb, pb.inp.pos() + n, st)?,
            (15, Wire::Len(n)) => sparse(pb, pb.inp.pos() + n, st)?,
            _ => pb.skip(w)?,
        }
    }
    st.depth -= 1;
    Ok(())
}

fn sparse(pb: &mut Pb<'_, '_>, end: u64, st: &mut State) -> Result<()> {
    while let Some((f, w)) = pb.field(end)? {
        match (f, w) {
            (1 | 2, Wire::Len(n)) => tensor(pb, pb.inp.pos() + n, st)?,
            _ => pb.skip(w)?,
        }
    }
    Ok(())
}

fn node(pb: &mut Pb<'_, '_>, end: u64, st: &mut State) -> Result<()> {
    let off = pb.inp.pos();
    let (mut op, mut domain) = (String::new(), String::new());
    while let Some((f, w)) = pb.field(end)? {
        match (f, w) {
            (4, Wire::Len(n)) => op = pb.string(n)?,
            (7, Wire::Len(n)) => domain = pb.string(n)?,
            (5, Wire::Len(n)) => attribute(pb, pb.inp.pos() + n, st)?,
            _ => pb.skip(w)?,
        }
    }
    st.used.push((domain, op, off));
    Ok(())
}

fn attribute(pb: &mut Pb<'_, '_>, end: u64, st: &mut State) -> Result<()> {
    while let Some((f, w)) = pb.field(end)? {
        match (f, w) {
            (5 | 10, Wire::Len(n)) => tensor(pb, pb.inp.pos() + n, st)?,
            (6 | 11, Wire::Len(n)) => graph(pb, pb.inp.pos() + n, st)?,
            (22 | 23, Wire::Len(n)) => sparse(pb, pb.inp.pos() + n, st)?,
            _ => pb.skip(w)?,
        }
    }
    Ok(())
}

fn function(pb: &mut Pb<'_, '_>, end: u64, st: &mut State) -> Result<()> {
    let (mut name, mut domain) = (String::new(), String::new());
    while let Some((f, w)) = pb.field(end)? {
        match (f, w) {
            (1, Wire::Len(n)) => name = pb.string(n)?,
            (10, Wire::Len(n)) => domain = pb.string(n)?,
            (7, Wire::Len(n)) => node(pb, pb.inp.pos() + n, st)?,
            _ => pb.skip(w)?,
        }
    }
    st.functions.insert(format!("{domain}\u{0}{name}"));
    Ok(())
}

/// Why an external-data location escapes the model directory.
pub(crate) fn location_risk(loc: &str) -> Option<&'static str> {
    let l = loc.trim();
    if l.starts_with('/') || l.starts_with('\\') || l.get(1..2) == Some(":") {
        Some("absolute path")
    } else if l.split(['/', '\\']).any(|c| c == "..") {
        Some("'..' component")
    } else if l.starts_with('~') {
        Some("home-relative path")
    } else if l.contains("://") {
        Some("URL")
    } else if l.contains('\0') || l.is_empty() {
        Some("empty or NUL in path")
    } else {
        None
    }
}

/// Scans an ONNX model.
pub(crate) fn scan(pb: &mut Pb<'_, '_>, len: u64, member: &str, ctx: &mut Ctx<'_>) -> Result<()> {
    let mut st = State::default();
    while let Some((f, w)) = pb.field(len)? {
        match (f, w) {
            (7, Wire::Len(n)) => graph(pb, pb.inp.pos() + n, &mut st)?,
            (20, Wire::Len(n)) => {
                let e = pb.inp.pos() + n;
                while let Some((f2, w2)) = pb.field(e)? {
                    match (f2, w2) {
                        (1 | 2, Wire::Len(n2)) => graph(pb, pb.inp.pos() + n2, &mut st)?,
                        _ => pb.skip(w2)?,
                    }
                }
            }
            (25, Wire::Len(n)) => function(pb, pb.inp.pos() + n, &mut st)?,
            _ => pb.skip(w)?,
        }
    }
    let mut reported = HashSet::new();
    for (domain, op, off) in &st.used {
        if STANDARD_DOMAINS.contains(&domain.as_str())
            || st.functions.contains(&format!("{domain}\u{0}{op}"))
        {
            continue;
        }
        if reported.insert((domain.clone(), op.clone())) {
            ctx.add(
                Rule::OnnxCustomDomain,
                Severity::Suspicious,
                member,
                Some(*off),
                format!(
                    "operator {domain}::{op} from a custom domain needs a native custom-op library"
                ),
            );
        }
    }
    for (entry, off) in &st.locations {
        let (loc, tensor) = entry.split_once('\u{0}').unwrap_or((entry, ""));
        if let Some(why) = location_risk(loc) {
            ctx.add(Rule::OnnxExternalData, Severity::Dangerous, member, Some(*off), format!("tensor {tensor:?}: external data location {loc:?} escapes the model directory ({why})"));
            continue;
        }
        if member.is_empty()
            && let Some(base) = ctx.base_dir.clone()
        {
            let p = base.join(loc);
            match std::fs::symlink_metadata(&p) {
                Ok(m) if m.file_type().is_symlink() => {
                    ctx.add(
                        Rule::OnnxExternalData,
                        Severity::Dangerous,
                        member,
                        Some(*off),
                        format!("tensor {tensor:?}: external data {loc:?} is a symbolic link"),
                    );
                }
                Ok(m) if hardlinked(&m) => {
                    ctx.add(
                        Rule::OnnxExternalData,
                        Severity::Suspicious,
                        member,
                        Some(*off),
                        format!("tensor {tensor:?}: external data {loc:?} has other hard links"),
                    );
                }
                Ok(_) => {}
                Err(_) => {
                    ctx.add(
                        Rule::OnnxExternalData,
                        Severity::Info,
                        member,
                        Some(*off),
                        format!(
                            "tensor {tensor:?}: external data {loc:?} not found beside the model"
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn hardlinked(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    m.nlink() > 1
}

#[cfg(not(unix))]
fn hardlinked(_: &std::fs::Metadata) -> bool {
    false
}
