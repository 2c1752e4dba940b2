//! `hallmark verify key|certificate|sigstore`.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
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

use crate::args::verify::{VerifyCommon, VerifyMethod, VerifySigstoreArgs};
use crate::incremental::Incremental;
use crate::progress::Engine;
use crate::trustsrc::TrustSource;
use crate::util::{EXIT_FAILED, EXIT_INPUT, EXIT_INTERRUPTED, OrExit as _, Outcome, read_input};

pub(crate) fn run(method: VerifyMethod) -> Outcome {
    let (common, verifier) = match method {
        VerifyMethod::Key(a) => {
            let verifier = key_verifier(&a.public_key);
            (a.common, verifier)
        }
        VerifyMethod::Certificate(a) => {
            let verifier = certificate_verifier(&a.certificate_chain, a.strict_validity);
            (a.common, verifier)
        }
        VerifyMethod::Sigstore(a) => {
            #[cfg(feature = "client")]
            if let Some(p) = &a.witness_policy {
                crate::witnessed::require_witnessed(p, &a.common.signature)?;
            }
            let verifier = keyless_verifier(&a);
            (a.common, verifier)
        }
    };
    let outcome = verifier
        .or_input()
        .and_then(|v| verify(&common, v.as_ref()));
    if let Err(f) = &outcome
        && common.json
    {
        outln!(
            "{}",
            json!({ "verified": false, "error": f.message(), "input_error": f.is_input() })
        );
    }
    outcome
}

fn key_verifier(path: &Path) -> anyhow::Result<Box<dyn EnvelopeVerifier>> {
    let pem = read_input("public key", path)?;
    let key =
        PublicKey::from_pem(&pem).with_context(|| format!("public key {}", path.display()))?;
    Ok(Box::new(KeyVerifier { key }))
}

fn certificate_verifier(
    roots: &[PathBuf],
    strict_validity: bool,
) -> anyhow::Result<Box<dyn EnvelopeVerifier>> {
    let mut anchors = Vec::new();
    for p in roots {
        let pem = read_input("certificate chain", p)?;
        anchors.extend(
            load_certificates_pem_with_source(&pem, &p.display().to_string())
                .with_context(|| format!("certificate chain {}", p.display()))?,
        );
    }
    let time = if strict_validity {
        ChainTime::Now
    } else {
        ChainTime::LeafNotBefore
    };
    Ok(Box::new(CertificateVerifier {
        anchors,
        policy: ChainPolicy { time },
    }))
}

fn keyless_verifier(a: &VerifySigstoreArgs) -> anyhow::Result<Box<dyn EnvelopeVerifier>> {
    let trust = match &a.trusted_root {
        Some(p) if !a.use_staging => {
            TrustedRoot::from_trusted_root_json(&read_input("trusted root", p)?)
                .with_context(|| format!("trusted root {}", p.display()))?
        }
        _ => TrustSource::from_flags(a.trust_config.as_deref(), a.use_staging).trusted_root()?,
    };
    let policy = IdentityPolicy {
        identity: a.identity.clone(),
        identity_regex: a.identity_regex.clone(),
        issuer: a.identity_provider.clone(),
    };
    Ok(Box::new(KeylessVerifier { trust, policy }))
}

