//! Compressed streams (gzip, zlib as written by joblib, deflated zip members): decoded in
//! memory under the inflation budget, or streamed when the content is a pickle.

use std::io::{self, Cursor, Read};

use crate::ctx::{Ctx, Role, join};
use crate::error::{Result, ScanError};
use crate::identify::{Kind, identify};
use crate::io::{Input, ReadSeek};
use crate::report::{Rule, Severity};

/// A reader that fails once more than `left` bytes were read (decompression bombs).
pub(crate) struct Budget<R> {
    inner: R,
    left: u64,
    pub(crate) read: u64,
}

impl<R: Read> Read for Budget<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read = self.read.saturating_add(n as u64);
        if self.read > self.left {
            return Err(io::Error::other(
                "inflation budget exceeded (decompression bomb?)",
            ));
        }
        Ok(n)
    }
}

/// Decodes `decoder` and scans what it yields as member `member`.
pub(crate) fn scan_decoded(
    decoder: &mut dyn Read,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
    role: Role,
) -> Result<()> {
    let first = ctx.findings.len();
    let budget = ctx.limits.max_total_inflated.saturating_sub(ctx.inflated);
    let mut b = Budget {
        inner: decoder,
        left: budget,
        read: 0,
    };
    let mut prefix = Vec::with_capacity(4096);
    (&mut b).take(4096).read_to_end(&mut prefix)?;
    let res = if identify(&prefix, prefix.len() as u64) == Kind::Pickle {
        // Streamed: a pickle needs no seeking, and is never held in memory whole.
        let mut chain = Cursor::new(prefix).chain(&mut b);
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
        let mut data = prefix;
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
    };
    ctx.inflated = ctx.inflated.saturating_add(b.read);
    res
}

fn inner_name(member: &str, what: &str) -> String {
    join(member, what)
}

/// A gzip file (possibly multi-member), e.g. `.tar.gz`, joblib's gzip compressor.
pub(crate) fn scan_gzip(
    r: &mut dyn ReadSeek,
    _len: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
) -> Result<()> {
    r.seek(io::SeekFrom::Start(0))?;
    let mut d = flate2::read::MultiGzDecoder::new(io::BufReader::new(r));
    scan_decoded(
        &mut d,
        &inner_name(member, "<gunzip>"),
        depth,
        ctx,
        Role::Plain,
    )
}

/// A zlib stream (joblib's default compressor).
pub(crate) fn scan_zlib(
    r: &mut dyn ReadSeek,
    _len: u64,
    member: &str,
    depth: u32,
    ctx: &mut Ctx<'_>,
) -> Result<()> {
    r.seek(io::SeekFrom::Start(0))?;
    let mut d = flate2::read::ZlibDecoder::new(io::BufReader::new(r));
    scan_decoded(
        &mut d,
        &inner_name(member, "<zlib>"),
        depth,
        ctx,
        Role::Plain,
    )
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
