//! Every bundle the reference (and the Go port) ever wrote parses, and its payload is
//! a statement we understand: the 13 goldens (`testdata/golden`, byte-identical to the
//! conformance suite's `verify/historical` bundles), the OMS fixture cases
//! (`testdata/oms`) and the conformance suite's positive cases (`testdata/conformance`).

use hallmark_format::bundle::Bundle;
use hallmark_format::limits::Limits;
use hallmark_format::statement::{StatementVersion, parse_statement};
use hallmark_testkit::{find_files, read, testdata};

#[test]
fn every_reference_bundle_parses() {
    let names = ["model.sig", "bundle.sig", "model.orig.sig"];
    let mut found = Vec::new();
    for (dir, count) in [
        ("golden", 13),
        ("oms", 17),
        ("conformance/verify/positive", 7),
    ] {
        let bundles = find_files(&testdata(dir), &names);
        assert_eq!(bundles.len(), count, "bundles under testdata/{dir}");
        found.extend(bundles);
    }
    for path in found {
        let bytes = read(&path);
        let bundle = Bundle::parse(&bytes, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let st = parse_statement(&bundle.envelope.payload, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(!st.manifest.resources.is_empty(), "{}", path.display());
        if st.version == StatementVersion::V1 {
            assert!(st.root_digest.is_some());
        }
    }
}
