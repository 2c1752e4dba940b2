//! Authorization: one pure function, [`can`], from (subject, action, resource) to
//! allow/deny. Everything it needs (the subject's org roles, the repo's owner and
//! visibility, the credential's scope) is resolved beforehand, so the function does no
//! I/O and is tested as a table.

use hallmark_store::{AccountKind, Role};

/// How the subject authenticated, which bounds what it may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credential {
    /// An API token with `read` scope.
    ReadToken,
    /// An API token with `write` scope.
    WriteToken,
    /// A browser session (interactive login).
    Session,
}

/// An authenticated user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// Account id.
    pub id: i64,
    /// Account name.
    pub name: String,
    /// Hub administrator.
    pub admin: bool,
    /// How they authenticated.
    pub credential: Credential,
    /// Their organisations and roles.
    pub orgs: Vec<(i64, Role)>,
}

/// Who is asking: nobody, or a principal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// `None` for anonymous requests.
    pub principal: Option<Principal>,
}

impl Subject {
    /// Anonymous.
    #[must_use]
    pub fn anonymous() -> Self {
        Self { principal: None }
    }

    /// The principal's role in namespace `owner_id`: `Owner` for their own namespace.
    #[must_use]
    pub fn role_in(&self, owner_id: i64) -> Option<Role> {
        let p = self.principal.as_ref()?;
        if p.id == owner_id {
            return Some(Role::Owner);
        }
        p.orgs.iter().find(|(o, _)| *o == owner_id).map(|(_, r)| *r)
    }
}

/// What the subject wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// See a repo, its revisions and download files.
    ReadRepo,
    /// Push a revision to an existing repo.
    PushRepo,
    /// Create a repo in a namespace.
    CreateRepo,
    /// Change a repo's settings (visibility): owners and maintainers.
    ManageRepo,
    /// Delete a repo with its history: owners only (the namespace's user, an org's owners).
    DeleteRepo,
    /// Ask the hub to re-check a revision's signature.
    VerifyRevision,
    /// Add or remove org members.
    ManageOrg,
    /// Create or revoke a user's API tokens.
    ManageTokens,
    /// Operator actions.
    Administer,
}

/// What the action is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// A user or org namespace.
    Namespace {
        /// Account id.
        id: i64,
        /// User or org.
        kind: AccountKind,
    },
    /// A repo.
    Repo {
        /// Owner account id.
        owner_id: i64,
        /// Visibility.
        private: bool,
    },
    /// A user's own settings (tokens).
    User {
        /// Account id.
        id: i64,
    },
    /// The hub itself.
    Hub,
}

impl Action {
    fn mutates(self) -> bool {
        !matches!(self, Self::ReadRepo)
    }
}

