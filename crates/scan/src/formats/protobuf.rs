//! A minimal protobuf wire-format reader (varints, length-delimited fields skipped by
//! seeking) and the top-level field listing that `protomodel` identifies files by.

use std::io::SeekFrom;

use crate::ctx::Ctx;
use crate::error::{Result, ScanError};
use crate::io::{Input, ReadSeek};

/// A field's wire value; length-delimited content is left unread.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Wire {
    Varint,
    Fixed,
    Len(u64),
}

/// Sequential protobuf reader.
pub(crate) struct Pb<'i, 'a> {
    pub(crate) inp: &'i mut Input<'a>,
    pub(crate) fields: u64,
    pub(crate) max_fields: u64,
    pub(crate) max_string: u64,
}

impl Pb<'_, '_> {
    pub(crate) fn varint(&mut self) -> Result<u64> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self
                .inp
                .byte()?
                .ok_or_else(|| ScanError::malformed("protobuf", "truncated varint"))?;
            if shift == 63 && b > 1 {
                return Err(ScanError::malformed("protobuf", "varint overflow"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ScanError::malformed("protobuf", "varint too long"))
    }

    /// Next field before `end`; fixed-width values are skipped.
    pub(crate) fn field(&mut self, end: u64) -> Result<Option<(u32, Wire)>> {
        let pos = self.inp.pos();
        if pos >= end {
            if pos > end {
                return Err(ScanError::malformed(
                    "protobuf",
                    format!("field overruns its message at {pos}"),
                ));
            }
            return Ok(None);
        }
        self.fields += 1;
        if self.fields > self.max_fields {
            return Err(ScanError::Limit("protobuf fields".into()));
        }
        let key = self.varint()?;
        let number = u32::try_from(key >> 3)
            .map_err(|_| ScanError::malformed("protobuf", "field number"))?;
        if number == 0 {
            return Err(ScanError::malformed(
                "protobuf",
                format!("field number 0 at {pos}"),
            ));
        }
        let wire = match key & 7 {
            0 => {
                self.varint()?;
                Wire::Varint
            }
            1 => {
                self.inp.skip(8)?;
                Wire::Fixed
            }
            5 => {
                self.inp.skip(4)?;
                Wire::Fixed
            }
            2 => {
                let n = self.varint()?;
                if self.inp.pos().checked_add(n).is_none_or(|e| e > end) {
                    return Err(ScanError::malformed(
                        "protobuf",
                        format!("length {n} at {pos} overruns its message"),
                    ));
                }
                Wire::Len(n)
            }
            w => {
                return Err(ScanError::malformed(
                    "protobuf",
                    format!("wire type {w} at {pos}"),
                ));
            }
        };
        Ok(Some((number, wire)))
    }

    pub(crate) fn string(&mut self, n: u64) -> Result<String> {
        if n > self.max_string {
            return Err(ScanError::Limit(format!("protobuf string of {n} bytes")));
        }
        let b = self
            .inp
            .bytes(n, usize::try_from(n).unwrap_or(usize::MAX))?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    }

    pub(crate) fn skip(&mut self, w: Wire) -> Result<()> {
        if let Wire::Len(n) = w {
            self.inp.skip(n)?;
        }
        Ok(())
    }
}

/// Top-level fields of a protobuf-shaped file: `None` if it is not one.
pub(crate) fn top_fields(
    r: &mut dyn ReadSeek,
    len: u64,
    ctx: &Ctx<'_>,
) -> Option<Vec<(u32, Wire)>> {
    r.seek(SeekFrom::Start(0)).ok()?;
    let mut inp = Input::seekable(r, 0, len);
    let mut pb = Pb {
        inp: &mut inp,
        fields: 0,
        max_fields: 10_000,
        max_string: ctx.limits.max_string,
    };
    let mut out = Vec::new();
    while let Some((n, w)) = pb.field(len).ok()? {
        if n > 10_000 {
            return None;
        }
        pb.skip(w).ok()?;
        out.push((n, w));
    }
    Some(out)
}
