//! Operator actions, shared by `hallmark hub admin …` (on the data directory, usable while
//! the server runs) and the admin HTTP API ([`crate::adminapi`]). Every action that
//! changes something is recorded in the operator audit log (`admin_events`) with who did
//! it: an administrator's name, or `cli:<login>` for local commands.

use hallmark_store::{
    Account, AccountKind, AdminEvent, MetaStore, Repo, Role, ScanVerdict, TokenScope,
};

use crate::auth::{TOKEN_LIFETIME_SETTING, TokenLifetime, issue_token_for};
use crate::error::{HubError, Refusal};
use crate::names::check_account_name;
use crate::password::hash_password;

/// Who acts, on which store.
#[derive(Clone, Copy, Debug)]
pub struct Operator<'a> {
    /// The hub's metadata.
    pub meta: &'a dyn MetaStore,
    /// Recorded as the actor of every action.
    pub actor: &'a str,
}

/// The actor name of local `hub admin` commands: `cli:<login>`.
#[must_use]
pub fn cli_actor() -> String {
    let login = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "operator".into());
    format!("cli:{login}")
}

/// What a new token needs.
#[derive(Clone, Debug)]
pub struct NewToken<'a> {
    /// The user it is for.
    pub user: &'a str,
    /// Read or write.
    pub scope: TokenScope,
    /// Shown in token lists.
    pub label: &'a str,
    /// How long it lives.
    pub lifetime: TokenLifetime,
}

impl<'a> Operator<'a> {
    /// `actor` acting on `meta`.
    #[must_use]
    pub fn new(meta: &'a dyn MetaStore, actor: &'a str) -> Self {
        Self { meta, actor }
    }

    pub(crate) async fn record(
        &self,
        action: &str,
        target: &str,
        detail: &str,
    ) -> Result<(), HubError> {
        Ok(self
            .meta
            .record_admin_event(self.actor, action, target, detail)
            .await?)
    }

    /// The user called `name`.
    ///
    /// # Errors
    /// No such user, or an organisation.
    pub async fn user(&self, name: &str) -> Result<Account, HubError> {
        match self.meta.account(name).await? {
            Some(a) if a.kind == AccountKind::User => Ok(a),
            Some(_) => Err(Refusal::NotAUser(name.to_owned()).into()),
            None => Err(Refusal::NoSuchUser(name.to_owned()).into()),
        }
    }

