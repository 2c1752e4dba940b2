//! Operator actions on a data directory (`hallmark hub admin …`), usable while the
//! server runs: they open the same SQLite database.

use hallmark_store::{Account, AccountKind, MetaStore, Role, TokenScope};

use crate::auth::issue_token;
use crate::error::{HubError, Refusal};
use crate::names::check_account_name;
use crate::password::hash_password;

async fn user(meta: &dyn MetaStore, name: &str) -> Result<Account, HubError> {
    match meta.account(name).await? {
        Some(a) if a.kind == AccountKind::User => Ok(a),
        Some(_) => Err(Refusal::NotAUser(name.to_owned()).into()),
        None => Err(Refusal::NoSuchUser(name.to_owned()).into()),
    }
}

/// Adds a user, with an optional password for the web UI.
///
/// # Errors
/// Invalid or taken name, storage failure.
pub async fn add_user(
    meta: &dyn MetaStore,
    name: &str,
    email: Option<&str>,
    password: Option<String>,
    admin: bool,
) -> Result<Account, HubError> {
    check_account_name(name)?;
    let hash = match password {
        Some(p) if p.len() < 8 => {
            return Err(Refusal::ShortPassword.into());
        }
        Some(p) => Some(hash_password(p).await?),
        None => None,
    };
    Ok(meta
        .create_user(name, email, hash.as_deref(), admin)
        .await?)
}

/// Adds an organisation owned by user `owner`.
///
/// # Errors
/// Invalid or taken name, unknown owner.
pub async fn add_org(meta: &dyn MetaStore, name: &str, owner: &str) -> Result<Account, HubError> {
    check_account_name(name)?;
    let owner = user(meta, owner).await?;
    Ok(meta.create_org(name, owner.id).await?)
}

/// Sets (or with `None` removes) a member's role.
///
/// # Errors
/// Unknown org or user.
pub async fn set_member(
    meta: &dyn MetaStore,
    org: &str,
    member: &str,
    role: Option<Role>,
) -> Result<(), HubError> {
    let org = match meta.account(org).await? {
        Some(a) if a.kind == AccountKind::Org => a,
        _ => return Err(Refusal::NoSuchOrg(org.to_owned()).into()),
    };
    let member = user(meta, member).await?;
    match role {
        Some(r) => meta.set_membership(org.id, member.id, r).await?,
        None => {
            meta.remove_membership(org.id, member.id).await?;
        }
    }
    Ok(())
}

/// Issues an API token for `user`; returns the secret (print once) and its id.
///
/// # Errors
/// Unknown user.
pub async fn new_token(
    meta: &dyn MetaStore,
    user_name: &str,
    scope: TokenScope,
    label: &str,
) -> Result<(String, i64), HubError> {
    let u = user(meta, user_name).await?;
    let (secret, rec) = issue_token(meta, u.id, label, scope).await?;
    Ok((secret, rec.id))
}

/// Revokes token `id` of `user`.
///
/// # Errors
/// Unknown user or token.
pub async fn revoke_token(meta: &dyn MetaStore, user_name: &str, id: i64) -> Result<(), HubError> {
    let u = user(meta, user_name).await?;
    if meta.revoke_token(u.id, id).await? {
        Ok(())
    } else {
        Err(Refusal::NoSuchToken {
            user: user_name.to_owned(),
            id,
        }
        .into())
    }
}
