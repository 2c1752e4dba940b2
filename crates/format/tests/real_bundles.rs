//! Every bundle the reference (and the Go port) ever wrote parses, and its payload is
//! a statement we understand.

use std::path::{Path, PathBuf};

use hallmark_format::bundle::Bundle;
use hallmark_format::limits::Limits;
use hallmark_format::statement::{StatementVersion, parse_statement};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn bundles_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            bundles_under(&p, out);
        } else if p
            .file_name()
            .is_some_and(|n| n == "model.sig" || n == "bundle.sig" || n == "model.orig.sig")
        {
            out.push(p);
        }
    }
}

#[test]
fn every_reference_bundle_parses() {
    let mut found = Vec::new();
    bundles_under(&shared().join("fixtures"), &mut found);
    bundles_under(
        &shared().join("conformance/suite/test/test-cases/verify/positive"),
        &mut found,
    );
    bundles_under(
        &shared().join("conformance/suite/test/test-cases/verify/historical"),
        &mut found,
    );
    assert!(
        found.len() >= 20,
        "expected the shared fixtures at {}",
        shared().display()
    );
    for path in found {
        let bytes = std::fs::read(&path).unwrap();
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
