//! `hallmark attest train|verify`: SLSA Provenance v1 for ML training
//! (hallmark-provenance), signed as a DSSE Sigstore bundle.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context as _, anyhow};
use hallmark_bom::time::{now_or_source_date_epoch, parse_rfc3339};
use hallmark_bom::{Component, describe};
use hallmark_crypto::{PublicKey, SigningKey, load_certificates_pem_with_source};
use hallmark_hash::EngineOptions;
use hallmark_provenance::{
    TrainingRun, build_statement, parse_code_ref, parse_param, sign_statement, verify_attestation,
};
use hallmark_signing::Signer;
use hallmark_signing::verify::{CertificateVerifier, EnvelopeVerifier, KeyVerifier};
use serde_json::json;
use zeroize::Zeroizing;

use crate::args::attest::{AttestCommand, AttestVerifyArgs, TrainArgs};
use crate::util::{Failure, OrExit as _, Outcome, read_input, write_atomically};
use crate::{keyless, lineage};

pub(crate) fn run(c: AttestCommand) -> Outcome {
    match c {
        AttestCommand::Train(a) => train(&a)
            .map(|()| 0)
            .map_err(|e| Failure::input(e).with_prefix("hallmark attest train")),
        AttestCommand::Verify(a) => {
            let outcome = verify(&a);
            if let Err(f) = &outcome
                && a.json
            {
                outln!(
                    "{}",
                    json!({ "verified": false, "error": f.message(), "input_error": f.is_input() })
                );
            }
            outcome.map_err(|f| f.with_prefix("Provenance verification failed"))
        }
    }
}

