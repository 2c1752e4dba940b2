//! The reference's 13 historical signatures (`testdata/golden`, see its README.md) verify
//! with `hallmark verify`, and their negative controls fail.

use std::path::PathBuf;

use crate::Cmd;

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

fn golden(rel: &str) -> PathBuf {
    hallmark_testkit::testdata("golden").join(rel)
}

/// `hallmark verify <method> <folder>/<model> --signature <folder>/model.sig`, trusting
/// `identity` and `issuer` for the Sigstore folders, the golden root or key for the others.
fn verify_as(folder: &str, model: &str, identity: &str, issuer: &str) -> Cmd {
    let (model, sig) = (golden(folder).join(model), golden(folder).join("model.sig"));
    if folder.ends_with("-certificate") {
        Cmd::verify_certificate(model, sig, golden("keys/certificate/ca-cert.pem"))
    } else if folder.ends_with("-sigstore") {
        let trust = golden("trust_config.public-good.json");
        Cmd::verify_sigstore(model, sig, identity, issuer, trust)
    } else {
        Cmd::verify_key(model, sig, golden("keys/certificate/signing-key-pub.pem"))
    }
}

/// [`verify_as`] the real signer, with `--ignore-paths <folder>/ignore-me` when asked.
fn verify(folder: &str, model: &str, ignore_me: bool) -> Cmd {
    let cmd = verify_as(folder, model, IDENTITY, ISSUER);
    if ignore_me {
        cmd.opt("--ignore-paths", golden(folder).join("ignore-me"))
    } else {
        cmd
    }
}

/// (folder, model path inside it, needs `--ignore-paths ignore-me`)
const CASES: [(&str, &str, bool); 13] = [
    ("v0.2.0-certificate", ".", false),
    ("v0.3.1-certificate", ".", false),
    ("v0.3.1-elliptic-key", "signme-1", false),
    ("v0.3.1-sigstore", ".", false),
    ("v1.0.0-certificate", ".", false),
    ("v1.0.0-elliptic-key", "signme-1", false),
    ("v1.0.0-sigstore", ".", false),
    ("v1.0.1-certificate", ".", true),
    ("v1.0.1-elliptic-key", ".", true),
    ("v1.0.1-sigstore", ".", true),
    ("v1.1.0-certificate", ".", false),
    ("v1.1.0-elliptic-key", ".", false),
    ("v1.1.0-sigstore", ".", false),
];

#[test]
fn all_thirteen_verify() {
    for (folder, model, ignore_me) in CASES {
        let out = verify(folder, model, ignore_me).run();
        assert_eq!(out.code, 0, "{folder}: {out:#?}");
        assert!(
            out.stdout.contains("Verification succeeded"),
            "{folder}: {out:#?}"
        );
    }
}

#[test]
fn all_thirteen_verify_with_json() {
    for (folder, model, ignore_me) in CASES {
        let out = verify(folder, model, ignore_me).json().run();
        assert_eq!(out.code, 0, "{folder}: {out:#?}");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["verified"], true, "{folder}");
        assert_eq!(v["serialization"], "files", "{folder}");
        // `…-certificate`, `…-sigstore`, `…-elliptic-key`
        assert_eq!(v["method"], folder.rsplit('-').next().unwrap(), "{folder}");
        let legacy = folder.starts_with("v0.2.0");
        assert_eq!(v["statement_version"], if legacy { "v0.1" } else { "v1.0" });
        assert_eq!(v["model_digest"].is_null(), legacy, "{folder}");
        if folder.ends_with("sigstore") {
            // Times are RFC 3339 in every JSON output (2024/2025 signatures).
            let at = v["signer"]["signed_at"].as_str().unwrap_or_default();
            assert!(
                at.len() == 20 && at.starts_with("202") && at.ends_with('Z'),
                "{folder}: signed_at {at:?}"
            );
        }
    }
}

#[test]
fn old_key_bundles_warn_about_the_older_material_format() {
    for folder in ["v0.3.1-elliptic-key", "v1.0.0-elliptic-key"] {
        verify(folder, "signme-1", false)
            .run()
            .expect(0, &["WARNING", "older verification material format"]);
    }
}

#[test]
fn v1_1_0_verifies_with_the_optional_ignore_path_too() {
    for folder in [
        "v1.1.0-certificate",
        "v1.1.0-elliptic-key",
        "v1.1.0-sigstore",
    ] {
        verify(folder, ".", true)
            .run()
            .expect(0, &["Verification succeeded"]);
    }
}

#[test]
fn v1_0_1_fails_without_ignoring_ignore_me() {
    for folder in [
        "v1.0.1-certificate",
        "v1.0.1-elliptic-key",
        "v1.0.1-sigstore",
    ] {
        verify(folder, ".", false)
            .run()
            .expect(1, &["extra:    ignore-me"]);
    }
}

#[test]
fn single_file_key_bundle_fails_on_the_folder() {
    let folder = "v0.3.1-elliptic-key";
    verify(folder, ".", false)
        .run()
        .expect(1, &["does not match its signature"]);
}

#[test]
fn sigstore_wrong_identity_or_issuer_fails() {
    let folder = "v1.1.0-sigstore";
    verify_as(folder, ".", "someone@example.com", ISSUER)
        .run()
        .expect(1, &["someone@example.com"]);
    verify_as(folder, ".", IDENTITY, "https://accounts.google.com")
        .run()
        .expect(1, &["https://accounts.google.com"]);
}
