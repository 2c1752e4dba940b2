//! Text content: Python sources and scripts (flagged for review), JSON configs (Keras model
//! configs, `auto_map` remote code, tokenizer chat templates) and Jinja2 templates.

use std::io::Read;

use serde_json::Value;

use crate::ctx::Ctx;
use crate::error::Result;
use crate::io::ReadSeek;
use crate::report::{Rule, Severity};

const DUNDER: &[&str] = &[
    "__class__",
    "__mro__",
    "__subclasses__",
    "__globals__",
    "__builtins__",
    "__import__",
    "__init__",
    "__base__",
    "__bases__",
    "__dict__",
    "__getattribute__",
    "__code__",
    "__reduce__",
    "__func__",
    "__self__",
    "__loader__",
    "__spec__",
];
const ESCAPES: &[&str] = &[
    "\\x5f",
    "\\x5F",
    "\\u005f",
    "\\u005F",
    "\\137",
    "|attr",
    "attr(",
    "|map(attribute=\"__",
    "getattr",
];
const CALLS: &[&str] = &[
    "popen",
    "subprocess",
    "os.system",
    "eval(",
    "exec(",
    "import os",
    "builtins",
    "open(",
];
const GLOBALS: &[&str] = &[
    "lipsum",
    "cycler",
    "joiner",
    "url_for",
    "get_flashed_messages",
    "request.",
    "config.",
    "self._",
    "self.__",
];

/// Why a Jinja2 template may reach outside a sandbox (`None` when it does not).
pub(crate) fn template_risk(t: &str) -> Option<(Severity, String)> {
    if !(t.contains("{{") || t.contains("{%")) {
        return None;
    }
    for p in DUNDER.iter().chain(ESCAPES).chain(CALLS) {
        if t.contains(p) {
            return Some((
                Severity::Dangerous,
                format!(
                    "uses {p:?}: template injection reaching Python objects (CVE-2024-34359 class)"
                ),
            ));
        }
    }
    if let Some(p) = GLOBALS.iter().find(|p| t.contains(*p)) {
        return Some((
            Severity::Suspicious,
            format!("uses {p:?}: a Jinja2 global that leads to Python objects when unsandboxed"),
        ));
    }
    if t.contains("\"__") || t.contains("'__") {
        return Some((
            Severity::Dangerous,
            "indexes a dunder attribute by string".into(),
        ));
    }
    None
}

fn python_like(text: &str) -> bool {
    let mut fenced = false;
    let mut hits = 0;
    for line in text.lines().take(400) {
        let l = line.trim_start();
        if l.starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        if l.starts_with("import ")
            || (l.starts_with("from ") && l.contains(" import "))
            || l.starts_with("def ")
            || l.starts_with("class ") && l.ends_with(':')
            || l.starts_with("if __name__")
        {
            hits += 1;
        }
    }
    hits >= 1 && !text.trim_start().starts_with('{')
}

fn check_template(ctx: &mut Ctx<'_>, member: &str, where_: &str, t: &str) {
    if let Some((sev, why)) = template_risk(t) {
        ctx.add(
            Rule::ChatTemplate,
            sev,
            member,
            None,
            format!("{where_}: {why}"),
        );
    }
}

fn json(ctx: &mut Ctx<'_>, member: &str, v: &Value) -> &'static str {
    let Some(obj) = v.as_object() else {
        return "json";
    };
    let mut format = "json";
    if obj.contains_key("class_name") && (obj.contains_key("config") || obj.contains_key("module"))
    {
        super::keras::judge_config(ctx, member, v);
        format = "keras-config";
    }
    match obj.get("chat_template") {
        Some(Value::String(t)) => check_template(ctx, member, "chat_template", t),
        Some(Value::Array(list)) => {
            for t in list
                .iter()
                .filter_map(|e| e.get("template"))
                .filter_map(Value::as_str)
            {
                check_template(ctx, member, "chat_template", t);
            }
        }
        _ => {}
    }
    if let Some(map) = obj.get("auto_map") {
        ctx.add(
            Rule::RemoteCode,
            Severity::Suspicious,
            member,
            None,
            format!("auto_map {map} makes loaders import repository code (trust_remote_code)"),
        );
    }
    format
}

/// Scans text content; returns the format.
pub(crate) fn scan(
    r: &mut dyn ReadSeek,
    len: u64,
    member: &str,
    ctx: &mut Ctx<'_>,
) -> Result<&'static str> {
    r.seek(std::io::SeekFrom::Start(0))?;
    let mut buf = Vec::new();
    r.take(ctx.limits.max_text).read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    if len > ctx.limits.max_text {
        ctx.add(
            Rule::Unverified,
            Severity::Unverified,
            member,
            None,
            format!(
                "text larger than {} bytes: only the start was examined",
                ctx.limits.max_text
            ),
        );
    }
    let t = text.trim_start();
    if t.starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(&text)
    {
        return Ok(json(ctx, member, &v));
    }
    if t.starts_with("#!") {
        ctx.add(
            Rule::PythonCode,
            Severity::Suspicious,
            member,
            None,
            format!(
                "script ({}): review before running",
                t.lines().next().unwrap_or("")
            ),
        );
        return Ok("script");
    }
    if python_like(&text) {
        ctx.add(
            Rule::PythonCode,
            Severity::Suspicious,
            member,
            None,
            "Python source in the model: runs with trust_remote_code or when executed; review it"
                .into(),
        );
        return Ok("python");
    }
    check_template(ctx, member, "template", &text);
    Ok("text")
}
