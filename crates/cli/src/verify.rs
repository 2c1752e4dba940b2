//! `hallmark verify key|certificate`.

use hallmark_crypto::{ChainPolicy, ChainTime, PublicKey, load_certificates_pem_with_source};
use hallmark_hash::{HashError, timing};
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::paths::resolve_ignore_paths;
use hallmark_signing::verify::{CertificateVerifier, KeyVerifier};
use hallmark_signing::{
    EnvelopeVerifier, SignerInfo, Verified, VerifyError, VerifyOptions, verify_model,
};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};
use serde_json::json;

use crate::args::{VerifyCommon, VerifyMethod};
use crate::progress::Engine;
use crate::{EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, read_input};

pub(crate) fn run(method: VerifyMethod) -> u8 {
    match method {
        VerifyMethod::Key(a) => {
            let key = read_input("public key", &a.public_key).and_then(|pem| {
                PublicKey::from_pem(&pem)
                    .map_err(|e| format!("public key {}: {e}", a.public_key.display()))
            });
            match key {
                Ok(key) => verify(&a.common, &KeyVerifier { key }),
                Err(e) => input_error(&a.common, &e),
            }
        }
        VerifyMethod::Certificate(a) => {
            let mut anchors = Vec::new();
            for p in &a.certificate_chain {
                let certs = read_input("certificate chain", p).and_then(|pem| {
                    load_certificates_pem_with_source(&pem, &p.display().to_string())
                        .map_err(|e| format!("certificate chain: {e}"))
                });
                match certs {
                    Ok(c) => anchors.extend(c),
                    Err(e) => return input_error(&a.common, &e),
                }
            }
            let time = if a.strict_validity {
                ChainTime::Now
            } else {
                ChainTime::LeafNotBefore
            };
            verify(
                &a.common,
                &CertificateVerifier {
                    anchors,
                    policy: ChainPolicy { time },
                },
            )
        }
        VerifyMethod::Sigstore(a) => {
            let trust = match (&a.trust_config, &a.trusted_root) {
                (Some(p), _) => read_input("trust config", p).and_then(|b| {
                    TrustedRoot::from_client_trust_config_json(&b)
                        .map_err(|e| format!("trust config {}: {e}", p.display()))
                }),
                (None, Some(p)) => read_input("trusted root", p).and_then(|b| {
                    TrustedRoot::from_trusted_root_json(&b)
                        .map_err(|e| format!("trusted root {}: {e}", p.display()))
                }),
                (None, None) => Ok(TrustedRoot::public_good()),
            };
            let trust = match trust {
                Ok(t) => t,
                Err(e) => return input_error(&a.common, &e),
            };
            let policy = IdentityPolicy {
                identity: a.identity.clone(),
                identity_regex: a.identity_regex.clone(),
                issuer: a.identity_provider.clone(),
            };
            verify(&a.common, &KeylessVerifier { trust, policy })
        }
    }
}

fn input_error(common: &VerifyCommon, msg: &str) -> u8 {
    if common.json {
        println!(
            "{}",
            json!({ "verified": false, "error": msg, "input_error": true })
        );
    }
    eprintln!("Verification failed: {msg}");
    EXIT_INPUT
}

