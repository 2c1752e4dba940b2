//! # hallmark-hub
//!
//! A self-hosted model hub where every upload is signed, verified and shown, and every
//! download works with stock clients (issue 7).
//!
//! * **Compatibility**: the read API follows the Hugging Face hub conventions that
//!   `huggingface_hub` relies on (repo info with `sha` and `siblings`, `tree` with
//!   `Link` pagination, `resolve` with `X-Repo-Commit`, `X-Linked-Etag` = SHA-256,
//!   `X-Linked-Size`, `ETag`, `Range`, and `X-Error-Code` errors) — see [`hfapi`] and
//!   [`resolve`]. Uploads use the hub's own streaming API ([`upload`]) or the HF write
//!   API with its LFS batch protocol ([`hfwrite`]; Xet is not implemented:
//!   `HF_HUB_DISABLE_XET=1`), both through one signing commit path.
//! * **Signing on upload**: files are hashed while they stream to storage; the
//!   revision's OMS v1.0 manifest is built from those digests and signed by a
//!   [`signer::RevisionSigner`] — today [`signer::KeySigner`] (hub-held ECDSA P-256
//!   key, OMS `key` method), later the keyless signer of issue 6 (OIDC identity of the
//!   uploader, short-lived certificate, transparency log). The bundle is stored as
//!   `model.sig` in the revision, verified immediately, re-checked on demand
//!   ([`verify`]), and a change of signer identity between revisions is flagged.
//! * **Accounts**: users, organisations with owner/maintainer/reader roles, scoped and
//!   revocable API tokens stored as SHA-256, argon2id passwords and CSRF-protected
//!   sessions for the web UI ([`auth`]); every decision goes through one pure function,
//!   [`authz::can`].
//! * **Storage** through `hallmark-store`: metadata behind `MetaStore` (SQLite now,
//!   PostgreSQL later), blobs through `object_store` (local directory now, S3 later).
//! * **UI**: server-rendered askama pages ([`ui`]), no JavaScript beyond a copy button.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod access;
pub mod admin;
pub mod adminapi;
pub mod auth;
pub mod authz;
pub mod card;
pub mod claims;
pub mod csrf;
pub mod error;
pub mod export;
pub mod gc;
pub mod health;
pub mod hfapi;
pub mod hfwrite;
pub mod history;
pub mod incident;
pub mod integrity;
pub mod keyless;
pub mod limits;
pub mod login;
pub mod names;
pub mod oauth;
pub mod oauthcodes;
pub mod orgsettings;
pub mod password;
pub mod query;
pub mod refs;
pub mod rescan;
pub mod resolve;
pub mod revspec;
pub mod scan;
pub mod scrub;
pub mod settings;
pub mod signer;
pub mod state;
pub mod throttle;
pub mod time;
pub mod ui;
pub mod upload;
pub mod verify;
pub mod watch;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post, put};

pub use error::{ApiError, HubError, PathRefusal, Refusal};
pub use state::{
    AppState, HubConfig, Opened, open, open_blobs, open_existing_meta, open_meta, with_parts,
};

/// Builds the hub's HTTP application.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/api/models", get(hfapi::list_models))
        .route("/api/models/{owner}/{name}", get(hfapi::repo_info))
        .route(
            "/api/models/{owner}/{name}/revision/{*rev}",
            get(hfapi::revision_info),
        )
        .route("/api/models/{owner}/{name}/tree/{rev}", get(hfapi::tree))
        .route(
            "/api/models/{owner}/{name}/tree/{rev}/{*path}",
            get(hfapi::tree),
        )
        .route(
            "/api/models/{owner}/{name}/verify/{rev}",
            post(hfapi::verify_now),
        )
        .route("/api/models/{owner}/{name}/settings", put(settings::update))
        .route("/api/models/{owner}/{name}/uploads", post(upload::open))
        .route(
            "/api/models/{owner}/{name}/uploads/{id}",
            axum::routing::delete(upload::abort),
        )
        .route(
            "/api/models/{owner}/{name}/uploads/{id}/commit",
            post(upload::commit),
        )
        .route(
            "/api/models/{owner}/{name}/uploads/{id}/files/{*path}",
            put(upload::put_file).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/orgs/{org}/settings",
            get(orgsettings::get).put(orgsettings::put),
        )
        .route("/api/orgs/{org}/watch", get(watch::get).put(watch::put))
        .route("/api/orgs/{org}/watch/alerts", get(watch::alerts))
        .merge(refs_routes())
        .route("/api/whoami-v2", get(hfapi::whoami))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/signing-key.pem", get(hfapi::signing_key))
        .route("/api/audit", get(hfapi::audit))
        .route(
            "/{owner}/{name}/resolve/{rev}/{*path}",
            get(resolve::resolve),
        );
    let signer_routes = state.signer.routes();
    let app = api
        .merge(hfwrite::routes())
        .merge(adminapi::routes())
        .merge(claims::routes())
        .merge(query::routes())
        .merge(incident::routes())
        .merge(ui::routes())
        .merge(oauth::routes());
    let app = match signer_routes {
        // The embedded Sigstore instance: OIDC issuer, CA, log, trust config.
        Some(r) => app.merge(r.with_state(())),
        None => app,
    };
    app.layer(axum::middleware::from_fn(csrf::api_writes_need_bearer))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(limit_headers))
        .layer(DefaultBodyLimit::max(1 << 20))
        .with_state(state)
}