fn signer(a: &TrainArgs) -> anyhow::Result<Signer> {
    if let Some(tc) = &a.trust_config {
        let (jwt, source) = crate::idtoken::explicit(a.identity_token.as_deref(), None)?
            .ok_or_else(|| {
                anyhow!("no identity token: pass --identity-token JWT (or set SIGSTORE_ID_TOKEN)")
            })?;
        let token = crate::idtoken::IdentityToken::new(
            jwt,
            &source,
            crate::idtoken::DEFAULT_CLIENT_ID,
            crate::idtoken::now(),
        )?;
        let s = keyless::HttpKeylessSigner::from_trust_config(tc, token.jwt().to_owned())?;
        return Ok(Signer::Keyless(Box::new(s)));
    }
    let Some(kp) = &a.key else {
        return Err(anyhow!("--key or --trust-config is required"));
    };
    let pem = Zeroizing::new(read_input("private key", kp)?);
    let key = SigningKey::from_pem_with_source(&pem, None, &kp.display().to_string())?;
    let Some(cp) = &a.signing_certificate else {
        return Ok(Signer::Key(key));
    };
    let load = |p: &PathBuf| -> anyhow::Result<_> {
        let pem = read_input("certificate", p)?;
        Ok(load_certificates_pem_with_source(
            &pem,
            &p.display().to_string(),
        )?)
    };
    let mut leaf = load(cp)?;
    if leaf.is_empty() {
        return Err(anyhow!(
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

fn train(a: &TrainArgs) -> anyhow::Result<()> {
    let engine = EngineOptions::default();
    let signer = signer(a)?;
    let model = Component::local(describe(&a.model, "model", &engine)?, None, None)?;
    let mut code = parse_code_ref(&a.code)?;
    code.entry_point.clone_from(&a.entry_point);
    let mut parameters = BTreeMap::new();
    for p in &a.param {
        let (k, v) = parse_param(p)?;
        parameters.insert(k, v);
    }
    let started_on = match &a.started_on {
        Some(s) => Some(
            parse_rfc3339(s)
                .with_context(|| format!("--started-on {s:?}: expected YYYY-MM-DDTHH:MM:SSZ"))?,
        ),
        None => None,
    };
    let run = TrainingRun {
        model,
        datasets: lineage::datasets(&a.lineage, &engine)?,
        base_model: lineage::base_model(&a.lineage, &engine)?,
        code,
        parameters,
        hardware: a.hardware.clone(),
        builder_id: a.builder_id.clone(),
        invocation_id: a.invocation_id.clone(),
        started_on,
        finished_on: now_or_source_date_epoch(),
    };
    let statement = build_statement(&run)?;
    let bundle = sign_statement(&statement, &signer)?;
    write_atomically(&a.output, &bundle)?;
    if a.json {
        let datasets: Vec<_> = run
            .datasets
            .iter()
            .map(|d| {
                json!({
                    "role": d.role.as_str(),
                    "purl": d.component.purl,
                    "digest": format!("sha256:{}", d.component.root_sha256().unwrap_or_default()),
                })
            })
            .collect();
        let out = json!({
            "provenance": a.output.display().to_string(),
            "model": a.model.display().to_string(),
            "model_digest": format!("sha256:{}", run.model.root_sha256().unwrap_or_default()),
            "datasets": datasets,
            "base_model": run.base_model.as_ref().map(|b| b.purl.clone()),
            "builder_id": run.builder_id,
        });
        outln!("{out}");
        return Ok(());
    }
    outln!("Provenance written");
    outln!(
        "  model:     {} (sha256:{})",
        a.model.display(),
        run.model.root_sha256().unwrap_or_default()
    );
    for d in &run.datasets {
        outln!(
            "  {:<10} {} (sha256:{})",
            format!("{}:", d.role.as_str()),
            d.component.purl,
            d.component.root_sha256().unwrap_or_default()
        );
    }
    if let Some(b) = &run.base_model {
        outln!("  base:      {}", b.purl);
    }
    outln!("  builder:   {}", run.builder_id);
    outln!("  bundle:    {}", a.output.display());
    Ok(())
}

fn verifier(a: &AttestVerifyArgs) -> anyhow::Result<Box<dyn EnvelopeVerifier>> {
    if let Some(p) = &a.public_key {
        let pem = read_input("public key", p)?;
        let key = PublicKey::from_pem_with_source(&pem, &p.display().to_string())?;
        return Ok(Box::new(KeyVerifier { key }));
    }
    let mut anchors = Vec::new();
    for p in &a.certificate_roots {
        let pem = read_input("certificate roots", p)?;
        anchors.extend(load_certificates_pem_with_source(
            &pem,
            &p.display().to_string(),
        )?);
    }
    Ok(Box::new(CertificateVerifier {
        anchors,
        policy: hallmark_crypto::ChainPolicy::default(),
    }))
}

fn verify(a: &AttestVerifyArgs) -> Outcome {
    let bytes = read_input("attestation", &a.attestation).or_input()?;
    let verifier = verifier(a).or_input()?;
    let mut v = verify_attestation(&bytes, verifier.as_ref()).map_err(|e| {
        let input = e.is_input_error();
        let e = anyhow::Error::new(e).context(a.attestation.display().to_string());
        if input {
            Failure::input(e)
        } else {
            Failure::failed(e)
        }
    })?;
    let engine = EngineOptions::default();
    if let Some(m) = &a.model {
        let art = describe(m, "model", &engine).or_input()?;
        v.check_model(&art).or_failed()?;
    }
    for i in &a.input {
        let art = describe(i, "input", &engine).or_input()?;
        v.check_dependency("input", &art).or_failed()?;
    }
    if a.json {
        let mut out = serde_json::to_value(&v).unwrap_or_default();
        out["verified"] = json!(true);
        outln!("{out}");
        return Ok(0);
    }
    outln!("Provenance verified");
    outln!("  model digest: sha256:{}", v.model_sha256());
    outln!(
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
        outln!(
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
        outln!("  note:         no --model given: the subject was not compared with files on disk");
    }
    for c in &v.checks {
        outln!("  ok            {c}");
    }
    Ok(0)
}
