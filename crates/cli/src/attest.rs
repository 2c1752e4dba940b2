//! `hallmark attest train|verify`: SLSA Provenance v1 for ML training
//! (hallmark-provenance), signed as a DSSE Sigstore bundle.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use hallmark_bom::time::{now_or_source_date_epoch, parse_rfc3339};
use hallmark_bom::{Component, describe};
use hallmark_crypto::{PublicKey, SigningKey, load_certificates_pem_with_source};
use hallmark_hash::EngineOptions;
use hallmark_provenance::{
    LOCAL_BUILDER_ID, TrainingRun, build_statement, parse_code_ref, parse_param, sign_statement,
    verify_attestation,
};
use hallmark_signing::Signer;
use hallmark_signing::verify::{CertificateVerifier, KeyVerifier};
use serde_json::json;
use zeroize::Zeroizing;

use crate::bom::LineageArgs;
use crate::{EXIT_FAILED, EXIT_INPUT, read_input};

#[derive(Debug, Subcommand)]
pub(crate) enum AttestCommand {
    /// Record how a model was trained: in-toto statement with SLSA provenance v1 (ML
    /// training buildType), datasets and base model by digest, signed as a DSSE bundle.
    Train(Box<TrainArgs>),
    /// Verify a training provenance bundle, and that it names the model (and datasets) on disk.
    Verify(AttestVerifyArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TrainArgs {
    /// The trained model (directory or file).
    #[arg(long)]
    pub(crate) model: PathBuf,
    #[command(flatten)]
    pub(crate) lineage: LineageArgs,
    /// Training code: [REPOSITORY@]COMMIT (full git commit id).
    #[arg(long, value_name = "[REPO@]COMMIT")]
    pub(crate) code: String,
    /// Entry point of the training code (script, module or command).
    #[arg(long = "entry-point")]
    pub(crate) entry_point: Option<String>,
    /// Hyperparameter or configuration value KEY=VALUE (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub(crate) param: Vec<String>,
    /// Requested hardware class, e.g. 1xA100-80GB.
    #[arg(long)]
    pub(crate) hardware: Option<String>,
    /// builder.id: the trainer's identity URI.
    #[arg(long = "builder-id", default_value = LOCAL_BUILDER_ID)]
    pub(crate) builder_id: String,
    /// Identifier of the training run.
    #[arg(long = "invocation-id")]
    pub(crate) invocation_id: Option<String>,
    /// When training started (RFC 3339 UTC, e.g. 2026-11-25T10:00:00Z).
    #[arg(long = "started-on", value_name = "TIME")]
    pub(crate) started_on: Option<String>,
    /// Private key (PEM) that signs the provenance.
    #[arg(
        long = "key",
        alias = "private-key",
        value_name = "KEY.pem",
        required_unless_present = "trust_config"
    )]
    pub(crate) key: Option<PathBuf>,
    /// Certificate of --key (certificate method); intermediates with --certificate-chain.
    #[arg(
        long = "signing-certificate",
        value_name = "CERT.pem",
        requires = "key"
    )]
    pub(crate) signing_certificate: Option<PathBuf>,
    /// Intermediate certificates to embed (repeatable).
    #[arg(
        long = "certificate-chain",
        value_name = "CHAIN.pem",
        requires = "signing_certificate"
    )]
    pub(crate) certificate_chain: Vec<PathBuf>,
    /// Sign keylessly with the Sigstore instance this ClientTrustConfig names.
    #[arg(long = "trust-config", value_name = "FILE", conflicts_with = "key")]
    pub(crate) trust_config: Option<PathBuf>,
    /// OIDC identity token for keyless signing (default: $SIGSTORE_ID_TOKEN).
    #[arg(long = "identity-token", value_name = "JWT", requires = "trust_config")]
    pub(crate) identity_token: Option<String>,
    /// Where to write the bundle.
    #[arg(long, short = 'o', default_value = "provenance.json")]
    pub(crate) output: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct AttestVerifyArgs {
    /// The provenance bundle.
    pub(crate) attestation: PathBuf,
    /// The model it must name (re-hashed and compared with the subject).
    #[arg(long)]
    pub(crate) model: Option<PathBuf>,
    /// Datasets or base models on disk that must be among the resolved dependencies (repeatable).
    #[arg(long, value_name = "DIR")]
    pub(crate) input: Vec<PathBuf>,
    /// Public key the provenance must be signed with.
    #[arg(
        long = "public-key",
        value_name = "PUB.pem",
        required_unless_present = "certificate_roots"
    )]
    pub(crate) public_key: Option<PathBuf>,
    /// Trusted root certificates (certificate method; repeatable).
    #[arg(
        long = "certificate-roots",
        value_name = "ROOTS.pem",
        conflicts_with = "public_key"
    )]
    pub(crate) certificate_roots: Vec<PathBuf>,
    /// Print the verified statement and checks as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn run(c: AttestCommand) -> u8 {
    match c {
        AttestCommand::Train(a) => match train(&a) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("hallmark attest train: {e}");
                EXIT_INPUT
            }
        },
        AttestCommand::Verify(a) => verify(&a),
    }
}

