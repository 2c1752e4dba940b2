//! Server-rendered web UI (askama templates, auto-escaped). `browse` has the read-only
//! pages (model list and search, model page, owner page, audit page), `account` the
//! login, token and re-check forms, `claims` a revision's claims and the org trust form,
//! `query` the incident-response query forms; both build on the leaf modules `page` (layout and
//! message pages) and `guard` (the CSRF + authorization extractor every form goes through).

use axum::Router;
use axum::routing::{get, post};

use crate::state::AppState;

mod account;
mod browse;
mod claims;
pub mod guard;
pub mod page;
mod query;
mod viewer;

pub use browse::{RevQuery, SearchQuery};
pub use page::{Nav, message, render};

/// Routes of the UI.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(browse::index))
        .route("/audit", get(browse::audit))
        .route("/query", get(query::page))
        .route("/static/app.js", get(browse::app_js))
        .route("/login", get(account::login_form).post(account::login))
        .route("/logout", post(account::logout))
        .route(
            "/settings/tokens",
            get(account::tokens).post(account::create_token),
        )
        .route("/settings/tokens/{id}/revoke", post(account::revoke_token))
        .route(
            "/settings/orgs/{org}/scan",
            post(crate::orgsettings::ui_set),
        )
        .route("/settings/orgs/{org}/trust", post(claims::ui_trust))
        .route("/settings/orgs/{org}/watch", post(crate::watch::ui_set))
        .route("/{owner}", get(browse::owner_page))
        .route("/{owner}/{name}", get(browse::model_page))
        .route("/{owner}/{name}/blob/{rev}/{*path}", get(viewer::view))
        .route("/{owner}/{name}/verify", post(account::recheck))
        .route("/{owner}/{name}/settings", post(account::set_visibility))
}
