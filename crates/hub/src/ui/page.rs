//! The pieces every UI page shares: the header data ([`Nav`]), rendering a template,
//! and message/error pages. A leaf: it imports no other UI module.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::access::Auth;
use crate::error::ApiError;

/// Header data every page shows.
#[derive(Debug, Default)]
pub struct Nav {
    /// Logged-in user.
    pub user: Option<String>,
    /// The session's CSRF token.
    pub csrf: String,
}

impl Nav {
    /// From the request's authentication.
    #[must_use]
    pub fn of(auth: &Auth) -> Self {
        Self {
            user: auth.0.subject.principal.as_ref().map(|p| p.name.clone()),
            csrf: auth.0.csrf.clone().unwrap_or_default(),
        }
    }
}

/// Renders a template, or a plain 500.
pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(s) => Html(s).into_response(),
        Err(e) => ApiError::internal(e).into_response(),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    nav: Nav,
    title: String,
    message: String,
}

/// A page with a message and a status code.
pub fn message(auth: &Auth, status: StatusCode, title: &str, msg: &str) -> Response {
    let mut r = render(&MessagePage {
        nav: Nav::of(auth),
        title: title.into(),
        message: msg.into(),
    });
    *r.status_mut() = status;
    r
}

/// An API error as a page, titled with the status's reason phrase.
pub fn error_page(auth: &Auth, e: &ApiError) -> Response {
    message(
        auth,
        e.status,
        e.status.canonical_reason().unwrap_or("Error"),
        &e.message,
    )
}