/// The authorization decision. Pure: same inputs, same answer.
#[must_use]
pub fn can(subject: &Subject, action: Action, resource: &Resource) -> bool {
    // Anyone may read public repos.
    if action == Action::ReadRepo
        && let Resource::Repo { private: false, .. } = resource
    {
        return true;
    }
    let Some(p) = &subject.principal else {
        return false;
    };
    // A read-only token never changes anything (re-checking a signature included).
    if action.mutates() && p.credential == Credential::ReadToken {
        return false;
    }
    if p.admin {
        return true;
    }
    let at_least = |owner_id: i64, min: Role| subject.role_in(owner_id).is_some_and(|r| r >= min);
    match (action, *resource) {
        (Action::ReadRepo | Action::VerifyRevision, Resource::Repo { owner_id, .. }) => {
            !matches!(resource, Resource::Repo { private: true, .. })
                || subject.role_in(owner_id).is_some()
        }
        (Action::PushRepo, Resource::Repo { owner_id, .. }) => at_least(owner_id, Role::Maintainer),
        (Action::CreateRepo, Resource::Namespace { id, .. }) => at_least(id, Role::Maintainer),
        (Action::ManageRepo, Resource::Repo { owner_id, .. }) => {
            at_least(owner_id, Role::Maintainer)
        }
        (Action::DeleteRepo, Resource::Repo { owner_id, .. }) => at_least(owner_id, Role::Owner),
        (
            Action::ManageOrg,
            Resource::Namespace {
                id,
                kind: AccountKind::Org,
            },
        ) => at_least(id, Role::Owner),
        (Action::ManageTokens, Resource::User { id }) => p.id == id,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALICE: i64 = 1; // owner of org ACME, maintainer of LAB
    const BOB: i64 = 2; // reader of ACME
    const CAROL: i64 = 3; // no memberships
    const ACME: i64 = 10;
    const LAB: i64 = 11;

    fn user(id: i64, credential: Credential) -> Subject {
        let orgs = match id {
            ALICE => vec![(ACME, Role::Owner), (LAB, Role::Maintainer)],
            BOB => vec![(ACME, Role::Reader)],
            _ => vec![],
        };
        Subject {
            principal: Some(Principal {
                id,
                name: format!("u{id}"),
                admin: id == 99,
                credential,
                orgs,
            }),
        }
    }

    #[test]
    fn table() {
        use Action::*;
        use Credential::*;
        let anon = Subject::anonymous();
        let a = user(ALICE, WriteToken);
        let a_read = user(ALICE, ReadToken);
        let a_web = user(ALICE, Session);
        let b = user(BOB, WriteToken);
        let c = user(CAROL, WriteToken);
        let admin = user(99, WriteToken);
        let admin_read = user(99, ReadToken);
        let pub_acme = Resource::Repo {
            owner_id: ACME,
            private: false,
        };
        let priv_acme = Resource::Repo {
            owner_id: ACME,
            private: true,
        };
        let priv_lab = Resource::Repo {
            owner_id: LAB,
            private: true,
        };
        let priv_carol = Resource::Repo {
            owner_id: CAROL,
            private: true,
        };
        let ns_acme = Resource::Namespace {
            id: ACME,
            kind: AccountKind::Org,
        };
        let ns_lab = Resource::Namespace {
            id: LAB,
            kind: AccountKind::Org,
        };
        let ns_carol = Resource::Namespace {
            id: CAROL,
            kind: AccountKind::User,
        };
        let rows: &[(&Subject, Action, Resource, bool)] = &[
            // reading
            (&anon, ReadRepo, pub_acme, true),
            (&anon, ReadRepo, priv_acme, false),
            (&c, ReadRepo, pub_acme, true),
            (&c, ReadRepo, priv_acme, false),
            (&b, ReadRepo, priv_acme, true),
            (&a_read, ReadRepo, priv_lab, true),
            (&c, ReadRepo, priv_carol, true),
            (&a, ReadRepo, priv_carol, false),
            (&admin_read, ReadRepo, priv_carol, true),
            // publishing
            (&anon, PushRepo, pub_acme, false),
            (&a, PushRepo, pub_acme, true),
            (&a, PushRepo, priv_lab, true),
            (&a_read, PushRepo, pub_acme, false),
            (&b, PushRepo, pub_acme, false),
            (&b, PushRepo, priv_acme, false),
            (&c, PushRepo, pub_acme, false),
            (&c, PushRepo, priv_carol, true),
            (&a, CreateRepo, ns_acme, true),
            (&a, CreateRepo, ns_lab, true),
            (&b, CreateRepo, ns_acme, false),
            (&c, CreateRepo, ns_acme, false),
            (&c, CreateRepo, ns_carol, true),
            (&a, CreateRepo, ns_carol, false),
            (&admin, CreateRepo, ns_carol, true),
            (&admin_read, CreateRepo, ns_carol, false),
            // settings and members
            (&a, ManageRepo, priv_acme, true),
            (&a, ManageRepo, priv_lab, true),
            (&b, ManageRepo, priv_acme, false),
            (&c, ManageRepo, pub_acme, false),
            (&a_read, ManageRepo, priv_acme, false),
            (&anon, ManageRepo, pub_acme, false),
            (&a, DeleteRepo, priv_acme, true),
            (&b, DeleteRepo, priv_acme, false),
            (&a_read, DeleteRepo, priv_acme, false),
            (&c, DeleteRepo, priv_carol, true),
            (&a, ManageOrg, ns_acme, true),
            (&a, ManageOrg, ns_lab, false),
            (&b, ManageOrg, ns_acme, false),
            (&c, ManageOrg, ns_carol, false),
            // re-checking signatures
            (&anon, VerifyRevision, pub_acme, false),
            (&c, VerifyRevision, pub_acme, true),
            (&c, VerifyRevision, priv_acme, false),
            (&b, VerifyRevision, priv_acme, true),
            (&a_read, VerifyRevision, pub_acme, false),
            // tokens
            (&a_web, ManageTokens, Resource::User { id: ALICE }, true),
            (&a, ManageTokens, Resource::User { id: ALICE }, true),
            (&a_read, ManageTokens, Resource::User { id: ALICE }, false),
            (&a, ManageTokens, Resource::User { id: BOB }, false),
            (&anon, ManageTokens, Resource::User { id: ALICE }, false),
            // the hub
            (&a, Administer, Resource::Hub, false),
            (&admin, Administer, Resource::Hub, true),
            (&anon, Administer, Resource::Hub, false),
            // actions that make no sense on a resource are denied
            (&a, PushRepo, ns_acme, false),
            (&a, CreateRepo, pub_acme, false),
        ];
        for (i, (s, act, res, want)) in rows.iter().enumerate() {
            assert_eq!(can(s, *act, res), *want, "row {i}: {act:?} on {res:?}");
        }
    }
}
