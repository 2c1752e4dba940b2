//! Incident response (issue 20): the records behind "who signed what, what is affected"
//! queries and the incidents that revoke revisions, as a second store trait
//! ([`ResponseStore`], a supertrait of [`crate::MetaStore`]).

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Result, StoreError};
pub use crate::model::Revocation;
use crate::model::stored_enum;

stored_enum! {
    /// What a `bom` or `provenance` claim names (a [`ClaimRef`]).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
    #[serde(rename_all = "kebab-case")]
    pub enum ClaimRefKind("claim reference kind") {
        /// A dataset the model was trained or tested on.
        Dataset = "dataset",
        /// The model it was fine-tuned from.
        BaseModel = "base-model",
        /// The training code's commit.
        TrainingCommit = "training-commit",
        /// The trainer (`builder.id`).
        Builder = "builder",
        /// The revision itself (its OMS root digest, the claim's subject).
        Model = "model",
    }
}

stored_enum! {
    /// What an incident revokes by.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum IncidentSelector("incident selector") {
        /// Revisions with a claim signed by this identity (and issuer, when given).
        Identity = "identity",
        /// Revisions with a claim signed by this key (the signer recorded for key
        /// signatures: `hub key <fingerprint>` or the publisher key's label).
        Key = "key",
        /// Revisions whose claims name this dataset, and the models fine-tuned from them.
        Dataset = "dataset",
        /// Revisions containing a file with this SHA-256.
        Sha256 = "sha256",
    }
}

/// One thing a claim names, normalised for lookup.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClaimRef {
    /// What it is.
    pub kind: ClaimRefKind,
    /// Its normalised value (lower-case; `sha256:<hex>` for digests).
    pub value: String,
}

/// Which private repos a query may return.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Visibility {
    /// The caller (their own and their organisations' private repos); `None`: public only.
    pub viewer: Option<i64>,
    /// Administrators see everything.
    pub admin: bool,
}

impl Visibility {
    /// Everything (incidents, operators).
    #[must_use]
    pub fn all() -> Self {
        Self {
            viewer: None,
            admin: true,
        }
    }
}

/// A time window and signer for [`ResponseStore::query_signatures`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignatureQuery {
    /// Any of these signers (`None`: any signer).
    pub identities: Option<Vec<String>>,
    /// This issuer only.
    pub issuer: Option<String>,
    /// Signed at or after (Unix seconds; the log's integrated time, else the record's).
    pub since: Option<i64>,
    /// Signed at or before.
    pub until: Option<i64>,
    /// At most this many rows (newest first).
    pub limit: u32,
}

/// One revision a query found, with the claim that answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QueryHit {
    /// Repo database id.
    pub repo_id: i64,
    /// `owner/name`.
    pub repo: String,
    /// The repo's owner account.
    pub owner_id: i64,
    /// Whether the repo is private.
    pub private: bool,
    /// Commit id.
    pub revision: String,
    /// The kind of the claim cited (`hub-signature`, `bom`, `scan`…), if any.
    pub claim: Option<String>,
    /// Who signed that claim.
    pub identity: Option<String>,
    /// With which issuer.
    pub issuer: Option<String>,
    /// Where the hub's log holds it.
    pub log_index: Option<i64>,
    /// When the log integrated it (Unix seconds).
    pub integrated_time: Option<i64>,
    /// What matched (the file path, the finding's path, the claim's value).
    pub matched: String,
    /// The log entry of the revision's hub signature.
    pub revision_log_index: Option<i64>,
}

/// An incident as opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewIncident {
    /// By what it revokes.
    pub selector: IncidentSelector,
    /// The identity, key, dataset or digest (normalised).
    pub value: String,
    /// For identities: only signatures from this issuer.
    pub issuer: Option<String>,
    /// From when (Unix seconds).
    pub since: i64,
    /// Why.
    pub reason: String,
    /// The administrator who opened it.
    pub opened_by: String,
}

