//! Claims (issue 16): every signature and attestation of a revision, kept as a signed
//! in-toto statement whose subject is the revision's OMS manifest (its root digest), in
//! a Sigstore bundle, appended to the hub's transparency log when the hub has one
//! (keyless signing; a key-signing hub has no log and records no index).
//!
//! | kind | statement | signed by | status |
//! |---|---|---|---|
//! | `publisher-signature` | the OMS statement of a `model.sig` uploaded with the files | the publisher | `verified` (a key, chain or identity the owner trusts) or `untrusted` |
//! | `hub-signature` | the revision's `model.sig` (unchanged: stock `model_signing` verifies it) | the hub, for the uploader | `verified` |
//! | `scan` | predicate [`SCAN_PREDICATE_TYPE`]: verdict, scanner policy, findings | the hub | `verified` |
//! | `bom`, `provenance` | an attached AI-BOM or SLSA provenance statement | its signer | as `publisher-signature` |
//!
//! A publisher signature or attachment that does not match the revision (another file
//! set, another digest) or whose signature does not verify is refused with 422 naming
//! why, and nothing is stored or logged ([`ClaimRefusal`]): the hub never keeps a
//! `failed` claim of its own making.
//!
//! Bundles are served at `GET /api/models/{owner}/{name}/claims/{id}` (the `url` of
//! each `hallmark.claims` entry in repo info).

pub mod attach;
pub mod publisher;
pub mod record;
pub mod refusal;
pub mod statement;
pub mod trust;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::state::AppState;

pub use record::{
    PublisherSignature, check_publisher, claims_json, hub_signature, publisher_claim, scan_claim,
    sign_statement,
};
pub use refusal::{ClaimRefusal, MAX_CLAIM_BYTES};
pub use statement::SCAN_PREDICATE_TYPE;

/// The routes: bundle downloads, attachments, owners' trust settings.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/models/{owner}/{name}/claims/{id}",
            get(record::download),
        )
        .route(
            "/api/models/{owner}/{name}/attach/{rev}",
            post(attach::attach),
        )
        .route("/api/orgs/{org}/trust", get(trust::list).post(trust::add))
        .route("/api/orgs/{org}/trust/{id}", delete(trust::remove))
}
