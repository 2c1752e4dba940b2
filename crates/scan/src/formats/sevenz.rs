//! 7z archives (the "nullifAI" wrapping of PyTorch models): each member is decoded in
//! memory by `sevenz-rust2` (LZMA, LZMA2, bzip2, deflate, copy; header and dictionary
//! memory bounded by [`Limits::max_decoder_memory`]) and scanned like a compressed stream,
//! under the same inflation budget and ratio cap. Encrypted archives are unverified.
//!
//! [`Limits::max_decoder_memory`]: crate::Limits::max_decoder_memory

use std::io::{self, Read, SeekFrom};

use sevenz_rust2::{ArchiveReader, EntryDecision, Password};

use super::compress::scan_decoded;
use super::zip::unsafe_name;
use crate::ctx::{Ctx, Role, join};
use crate::error::{Result, ScanError};
use crate::io::ReadSeek;
use crate::report::{Rule, Severity};

const FORMAT: &str = "7z";

fn error(e: sevenz_rust2::Error) -> ScanError {
    use sevenz_rust2::Error as E;
    match e {
        E::Io(e, _) => ScanError::Io(e),
        E::MaxMemLimited { max_kb, actaul_kb } => ScanError::Limit(format!(
            "7z decoder needs {actaul_kb} KiB of memory (limit {max_kb} KiB)"
        )),
        e @ (E::PasswordRequired
        | E::MaybeBadPassword(_)
        | E::UnsupportedCompressionMethod(_)
        | E::Unsupported(_)
        | E::ExternalUnsupported) => ScanError::unsupported(FORMAT, e.to_string()),
        e => ScanError::malformed(FORMAT, e.to_string()),
    }
}

/// Scans a 7z archive's members.
pub(crate) fn scan(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
) -> Result<()> {
    r.seek(SeekFrom::Start(0))?;
    let mem_kib = usize::try_from(ctx.limits.max_decoder_memory / 1024).unwrap_or(usize::MAX);
    let mut archive =
        ArchiveReader::new_with_memory_limit(r, Password::empty(), mem_kib).map_err(error)?;
    archive.set_thread_count(1);
    let count = archive.archive().files.len() as u64;
    if count > ctx.limits.max_entries {
        return Err(ScanError::Limit(format!(
            "{count} 7z entries (limit {})",
            ctx.limits.max_entries
        )));
    }
    for e in &archive.archive().files {
        if let Some(why) = unsafe_name(&e.name) {
            ctx.add(
                Rule::ArchiveTraversal,
                Severity::Suspicious,
                &join(member, &e.name),
                None,
                format!("member name escapes the archive root ({why})"),
            );
        }
    }
    let mut done = 0u64;
    let mut stop: Option<String> = None;
    let res = archive.for_each_entries_with_decision(|entry, data| {
        done += 1;
        if entry.is_directory || !entry.has_stream {
            return Ok(EntryDecision::Continue);
        }
        let child = join(member, &entry.name);
        match scan_decoded(data, len, &child, depth, ctx, Role::Plain) {
            Ok(()) => {}
            Err(e @ ScanError::Limit(_)) => {
                stop = Some(format!("{child}: {e}"));
                return Ok(EntryDecision::Stop);
            }
            Err(e) => {
                ctx.add(
                    Rule::Unverified,
                    Severity::Unverified,
                    &child,
                    None,
                    format!("7z member: {e}"),
                );
            }
        }
        // The rest of the member (after a pickle's STOP) is decoded by the reader before the
        // next one: drain it here, under what is left of the budget, not unbounded.
        let left = ctx.limits.max_total_inflated.saturating_sub(ctx.inflated);
        let drained = io::copy(&mut data.take(left.saturating_add(1)), &mut io::sink())?;
        ctx.inflated = ctx.inflated.saturating_add(drained);
        if drained > left {
            stop = Some(format!(
                "{child}: limit reached: decompressed output of this file passed {} bytes in all (decompression bomb?)",
                ctx.limits.max_total_inflated
            ));
            return Ok(EntryDecision::Stop);
        }
        Ok(EntryDecision::Continue)
    });
    if let Some(why) = stop {
        let skipped = count.saturating_sub(done);
        return Err(ScanError::Limit(format!(
            "{why}; {skipped} later entries not checked"
        )));
    }
    res.map_err(error)
}