fn signer(a: &TrainArgs) -> Result<Signer, String> {
    if let Some(tc) = &a.trust_config {
        let token = crate::sigstore::identity_token(a.identity_token.as_deref(), None)?;
        let s = crate::sigstore::HttpKeylessSigner::from_trust_config(tc, token)?;
        return Ok(Signer::Keyless(Box::new(s)));
    }
    let Some(kp) = &a.key else {
        return Err("--key or --trust-config is required".into());
    };
    let pem = Zeroizing::new(read_input("private key", kp)?);
    let key = SigningKey::from_pem_with_source(&pem, None, &kp.display().to_string())
        .map_err(|e| e.to_string())?;
    let Some(cp) = &a.signing_certificate else {
        return Ok(Signer::Key(key));
    };
    let load = |p: &PathBuf| {
        read_input("certificate", p).and_then(|b| {
            load_certificates_pem_with_source(&b, &p.display().to_string())
                .map_err(|e| e.to_string())
        })
    };
    let mut leaf = load(cp)?;
    if leaf.is_empty() {
        return Err(format!(
            "signing certificate {} holds no certificate",
            cp.display()
        ));
    }
    let leaf = leaf.remove(0);
    let mut chain = Vec::new();
    for p in &a.certificate_chain {
        chain.extend(load(p)?);
    }
    Ok(Signer::Certificate { key, leaf, chain })
}

fn train(a: &TrainArgs) -> Result<(), String> {
    let engine = EngineOptions::default();
    let signer = signer(a)?;
    let model = Component::local(
        describe(&a.model, "model", &engine).map_err(|e| e.to_string())?,
        None,
        None,
    )
    .map_err(|e| e.to_string())?;
    let mut code = parse_code_ref(&a.code).map_err(|e| e.to_string())?;
    code.entry_point.clone_from(&a.entry_point);
    let mut parameters = BTreeMap::new();
    for p in &a.param {
        let (k, v) = parse_param(p).map_err(|e| e.to_string())?;
        parameters.insert(k, v);
    }
    let started_on = match &a.started_on {
        Some(s) => Some(
            parse_rfc3339(s)
                .ok_or_else(|| format!("--started-on {s:?}: expected YYYY-MM-DDTHH:MM:SSZ"))?,
        ),
        None => None,
    };
    let run = TrainingRun {
        model,
        datasets: a.lineage.datasets(&engine)?,
        base_model: a.lineage.base_model(&engine)?,
        code,
        parameters,
        hardware: a.hardware.clone(),
        builder_id: a.builder_id.clone(),
        invocation_id: a.invocation_id.clone(),
        started_on,
        finished_on: now_or_source_date_epoch(),
    };
    let statement = build_statement(&run).map_err(|e| e.to_string())?;
    let bundle = sign_statement(&statement, &signer).map_err(|e| e.to_string())?;
    crate::sign::write_atomically(&a.output, &bundle)
        .map_err(|e| format!("cannot write {}: {e}", a.output.display()))?;
    println!("Provenance written");
    println!(
        "  model:     {} (sha256:{})",
        a.model.display(),
        run.model.root_sha256().unwrap_or_default()
    );
    for d in &run.datasets {
        println!(
            "  {:<10} {} (sha256:{})",
            format!("{}:", d.role.as_str()),
            d.component.purl,
            d.component.root_sha256().unwrap_or_default()
        );
    }
    if let Some(b) = &run.base_model {
        println!("  base:      {}", b.purl);
    }
    println!("  builder:   {}", run.builder_id);
    println!("  bundle:    {}", a.output.display());
    Ok(())
}

