//! What an organisation accepts as the signer of publisher signatures and attachments:
//! public keys, certificate anchors, keyless identities with their issuer. Set by the
//! org's owners (and hub administrators):
//!
//! ```text
//! GET    /api/orgs/{org}/trust          [{id, kind, label, issuer, created_at}]
//! POST   /api/orgs/{org}/trust          {"public_key": PEM} | {"certificate_chain": PEM} | {"identity", "issuer"}
//! DELETE /api/orgs/{org}/trust/{id}
//! ```
//!
//! and `hallmark hub admin org trust ORG --public-key FILE | --certificate-chain FILE |
//! --identity ID --issuer URL` (`--remove ID`, `--list`). Every change is in the operator
//! audit log. API writes need a bearer write token (CSRF rules of the API).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hallmark_crypto::{PublicKey, load_certificates_pem};
use hallmark_sigstore::TrustedRoot;
use hallmark_store::{Account, AccountKind, MetaStore, TrustEntry, TrustKind};
use serde::Deserialize;
use serde_json::{Value, json};
use thiserror::Error;

use crate::access::Auth;
use crate::admin::Operator;
use crate::authz::{Action, Resource};
use crate::error::{ApiError, ApiResult, HubError};
use crate::state::AppState;

/// Largest PEM or identity accepted, in bytes.
pub const MAX_TRUST_BYTES: usize = 64 * 1024;

/// Why a trust entry was refused (400).
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustRefusal {
    /// Not exactly one of the three kinds given.
    #[error("give one of public_key, certificate_chain or identity (with issuer)")]
    OneKind,
    /// Larger than [`MAX_TRUST_BYTES`].
    #[error("{field}: {size} bytes exceed the limit of {MAX_TRUST_BYTES}")]
    TooLarge {
        /// The field.
        field: &'static str,
        /// Its size.
        size: usize,
    },
    /// A PEM that does not parse.
    #[error("{field}: {why}")]
    BadPem {
        /// The field.
        field: &'static str,
        /// The parser's words.
        why: String,
    },
    /// A keyless identity without an http(s) issuer URL, or an empty identity.
    #[error(
        "identity {identity:?} needs a non-empty identity and an http(s) issuer URL (got {issuer:?})"
    )]
    Identity {
        /// The identity.
        identity: String,
        /// The issuer given.
        issuer: String,
    },
}

/// A trust change failed: refused input, or the hub.
#[derive(Debug, Error)]
pub enum TrustError {
    /// Refused input.
    #[error(transparent)]
    Refused(#[from] TrustRefusal),
    /// Unknown org, storage.
    #[error(transparent)]
    Hub(#[from] HubError),
}

impl From<hallmark_store::StoreError> for TrustError {
    fn from(e: hallmark_store::StoreError) -> Self {
        Self::Hub(e.into())
    }
}

impl From<TrustError> for ApiError {
    fn from(e: TrustError) -> Self {
        match e {
            TrustError::Refused(r) => Self::bad_request(r.to_string()),
            TrustError::Hub(h) => h.into(),
        }
    }
}

/// A signer to trust, as given.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTrust {
    /// A public key, PEM.
    #[serde(default)]
    pub public_key: Option<String>,
    /// Certificate anchors, PEM.
    #[serde(default)]
    pub certificate_chain: Option<String>,
    /// A keyless identity (certificate SAN).
    #[serde(default)]
    pub identity: Option<String>,
    /// The identity's OIDC issuer URL.
    #[serde(default)]
    pub issuer: Option<String>,
}

/// A checked entry: kind, stored value, issuer, label.
type Checked = (TrustKind, String, Option<String>, String);

fn bounded(field: &'static str, v: &str) -> Result<(), TrustRefusal> {
    if v.len() > MAX_TRUST_BYTES {
        return Err(TrustRefusal::TooLarge {
            field,
            size: v.len(),
        });
    }
    Ok(())
}

/// Checks a new entry and names it.
///
/// # Errors
/// [`TrustRefusal`].
pub fn check(t: &NewTrust) -> Result<Checked, TrustRefusal> {
    match (&t.public_key, &t.certificate_chain, &t.identity) {
        (Some(pem), None, None) if t.issuer.is_none() => {
            bounded("public_key", pem)?;
            let key = PublicKey::from_pem(pem.as_bytes()).map_err(|e| TrustRefusal::BadPem {
                field: "public_key",
                why: e.to_string(),
            })?;
            Ok((TrustKind::PublicKey, key.to_pem(), None, key.fingerprint()))
        }
        (None, Some(pem), None) if t.issuer.is_none() => {
            bounded("certificate_chain", pem)?;
            let certs =
                load_certificates_pem(pem.as_bytes()).map_err(|e| TrustRefusal::BadPem {
                    field: "certificate_chain",
                    why: e.to_string(),
                })?;
            let Some(first) = certs.first() else {
                return Err(TrustRefusal::BadPem {
                    field: "certificate_chain",
                    why: "no certificate".into(),
                });
            };
            let label = format!("{} ({})", first.subject(), first.fingerprint());
            Ok((TrustKind::CertificateChain, pem.clone(), None, label))
        }
        (None, None, Some(id)) => {
            bounded("identity", id)?;
            let issuer = t.issuer.clone().unwrap_or_default();
            bounded("issuer", &issuer)?;
            let url_ok = issuer.starts_with("https://") || issuer.starts_with("http://");
            if id.trim().is_empty() || !url_ok {
                return Err(TrustRefusal::Identity {
                    identity: id.clone(),
                    issuer,
                });
            }
            let label = format!("{id} from {issuer}");
            Ok((TrustKind::Identity, id.clone(), Some(issuer), label))
        }
        _ => Err(TrustRefusal::OneKind),
    }
}

/// The keyless trust roots publisher signatures may chain to: the hub's own instance
/// (when it signs keylessly) and Sigstore's public good instance.
#[must_use]
pub fn roots(state: &AppState) -> Vec<TrustedRoot> {
    let mut v: Vec<TrustedRoot> = state.signer.trust_root().into_iter().collect();
    v.push(TrustedRoot::public_good());
    v
}

/// The entries of a repo's owner.
///
/// # Errors
/// Storage.
pub async fn entries(meta: &dyn MetaStore, owner_id: i64) -> Result<Vec<TrustEntry>, HubError> {
    Ok(meta.trust_entries(owner_id).await?)
}

/// JSON of an entry (the PEM is not repeated; the label names it).
#[must_use]
pub fn entry_json(t: &TrustEntry) -> Value {
    json!({
        "id": t.id, "kind": t.kind, "label": t.label, "issuer": t.issuer,
        "created_at": crate::time::rfc3339(t.created_at),
    })
}

impl Operator<'_> {
    /// Adds a signer `org` trusts.
    ///
    /// # Errors
    /// Refused input, an unknown org, an entry that is already there (409).
    pub async fn trust_add(&self, org: &str, t: &NewTrust) -> Result<(), TrustError> {
        let org = self.org(org).await?;
        let (kind, value, issuer, label) = check(t)?;
        self.meta
            .add_trust_entry(org.id, kind, &value, issuer.as_deref(), &label)
            .await?;
        self.record("org.trust.add", &org.name, &format!("{kind} {label}"))
            .await?;
        Ok(())
    }