    /// Every user, by name.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn list_users(&self) -> Result<Vec<Account>, HubError> {
        Ok(self.meta.list_users().await?)
    }

    /// Adds a user, with an optional password for the web UI.
    ///
    /// # Errors
    /// Invalid or taken name, short password, storage failure.
    pub async fn add_user(
        &self,
        name: &str,
        email: Option<&str>,
        password: Option<String>,
        admin: bool,
    ) -> Result<Account, HubError> {
        check_account_name(name)?;
        let hash = match password {
            Some(p) => Some(checked_hash(p).await?),
            None => None,
        };
        let a = self
            .meta
            .create_user(name, email, hash.as_deref(), admin)
            .await?;
        let detail = if admin { "administrator" } else { "" };
        self.record("user.add", name, detail).await?;
        Ok(a)
    }

    /// Disables a user (`true`: their tokens and sessions are refused at once, sessions
    /// end, the hub signs nothing for them) or re-enables them.
    ///
    /// # Errors
    /// Unknown user, storage failure.
    pub async fn set_disabled(&self, name: &str, disabled: bool) -> Result<(), HubError> {
        let u = self.user(name).await?;
        self.meta.set_disabled(u.id, disabled).await?;
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        self.record(action, &u.name, "").await
    }

    /// Grants or withdraws hub administration.
    ///
    /// # Errors
    /// Unknown user, storage failure.
    pub async fn set_admin(&self, name: &str, admin: bool) -> Result<(), HubError> {
        let u = self.user(name).await?;
        self.meta.set_admin(u.id, admin).await?;
        let action = if admin {
            "user.admin.grant"
        } else {
            "user.admin.revoke"
        };
        self.record(action, &u.name, "").await
    }

    /// Replaces a user's web-UI password and ends their sessions.
    ///
    /// # Errors
    /// Unknown user, short password, storage failure.
    pub async fn reset_password(&self, name: &str, password: String) -> Result<(), HubError> {
        let u = self.user(name).await?;
        let hash = checked_hash(password).await?;
        self.meta.set_password_hash(u.id, &hash).await?;
        let ended = self.meta.delete_sessions_of(u.id).await?;
        self.record("user.password", &u.name, &format!("{ended} sessions ended"))
            .await
    }

    /// Ends every session of a user; returns how many there were.
    ///
    /// # Errors
    /// Unknown user, storage failure.
    pub async fn revoke_sessions(&self, name: &str) -> Result<u64, HubError> {
        let u = self.user(name).await?;
        let n = self.meta.delete_sessions_of(u.id).await?;
        self.record("user.sessions.revoke", &u.name, &format!("{n} sessions"))
            .await?;
        Ok(n)
    }

    /// Adds an organisation owned by user `owner`.
    ///
    /// # Errors
    /// Invalid or taken name, unknown owner.
    pub async fn add_org(&self, name: &str, owner: &str) -> Result<Account, HubError> {
        check_account_name(name)?;
        let owner = self.user(owner).await?;
        let org = self.meta.create_org(name, owner.id).await?;
        self.record("org.add", name, &format!("owner {}", owner.name))
            .await?;
        Ok(org)
    }

    pub(crate) async fn org(&self, name: &str) -> Result<Account, HubError> {
        match self.meta.account(name).await? {
            Some(a) if a.kind == AccountKind::Org => Ok(a),
            _ => Err(Refusal::NoSuchOrg(name.to_owned()).into()),
        }
    }

    /// Makes an organisation refuse uploads whose scan verdict is `from` or worse
    /// (`None` or `Clean`: refuse none). The refused commit answers 422 and stores nothing.
    ///
    /// # Errors
    /// Unknown org.
    pub async fn set_scan_refusal(
        &self,
        org: &str,
        from: Option<ScanVerdict>,
    ) -> Result<(), HubError> {
        let org = self.org(org).await?;
        let from = from.filter(|v| *v != ScanVerdict::Clean);
        self.meta.set_scan_refusal(org.id, from).await?;
        let detail = from.map_or_else(
            || "refuse-scan off".to_owned(),
            |v| format!("refuse-scan {v}"),
        );
        self.record("org.set", &org.name, &detail).await
    }

    /// Sets (or with `None` removes) a member's role.
    ///
    /// # Errors
    /// Unknown org or user.
    pub async fn set_member(
        &self,
        org: &str,
        member: &str,
        role: Option<Role>,
    ) -> Result<(), HubError> {
        let org = self.org(org).await?;
        let member = self.user(member).await?;
        match role {
            Some(r) => self.meta.set_membership(org.id, member.id, r).await?,
            None => {
                self.meta.remove_membership(org.id, member.id).await?;
            }
        }
        let detail = format!("{} {}", member.name, role.map_or("removed", Role::as_str));
        self.record("org.member", &org.name, &detail).await
    }

    /// Issues an API token; returns the secret (print once) and its id and expiry.
    ///
    /// # Errors
    /// Unknown user, zero-day lifetime.
    pub async fn new_token(
        &self,
        t: &NewToken<'_>,
    ) -> Result<(String, i64, Option<i64>), HubError> {
        if t.lifetime == TokenLifetime::Days(0) {
            return Err(Refusal::ZeroLifetime.into());
        }
        let u = self.user(t.user).await?;
        let (secret, rec) = issue_token_for(self.meta, u.id, t.label, t.scope, t.lifetime).await?;
        let expiry = rec
            .expires_at
            .map_or_else(|| "never expires".to_owned(), crate::time::rfc3339);
        let detail = format!("#{} {} {:?} {expiry}", rec.id, t.scope, t.label);
        self.record("token.create", &u.name, &detail).await?;
        Ok((secret, rec.id, rec.expires_at))
    }

    /// Revokes token `id` of `user`.
    ///
    /// # Errors
    /// Unknown user or token.
    pub async fn revoke_token(&self, user_name: &str, id: i64) -> Result<(), HubError> {
        let u = self.user(user_name).await?;
        if !self.meta.revoke_token(u.id, id).await? {
            return Err(Refusal::NoSuchToken {
                user: user_name.to_owned(),
                id,
            }
            .into());
        }
        self.record("token.revoke", &u.name, &format!("#{id}"))
            .await
    }

    /// Sets the lifetime new tokens get unless their creator chooses one (`None`: never
    /// expire). Tokens already issued keep theirs.
    ///
    /// # Errors
    /// Zero days, storage failure.
    pub async fn set_default_token_days(&self, days: Option<u32>) -> Result<(), HubError> {
        if days == Some(0) {
            return Err(Refusal::ZeroLifetime.into());
        }
        let value = days.map(|d| d.to_string());
        self.meta
            .set_setting(TOKEN_LIFETIME_SETTING, value.as_deref())
            .await?;
        let detail = days.map_or_else(|| "never".to_owned(), |d| format!("{d} days"));
        self.record("token.lifetime", "hub", &detail).await
    }

    /// Deletes repo `owner/name`: its revisions, refs and open uploads. Its blobs that no
    /// other revision refers to go at the next blob GC (`hub admin gc`; `hub serve` runs it
    /// every 6 hours, after its grace period); its transparency-log entries stay (the log is
    /// append-only).
    ///
    /// # Errors
    /// No such repo, storage failure.
    pub async fn delete_repo(&self, owner: &str, name: &str) -> Result<Repo, HubError> {
        let full = format!("{owner}/{name}");
        let repo = self
            .meta
            .repo(owner, name)
            .await?
            .ok_or_else(|| Refusal::NoSuchRepo(full.clone()))?;
        let digests = self
            .meta
            .delete_repo(repo.id)
            .await?
            .ok_or(Refusal::NoSuchRepo(full))?;
        let detail = format!("{} blob digests left to the blob GC", digests.len());
        self.record("repo.delete", &repo.full_name(), &detail)
            .await?;
        Ok(repo)
    }

    /// The operator audit log, newest first.
    ///
    /// # Errors
    /// Storage failure.
    pub async fn events(&self, limit: u32) -> Result<Vec<AdminEvent>, HubError> {
        Ok(self.meta.admin_events(limit).await?)
    }
}

async fn checked_hash(password: String) -> Result<String, HubError> {
    if password.len() < 8 {
        return Err(Refusal::ShortPassword.into());
    }
    hash_password(password).await
}
