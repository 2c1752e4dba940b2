//! The guard in front of every state-changing UI form, as one extractor: [`Authorized`]
//! parses the form, checks its CSRF token against the session's (in constant time), then
//! resolves what the form acts on (a [`Target`]) with the authorization decision applied.
//! A refused request never reaches the handler; it gets the refusal page instead.

use std::future::Future;

use axum::Form;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hallmark_store::Repo;
use serde::de::DeserializeOwned;

use crate::access::{Auth, repo_for};
use crate::auth::ct_eq;
use crate::authz::{Action, Principal, Resource};
use crate::state::AppState;
use crate::ui::page::message;

/// A form that carries the session's CSRF token in its `csrf` field.
pub trait CsrfForm: DeserializeOwned + Send {
    /// The token the form was submitted with.
    fn csrf(&self) -> &str;
}

/// What a guarded form acts on, resolved and authorized for the caller.
pub trait Target: Sized + Send {
    /// What the target is found from (path parameters, or `()`).
    type Params: FromRequestParts<AppState> + Send;

    /// Resolves the target and checks that the caller may act on it.
    ///
    /// # Errors
    /// The page to answer with when the caller may not.
    fn authorize(
        state: &AppState,
        auth: &Auth,
        params: Self::Params,
    ) -> impl Future<Output = Result<Self, Response>> + Send;
}

/// A form request that passed the guard: CSRF token checked, target authorized.
#[derive(Debug)]
pub struct Authorized<T, F> {
    /// The caller.
    pub auth: Auth,
    /// What the form acts on.
    pub target: T,
    /// The parsed form.
    pub form: F,
}

impl<T, F> Authorized<T, F> {
    /// The acting user's name (the guard lets no anonymous caller through).
    #[must_use]
    pub fn actor(&self) -> String {
        self.auth
            .principal()
            .map(|p| p.name.clone())
            .unwrap_or_default()
    }
}

impl<T: Target, F: CsrfForm> FromRequest<AppState> for Authorized<T, F> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let auth = Auth::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let params = T::Params::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let Form(form) = Form::<F>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        if !csrf_ok(&auth, form.csrf()) {
            return Err(message(
                &auth,
                StatusCode::FORBIDDEN,
                "Forbidden",
                "missing or wrong CSRF token; reload the page and try again",
            ));
        }
        let target = T::authorize(state, &auth, params).await?;
        Ok(Self { auth, target, form })
    }
}

fn csrf_ok(auth: &Auth, given: &str) -> bool {
    auth.0
        .csrf
        .as_deref()
        .is_some_and(|c| ct_eq(c.as_bytes(), given.as_bytes()))
}

/// The caller's own session: any holder of the session's CSRF token may act on it.
#[derive(Debug)]
pub struct OwnSession;

impl Target for OwnSession {
    type Params = ();

    async fn authorize(_: &AppState, _: &Auth, (): ()) -> Result<Self, Response> {
        Ok(Self)
    }
}

/// The logged-in caller's API tokens ([`Action::ManageTokens`] on their own account);
/// anonymous callers are sent to the login page.
#[derive(Debug)]
pub struct OwnTokens(pub Principal);

impl Target for OwnTokens {
    type Params = ();

    async fn authorize(_: &AppState, auth: &Auth, (): ()) -> Result<Self, Response> {
        let Some(p) = auth.0.subject.principal.clone() else {
            return Err(Redirect::to("/login").into_response());
        };
        if !auth.can(Action::ManageTokens, &Resource::User { id: p.id }) {
            return Err(message(
                auth,
                StatusCode::FORBIDDEN,
                "Forbidden",
                "you may not manage tokens",
            ));
        }
        Ok(Self(p))
    }
}

/// What a [`RepoTarget`] lets the caller do.
pub trait RepoAction: Send {
    /// The action checked.
    const ACTION: Action;
}

/// Re-checking a repo's signatures ([`Action::VerifyRevision`]).
#[derive(Debug)]
pub struct Recheck;

impl RepoAction for Recheck {
    const ACTION: Action = Action::VerifyRevision;
}

/// Changing a repo's settings ([`Action::ManageRepo`]: owners and maintainers).
#[derive(Debug)]
pub struct Manage;

impl RepoAction for Manage {
    const ACTION: Action = Action::ManageRepo;
}

/// The repository `/{owner}/{name}`, on which the caller may do `A`.
#[derive(Debug)]
pub struct RepoTarget<A> {
    /// Owner as written in the path.
    pub owner: String,
    /// Name as written in the path.
    pub name: String,
    /// The repository.
    pub repo: Repo,
    action: std::marker::PhantomData<A>,
}

/// A repo whose revisions the caller may re-check.
pub type VerifiableRepo = RepoTarget<Recheck>;

/// A repo whose settings the caller may change.
pub type ManageableRepo = RepoTarget<Manage>;

impl<A: RepoAction> Target for RepoTarget<A> {
    type Params = Path<(String, String)>;

    async fn authorize(
        state: &AppState,
        auth: &Auth,
        Path((owner, name)): Path<(String, String)>,
    ) -> Result<Self, Response> {
        match repo_for(state, auth, &owner, &name, A::ACTION).await {
            Ok(repo) => Ok(Self {
                owner,
                name,
                repo,
                action: std::marker::PhantomData,
            }),
            Err(e) => Err(message(auth, e.status, "Error", &e.message)),
        }
    }
}
