//! The dispatcher: identifies each file or member by content, routes it to its format
//! scanner, recurses into containers, and turns parse errors into "unverified".

use std::fs;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use crate::ctx::{Ctx, Role};
use crate::error::{Result, ScanError};
use crate::formats;
use crate::identify::{Kind, identify};
use crate::io::{Input, ReadSeek, read_prefix, stream_len};
use crate::limits::Limits;
use crate::policy::Policy;
use crate::report::{FileReport, MemberReport, Rule, Severity};

/// Scans one file or member; returns its format name. Errors become findings.
pub(crate) fn scan_member(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
    role: Role,
) -> &'static str {
    let first = ctx.findings.len();
    let format = match dispatch(r, len, member, depth, ctx, role) {
        Ok(f) => f,
        Err((f, e)) => {
            ctx.add(
                Rule::Unverified,
                Severity::Unverified,
                member,
                None,
                format!("{f}: {e}"),
            );
            f
        }
    };
    if !member.is_empty() {
        let verdict = FileReport::verdict_of(ctx.findings.get(first..).unwrap_or_default());
        ctx.members.push(MemberReport {
            member: member.to_owned(),
            format: format.to_owned(),
            verdict,
        });
    }
    format
}

type Dispatch = std::result::Result<&'static str, (&'static str, ScanError)>;

fn dispatch(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
    role: Role,
) -> Dispatch {
    let prefix = read_prefix(r, 4096).map_err(|e| ("unreadable", e))?;
    let kind = identify(&prefix, len);
    if depth > ctx.limits.max_depth
        && matches!(kind, Kind::Zip | Kind::Tar | Kind::Stream(_) | Kind::SevenZ)
    {
        return Err((
            "archive",
            ScanError::Limit(format!(
                "archive nesting deeper than {}",
                ctx.limits.max_depth
            )),
        ));
    }
    if !matches!(kind, Kind::Zip | Kind::Empty) {
        polyglot(r, len, member, depth, ctx).map_err(|e| ("zip polyglot", e))?;
    }
    let with = |name: &'static str, res: Result<()>| res.map(|()| name).map_err(|e| (name, e));
    match kind {
        Kind::Empty => Ok("empty"),
        Kind::Zip => formats::zip::scan(r, len, member, depth, ctx).map_err(|e| ("zip", e)),
        Kind::Tar => with("tar", formats::tar::scan(r, len, member, depth, ctx)),
        Kind::Stream(codec) => with(
            codec.name(),
            formats::compress::scan_stream(r, len, member, depth, ctx, codec),
        ),
        Kind::SevenZ => with("7z", formats::sevenz::scan(r, len, member, depth, ctx)),
        Kind::Compressed(name) => Err((
            name,
            ScanError::unsupported("compression", format!("{name} content is not inspected")),
        )),
        Kind::Pickle => {
            r.seek(SeekFrom::Start(0))
                .map_err(|e| ("pickle", e.into()))?;
            let mut inp = Input::seekable(r, 0, len);
            crate::pickle::scan_stream(&mut inp, ctx, member);
            Ok("pickle")
        }
        Kind::Npy => with("numpy", formats::npy::scan(r, len, member, ctx)),
        Kind::Safetensors => with(
            "safetensors",
            formats::safetensors::scan(r, len, member, ctx),
        ),
        Kind::Gguf => with("gguf", formats::gguf::scan(r, len, member, ctx)),
        Kind::Hdf5 => with(
            "hdf5",
            formats::keras::scan_hdf5(r, len, member, ctx, role == Role::KerasWeights),
        ),
        Kind::Text => formats::text::scan(r, len, member, ctx).map_err(|e| ("text", e)),
        Kind::Binary => {
            if let Some(name) =
                formats::protomodel::scan(r, len, member, ctx).map_err(|e| ("protobuf", e))?
            {
                return Ok(name);
            }
            if role == Role::TensorData {
                return Ok("tensor-data");
            }
            ctx.add(
                Rule::Unverified,
                Severity::Unverified,
                member,
                None,
                "unrecognised binary content: no known format, not checked".into(),
            );
            Ok("unknown")
        }
    }
}

/// A file that is both something else and a zip (EOCD at its end) is scanned both ways.
fn polyglot(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
) -> Result<()> {
    if len < 22 {
        return Ok(());
    }
    let tail = len.min(1024);
    let buf = crate::io::read_at(r, len - tail, usize::try_from(tail).unwrap_or(0))?;
    if buf.windows(4).any(|w| w == b"PK\x05\x06") && formats::zip::has_directory(r, len) {
        ctx.add(
            Rule::ArchiveDifferential,
            Severity::Suspicious,
            member,
            None,
            "polyglot: the content is also a zip archive (loaders disagree on which it is)".into(),
        );
        formats::zip::scan(r, len, member, depth, ctx)?;
    }
    Ok(())
}

/// Scans a top-level reader.
pub(crate) fn scan_top(
    r: &mut dyn ReadSeek,
    name: &str,
    limits: &Limits,
    policy: &Policy,
    base_dir: Option<PathBuf>,
    role: Role,
) -> FileReport {
    let mut ctx = Ctx::new(limits, policy, scan_member);
    ctx.base_dir = base_dir;
    let format = match stream_len(r) {
        Ok(len) => scan_member(r, len, "", 0, &mut ctx, role),
        Err(e) => {
            ctx.add(
                Rule::Unverified,
                Severity::Unverified,
                "",
                None,
                format!("cannot read: {e}"),
            );
            "unreadable"
        }
    };
    FileReport {
        path: name.to_owned(),
        format: format.to_owned(),
        verdict: FileReport::verdict_of(&ctx.findings),
        findings: ctx.findings,
        members: ctx.members,
    }
}

fn role_of(path: &Path) -> Role {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let in_variables = path
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|p| p == "variables");
    if in_variables && name.starts_with("variables.data-") {
        Role::TensorData
    } else {
        Role::Plain
    }
}

/// Scans a path: a file, or a directory recursively (links are reported, not followed).
pub(crate) fn scan_path(
    path: &Path,
    limits: &Limits,
    policy: &Policy,
    out: &mut Vec<FileReport>,
) -> Result<()> {
    let meta = fs::symlink_metadata(path).map_err(|source| ScanError::Input {
        path: path.to_owned(),
        source,
    })?;
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = fs::read_dir(path)
            .map_err(|source| ScanError::Input {
                path: path.to_owned(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            let is_dir = fs::symlink_metadata(&p)
                .map(|m| m.is_dir())
                .unwrap_or(false);
            if is_dir && p.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            scan_path(&p, limits, policy, out)?;
        }
        return Ok(());
    }
    if meta.file_type().is_symlink() {
        let target = fs::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_default();
        let mut ctx = Ctx::new(limits, policy, scan_member);
        ctx.add(
            Rule::ArchiveTraversal,
            Severity::Suspicious,
            "",
            None,
            format!("symbolic link to {target} (not followed; a loader would read the target)"),
        );
        out.push(FileReport {
            path: path.display().to_string(),
            format: "symlink".into(),
            verdict: FileReport::verdict_of(&ctx.findings),
            findings: ctx.findings,
            members: Vec::new(),
        });
        return Ok(());
    }
    let mut f = fs::File::open(path).map_err(|source| ScanError::Input {
        path: path.to_owned(),
        source,
    })?;
    let base = path.parent().map(Path::to_path_buf);
    out.push(scan_top(
        &mut f,
        &path.display().to_string(),
        limits,
        policy,
        base,
        role_of(path),
    ));
    Ok(())
}
