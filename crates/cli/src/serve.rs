//! What the listening subcommands share (`hub`, `sigstore serve`, `witness serve`): the
//! tokio runtime, the listening socket, and serving a router under the per-connection
//! limits of [`hallmark_instance::listen`] until Ctrl-C.

use anyhow::Context as _;

use crate::util::{Failure, OrExit as _, Outcome};

/// A multi-threaded runtime, built only for the subcommands that serve or talk to a store.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .or_input()
}

/// The socket `listen` (`host:port`; port 0 picks a free one) names.
pub(crate) async fn bind(listen: &str) -> Result<tokio::net::TcpListener, Failure> {
    tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))
        .or_input()
}

/// Serves `app` on `listener` with the default [`ServeLimits`] (connections, per-client
/// share, header and idle timeouts) until Ctrl-C.
///
/// [`ServeLimits`]: hallmark_instance::listen::ServeLimits
pub(crate) async fn until_interrupted(
    listener: tokio::net::TcpListener,
    app: axum::Router,
) -> Outcome {
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    hallmark_instance::listen::raise_fd_limit();
    let limits = hallmark_instance::listen::ServeLimits::default();
    hallmark_instance::listen::serve(listener, app, &limits, shutdown)
        .await
        .context("server error")
        .or_failed()?;
    Ok(0)
}
