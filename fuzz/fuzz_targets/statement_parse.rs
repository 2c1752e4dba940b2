//! In-toto statement parsing (`parse_statement`, v1.0 and legacy v0.1). Property: a
//! statement we accepted, rebuilt with `build_statement`, parses back to the same manifest.

#![no_main]

use hallmark_format::limits::Limits;
use hallmark_format::statement::{build_statement, parse_statement};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(st) = parse_statement(data, &limits) else {
        return;
    };
    let root: [u8; 32] = st
        .root_digest
        .as_deref()
        .and_then(|r| r.try_into().ok())
        .unwrap_or([0; 32]);
    let rebuilt = build_statement(&st.manifest, &root);
    let again = parse_statement(&rebuilt, &limits).expect("our own statement parses");
    assert_eq!(again.manifest, st.manifest);
});
