//! A TCP relay in front of a test hub for the pull tests (issue 21): it counts the bytes it
//! relays back, can stop relaying after a budget (an interrupted download), records the
//! `Range` headers it saw and can blank them out (a server that ignores ranges) or shift
//! the start of the `Content-Range` it relays (a server that answers another range), and
//! can hold every answer until a number of weight downloads are in flight at once (the
//! proof that files download in parallel).

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long the gate holds the answers at most when the downloads do not overlap: far
/// above the few milliseconds parallel downloads take to be requested.
const GATE_LIMIT: Duration = Duration::from_secs(30);

/// What the relay threads share with the test.
#[derive(Default)]
pub(crate) struct Shared {
    /// Bytes relayed from the hub (see [`Proxy::take_served`]).
    pub(crate) served: AtomicU64,
    /// Bytes still to relay before cutting; `u64::MAX` for no limit.
    pub(crate) budget: AtomicU64,
    /// Every `Range:` request header seen.
    pub(crate) ranges: Mutex<Vec<String>>,
    /// Blank the name of `Range:` headers (the hub then answers 200).
    pub(crate) strip_range: AtomicBool,
    /// Relay `content-range: bytes A-…` as `bytes A-1-…`.
    pub(crate) shift_range: AtomicBool,
    /// The gate: (weight GETs seen, how many must be seen before any answer goes on,
    /// whether it opened because that many were seen).
    gate: Mutex<(usize, usize, bool)>,
    moved: Condvar,
}

impl Shared {
    /// Holds answers once a weight download started until `n` of them were requested.
    pub(crate) fn gate_at(&self, n: usize) {
        *self.gate.lock().unwrap() = (0, n, false);
    }

    /// Whether the gate opened because `n` weight downloads were requested.
    pub(crate) fn gate_opened(&self) -> bool {
        self.gate.lock().unwrap().2
    }

    fn saw_weight_request(&self) {
        let mut g = self.gate.lock().unwrap();
        g.0 += 1;
        if g.1 > 0 && g.0 >= g.1 {
            g.2 = true;
        }
        self.moved.notify_all();
    }

    /// Blocks an answer while the gate is closed (at most [`GATE_LIMIT`]).
    fn pass_gate(&self) {
        let deadline = Instant::now() + GATE_LIMIT;
        let mut g = self.gate.lock().unwrap();
        while g.1 > 0 && g.0 > 0 && g.0 < g.1 {
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                g.1 = 0;
                break;
            };
            g = self.moved.wait_timeout(g, left).unwrap().0;
        }
    }
}

pub(crate) struct Proxy {
    pub(crate) url: String,
    pub(crate) s: Arc<Shared>,
}

impl Proxy {
    pub(crate) fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let s = Arc::new(Shared::default());
        s.budget.store(u64::MAX, Ordering::SeqCst);
        let shared = Arc::clone(&s);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let server = match TcpStream::connect(&upstream) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("proxy: cannot reach the hub: {e}");
                        continue;
                    }
                };
                let (mut c_in, mut s_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                let s = Arc::clone(&shared);
                std::thread::spawn(move || requests(&mut c_in, &mut s_out, &s));
                let s = Arc::clone(&shared);
                std::thread::spawn(move || answers(server, client, &s));
            }
        });
        Self { url, s }
    }

    /// Bytes relayed from the hub since the last call.
    pub(crate) fn take_served(&self) -> u64 {
        self.s.served.swap(0, Ordering::SeqCst)
    }
}

/// Client → hub: records `Range:` lines (blanking their name when asked) and counts the
/// weight downloads for the gate.
fn requests(from: &mut TcpStream, to: &mut TcpStream, s: &Shared) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        let chunk = &mut buf[..n];
        let text = String::from_utf8_lossy(chunk).to_string();
        for line in text.lines() {
            if line.starts_with("GET ") && line.contains("/resolve/") && !line.contains("model.sig")
            {
                s.saw_weight_request();
            }
            if line.to_ascii_lowercase().starts_with("range:") {
                s.ranges.lock().unwrap().push(line.to_owned());
                if s.strip_range.load(Ordering::SeqCst) {
                    let at = text.find(line).unwrap();
                    chunk[at..at + 6].copy_from_slice(b"x-ign:");
                }
            }
        }
        if to.write_all(chunk).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// `content-range: bytes A-…` in `chunk` rewritten as `bytes A-1-…`, if there is one.
fn shifted(chunk: &[u8]) -> Option<Vec<u8>> {
    let text = String::from_utf8_lossy(chunk);
    let key = "content-range: bytes ";
    let at = text.to_ascii_lowercase().find(key)? + key.len();
    let end = at + text[at..].find('-')?;
    let start: u64 = text[at..end].parse().ok()?;
    let mut out = chunk[..at].to_vec();
    out.extend_from_slice(start.saturating_sub(1).to_string().as_bytes());
    out.extend_from_slice(&chunk[end..]);
    Some(out)
}

/// Hub → client, within the budget; cuts both connections when it runs out.
fn answers(mut from: TcpStream, mut to: TcpStream, s: &Shared) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        s.pass_gate();
        let left = s.budget.load(Ordering::SeqCst);
        let send = (n as u64).min(left);
        if left != u64::MAX {
            s.budget.fetch_sub(send, Ordering::SeqCst);
        }
        let chunk = &buf[..send as usize];
        let rewritten = s
            .shift_range
            .load(Ordering::SeqCst)
            .then(|| shifted(chunk))
            .flatten();
        if to.write_all(rewritten.as_deref().unwrap_or(chunk)).is_err() {
            break;
        }
        s.served.fetch_add(send, Ordering::SeqCst);
        if send < n as u64 {
            eprintln!("proxy: cut after budget (left {left}, chunk {n})");
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
            return;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
