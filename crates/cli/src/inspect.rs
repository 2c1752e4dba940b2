//! `hallmark inspect`: show what a signature claims, without verifying it.

use hallmark_crypto::Certificate;
use hallmark_format::bundle::{Bundle, VerificationMaterial};
use hallmark_format::limits::Limits;
use hallmark_format::statement::{StatementVersion, parse_statement};
use serde_json::json;

use anyhow::Context as _;

use crate::args::verify::InspectArgs;
use crate::util::{OrExit as _, Outcome, read_input};

const BANNER: &str = "NOT VERIFIED: this shows what the signature CLAIMS. Nothing has been checked; use `hallmark verify` before trusting any of it.";

/// Exit status 0, or 1 when the signature or its statement cannot be decoded.
pub(crate) fn run(args: &InspectArgs) -> Outcome {
    let bytes = read_input("signature", &args.signature).or_input()?;
    let bundle = Bundle::parse(&bytes, &Limits::default())
        .with_context(|| format!("{}: signature is malformed", args.signature.display()))
        .or_failed()?;
    let statement = parse_statement(&bundle.envelope.payload, &Limits::default());
    let signer = match &bundle.material {
        VerificationMaterial::PublicKey {
            hint,
            legacy_raw_bytes,
        } => json!({
            "kind": "key",
            "hint": hint,
            "embedded_key_pem": legacy_raw_bytes.as_ref().map(|b| String::from_utf8_lossy(b).into_owned()),
        }),
        VerificationMaterial::X509CertificateChain(ders) => json!({
            "kind": "certificate",
            "chain": ders.iter().map(|d| describe_cert(d)).collect::<Vec<_>>(),
        }),
        VerificationMaterial::Certificate(der) => json!({
            "kind": "sigstore",
            "certificate": describe_cert(der),
            "tlog_entries": bundle.tlog_entries.len(),
        }),
    };
    let mut out = json!({
        "verified": false,
        "warning": BANNER,
        "method": bundle.material.method(),
        "signer": signer,
        "payload_type": bundle.envelope.payload_type,
    });
    match &statement {
        Ok(st) => {
            let m = &st.manifest;
            out["statement_version"] = json!(match st.version {
                StatementVersion::V1 => "v1.0",
                StatementVersion::LegacyDigestsV01 => "v0.1",
            });
            out["model_name"] = json!(m.model_name);
            out["model_digest"] = json!(
                st.root_digest
                    .as_ref()
                    .map(|d| format!("sha256:{}", hex::encode(d)))
            );
            out["serialization"] = json!(m.params.method.method());
            out["hash"] = json!(m.params.hash.name());
            out["allow_symlinks"] = json!(m.params.allow_symlinks);
            out["ignore_paths"] = json!(m.params.ignore_paths);
            out["resource_count"] = json!(m.resources.len());
            if args.resources || args.json {
                out["resources"] = m
                    .resources
                    .iter()
                    .map(|r| json!({ "name": r.to_string(), "algorithm": r.algorithm, "digest": hex::encode(r.digest) }))
                    .collect();
            }
        }
        Err(e) => out["statement_error"] = json!(e.to_string()),
    }
    if args.json {
        outln!("{out}");
    } else {
        print_human(&out);
    }
    errln!("{BANNER}");
    Ok(u8::from(statement.is_err()))
}

fn describe_cert(der: &[u8]) -> serde_json::Value {
    match Certificate::from_der(der) {
        Ok(c) => {
            json!({ "subject": c.subject(), "issuer": c.issuer(), "san": c.san_values(), "sha256": c.fingerprint() })
        }
        Err(e) => json!({ "error": e.to_string() }),
    }
}

fn print_human(out: &serde_json::Value) {
    outln!("*** {BANNER} ***");
    let s = |k: &str| {
        out.get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_default()
    };
    outln!("method:        {}", s("method"));
    outln!("signer claims: {}", out["signer"]);
    if let Some(e) = out.get("statement_error") {
        outln!("statement:     UNREADABLE: {e}");
        return;
    }
    outln!("statement:     OMS {}", s("statement_version"));
    outln!("model name:    {}", s("model_name"));
    outln!("model digest:  {}", s("model_digest"));
    outln!(
        "serialization: {} / {} (allow_symlinks {})",
        s("serialization"),
        s("hash"),
        s("allow_symlinks")
    );
    outln!("ignore paths:  {}", out["ignore_paths"]);
    outln!("resources:     {}", s("resource_count"));
    if let Some(list) = out.get("resources").and_then(|r| r.as_array()) {
        for r in list {
            outln!(
                "  {}  {}:{}",
                r["name"].as_str().unwrap_or(""),
                r["algorithm"].as_str().unwrap_or(""),
                r["digest"].as_str().unwrap_or("")
            );
        }
    }
}
