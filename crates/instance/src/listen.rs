//! The bounded serving loop of every listener (the hub and `hallmark sigstore serve`),
//! against slowloris and descriptor exhaustion (issue 15 finding 5): `axum::serve` reads
//! headers forever, keeps idle connections forever and accepts until the process runs out
//! of file descriptors (1,100 partial connections starved the hub).
//!
//! * at most [`ServeLimits::max_connections`] connections at once (clamped below the
//!   descriptor limit, which [`raise_fd_limit`] lifts to the hard limit at start); further
//!   clients wait in the kernel's accept queue, costing no descriptor;
//! * at most [`ServeLimits::max_per_client`] from one address (IPv6: one /64); more are
//!   closed at once;
//! * a request's headers must arrive within [`ServeLimits::header_timeout`], which also
//!   bounds how long an idle keep-alive connection waits for its next request;
//! * a request body that sends nothing for [`ServeLimits::body_idle_timeout`] fails (no
//!   overall deadline: large uploads stream as long as they make progress);
//! * a response the client stops reading for [`ServeLimits::write_stall_timeout`] ends
//!   the connection (large downloads run as long as the client reads).
//!
//! Each request carries [`ConnectInfo`]`<SocketAddr>` of its peer. Graceful shutdown: no
//! new connections, connections finish their request in flight and close.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Sleep;
use tower::Service as _;
use tower_http::timeout::TimeoutBody;

/// Connection and time bounds of a listener.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServeLimits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Connections served at once from one client address (IPv6: one /64).
    pub max_per_client: usize,
    /// Time to receive a request's headers, and to wait for the next request on an idle
    /// keep-alive connection.
    pub header_timeout: Duration,
    /// Longest pause inside a request body.
    pub body_idle_timeout: Duration,
    /// Longest a response may wait for the client to read.
    pub write_stall_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            max_per_client: 256,
            header_timeout: Duration::from_secs(30),
            body_idle_timeout: Duration::from_secs(60),
            write_stall_timeout: Duration::from_secs(60),
        }
    }
}

/// Descriptors kept for everything but connections (database, blobs, log tiles).
const RESERVED_FDS: u64 = 256;

/// Raises the soft limit of open files (`RLIMIT_NOFILE`) to the hard limit; returns the
/// limit now in force.
pub fn raise_fd_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let lim = getrlimit(Resource::Nofile);
    if lim.current != lim.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: lim.maximum,
                maximum: lim.maximum,
            },
        );
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Connections the descriptor limit leaves room for.
fn fd_room() -> usize {
    let current = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(u64::MAX);
    usize::try_from(current.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX)
}

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then stops
/// accepting and returns once every connection has finished its request in flight
/// (callers bound that wait themselves).
///
/// # Errors
/// Never today (accept errors such as `EMFILE` are waited out); `io::Result` for callers
/// that treat serving as I/O.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ServeLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let max = limits.max_connections.clamp(1, fd_room());
    let slots = Arc::new(Semaphore::new(max));
    let per_client = Arc::new(PerClient::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            s = Arc::clone(&slots).acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(_) => {
                    // EMFILE and the like: give connections in flight time to end.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Some(client) = per_client.admit(peer.ip(), limits.max_per_client) else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = connection(stream, peer, app.clone(), limits, stop_rx.clone());
        tokio::spawn(async move {
            conn.await;
            drop(client);
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot: all slots back = all connections done.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: &ServeLimits,
    mut stop: watch::Receiver<bool>,
) -> impl Future<Output = ()> + Send + 'static {
    let body_idle = limits.body_idle_timeout;
    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
        let mut req: Request = req.map(|b| Body::new(TimeoutBody::new(body_idle, b)));
        req.extensions_mut().insert(ConnectInfo(peer));
        app.clone().call(req)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let io = TokioIo::new(StallGuard {
        io: stream,
        limit: limits.write_stall_timeout,
        stalled: None,
    });
    let conn = builder.serve_connection(io, service);
    async move {
        tokio::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.wait_for(|s| *s) => {}
        }
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

/// Connections per client address; a [`ClientSlot`] gives its place back when dropped.
#[derive(Debug, Default)]
struct PerClient(Mutex<HashMap<IpAddr, usize>>);

/// The address a client is counted by: IPv4 as is (also when IPv4-mapped), IPv6 by its
/// /64 (one host usually holds a whole /64).
#[must_use]
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

impl PerClient {
    fn admit(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<ClientSlot> {
        let key = client_key(ip);
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let n = m.entry(key).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            table: Arc::clone(self),
            key,
        })
    }
}

struct ClientSlot {
    table: Arc<PerClient>,
    key: IpAddr,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut m = self.table.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = m.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.key);
            }
        }
    }
}

/// A socket whose writes fail with `TimedOut` once they have waited `limit` for the
/// client to read.
struct StallGuard {
    io: TcpStream,
    limit: Duration,
    stalled: Option<Pin<Box<Sleep>>>,
}

impl StallGuard {
    fn watch<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.stalled = None;
            return r;
        }
        let limit = self.limit;
        let sleep = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the client read nothing for {} s", limit.as_secs()),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for StallGuard {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallGuard {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.io).poll_flush(cx);
        self.watch(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
