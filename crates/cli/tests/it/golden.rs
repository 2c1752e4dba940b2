//! The reference's 13 historical signatures (`shared/fixtures/golden`, read in place; see
//! its README.md) verify with `hallmark verify`, and their negative controls fail.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::{Out, hallmark};

const IDENTITY: &str = "stefanb@us.ibm.com";
const ISSUER: &str = "https://sigstore.verify.ibm.com/oauth2";

fn golden() -> PathBuf {
    crate::shared().join("fixtures/golden")
}

/// `hallmark verify <method> <model> --signature <folder>/model.sig <method args> [--ignore-paths <folder>/ignore-me]`.
fn verify(folder: &str, model: &str, ignore_me: bool, method_args: &[OsString]) -> Out {
    let g = golden();
    let method = if folder.ends_with("-certificate") {
        "certificate"
    } else if folder.ends_with("-sigstore") {
        "sigstore"
    } else {
        "key"
    };
    let mut args: Vec<OsString> = vec![
        "verify".into(),
        method.into(),
        g.join(folder).join(model).into_os_string(),
        "--signature".into(),
        g.join(folder).join("model.sig").into_os_string(),
    ];
    args.extend(method_args.iter().cloned());
    if ignore_me {
        args.push("--ignore-paths".into());
        args.push(g.join(folder).join("ignore-me").into_os_string());
    }
    hallmark(args)
}

fn trust(folder: &str) -> Vec<OsString> {
    let g = golden();
    if folder.ends_with("-certificate") {
        vec![
            "--certificate-chain".into(),
            g.join("keys/certificate/ca-cert.pem").into_os_string(),
        ]
    } else if folder.ends_with("-sigstore") {
        vec![
            "--identity".into(),
            IDENTITY.into(),
            "--identity-provider".into(),
            ISSUER.into(),
            "--trust-config".into(),
            g.join("trust_config.public-good.json").into_os_string(),
        ]
    } else {
        vec![
            "--public-key".into(),
            g.join("keys/certificate/signing-key-pub.pem")
                .into_os_string(),
        ]
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
        let out = verify(folder, model, ignore_me, &trust(folder));
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
        let mut args = trust(folder);
        args.push("--json".into());
        let out = verify(folder, model, ignore_me, &args);
        assert_eq!(out.code, 0, "{folder}: {out:#?}");
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(v["verified"], true, "{folder}");
        assert_eq!(v["serialization"], "files", "{folder}");
        // `…-certificate`, `…-sigstore`, `…-elliptic-key`
        assert_eq!(v["method"], folder.rsplit('-').next().unwrap(), "{folder}");
        let legacy = folder.starts_with("v0.2.0");
        assert_eq!(v["statement_version"], if legacy { "v0.1" } else { "v1.0" });
        assert_eq!(v["model_digest"].is_null(), legacy, "{folder}");
    }
}

#[test]
fn old_key_bundles_warn_about_the_older_material_format() {
    for folder in ["v0.3.1-elliptic-key", "v1.0.0-elliptic-key"] {
        verify(folder, "signme-1", false, &trust(folder))
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
        verify(folder, ".", true, &trust(folder)).expect(0, &["Verification succeeded"]);
    }
}

#[test]
fn v1_0_1_fails_without_ignoring_ignore_me() {
    for folder in [
        "v1.0.1-certificate",
        "v1.0.1-elliptic-key",
        "v1.0.1-sigstore",
    ] {
        verify(folder, ".", false, &trust(folder)).expect(1, &["extra:    ignore-me"]);
    }
}

#[test]
fn single_file_key_bundle_fails_on_the_folder() {
    let folder = "v0.3.1-elliptic-key";
    verify(folder, ".", false, &trust(folder)).expect(1, &["does not match its signature"]);
}

#[test]
fn sigstore_wrong_identity_or_issuer_fails() {
    let folder = "v1.1.0-sigstore";
    let g = golden();
    let tc = g.join("trust_config.public-good.json").into_os_string();
    let other_identity: Vec<OsString> = vec![
        "--identity".into(),
        "someone@example.com".into(),
        "--identity-provider".into(),
        ISSUER.into(),
        "--trust-config".into(),
        tc.clone(),
    ];
    verify(folder, ".", false, &other_identity).expect(1, &["someone@example.com"]);
    let other_issuer: Vec<OsString> = vec![
        "--identity".into(),
        IDENTITY.into(),
        "--identity-provider".into(),
        "https://accounts.google.com".into(),
        "--trust-config".into(),
        tc,
    ];
    verify(folder, ".", false, &other_issuer).expect(1, &["https://accounts.google.com"]);
}