pub(crate) fn verify(common: &VerifyCommon, verifier: &dyn EnvelopeVerifier) -> u8 {
    // A signature larger than any bundle we accept is a bad signature (exit 1), refused
    // before a byte of it is read.
    let limit = hallmark_format::limits::Limits::default().max_bundle_bytes;
    if let Ok(m) = std::fs::metadata(&common.signature)
        && m.is_file()
        && m.len() > limit as u64
    {
        let size = usize::try_from(m.len()).unwrap_or(usize::MAX);
        print_failure(
            common,
            &VerifyError::Bundle(hallmark_format::FormatError::TooLarge { size, limit }),
        );
        return EXIT_FAILED;
    }
    let bundle = match read_input("signature", &common.signature) {
        Ok(b) => b,
        Err(e) => return input_error(common, &e),
    };
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => {
            return input_error(
                common,
                &format!("cannot determine the current directory: {e}"),
            );
        }
    };
    let (ignore_paths, outside) =
        resolve_ignore_paths(&common.model, &cwd, &common.selection.ignore_paths);
    for p in outside {
        eprintln!(
            "warning: --ignore-paths {} is outside the model and has no effect",
            p.display()
        );
    }
    let engine = Engine::new(&common.engine, common.json);
    timing::mark("verify: load key and signature, set up");
    let opts = VerifyOptions {
        ignore_paths,
        ignore_git_paths: !common.selection.no_ignore_git_paths,
        ignore_unsigned_files: common.ignore_unsigned_files,
        allow_symlinks: common.selection.allow_symlinks,
        signature_path: Some(common.signature.clone()),
        engine: engine.options.clone(),
        ..VerifyOptions::default()
    };
    let result = verify_model(&common.model, &bundle, verifier, &opts);
    engine.finish();
    match result {
        Ok(v) => {
            print_success(common, &v);
            0
        }
        Err(VerifyError::Hash(HashError::Cancelled)) => {
            eprintln!("Verification interrupted");
            EXIT_INTERRUPTED
        }
        Err(e) => {
            print_failure(common, &e);
            if e.is_input_error() {
                EXIT_INPUT
            } else {
                EXIT_FAILED
            }
        }
    }
}

fn signer_line(s: &SignerInfo) -> String {
    match s {
        SignerInfo::Key { hint, curve, .. } => format!("{curve} public key (hint {hint})"),
        SignerInfo::Certificate {
            subject,
            san,
            chain,
            ..
        } => {
            let san = if san.is_empty() {
                String::new()
            } else {
                format!(", SAN {}", san.join(", "))
            };
            format!("certificate {subject}{san}; chain {}", chain.join(" -> "))
        }
        SignerInfo::Keyless {
            identity,
            issuer,
            log_index,
            ..
        } => {
            let log = log_index
                .map(|i| format!(", log index {i}"))
                .unwrap_or_default();
            format!("{identity} (issuer {issuer}{log})")
        }
    }
}

fn print_success(common: &VerifyCommon, v: &Verified) {
    if common.json {
        let mut value = serde_json::to_value(v).unwrap_or_default();
        if let Some(obj) = value.as_object_mut() {
            obj.insert("verified".into(), json!(true));
        }
        println!("{value}");
        return;
    }
    for w in &v.warnings {
        println!("WARNING: {w}");
    }
    println!("Verification succeeded");
    println!("  method:   {}", v.method);
    println!("  signer:   {}", signer_line(&v.signer));
    let shard = v
        .shard_size
        .map(|n| format!(", shard size {n}"))
        .unwrap_or_default();
    println!(
        "  model:    {} ({} resources, {}/{}{shard})",
        common.model.display(),
        v.resources,
        v.serialization,
        v.hash
    );
    if let Some(d) = &v.model_digest {
        println!("  digest:   {d}");
    }
    for c in &v.checks {
        println!("  ok        {}: {}", c.name, c.detail);
    }
}

fn print_failure(common: &VerifyCommon, e: &VerifyError) {
    if common.json {
        let mut out =
            json!({ "verified": false, "error": e.to_string(), "input_error": e.is_input_error() });
        if let VerifyError::Mismatch(d) = e {
            out["differences"] = serde_json::to_value(d).unwrap_or_default();
        }
        println!("{out}");
    }
    eprintln!("Verification failed: {e}");
    if let VerifyError::Mismatch(diffs) = e {
        const SHOWN: usize = 50;
        for d in diffs.iter().take(SHOWN) {
            eprintln!("  {d}");
        }
        if diffs.len() > SHOWN {
            eprintln!(
                "  … and {} more (use --json for the full list)",
                diffs.len() - SHOWN
            );
        }
    }
}
