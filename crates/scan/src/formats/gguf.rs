//! GGUF (ggml's format, versions 1–3): header bounds (counts, string and array lengths,
//! tensor dims, types, offsets, alignment, data within the file) and the chat templates
//! stored in `tokenizer.chat_template*`. Tensor data is not read.

use std::io::SeekFrom;

use crate::ctx::Ctx;
use crate::error::{Result, ScanError};
use crate::io::{Input, ReadSeek};
use crate::report::{Rule, Severity};

/// (block size in elements, bytes per block) by ggml type id.
fn ggml_type(t: u32) -> Option<(u64, u64)> {
    Some(match t {
        0 => (1, 4),      // F32
        1 => (1, 2),      // F16
        2 => (32, 18),    // Q4_0
        3 => (32, 20),    // Q4_1
        6 => (32, 22),    // Q5_0
        7 => (32, 24),    // Q5_1
        8 => (32, 34),    // Q8_0
        9 => (32, 36),    // Q8_1
        10 => (256, 84),  // Q2_K
        11 => (256, 110), // Q3_K
        12 => (256, 144), // Q4_K
        13 => (256, 176), // Q5_K
        14 => (256, 210), // Q6_K
        15 => (256, 292), // Q8_K
        16 => (256, 66),  // IQ2_XXS
        17 => (256, 74),  // IQ2_XS
        18 => (256, 98),  // IQ3_XXS
        19 => (256, 50),  // IQ1_S
        20 => (32, 18),   // IQ4_NL
        21 => (256, 110), // IQ3_S
        22 => (256, 82),  // IQ2_S
        23 => (256, 136), // IQ4_XS
        24 => (1, 1),     // I8
        25 => (1, 2),     // I16
        26 => (1, 4),     // I32
        27 => (1, 8),     // I64
        28 => (1, 8),     // F64
        29 => (256, 56),  // IQ1_M
        30 => (1, 2),     // BF16
        34 => (256, 54),  // TQ1_0
        35 => (256, 66),  // TQ2_0
        39 => (32, 17),   // MXFP4
        _ => return None,
    })
}

struct G<'i, 'a> {
    inp: &'i mut Input<'a>,
    v1: bool,
    max_string: u64,
    max_items: u64,
}

impl G<'_, '_> {
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.inp.exact::<4>()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.inp.exact::<8>()?))
    }
    fn count(&mut self) -> Result<u64> {
        if self.v1 {
            self.u32().map(u64::from)
        } else {
            self.u64()
        }
    }
    fn string(&mut self, keep: usize) -> Result<(String, u64)> {
        let off = self.inp.pos();
        let n = self.count()?;
        if n > self.max_string {
            return Err(ScanError::malformed(
                "gguf",
                format!("string of {n} bytes at offset {off}"),
            ));
        }
        let b = self.inp.bytes(n, keep)?;
        Ok((String::from_utf8_lossy(&b).into_owned(), n))
    }
    /// Reads (or skips) a value of type `t`; returns it when it is a string.
    fn value(&mut self, t: u32, depth: u32) -> Result<Option<String>> {
        let fixed = match t {
            0 | 1 | 7 => 1,
            2 | 3 => 2,
            4..=6 => 4,
            10..=12 => 8,
            8 => return self.string(1 << 20).map(|(s, _)| Some(s)),
            9 => {
                if depth > 2 {
                    return Err(ScanError::malformed("gguf", "arrays nested too deep"));
                }
                let et = self.u32()?;
                let n = self.count()?;
                if n > self.max_items {
                    return Err(ScanError::malformed("gguf", format!("array of {n} items")));
                }
                if let Some(size) = match et {
                    0 | 1 | 7 => Some(1u64),
                    2 | 3 => Some(2),
                    4..=6 => Some(4),
                    10..=12 => Some(8),
                    _ => None,
                } {
                    self.inp
                        .skip(n.checked_mul(size).ok_or_else(|| {
                            ScanError::malformed("gguf", "array size overflows")
                        })?)?;
                } else {
                    for _ in 0..n {
                        self.value(et, depth + 1)?;
                    }
                }
                return Ok(None);
            }
            other => {
                return Err(ScanError::malformed(
                    "gguf",
                    format!("unknown value type {other}"),
                ));
            }
        };
        self.inp.skip(fixed)?;
        Ok(None)
    }
}

