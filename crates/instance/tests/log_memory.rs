//! Issue 15 finding 4: a 60 MiB JSON array posted to the log API peaked at 2.4 GiB (a
//! `serde_json::Value` tree of untrusted input). Now the declared length is refused at
//! once (413), and a body under the limit is parsed into typed structs that fail at the
//! first wrong token. Alone in its test binary, so the peak RSS is this test's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use hallmark_instance::{MAX_ENTRY_REQUEST_BYTES, router};
use hallmark_testkit::{peak_rss, reset_peak_rss};

const MIB: u64 = 1024 * 1024;

fn json_array(bytes: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes + 1);
    v.push(b'[');
    while v.len() + 2 < bytes {
        v.extend_from_slice(b"0,");
    }
    v.extend_from_slice(b"0]");
    v
}

#[tokio::test]
async fn huge_json_arrays_are_refused_with_bounded_memory() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = router(Arc::clone(&inst), unlimited());
    let (_, cert) = certified(d.path(), email("alice@example.com"));
    let big = json_array(60 << 20);
    let under = json_array(MAX_ENTRY_REQUEST_BYTES - 1024);
    // The same array as the envelope (a string inside a well-formed request).
    let inner = json_array(MAX_ENTRY_REQUEST_BYTES - 64 * 1024);
    let as_envelope = serde_json::json!({"kind": "dsse", "spec": {"proposedContent": {
        "envelope": String::from_utf8(inner).unwrap(),
        "verifiers": [base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &cert)]}}})
    .to_string()
    .into_bytes();
    reset_peak_rss();
    let before = peak_rss();

    let (s, _, e) = post_entry(&app, big, None, None).await;
    eprintln!("60 MiB JSON array: {s}");
    assert!(
        s == StatusCode::PAYLOAD_TOO_LARGE || s == StatusCode::BAD_REQUEST,
        "{s} {e}"
    );
    let (s, _, e) = post_entry(&app, under, None, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, _, e) = post_entry(&app, as_envelope, None, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");

    let growth = peak_rss().saturating_sub(before);
    eprintln!("peak RSS growth while refusing them: {} MiB", growth / MIB);
    assert!(growth < 256 * MIB, "peak RSS grew by {} MiB", growth / MIB);
    assert_eq!(log_size(&inst), 0);
}
