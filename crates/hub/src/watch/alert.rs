//! How a monitor alert reads: in words (the audit log, the org page) and as the org
//! page's row.

use hallmark_store::StoredAlert;
use serde_json::Value;

/// One alert on the org page.
#[derive(Debug)]
pub struct AlertRow {
    /// When it was recorded.
    pub when: String,
    /// Its kind.
    pub kind: String,
    /// The log entry.
    pub log_index: String,
    /// Who signed, for which rule.
    pub summary: String,
}

/// An alert in words: who signed (and which issuer), for which rule.
#[must_use]
pub fn summary(v: &Value) -> String {
    let s = |k: &str| v[k].as_str().unwrap_or("").to_owned();
    match v["alert"].as_str() {
        Some("unexpected-issuer") => format!(
            "{} signed through issuer {} (rule {} expects {})",
            s("identity"),
            v["issuer"].as_str().unwrap_or("(none)"),
            s("rule"),
            s("expected_issuer")
        ),
        Some("watched-identity") => format!(
            "{} signed through issuer {} (rule {})",
            s("identity"),
            v["issuer"].as_str().unwrap_or("(none)"),
            s("rule")
        ),
        Some("first-signer") => format!(
            "{} got a first signature from {}",
            s("subject"),
            s("signer")
        ),
        Some("inconsistent-log") => format!(
            "the log does not extend the saved checkpoint ({}): {}",
            s("reason"),
            s("detail")
        ),
        _ => v.to_string(),
    }
}

/// The org page's row of a stored alert.
#[must_use]
pub fn row(a: &StoredAlert) -> AlertRow {
    let v = serde_json::from_str::<Value>(&a.alert_json).unwrap_or(Value::Null);
    AlertRow {
        when: crate::time::rfc3339(a.created_at),
        kind: a.kind.clone(),
        log_index: a.log_index.map(|i| i.to_string()).unwrap_or_default(),
        summary: summary(&v),
    }
}