    /// Removes a signer; `false` if `org` has no entry `id`.
    ///
    /// # Errors
    /// Unknown org, storage.
    pub async fn trust_remove(&self, org: &str, id: i64) -> Result<bool, TrustError> {
        let org = self.org(org).await?;
        let gone = self.meta.remove_trust_entry(org.id, id).await?;
        if gone {
            self.record("org.trust.remove", &org.name, &format!("entry {id}"))
                .await?;
        }
        Ok(gone)
    }

    /// The signers `org` trusts.
    ///
    /// # Errors
    /// Unknown org, storage.
    pub async fn trust_list(&self, org: &str) -> Result<Vec<TrustEntry>, TrustError> {
        let org = self.org(org).await?;
        Ok(self.meta.trust_entries(org.id).await?)
    }
}

/// The org named in the path, if the caller may manage it (its owners, hub admins).
async fn managed(state: &AppState, auth: &Auth, org: &str) -> ApiResult<(Account, String)> {
    let p = auth.principal()?;
    let actor = p.name.clone();
    let acct = match state.meta.account(org).await? {
        Some(a) if a.kind == AccountKind::Org => a,
        _ => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no organisation named {org}"),
            ));
        }
    };
    let ns = Resource::Namespace {
        id: acct.id,
        kind: acct.kind,
    };
    if !auth.can(Action::ManageOrg, &ns) {
        return Err(ApiError::forbidden(format!(
            "only owners of {org} may change what it trusts"
        )));
    }
    Ok((acct, actor))
}

/// `GET /api/orgs/{org}/trust`
///
/// # Errors
/// 404/403 as [`managed`].
pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
) -> ApiResult<Json<Value>> {
    let (acct, _) = managed(&state, &auth, &org).await?;
    let entries = state.meta.trust_entries(acct.id).await?;
    Ok(Json(Value::Array(entries.iter().map(entry_json).collect())))
}

/// `POST /api/orgs/{org}/trust`
///
/// # Errors
/// 400 for refused input, 409 for an entry already there.
pub async fn add(
    State(state): State<AppState>,
    auth: Auth,
    Path(org): Path<String>,
    Json(body): Json<NewTrust>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (acct, actor) = managed(&state, &auth, &org).await?;
    Operator::new(&*state.meta, &actor)
        .trust_add(&acct.name, &body)
        .await?;
    let entries = state.meta.trust_entries(acct.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(Value::Array(entries.iter().map(entry_json).collect())),
    ))
}

/// `DELETE /api/orgs/{org}/trust/{id}`
///
/// # Errors
/// 404 for an unknown entry.
pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path((org, id)): Path<(String, i64)>,
) -> ApiResult<StatusCode> {
    let (acct, actor) = managed(&state, &auth, &org).await?;
    if Operator::new(&*state.meta, &actor)
        .trust_remove(&acct.name, id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("{org} has no trust entry {id}"),
        ))
    }
}