fn verify(a: &AttestVerifyArgs) -> u8 {
    let fail = |code: u8, msg: String| {
        if a.json {
            println!(
                "{}",
                json!({ "verified": false, "error": msg, "input_error": code == EXIT_INPUT })
            );
        }
        eprintln!("Provenance verification failed: {msg}");
        code
    };
    let bytes = match read_input("attestation", &a.attestation) {
        Ok(b) => b,
        Err(e) => return fail(EXIT_INPUT, e),
    };
    let result = if let Some(p) = &a.public_key {
        match read_input("public key", p).and_then(|b| {
            PublicKey::from_pem_with_source(&b, &p.display().to_string()).map_err(|e| e.to_string())
        }) {
            Ok(key) => verify_attestation(&bytes, &KeyVerifier { key }),
            Err(e) => return fail(EXIT_INPUT, e),
        }
    } else {
        let mut anchors = Vec::new();
        for p in &a.certificate_roots {
            match read_input("certificate roots", p).and_then(|b| {
                load_certificates_pem_with_source(&b, &p.display().to_string())
                    .map_err(|e| e.to_string())
            }) {
                Ok(c) => anchors.extend(c),
                Err(e) => return fail(EXIT_INPUT, e),
            }
        }
        verify_attestation(
            &bytes,
            &CertificateVerifier {
                anchors,
                policy: hallmark_crypto::ChainPolicy::default(),
            },
        )
    };
    let mut v = match result {
        Ok(v) => v,
        Err(e) => {
            let code = if e.is_input_error() {
                EXIT_INPUT
            } else {
                EXIT_FAILED
            };
            return fail(code, format!("{}: {e}", a.attestation.display()));
        }
    };
    let engine = EngineOptions::default();
    if let Some(m) = &a.model {
        let checked = describe(m, "model", &engine)
            .map_err(|e| (EXIT_INPUT, e.to_string()))
            .and_then(|art| {
                v.check_model(&art)
                    .map_err(|e| (EXIT_FAILED, e.to_string()))
            });
        if let Err((code, e)) = checked {
            return fail(code, e);
        }
    }
    for i in &a.input {
        let checked = describe(i, "input", &engine)
            .map_err(|e| (EXIT_INPUT, e.to_string()))
            .and_then(|art| {
                v.check_dependency("input", &art)
                    .map_err(|e| (EXIT_FAILED, e.to_string()))
            });
        if let Err((code, e)) = checked {
            return fail(code, e);
        }
    }
    if a.json {
        let mut out = serde_json::to_value(&v).unwrap_or_default();
        out["verified"] = json!(true);
        println!("{out}");
        return 0;
    }
    println!("Provenance verified");
    println!("  model digest: sha256:{}", v.model_sha256());
    println!(
        "  builder:      {}",
        v.statement.predicate.run_details.builder.id
    );
    for d in &v.statement.predicate.build_definition.resolved_dependencies {
        let digest = d
            .digest
            .iter()
            .map(|(k, x)| format!("{k}:{x}"))
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "  input:        {} {} {}",
            d.role().unwrap_or("?"),
            d.uri.as_deref().unwrap_or("?"),
            if digest.is_empty() {
                "(no digest)".to_owned()
            } else {
                digest
            }
        );
    }
    if a.model.is_none() {
        println!(
            "  note:         no --model given: the subject was not compared with files on disk"
        );
    }
    for c in &v.checks {
        println!("  ok            {c}");
    }
    0
}
