//! `hallmark hub query signatures|revisions`: the hub's incident-response queries
//! (GET /api/query/signatures and /api/query/revisions), printed as a table citing each
//! answer's log index, or as the hub's JSON. A token is optional: the hub answers only
//! for the repositories the caller may read.

use serde_json::Value;

use crate::args::query::{QueryCommand, QueryOut};
use crate::hubclient::Client;
use crate::util::{OrExit as _, Outcome};

pub(crate) fn run(cmd: &QueryCommand) -> Outcome {
    let (path, pairs, out) = match cmd {
        QueryCommand::Signatures(a) => (
            "/api/query/signatures",
            [
                ("identity", &a.identity),
                ("identity_regex", &a.identity_regex),
                ("issuer", &a.issuer),
                ("since", &a.since),
                ("until", &a.until),
            ]
            .to_vec(),
            &a.out,
        ),
        QueryCommand::Revisions(a) => (
            "/api/query/revisions",
            [
                ("dataset", &a.dataset),
                ("base_model", &a.base_model),
                ("sha256", &a.sha256),
                ("rule", &a.rule),
            ]
            .to_vec(),
            &a.out,
        ),
    };
    let pairs: Vec<(&str, &str)> = pairs
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect();
    let answer = Client::new(&out.hub)
        .get_json(&format!("{path}?{}", crate::http::query(&pairs)))
        .or_failed()?;
    print(out, &answer);
    Ok(0)
}

/// The answer as JSON, or one table row per hit.
fn print(out: &QueryOut, answer: &Value) {
    if out.json {
        outln!("{answer}");
        return;
    }
    let rows: Vec<[String; 6]> = answer
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            let field = |k: &str| match h.get(k) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => "-".to_owned(),
                Some(v) => v.to_string(),
            };
            [
                field("repo"),
                field("revision"),
                field("identity"),
                field("issuer"),
                field("log_index"),
                field("integrated_time"),
            ]
        })
        .collect();
    let head = [
        "REPO",
        "REVISION",
        "IDENTITY",
        "ISSUER",
        "LOG INDEX",
        "TIME",
    ]
    .map(str::to_owned);
    let mut width = head.each_ref().map(String::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    for r in std::iter::once(&head).chain(&rows) {
        let line: Vec<String> = r
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        outln!("{}", line.join("  ").trim_end());
    }
    if rows.is_empty() {
        errln!("no matches");
    }
}
