//! Compressed streams: gzip, zlib (joblib's default), bzip2, xz, lzma (`.lzma` "alone"), lz4
//! frames — every compressor joblib writes — and deflated zip or 7z members. Decoded in
//! memory under the inflation budget, or streamed when the content is a pickle. A stream
//! that inflates past the per-file budget, or past [`Limits::max_ratio`] times its
//! compressed size, stops with a limit (decompression bomb), never a panic.
//!
//! [`Limits::max_ratio`]: crate::Limits::max_ratio

use std::io::{self, BufReader, Cursor, Read};

use crate::ctx::{Ctx, Role, join};
use crate::error::{Result, ScanError};
use crate::identify::{Codec, Kind, identify};
use crate::io::{Input, ReadSeek};
use crate::report::{Rule, Severity};

/// Below this many decompressed bytes the ratio cap does not apply (small files with
/// repetitive content compress well without being bombs).
const RATIO_FLOOR: u64 = 1 << 20;

/// A reader that fails once it has yielded more than `left` bytes (decompression bombs).
pub(crate) struct Budget<R> {
    inner: R,
    left: u64,
    pub(crate) read: u64,
    /// What the reader stopped on, once it did.
    why: String,
    tripped: bool,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read = self.read.saturating_add(n as u64);
        if self.read > self.left {
            self.tripped = true;
            return Err(io::Error::other(format!(
                "limit reached: {} (decompression bomb?)",
                self.why
            )));
        }
        Ok(n)
    }
}

/// Decodes `decoder` (a stream of `compressed` bytes) and scans what it yields as member
/// `member`.
pub(crate) fn scan_decoded(
    decoder: &mut dyn Read,
    compressed: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
    role: Role,
) -> Result<()> {
    let first = ctx.findings.len();
    let budget = ctx.limits.max_total_inflated.saturating_sub(ctx.inflated);
    let ratio_cap = compressed
        .saturating_mul(ctx.limits.max_ratio)
        .max(RATIO_FLOOR);
    let why = if ratio_cap < budget {
        format!(
            "decompressed output passed {}x its {compressed} compressed bytes ({ratio_cap} bytes)",
            ctx.limits.max_ratio
        )
    } else {
        format!(
            "decompressed output of this file passed {} bytes in all",
            ctx.limits.max_total_inflated
        )
    };
    let mut b = Budget {
        inner: decoder,
        left: budget.min(ratio_cap),
        read: 0,
        why,
        tripped: false,
    };
    let mut prefix = Vec::with_capacity(4096);
    let res = (&mut b)
        .take(4096)
        .read_to_end(&mut prefix)
        .map_err(ScanError::from)
        .and_then(|_| {
            if identify(&prefix, prefix.len() as u64) == Kind::Pickle {
                // Streamed: a pickle needs no seeking, and is never held in memory whole.
                let mut chain = Cursor::new(std::mem::take(&mut prefix)).chain(&mut b);
                let mut inp = Input::stream(&mut chain);
                crate::pickle::scan_stream(&mut inp, ctx, member);
                ctx.members.push(crate::report::MemberReport {
                    member: member.to_owned(),
                    format: "pickle".into(),
                    verdict: crate::report::FileReport::verdict_of(
                        ctx.findings.get(first..).unwrap_or_default(),
                    ),
                });
                Ok(())
            } else {
                let cap = ctx.limits.max_member_inflated;
                let mut data = std::mem::take(&mut prefix);
                (&mut b)
                    .take(cap.saturating_sub(data.len() as u64).saturating_add(1))
                    .read_to_end(&mut data)?;
                if data.len() as u64 > cap {
                    Err(ScanError::Limit(format!(
                        "decompressed member larger than {cap} bytes"
                    )))
                } else {
                    let len = data.len() as u64;
                    let mut c = Cursor::new(data);
                    ctx.scan_member(&mut c, len, member, depth + 1, role);
                    Ok(())
                }
            }
        });
    ctx.inflated = ctx.inflated.saturating_add(b.read);
    if b.tripped {
        return Err(ScanError::Limit(format!("{} (decompression bomb?)", b.why)));
    }
    res
}

/// A whole file or member compressed with `codec`; its content is scanned as member
/// `<codec>` of `member` (e.g. `model.joblib` → `<xz>`).
pub(crate) fn scan_stream(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
    codec: Codec,
) -> Result<()> {
    r.seek(io::SeekFrom::Start(0))?;
    let input = BufReader::new(r);
    let mem_kib = u32::try_from(ctx.limits.max_decoder_memory / 1024).unwrap_or(u32::MAX);
    let mut d: Box<dyn Read + '_> = match codec {
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(input)),
        Codec::Zlib => Box::new(flate2::read::ZlibDecoder::new(input)),
        Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(input)),
        Codec::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(input, true, mem_kib)),
        Codec::Lzma => Box::new(
            lzma_rust2::LzmaReader::new_mem_limit(input, mem_kib, None).map_err(|e| {
                if e.kind() == io::ErrorKind::OutOfMemory {
                    ScanError::Limit(format!(
                        "lzma stream needs more than {mem_kib} KiB of decoder memory"
                    ))
                } else {
                    ScanError::malformed("lzma", format!("header: {e}"))
                }
            })?,
        ),
        Codec::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(input)),
    };
    let inner = join(member, &format!("<{}>", codec.name()));
    scan_decoded(&mut d, len, &inner, depth, ctx, Role::Plain)
}

/// Reports a suspicious compression ratio.
pub(crate) fn check_ratio(ctx: &mut Ctx<'_>, member: &str, compressed: u64, declared: u64) {
    if declared > (1 << 20) && declared / compressed.max(1) > ctx.limits.max_ratio {
        ctx.add(
            Rule::ArchiveBomb,
            Severity::Suspicious,
            member,
            None,
            format!(
                "compression ratio {}:1 ({declared} bytes from {compressed})",
                declared / compressed.max(1)
            ),
        );
    }
}
