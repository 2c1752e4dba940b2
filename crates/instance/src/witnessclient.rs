//! Witnesses over HTTP (C2SP tlog-witness, through `hallmark-witness`'s client): the
//! [`CheckpointWitness`] the log asks, built from the witness lines of a policy file
//! (`witness <name> <vkey> <url>`). Each answer's cosignature/v1 lines are checked against
//! the witness's key before the log publishes them.

use std::sync::Arc;
use std::time::Duration;

use hallmark_tlog::Hash;
use hallmark_tlog::note::parse_note;
use hallmark_witness::{AddCheckpointError, CosignerKey, Policy, PolicyError};

use crate::witnessing::{CheckpointWitness, WitnessConfig, WitnessFailure};

/// One witness reached over HTTP.
pub struct HttpWitness {
    name: String,
    url: String,
    key: CosignerKey,
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpWitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpWitness")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HttpWitness {
    /// The witness `name` at submission prefix `url` whose cosignatures verify with `key`;
    /// every request ends within `timeout`.
    #[must_use]
    pub fn new(name: &str, url: &str, key: CosignerKey, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .tls_config(hallmark_tlog::https_tls())
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Self {
            name: name.to_owned(),
            url: url.to_owned(),
            key,
            agent,
        }
    }
}

fn failure(e: AddCheckpointError) -> WitnessFailure {
    let refused = |status: u16, detail: String| WitnessFailure::Refused { status, detail };
    match e {
        AddCheckpointError::Conflict { known_size } => WitnessFailure::Conflict { known_size },
        AddCheckpointError::BadRequest(d) => refused(400, d),
        AddCheckpointError::Forbidden(d) => refused(403, d),
        AddCheckpointError::UnknownLog(d) => refused(404, d),
        AddCheckpointError::Inconsistent(d) => refused(422, d),
        AddCheckpointError::Status { status, detail } => refused(status, detail),
        AddCheckpointError::Unreachable(d) => WitnessFailure::Unreachable(d),
        other => WitnessFailure::Malformed(other.to_string()),
    }
}

impl CheckpointWitness for HttpWitness {
    fn name(&self) -> &str {
        &self.name
    }

    fn add_checkpoint(
        &self,
        old_size: u64,
        proof: &[Hash],
        checkpoint: &str,
    ) -> Result<String, WitnessFailure> {
        let lines = hallmark_witness::client::add_checkpoint(
            &self.agent,
            &self.url,
            old_size,
            proof,
            checkpoint,
        )
        .map_err(failure)?;
        let (body, _) =
            parse_note(checkpoint).map_err(|e| WitnessFailure::Malformed(e.to_string()))?;
        let mut out = String::new();
        for l in lines.iter().filter(|l| self.key.is_mine(l)) {
            self.key
                .verify(l, body)
                .map_err(|e| WitnessFailure::Malformed(e.to_string()))?;
            out.push_str(&format!("{l}\n"));
        }
        if out.is_empty() {
            return Err(WitnessFailure::Malformed(format!(
                "no cosignature by {}",
                self.key.vkey()
            )));
        }
        Ok(out)
    }
}

/// The log's witness configuration from policy text: every `witness` line with a URL is
/// asked (rounds bounded by `deadline`); the text (witnesses, groups, quorum) is what
/// `/witness-policy` serves after the logs' own lines.
///
/// # Errors
/// The policy does not parse (the error names the line).
pub fn witness_config(policy_text: &str, deadline: Duration) -> Result<WitnessConfig, PolicyError> {
    let policy = Policy::parse(policy_text)?;
    let witnesses = policy
        .witnesses()
        .iter()
        .filter_map(|w| {
            let url = w.url.as_deref()?;
            Some(
                Arc::new(HttpWitness::new(&w.name, url, w.key.clone(), deadline))
                    as Arc<dyn CheckpointWitness>,
            )
        })
        .collect();
    Ok(WitnessConfig {
        witnesses,
        deadline,
        policy: Some(policy_text.to_owned()),
    })
}
