//! Verifying a provenance bundle: authenticate the DSSE envelope with any
//! [`EnvelopeVerifier`] (key, certificate, keyless), then check the statement is SLSA
//! Provenance v1 of the ML training buildType, then (optionally) that its subject and
//! resolved dependencies are the artifacts on disk.

use hallmark_bom::Artifact;
use hallmark_format::bundle::Bundle;
use hallmark_format::dsse::IN_TOTO_PAYLOAD_TYPE;
use hallmark_format::limits::Limits;
use hallmark_signing::{EnvelopeVerifier, SignerInfo};
use serde::Serialize;

use crate::error::ProvenanceError;
use crate::statement::{ML_TRAINING_BUILD_TYPE, SLSA_PROVENANCE_V1, STATEMENT_TYPE, Statement};

/// Largest attestation bundle accepted, in bytes.
pub const MAX_ATTESTATION_BYTES: usize = 64 * 1024 * 1024;

/// Provenance whose signature verified and whose statement is well formed.
#[derive(Clone, Debug, Serialize)]
pub struct VerifiedProvenance {
    /// `key`, `certificate` or `sigstore`.
    pub method: &'static str,
    /// Who signed it.
    pub signer: SignerInfo,
    /// The statement.
    pub statement: Statement,
    /// What was checked, in order.
    pub checks: Vec<String>,
}

fn bad(field: &str, reason: impl Into<String>) -> ProvenanceError {
    ProvenanceError::Statement {
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// Verifies `bundle_bytes` with `verifier`.
///
/// # Errors
/// [`ProvenanceError::Bundle`] for malformed bundles, [`ProvenanceError::Authenticate`]
/// when the signature or signer does not verify, [`ProvenanceError::Statement`] naming
/// the field when the payload is not ML training provenance.
pub fn verify_attestation(
    bundle_bytes: &[u8],
    verifier: &dyn EnvelopeVerifier,
) -> Result<VerifiedProvenance, ProvenanceError> {
    let limits = Limits {
        max_bundle_bytes: MAX_ATTESTATION_BYTES,
        ..Limits::default()
    };
    let bundle = Bundle::parse(bundle_bytes, &limits)?;
    let auth = verifier.authenticate(&bundle, bundle_bytes)?;
    if auth.compat_pae {
        return Err(bad(
            "dsseEnvelope",
            "signed with model_signing 0.2.0's non-standard encoding, which is not accepted for attestations",
        ));
    }
    let mut checks: Vec<String> = auth
        .checks
        .iter()
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    let env = &bundle.envelope;
    if env.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return Err(bad(
            "dsseEnvelope.payloadType",
            format!("{:?}, expected {IN_TOTO_PAYLOAD_TYPE}", env.payload_type),
        ));
    }
    let statement: Statement = serde_json::from_slice(&env.payload).map_err(|e| {
        bad(
            "payload",
            format!("not an in-toto statement with SLSA provenance: {e}"),
        )
    })?;
    if statement.type_ != STATEMENT_TYPE {
        return Err(bad(
            "_type",
            format!("{:?}, expected {STATEMENT_TYPE}", statement.type_),
        ));
    }
    if statement.predicate_type != SLSA_PROVENANCE_V1 {
        return Err(bad(
            "predicateType",
            format!(
                "{:?}, expected {SLSA_PROVENANCE_V1}",
                statement.predicate_type
            ),
        ));
    }
    let bt = &statement.predicate.build_definition.build_type;
    if bt != ML_TRAINING_BUILD_TYPE {
        return Err(bad(
            "predicate.buildDefinition.buildType",
            format!("{bt:?}, expected {ML_TRAINING_BUILD_TYPE}"),
        ));
    }
    let Some(subject) = statement.model_subject() else {
        return Err(bad("subject", "empty"));
    };
    let Some(root) = subject.sha256() else {
        return Err(bad("subject[0].digest.sha256", "missing"));
    };
    if root.len() != 64 || !root.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad(
            "subject[0].digest.sha256",
            format!("{root:?} is not 64 hex digits"),
        ));
    }
    if statement.predicate.run_details.builder.id.is_empty() {
        return Err(bad("predicate.runDetails.builder.id", "empty"));
    }
    checks.push(format!(
        "statement: in-toto v1, SLSA provenance v1, buildType {ML_TRAINING_BUILD_TYPE}, builder {}",
        statement.predicate.run_details.builder.id
    ));
    Ok(VerifiedProvenance {
        method: verifier.method(),
        signer: auth.signer,
        statement,
        checks,
    })
}

impl VerifiedProvenance {
    /// The model's OMS root digest, as attested.
    #[must_use]
    pub fn model_sha256(&self) -> &str {
        self.statement
            .model_subject()
            .and_then(|s| s.sha256())
            .unwrap_or_default()
    }

    /// Checks that the attested subject is `model` (by OMS root digest), naming the
    /// files that differ.
    ///
    /// # Errors
    /// [`ProvenanceError::SubjectMismatch`].
    pub fn check_model(&mut self, model: &Artifact) -> Result<(), ProvenanceError> {
        let attested = self.model_sha256().to_owned();
        if attested == model.root_sha256 {
            self.checks.push(format!(
                "subject: {} ({} files) matches sha256:{attested}",
                model.path.display(),
                model.files.len()
            ));
            return Ok(());
        }
        let mut diffs = Vec::new();
        let files: Vec<_> = self.statement.subject.iter().skip(1).collect();
        for f in &model.files {
            match files
                .iter()
                .find(|s| s.name.as_deref() == Some(f.path.as_str()))
            {
                Some(s) if s.sha256() != Some(f.sha256.as_str()) => {
                    diffs.push(format!("modified {}", f.path))
                }
                Some(_) => {}
                None => diffs.push(format!("not attested {}", f.path)),
            }
        }
        for s in &files {
            let name = s.name.as_deref().unwrap_or_default();
            if !model.files.iter().any(|f| f.path == name) {
                diffs.push(format!("missing {name}"));
            }
        }
        Err(ProvenanceError::SubjectMismatch {
            path: model.path.display().to_string(),
            attested,
            actual: model.root_sha256.clone(),
            detail: if diffs.is_empty() {
                String::new()
            } else {
                format!(" ({})", diffs.join(", "))
            },
        })
    }

    /// Checks that a dataset or base model on disk is one the statement resolved, by
    /// root digest.
    ///
    /// # Errors
    /// [`ProvenanceError::Dependency`] when no resolved dependency has its digest.
    pub fn check_dependency(&mut self, what: &str, a: &Artifact) -> Result<(), ProvenanceError> {
        let deps = &self
            .statement
            .predicate
            .build_definition
            .resolved_dependencies;
        match deps
            .iter()
            .find(|d| d.sha256() == Some(a.root_sha256.as_str()))
        {
            Some(d) => {
                self.checks.push(format!(
                    "{what} {}: resolved dependency {} (role {})",
                    a.path.display(),
                    d.uri.as_deref().unwrap_or("?"),
                    d.role().unwrap_or("?")
                ));
                Ok(())
            }
            None => Err(ProvenanceError::Dependency {
                name: a.path.display().to_string(),
                reason: format!(
                    "this {what} (sha256:{}) is not among the statement's resolved dependencies",
                    a.root_sha256
                ),
            }),
        }
    }
}
