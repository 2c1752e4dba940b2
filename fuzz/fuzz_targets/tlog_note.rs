//! Checkpoint notes and tile entry bundles from an untrusted log (what `hallmark log audit`
//! and the Sigstore verifier read), and the shared log's staging objects (read back from a
//! bucket by a replica taking over): no panic, a parsed checkpoint body re-encodes to the
//! same text, a decoded staging object re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((body, _sigs)) = hallmark_tlog::note::parse_note(text) {
            if let Ok(cp) = hallmark_tlog::Checkpoint::parse_body(body) {
                let again = hallmark_tlog::Checkpoint::parse_body(&cp.body()).expect("re-parse");
                assert_eq!(again, cp);
            }
        }
        let _ = hallmark_tlog::Checkpoint::parse_body(text);
    }
    if let Ok(objects) = hallmark_tlog::shared::decode_staging("fuzz", data) {
        assert_eq!(hallmark_tlog::shared::encode_staging(&objects), data);
    }
    if let Some((&w, rest)) = data.split_first() {
        let _ = hallmark_tlog::tile::decode_bundle("tile/entries/000", rest, u16::from(w).max(1));
    }
});