/// Scans a GGUF file.
pub(crate) fn scan(r: &mut dyn ReadSeek, len: u64, member: &str, ctx: &mut Ctx<'_>) -> Result<()> {
    r.seek(SeekFrom::Start(0))?;
    let mut inp = Input::seekable(r, 0, len);
    let mut g = G {
        inp: &mut inp,
        v1: false,
        max_string: ctx.limits.max_string,
        max_items: ctx.limits.max_items,
    };
    g.inp.skip(4)?;
    let version = g.u32()?;
    if !(1..=3).contains(&version) {
        return Err(ScanError::unsupported("gguf", format!("version {version}")));
    }
    g.v1 = version == 1;
    let n_tensors = g.count()?;
    let n_kv = g.count()?;
    if n_tensors > ctx.limits.max_items || n_kv > ctx.limits.max_items {
        ctx.add(
            Rule::GgufHeader,
            Severity::Suspicious,
            member,
            Some(8),
            format!("{n_tensors} tensors / {n_kv} metadata entries: out of bounds"),
        );
        return Err(ScanError::Limit("GGUF counts".into()));
    }
    let mut alignment = 32u64;
    let mut templates = Vec::new();
    for _ in 0..n_kv {
        let (key, _) = g.string(4096)?;
        let t = g.u32()?;
        if key == "general.alignment" && t == 4 {
            alignment = u64::from(g.u32()?);
            continue;
        }
        if let Some(s) = g.value(t, 0)?
            && key.starts_with("tokenizer.chat_template")
        {
            templates.push((key, s));
        }
    }
    for (key, t) in &templates {
        if let Some((sev, why)) = super::text::template_risk(t) {
            ctx.add(
                Rule::ChatTemplate,
                sev,
                member,
                None,
                format!("{key}: {why}"),
            );
        }
    }
    if alignment == 0 || !alignment.is_power_of_two() {
        ctx.add(
            Rule::GgufHeader,
            Severity::Suspicious,
            member,
            None,
            format!("general.alignment {alignment} is not a power of two"),
        );
        alignment = 32;
    }
    let mut spans = Vec::new();
    for i in 0..n_tensors {
        let off = g.inp.pos();
        let (name, _) = g.string(256)?;
        let n_dims = g.u32()?;
        if n_dims > 4 {
            ctx.add(
                Rule::GgufHeader,
                Severity::Suspicious,
                member,
                Some(off),
                format!("tensor {i} {name:?}: {n_dims} dimensions (max 4)"),
            );
            return Err(ScanError::malformed("gguf", "too many dimensions"));
        }
        let mut numel = 1u64;
        for _ in 0..n_dims {
            let d = g.count()?;
            numel = numel.checked_mul(d).ok_or_else(|| {
                ScanError::malformed("gguf", format!("tensor {name:?}: element count overflows"))
            })?;
        }
        let ty = g.u32()?;
        let offset = g.u64()?;
        let Some((block, bytes)) = ggml_type(ty) else {
            return Err(ScanError::unsupported(
                "gguf",
                format!("tensor {name:?}: ggml type {ty}"),
            ));
        };
        if !numel.is_multiple_of(block) {
            ctx.add(
                Rule::GgufHeader,
                Severity::Suspicious,
                member,
                Some(off),
                format!(
                    "tensor {name:?}: {numel} elements not a multiple of the block size {block}"
                ),
            );
        }
        let size = (numel / block)
            .checked_mul(bytes)
            .ok_or_else(|| ScanError::malformed("gguf", "tensor size overflows"))?;
        if offset % alignment != 0 {
            ctx.add(
                Rule::GgufHeader,
                Severity::Suspicious,
                member,
                Some(off),
                format!("tensor {name:?}: offset {offset} not aligned to {alignment}"),
            );
        }
        spans.push((offset, size, name));
    }
    let data_start = g.inp.pos().div_ceil(alignment).saturating_mul(alignment);
    spans.sort();
    let mut prev_end = 0u64;
    for (offset, size, name) in &spans {
        let end = data_start
            .checked_add(*offset)
            .and_then(|s| s.checked_add(*size));
        if end.is_none_or(|e| e > len) {
            ctx.add(
                Rule::GgufHeader,
                Severity::Suspicious,
                member,
                None,
                format!("tensor {name:?}: data [{offset}, +{size}) lies outside the file"),
            );
        } else if *offset < prev_end {
            ctx.add(
                Rule::GgufHeader,
                Severity::Suspicious,
                member,
                None,
                format!("tensor {name:?} overlaps the previous tensor"),
            );
        }
        prev_end = offset.saturating_add(*size);
    }
    Ok(())
}
