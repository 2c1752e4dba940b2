//! Slowloris against the bounded serving loop (issue 15 finding 5), on loopback.

#![allow(clippy::unwrap_used, missing_docs)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::get;
use hallmark_instance::listen::{ServeLimits, raise_fd_limit, serve};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

const PARTIAL: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ";

async fn start(limits: ServeLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route(
        "/",
        get(
            |ci: axum::extract::ConnectInfo<SocketAddr>| async move { format!("ok {}", ci.0.ip()) },
        ),
    );
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        serve(listener, app, &limits, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    (addr, tx)
}

/// A connection from `from` that sends part of a request's headers and stops.
async fn partial(addr: SocketAddr, from: &str) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    s.bind(format!("{from}:0").parse().unwrap()).unwrap();
    let mut c = s.connect(addr).await.unwrap();
    c.write_all(PARTIAL).await.unwrap();
    c
}

/// A whole request from 127.0.0.1; the response text.
async fn normal(addr: SocketAddr) -> String {
    let mut c = TcpStream::connect(addr).await.unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = String::new();
    c.read_to_string(&mut out).await.unwrap();
    out
}

/// Whether the server closed `c` (EOF or reset) within `within`.
async fn closed_within(c: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(within, c.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {} // an error response before the close
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_connections_are_capped_and_closed_after_the_header_timeout() {
    let header_timeout = Duration::from_secs(1);
    let (addr, _stop) = start(ServeLimits {
        max_connections: 32,
        max_per_client: 1000,
        header_timeout,
        ..ServeLimits::default()
    })
    .await;
    // 64 partial connections: 32 are served (and held), 32 wait in the accept queue
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(partial(addr, "127.0.0.1").await);
    }
    // a normal client is still answered: the held connections time out and make room
    let t = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(30), normal(addr))
        .await
        .expect("a normal request is answered under attack");
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    eprintln!(
        "normal request answered after {:?} under 64 partial connections",
        t.elapsed()
    );
    // every partial connection is closed: none survives more than a few header timeouts
    let mut closed = 0;
    for c in &mut held {
        if closed_within(c, Duration::from_secs(30)).await {
            closed += 1;
        }
    }
    eprintln!("{closed}/64 partial connections closed by the server");
    assert_eq!(closed, 64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_cannot_take_every_connection() {
    let (addr, _stop) = start(ServeLimits {
        max_connections: 64,
        max_per_client: 8,
        header_timeout: Duration::from_secs(600),
        ..ServeLimits::default()
    })
    .await;
    // 127.0.0.2 holds its 8 connections; its 9th and later are closed at once
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(partial(addr, "127.0.0.2").await);
    }
    for _ in 0..8 {
        let mut extra = partial(addr, "127.0.0.2").await;
        assert!(closed_within(&mut extra, Duration::from_secs(30)).await);
    }
    // another address is served at once although the header timeout is long
    let r = tokio::time::timeout(Duration::from_secs(30), normal(addr))
        .await
        .unwrap();
    assert!(
        r.starts_with("HTTP/1.1 200") && r.ends_with("ok 127.0.0.1"),
        "{r}"
    );
    // the held ones are still open (the limit did not close them)
    let mut buf = [0u8; 1];
    for c in &mut held {
        assert!(
            matches!(c.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_and_returns() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/", get(|| async { "ok" }));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        serve(listener, app, &ServeLimits::default(), async {
            let _ = rx.await;
        })
        .await
    });
    assert!(normal(addr).await.starts_with("HTTP/1.1 200"));
    // an idle keep-alive connection does not hold the shutdown up
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let _ = idle.read(&mut buf).await.unwrap();
    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("serve returns after the stop signal")
        .unwrap()
        .unwrap();
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}

#[test]
fn the_open_files_limit_is_raised_to_the_hard_limit() {
    let now = raise_fd_limit();
    let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
    assert_eq!(Some(now), hard.or(Some(u64::MAX)));
}
