//! hallmark-scan on arbitrary bytes: identification by content and every format scanner
//! (zip, tar, gzip, zlib, pickle, npy, safetensors, GGUF, ONNX, SavedModel, Keras, text).
//! Properties: no panic, bounded memory (libFuzzer's rss limit), and a report whose verdict
//! is the worst severity of its findings.

#![no_main]

use hallmark_scan::{Scanner, Verdict};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let r = Scanner::default().scan_bytes("fuzz", data);
    let worst = r.findings.iter().map(|f| f.severity.verdict()).max().unwrap_or(Verdict::Clean);
    assert_eq!(r.verdict, worst);
});
