//! NumPy `.npy` (format versions 1.0, 2.0, 3.0 of `numpy.lib.format`). The header is a
//! Python literal dict read with a small literal parser (as `ast.literal_eval`); object
//! dtypes mean the data is a pickle, which is emulated. Plain data is not read.

use crate::ctx::Ctx;
use crate::error::{Result, ScanError};
use crate::io::{Input, ReadSeek, le_u16, le_u32, read_at};
use crate::report::{Rule, Severity};

/// A Python literal (the subset numpy headers use).
#[derive(Debug, Clone, PartialEq)]
enum Lit {
    Str(String),
    Int(i128),
    Bool(bool),
    None,
    Seq(Vec<Lit>),
    Dict(Vec<(Lit, Lit)>),
}

struct P<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
}

impl P<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&c) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn lit(&mut self) -> Option<Lit> {
        self.ws();
        self.depth += 1;
        if self.depth > 32 {
            return None;
        }
        let c = *self.s.get(self.i)?;
        let v = match c {
            b'\'' | b'"' => {
                let start = self.i + 1;
                let end = start + self.s.get(start..)?.iter().position(|&b| b == c)?;
                self.i = end + 1;
                Lit::Str(String::from_utf8_lossy(self.s.get(start..end)?).into_owned())
            }
            b'(' | b'[' => {
                let close = if c == b'(' { b')' } else { b']' };
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(close) {
                    items.push(self.lit()?);
                    if !self.eat(b',') {
                        if !self.eat(close) {
                            return None;
                        }
                        break;
                    }
                }
                Lit::Seq(items)
            }
            b'{' => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.eat(b'}') {
                    let k = self.lit()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    items.push((k, self.lit()?));
                    if !self.eat(b',') {
                        if !self.eat(b'}') {
                            return None;
                        }
                        break;
                    }
                }
                Lit::Dict(items)
            }
            _ => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
                {
                    self.i += 1;
                }
                match self.s.get(start..self.i)? {
                    b"True" => Lit::Bool(true),
                    b"False" => Lit::Bool(false),
                    b"None" => Lit::None,
                    t => Lit::Int(
                        std::str::from_utf8(t)
                            .ok()?
                            .trim_end_matches('L')
                            .parse()
                            .ok()?,
                    ),
                }
            }
        };
        self.depth -= 1;
        Some(v)
    }
}

fn has_object(descr: &Lit) -> bool {
    match descr {
        Lit::Str(s) => s.contains('O'),
        Lit::Seq(items) => items.iter().any(has_object),
        _ => false,
    }
}

fn itemsize(descr: &Lit) -> Option<u64> {
    match descr {
        Lit::Str(s) => crate::pickle::numpy_itemsize(s),
        // Structured: [(name, descr[, shape]), ...]
        Lit::Seq(fields) => fields.iter().try_fold(0u64, |acc, f| {
            let Lit::Seq(parts) = f else { return None };
            let size = itemsize(parts.get(1)?)?;
            let count = match parts.get(2) {
                Some(Lit::Seq(dims)) => dims.iter().try_fold(1u64, |a, d| match d {
                    Lit::Int(n) => a.checked_mul(u64::try_from(*n).ok()?),
                    _ => None,
                })?,
                Some(Lit::Int(n)) => u64::try_from(*n).ok()?,
                _ => 1,
            };
            acc.checked_add(size.checked_mul(count)?)
        }),
        _ => None,
    }
}

/// Scans a `.npy` file or member.
pub(crate) fn scan(r: &mut dyn ReadSeek, len: u64, member: &str, ctx: &mut Ctx<'_>) -> Result<()> {
    let bad = |d: String| ScanError::malformed("npy", d);
    let head = read_at(r, 0, 12.min(usize::try_from(len).unwrap_or(0)))?;
    let major = head.get(6).copied().unwrap_or(0);
    let (hlen, start) = match major {
        1 => (
            u64::from(le_u16(&head, 8).ok_or_else(|| bad("short".into()))?),
            10u64,
        ),
        2 | 3 => (
            u64::from(le_u32(&head, 8).ok_or_else(|| bad("short".into()))?),
            12u64,
        ),
        v => return Err(ScanError::unsupported("npy", format!("format version {v}"))),
    };
    if hlen > ctx.limits.max_header || start + hlen > len {
        return Err(bad(format!("header of {hlen} bytes")));
    }
    let text = read_at(r, start, usize::try_from(hlen).unwrap_or(0))?;
    let mut p = P {
        s: &text,
        i: 0,
        depth: 0,
    };
    let Some(Lit::Dict(items)) = p.lit() else {
        return Err(bad("header is not a dict literal".into()));
    };
    let get = |k: &str| {
        items
            .iter()
            .find(|(key, _)| *key == Lit::Str(k.into()))
            .map(|(_, v)| v)
    };
    let (Some(descr), Some(Lit::Seq(shape))) = (get("descr"), get("shape")) else {
        return Err(bad("header lacks descr or shape".into()));
    };
    let data = start + hlen;
    if has_object(descr) {
        ctx.add(
            Rule::NumpyObject,
            Severity::Info,
            member,
            Some(data),
            "object array: numpy.load(allow_pickle=True) unpickles the data".into(),
        );
        r.seek(std::io::SeekFrom::Start(data))?;
        let mut inp = Input::seekable(r, data, len);
        crate::pickle::scan_stream(&mut inp, ctx, member);
        return Ok(());
    }
    let count = shape.iter().try_fold(1u64, |a, d| match d {
        Lit::Int(n) => u64::try_from(*n).ok().and_then(|n| a.checked_mul(n)),
        _ => None,
    });
    let size = count.and_then(|c| c.checked_mul(itemsize(descr)?));
    match size {
        Some(s) if data.checked_add(s).is_some_and(|e| e <= len) => Ok(()),
        Some(s) => Err(bad(format!("data of {s} bytes runs past the end ({len})"))),
        None => Err(ScanError::unsupported("npy", format!("dtype {descr:?}"))),
    }
}