/// Verifies the model; input errors before the verification starts are returned, the
/// verdict is printed and returned as the exit status.
fn verify(common: &VerifyCommon, verifier: &dyn EnvelopeVerifier) -> Outcome {
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
        return Ok(EXIT_FAILED);
    }
    let bundle = read_input("signature", &common.signature).or_input()?;
    let cwd = std::env::current_dir()
        .context("cannot determine the current directory")
        .or_input()?;
    let (ignore_paths, outside) =
        resolve_ignore_paths(&common.model, &cwd, &common.selection.ignore_paths);
    for p in outside {
        errln!(
            "warning: --ignore-paths {} is outside the model and has no effect",
            p.display()
        );
    }
    let engine = Engine::new(&common.engine, common.json);
    let incremental = if common.incremental {
        Incremental::for_verify(&common.model, &bundle).or_input()?
    } else {
        None
    };
    timing::mark("verify: load key and signature, set up");
    let opts = VerifyOptions {
        ignore_paths,
        ignore_git_paths: !common.selection.no_ignore_git_paths,
        ignore_unsigned_files: common.ignore_unsigned_files,
        allow_symlinks: common.selection.allow_symlinks,
        signature_path: Some(common.signature.clone()),
        engine: incremental
            .as_ref()
            .map_or_else(|| engine.options.clone(), |i| i.attach(&engine.options)),
        ..VerifyOptions::default()
    };
    let result = verify_model(&common.model, &bundle, verifier, &opts);
    engine.finish();
    // The signature verified: now the hub's word on the revision it signs (refused when
    // revoked, before anything says "succeeded").
    #[cfg(feature = "client")]
    let hub = match &result {
        Ok(_) => crate::verifyhub::check(&common.hub, &bundle)?,
        Err(_) => None,
    };
    #[cfg(not(feature = "client"))]
    let hub: Option<serde_json::Value> = None;
    Ok(match result {
        Ok(v) => {
            print_success(common, &v, hub.as_ref());
            if let Some(i) = &incremental {
                errln!("incremental: {}", i.save(None).0);
            }
            0
        }
        Err(VerifyError::Hash(HashError::Cancelled)) => {
            errln!("Verification interrupted");
            EXIT_INTERRUPTED
        }
        Err(e) => {
            print_failure(common, &e);
            if let Some(i) = &incremental {
                // Not saved: the next run hashes what this one could not verify.
                let (line, counts) = i.summary();
                if counts["reused"] != 0 || counts["hashed"] != 0 {
                    errln!("incremental: {line}");
                }
            }
            if e.is_input_error() {
                EXIT_INPUT
            } else {
                EXIT_FAILED
            }
        }
    })
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

fn print_success(common: &VerifyCommon, v: &Verified, hub: Option<&serde_json::Value>) {
    if common.json {
        let mut value = serde_json::to_value(v).unwrap_or_default();
        if let Some(obj) = value.as_object_mut() {
            obj.insert("verified".into(), json!(true));
            if let Some(h) = hub {
                obj.insert("hub".into(), h.clone());
            }
        }
        outln!("{value}");
        return;
    }
    for w in &v.warnings {
        outln!("WARNING: {w}");
    }
    outln!("Verification succeeded");
    outln!("  method:   {}", v.method);
    outln!("  signer:   {}", signer_line(&v.signer));
    let shard = v
        .shard_size
        .map(|n| format!(", shard size {n}"))
        .unwrap_or_default();
    outln!(
        "  model:    {} ({} resources, {}/{}{shard})",
        common.model.display(),
        v.resources,
        v.serialization,
        v.hash
    );
    if let Some(d) = &v.model_digest {
        outln!("  digest:   {d}");
    }
    for c in &v.checks {
        outln!("  ok        {}: {}", c.name, c.detail);
    }
    let revisions = hub
        .and_then(|h| h.get("revisions"))
        .and_then(|r| r.as_array());
    for r in revisions.into_iter().flatten() {
        let s = |k: &str| r.get(k).and_then(|v| v.as_str()).unwrap_or("?");
        outln!(
            "  hub       {} at {}: {}",
            s("repo"),
            s("revision"),
            s("status")
        );
    }
}

fn print_failure(common: &VerifyCommon, e: &VerifyError) {
    if common.json {
        let mut out =
            json!({ "verified": false, "error": e.to_string(), "input_error": e.is_input_error() });
        if let VerifyError::Mismatch(d) = e {
            out["differences"] = serde_json::to_value(d).unwrap_or_default();
        }
        outln!("{out}");
    }
    errln!("Verification failed: {e}");
    if let VerifyError::Mismatch(diffs) = e {
        const SHOWN: usize = 50;
        for d in diffs.iter().take(SHOWN) {
            errln!("  {d}");
        }
        if diffs.len() > SHOWN {
            errln!(
                "  … and {} more (use --json for the full list)",
                diffs.len() - SHOWN
            );
        }
    }
}
