//! Sigstore bundle v0.3 parsing (`Bundle::parse`) and, when it succeeds, the statement
//! inside. Property: a bundle we parsed re-serializes (`to_json`) to one we parse back
//! to the same material and envelope.

#![no_main]

use hallmark_format::bundle::Bundle;
use hallmark_format::limits::Limits;
use hallmark_format::statement::parse_statement;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let Ok(bundle) = Bundle::parse(data, &limits) else {
        return;
    };
    let _ = parse_statement(&bundle.envelope.payload, &limits);
    let again = Bundle::parse(&bundle.to_json(), &limits).expect("our own bundle JSON parses");
    assert_eq!(again.media_type, bundle.media_type);
    assert_eq!(again.material, bundle.material);
    assert_eq!(again.tlog_entries, bundle.tlog_entries);
    assert_eq!(again.envelope.payload, bundle.envelope.payload);
    assert_eq!(again.envelope.payload_type, bundle.envelope.payload_type);
    let sigs = |b: &Bundle| -> Vec<Vec<u8>> {
        b.envelope.signatures.iter().map(|s| s.sig.clone()).collect()
    };
    assert_eq!(sigs(&again), sigs(&bundle));
});
