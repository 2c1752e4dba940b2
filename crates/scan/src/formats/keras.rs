//! Keras: model configs (v3 `.keras` `config.json`, SavedModel `keras_metadata.pb`, the
//! `model_config` attribute of legacy HDF5 files). Lambda layers and serialized functions
//! carry Python bytecode; modules outside Keras are custom-object imports.

use std::io::Read;

use serde_json::Value;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::io::ReadSeek;
use crate::report::{Rule, Severity};

const KERAS_MODULES: &[&str] = &[
    "keras",
    "tf_keras",
    "tensorflow.keras",
    "keras_nlp",
    "keras_hub",
    "keras_cv",
];
const DANGEROUS_CLASSES: &[&str] = &[
    "Lambda",
    "TorchModuleWrapper",
    "TFSMLayer",
    "function",
    "__lambda__",
];

fn keras_module(m: &str) -> bool {
    KERAS_MODULES
        .iter()
        .any(|k| m == *k || m.strip_prefix(k).is_some_and(|r| r.starts_with('.')))
}

/// Judges a Keras config tree.
pub(crate) fn judge_config(ctx: &mut Ctx<'_>, member: &str, v: &Value) {
    let mut stack = vec![(v, 0u32)];
    let mut n = 0u64;
    while let Some((v, depth)) = stack.pop() {
        n += 1;
        if n > ctx.limits.max_items || depth > 256 {
            ctx.add(
                Rule::Unverified,
                Severity::Unverified,
                member,
                None,
                "Keras config too large or deep".into(),
            );
            return;
        }
        match v {
            Value::Object(o) => {
                let class = o.get("class_name").and_then(Value::as_str).unwrap_or("");
                if DANGEROUS_CLASSES.contains(&class) {
                    let name = o
                        .get("config")
                        .and_then(|c| c.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or("?");
                    let why = if class == "TorchModuleWrapper" {
                        "wraps a pickled torch module (torch.load on load, CVE-2025-49655)"
                    } else {
                        "serialized Python function/bytecode runs on load (CVE-2024-3660, CVE-2025-1550)"
                    };
                    ctx.add(
                        Rule::KerasLambda,
                        Severity::Dangerous,
                        member,
                        None,
                        format!("{class} layer {name:?}: {why}"),
                    );
                }
                if let Some(m) = o.get("module").and_then(Value::as_str)
                    && !keras_module(m)
                {
                    let sev = match crate::policy::Policy::default().classify(m, class) {
                        crate::policy::Class::Dangerous(_) => Severity::Dangerous,
                        _ => Severity::Suspicious,
                    };
                    ctx.add(
                        Rule::KerasCustomObject,
                        sev,
                        member,
                        None,
                        format!("custom object {m}.{class}: imports code outside Keras"),
                    );
                }
                if let Some(r) = o.get("registered_name").and_then(Value::as_str)
                    && r.contains('>')
                {
                    ctx.add(
                        Rule::KerasCustomObject,
                        Severity::Suspicious,
                        member,
                        None,
                        format!("registered custom object {r:?}"),
                    );
                }
                stack.extend(o.values().map(|c| (c, depth + 1)));
            }
            Value::Array(a) => stack.extend(a.iter().map(|c| (c, depth + 1))),
            _ => {}
        }
    }
}

/// HDF5 (legacy Keras `.h5`): no HDF5 parser here; the JSON `model_config` attribute is
/// located by content and judged. Without it the file stays "unverified", except the
/// weights file of a `.keras` archive, which Keras reads as datasets only.
pub(crate) fn scan_hdf5(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    ctx: &mut Ctx<'_>,
    weights_only: bool,
) -> Result<()> {
    if weights_only {
        return Ok(());
    }
    r.seek(std::io::SeekFrom::Start(0))?;
    let mut buf = Vec::new();
    r.take(ctx.limits.max_header.min(256 << 20))
        .read_to_end(&mut buf)?;
    let mut found = false;
    let needle = b"{\"class_name\"";
    let mut from = 0;
    while let Some(i) = buf
        .get(from..)
        .and_then(|b| b.windows(needle.len()).position(|w| w == needle))
    {
        let start = from + i;
        let mut de = serde_json::Deserializer::from_slice(buf.get(start..).unwrap_or_default())
            .into_iter::<Value>();
        if let Some(Ok(v)) = de.next() {
            judge_config(ctx, member, &v);
            found = true;
            from = start + de.byte_offset().max(1);
        } else {
            from = start + 1;
        }
    }
    if !found {
        let why = if len > buf.len() as u64 {
            "no model config found in the examined prefix"
        } else {
            "no model config found"
        };
        ctx.add(
            Rule::Unverified,
            Severity::Unverified,
            member,
            None,
            format!("HDF5 file: {why}; HDF5 content is not otherwise checked"),
        );
    }
    Ok(())
}
