//! hallmark-scan, safetensors header validation: the input becomes the JSON header of a
//! file whose data section is the input's length. Properties: no panic, bounded memory.

#![no_main]

use hallmark_scan::Scanner;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut input = (data.len() as u64 + 1).to_le_bytes().to_vec();
    input.push(b'{');
    input.extend_from_slice(data);
    input.extend_from_slice(data);
    let _ = Scanner::default().scan_bytes("fuzz", &input);
});
