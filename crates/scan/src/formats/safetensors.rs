//! safetensors (huggingface/safetensors format as of 0.8): strict header validation the
//! way the reference parser (`safetensors/src/tensor.rs`) does it — header size cap, JSON
//! object, known dtypes, `numel × bits / 8` sizes, sorted contiguous non-overlapping
//! offsets covering the data exactly — plus duplicate keys and metadata sanity. Tensor
//! bytes are never read.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::io::{ReadSeek, read_at};
use crate::report::{Rule, Severity};

/// The reference parser's header cap.
const MAX_HEADER: u64 = 100_000_000;

struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Entries, A::Error> {
                let mut v = Vec::new();
                while let Some(kv) = m.next_entry::<String, Value>()? {
                    v.push(kv);
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

fn bits(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" | "F8_E8M0" => 8,
        "I16" | "U16" | "F16" | "BF16" => 16,
        "I32" | "U32" | "F32" => 32,
        "I64" | "U64" | "F64" | "C64" => 64,
        "F4" => 4,
        "F6_E2M3" | "F6_E3M2" => 6,
        _ => return None,
    })
}

/// Parses JSON object entries keeping duplicates (the reference keeps the last; others differ).
pub(crate) fn object_entries(
    bytes: &[u8],
) -> std::result::Result<Vec<(String, Value)>, serde_json::Error> {
    serde_json::from_slice::<Entries>(bytes).map(|e| e.0)
}

/// Scans a safetensors file.
pub(crate) fn scan(r: &mut dyn ReadSeek, len: u64, member: &str, ctx: &mut Ctx<'_>) -> Result<()> {
    let n = crate::io::le_u64(&read_at(r, 0, 8)?, 0).unwrap_or(0);
    let bad = |ctx: &mut Ctx<'_>, msg: String| {
        ctx.add(
            Rule::SafetensorsHeader,
            Severity::Suspicious,
            member,
            Some(8),
            msg,
        );
    };
    if n > MAX_HEADER.min(ctx.limits.max_header) {
        bad(
            ctx,
            format!("header of {n} bytes exceeds the reference limit of {MAX_HEADER}"),
        );
        return Ok(());
    }
    let header = read_at(r, 8, usize::try_from(n).unwrap_or(0))?;
    let text = match std::str::from_utf8(&header) {
        Ok(t) => t,
        Err(e) => {
            bad(ctx, format!("header is not UTF-8 ({e})"));
            return Ok(());
        }
    };
    let trimmed = text.trim_end_matches(' ');
    let entries = match object_entries(trimmed.as_bytes()) {
        Ok(e) => e,
        Err(e) => {
            bad(ctx, format!("header is not a JSON object: {e}"));
            return Ok(());
        }
    };
    let data_len = len.saturating_sub(8).saturating_sub(n);
    let mut seen = std::collections::HashSet::new();
    let mut spans: Vec<(u64, u64, String)> = Vec::new();
    for (name, info) in &entries {
        if !seen.insert(name.as_str()) {
            bad(
                ctx,
                format!("duplicate key {name:?} (parsers disagree on which wins)"),
            );
        }
        if name == "__metadata__" {
            metadata(ctx, member, info);
            continue;
        }
        let Some(obj) = info.as_object() else {
            bad(ctx, format!("tensor {name:?}: not an object"));
            continue;
        };
        if let Some(k) = obj
            .keys()
            .find(|k| !matches!(k.as_str(), "dtype" | "shape" | "data_offsets"))
        {
            bad(ctx, format!("tensor {name:?}: unknown field {k:?}"));
        }
        let dtype = obj.get("dtype").and_then(Value::as_str).unwrap_or("");
        let Some(b) = bits(dtype) else {
            bad(ctx, format!("tensor {name:?}: unknown dtype {dtype:?}"));
            continue;
        };
        let shape: Option<Vec<u64>> = obj
            .get("shape")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let offsets: Option<Vec<u64>> = obj
            .get("data_offsets")
            .and_then(Value::as_array)
            .and_then(|a| a.iter().map(Value::as_u64).collect());
        let (Some(shape), Some([begin, end])) = (
            shape,
            offsets
                .as_deref()
                .map(<[u64]>::to_vec)
                .and_then(|v| <[u64; 2]>::try_from(v).ok()),
        ) else {
            bad(
                ctx,
                format!("tensor {name:?}: shape or data_offsets missing or invalid"),
            );
            continue;
        };
        let numel = shape.iter().try_fold(1u64, |a, &d| a.checked_mul(d));
        let size = numel
            .and_then(|n| n.checked_mul(b))
            .filter(|bits| bits % 8 == 0)
            .map(|bits| bits / 8);
        match size {
            None => bad(
                ctx,
                format!("tensor {name:?}: size of shape {shape:?} overflows or is not whole bytes"),
            ),
            Some(s) if end < begin || end - begin != s => {
                bad(
                    ctx,
                    format!(
                        "tensor {name:?}: data_offsets [{begin}, {end}] do not match {dtype} {shape:?} ({s} bytes)"
                    ),
                );
            }
            Some(_) => {}
        }
        spans.push((begin, end, name.clone()));
    }
    spans.sort();
    let mut expected = 0u64;
    for (begin, end, name) in &spans {
        if *begin != expected {
            bad(
                ctx,
                format!("tensor {name:?} starts at {begin}, expected {expected} (gap or overlap)"),
            );
            break;
        }
        expected = *end;
    }
    if spans.len() == entries.iter().filter(|(k, _)| k != "__metadata__").count()
        && expected != data_len
    {
        bad(
            ctx,
            format!("tensors cover {expected} bytes but the data section is {data_len} bytes"),
        );
    }
    Ok(())
}

fn metadata(ctx: &mut Ctx<'_>, member: &str, v: &Value) {
    let Some(m) = v.as_object() else {
        ctx.add(
            Rule::SafetensorsHeader,
            Severity::Suspicious,
            member,
            Some(8),
            "__metadata__ is not an object".into(),
        );
        return;
    };
    if let Some((k, _)) = m.iter().find(|(_, v)| !v.is_string()) {
        ctx.add(
            Rule::SafetensorsHeader,
            Severity::Suspicious,
            member,
            Some(8),
            format!("__metadata__[{k:?}] is not a string (the reference rejects it)"),
        );
    }
    let total: usize = m
        .iter()
        .map(|(k, v)| k.len() + v.as_str().map_or(0, str::len))
        .sum();
    if m.len() > 10_000 || total > 10 << 20 {
        ctx.add(
            Rule::SafetensorsHeader,
            Severity::Suspicious,
            member,
            Some(8),
            format!("__metadata__ has {} entries / {total} bytes", m.len()),
        );
    }
    for (k, v) in m {
        let Some(s) = v.as_str() else { continue };
        if s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
        {
            ctx.add(
                Rule::SafetensorsHeader,
                Severity::Suspicious,
                member,
                Some(8),
                format!("__metadata__[{k:?}] contains control characters"),
            );
        }
        if super::text::template_risk(s).is_some() {
            ctx.add(
                Rule::ChatTemplate,
                Severity::Suspicious,
                member,
                Some(8),
                format!("__metadata__[{k:?}] holds a template reaching outside the sandbox"),
            );
        }
    }
}