/// History, branches and tags, paths-info ([`refs`], [`history`]).
fn refs_routes() -> Router<AppState> {
    Router::new()
        .route("/api/models/{owner}/{name}/refs", get(refs::list))
        .route(
            "/api/models/{owner}/{name}/commits/{*rev}",
            get(history::commits),
        )
        .route(
            "/api/models/{owner}/{name}/paths-info/{*rev}",
            post(history::paths_info),
        )
        .route(
            "/api/models/{owner}/{name}/branch/{*branch}",
            post(refs::create_branch).delete(refs::delete_branch),
        )
        .route(
            "/api/models/{owner}/{name}/tag/{*rev}",
            post(refs::create_tag).delete(refs::delete_tag),
        )
        .route("/{owner}/{name}/info/refs", get(refs::git_clone))
        .route("/{owner}/{name}/git-upload-pack", post(refs::git_clone))
}

/// Largest total size of request headers accepted (hyper's own cap is ~400 KiB).
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

async fn limit_headers(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let total: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
        + req.uri().to_string().len();
    if total > MAX_HEADER_BYTES {
        return axum::response::IntoResponse::into_response(ApiError::new(
            axum::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!("request headers larger than {MAX_HEADER_BYTES} bytes"),
        ));
    }
    next.run(req).await
}

async fn security_headers(mut resp: axum::response::Response) -> axum::response::Response {
    let h = resp.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ));
    resp
}

/// How long requests in flight may finish after Ctrl-C / SIGTERM.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Serves `app` on `listener` within [`HubConfig::serve`] (connection cap, header, idle,
/// body and write timeouts: [`hallmark_instance::listen`]) until Ctrl-C / SIGTERM, with
/// the open-files limit raised to the hard limit, then lets requests in flight finish
/// (at most [`SHUTDOWN_GRACE`]) and stops the signer's background work (a shared log's
/// sequencer hands its lease over). Meanwhile the storage scrubber ([`scrub`]), the
/// blob GC ([`gc`]) and the log monitor ([`watch::run`]) run in the background.
///
/// # Errors
/// The server failed.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> Result<(), HubError> {
    use std::sync::Arc;
    hallmark_instance::listen::raise_fd_limit();
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = Arc::clone(&stopping);
    let limits = state.config.serve.clone();
    let background = [
        scrub::spawn_periodic(state.clone(), &state.config.scrub),
        Some(gc::spawn_periodic(
            Arc::clone(&state.meta),
            state.blobs.clone(),
        )),
        watch::run::spawn_periodic(state.clone()),
    ];
    let server =
        hallmark_instance::listen::serve(listener, app(state.clone()), &limits, async move {
            shutdown_signal().await;
            signalled.notify_one();
        });
    let grace = async {
        stopping.notified().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    let served = tokio::select! {
        r = server => r.map_err(|source| HubError::Io {
            what: "serving on",
            path: "listener".into(),
            source,
        }),
        () = grace => {
            eprintln!("hallmark hub: requests still running {} s after the stop signal; stopping anyway", SHUTDOWN_GRACE.as_secs());
            Ok(())
        }
    };
    background
        .iter()
        .flatten()
        .for_each(tokio::task::JoinHandle::abort);
    let signer = Arc::clone(&state.signer);
    let _ = tokio::task::spawn_blocking(move || signer.shutdown()).await;
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