/// A stored incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    /// Database id.
    pub id: i64,
    /// As opened.
    pub opened: NewIncident,
    /// Unix seconds.
    pub opened_at: i64,
    /// Who closed it, and when.
    pub closed: Option<(String, i64)>,
    /// The log entry of its signed opening statement.
    pub log_index: Option<i64>,
    /// The opening statement's Sigstore bundle.
    pub bundle_json: Option<String>,
    /// The log entry of its signed closing statement.
    pub close_log_index: Option<i64>,
    /// The closing statement's bundle.
    pub close_bundle_json: Option<String>,
}

/// A revision an incident revoked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Affected {
    /// Repo database id.
    pub repo_id: i64,
    /// `owner/name`.
    pub repo: String,
    /// Commit id.
    pub revision: String,
}

/// Incident-response records.
#[async_trait]
pub trait ResponseStore: Send + Sync {
    // --- queries ---------------------------------------------------------------------------
    /// Records what a claim names.
    async fn add_claim_refs(
        &self,
        repo_id: i64,
        commit: &str,
        claim_id: i64,
        refs: &[ClaimRef],
    ) -> Result<()>;
    /// Claims signed by the query's identities / issuer in its window, newest first.
    async fn query_signatures(&self, q: &SignatureQuery, vis: Visibility) -> Result<Vec<QueryHit>>;
    /// Distinct claim signers (of `issuer`, when given), at most `limit`: what an
    /// identity pattern is matched against.
    async fn claim_signers(&self, issuer: Option<&str>, limit: u32) -> Result<Vec<String>>;
    /// Revisions whose claims name any of `values` as `kind`, citing that claim.
    async fn query_refs(
        &self,
        kind: ClaimRefKind,
        values: &[String],
        vis: Visibility,
        limit: u32,
    ) -> Result<Vec<QueryHit>>;
    /// The `model` references (root digests) of revisions.
    async fn model_refs(&self, revisions: &[(i64, String)]) -> Result<Vec<(i64, String, String)>>;
    /// Revisions containing a file with this SHA-256, citing their hub signature.
    async fn query_file(&self, sha256: &str, vis: Visibility, limit: u32) -> Result<Vec<QueryHit>>;
    /// Revisions with a scan finding of this rule, citing their scan claim.
    async fn query_rule(&self, rule: &str, vis: Visibility, limit: u32) -> Result<Vec<QueryHit>>;

    // --- incidents -------------------------------------------------------------------------
    /// Records an incident (open).
    async fn create_incident(&self, incident: &NewIncident) -> Result<Incident>;
    /// Forgets an incident whose statement could not be signed.
    async fn delete_incident(&self, id: i64) -> Result<()>;
    /// Records the log entry and bundle of an incident's opening (`close` false) or
    /// closing statement.
    async fn set_incident_statement(
        &self,
        id: i64,
        close: bool,
        log_index: Option<i64>,
        bundle_json: &str,
    ) -> Result<()>;
    /// Closes an open incident: [`StoreError::NotFound`] if there is none with this id,
    /// [`StoreError::Conflict`] if it is already closed.
    async fn close_incident(&self, id: i64, by: &str, at: i64) -> Result<Incident>;
    /// One incident.
    async fn incident(&self, id: i64) -> Result<Option<Incident>>;
    /// Incidents, newest first (`open_only`: not closed).
    async fn incidents(&self, open_only: bool, limit: u32) -> Result<Vec<Incident>>;
    /// Adds revisions to an incident; returns those it did not hold yet.
    async fn add_incident_revisions(
        &self,
        id: i64,
        revisions: &[(i64, String)],
    ) -> Result<Vec<(i64, String)>>;
    /// The revisions an incident holds.
    async fn incident_revisions(&self, id: i64) -> Result<Vec<Affected>>;
}

/// Maps an unknown incident to [`StoreError::NotFound`].
pub(crate) fn no_incident(id: i64) -> StoreError {
    StoreError::NotFound(format!("no incident {id}"))
}
