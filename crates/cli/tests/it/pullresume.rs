//! `hallmark pull` interrupted and resumed (issue 21): a proxy in front of a live hub cuts
//! the connection once it has relayed about half of the weights; the same pull run again
//! asks for the rest with `Range` and the proxy relays only that; the result verifies.
//! Tampered bytes in the kept part fail the pull (exit 1, nothing in the target, the stage
//! deleted); a server that ignores `Range` makes the file restart cleanly.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::pull::{Hub, listing, model_with, pull_via};

/// A TCP relay to the hub that counts the bytes it relays back, can stop relaying after a
/// budget, records the `Range` headers it saw and can blank them out (a server that
/// ignores ranges).
struct Proxy {
    url: String,
    served: Arc<AtomicU64>,
    budget: Arc<AtomicU64>,
    ranges: Arc<Mutex<Vec<String>>>,
    strip_range: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let p = Self {
            url,
            served: Arc::default(),
            budget: Arc::new(AtomicU64::new(u64::MAX)),
            ranges: Arc::default(),
            strip_range: Arc::default(),
        };
        let (served, budget) = (Arc::clone(&p.served), Arc::clone(&p.budget));
        let (ranges, strip) = (Arc::clone(&p.ranges), Arc::clone(&p.strip_range));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let server = match TcpStream::connect(&upstream) {
                    Ok(s) => s,
                    Err(e) => {
                        eprintln!("proxy: cannot reach the hub: {e}");
                        continue;
                    }
                };
                let (ranges, strip) = (Arc::clone(&ranges), Arc::clone(&strip));
                let (mut c_in, mut s_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || requests(&mut c_in, &mut s_out, &ranges, &strip));
                let (served, budget) = (Arc::clone(&served), Arc::clone(&budget));
                std::thread::spawn(move || answers(server, client, &served, &budget));
            }
        });
        p
    }

    /// Bytes relayed from the hub since the last call.
    fn take_served(&self) -> u64 {
        self.served.swap(0, Ordering::SeqCst)
    }
}

/// Client → hub: records `Range:` lines, and blanks their name when asked.
fn requests(
    from: &mut TcpStream,
    to: &mut TcpStream,
    ranges: &Mutex<Vec<String>>,
    strip: &AtomicBool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        let chunk = &mut buf[..n];
        let text = String::from_utf8_lossy(chunk).to_string();
        for line in text.lines() {
            if line.to_ascii_lowercase().starts_with("range:") {
                ranges.lock().unwrap().push(line.to_owned());
                if strip.load(Ordering::SeqCst) {
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

/// Hub → client, within the budget; cuts both connections when it runs out.
fn answers(mut from: TcpStream, mut to: TcpStream, served: &AtomicU64, budget: &AtomicU64) {
    let mut buf = vec![0u8; 16 * 1024];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 {
            break;
        }
        let left = budget.load(Ordering::SeqCst);
        let send = (n as u64).min(left);
        if left != u64::MAX {
            budget.fetch_sub(send, Ordering::SeqCst);
        }
        if to.write_all(&buf[..send as usize]).is_err() {
            break;
        }
        served.fetch_add(send, Ordering::SeqCst);
        if send < n as u64 {
            eprintln!("proxy: cut after budget (left {left}, chunk {n})");
            let _ = to.shutdown(Shutdown::Both);
            let _ = from.shutdown(Shutdown::Both);
            return;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

const WEIGHTS: usize = 8 * 1024 * 1024 + 13;

fn weights() -> Vec<u8> {
    (0..WEIGHTS as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// A hub with acme/big (config.json + 8 MiB of weights) behind a proxy, and an interrupted
/// first pull of it: returns what the tests need and the part's length.
fn interrupted(root: &Path) -> (Hub, Proxy, PathBuf, PathBuf, u64) {
    let hub = Hub::start(root);
    let dir = model_with(root, "m", "1", "model.safetensors", &weights());
    hub.push(&dir, "acme/big", &hub.alice);
    let proxy = Proxy::start(&hub.url);
    let config = root.join("config");
    let target = root.join("out/model");
    proxy.budget.store(WEIGHTS as u64 / 2, Ordering::SeqCst);
    pull_via(&proxy.url, "acme/big", &target, &config)
        .arg("--jobs")
        .arg("1")
        .run()
        .expect(1, &["interrupted", "run the same pull again to resume"]);
    assert!(!target.exists(), "an interrupted pull creates no target");
    let parts = part_files(&config.join("cache"));
    assert_eq!(parts.len(), 1, "{parts:?}");
    let have = std::fs::metadata(&parts[0]).unwrap().len();
    assert!(
        have > WEIGHTS as u64 / 4 && have < WEIGHTS as u64,
        "kept {have} bytes"
    );
    proxy.budget.store(u64::MAX, Ordering::SeqCst);
    proxy.take_served();
    (hub, proxy, config, target, have)
}

/// Every `*.part` file under `dir`.
fn part_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(part_files(&p));
        } else if p.extension().is_some_and(|x| x == "part") {
            out.push(p);
        }
    }
    out
}

#[test]
fn an_interrupted_pull_resumes_with_range_and_downloads_only_the_rest() {
    let root = tempfile::tempdir().unwrap();
    let (_hub, proxy, config, target, have) = interrupted(root.path());
    pull_via(&proxy.url, "acme/big", &target, &config)
        .run()
        .expect(0, &["Verified", "2 files"]);
    let served = proxy.take_served();
    let rest = WEIGHTS as u64 - have;
    eprintln!("kept {have} bytes; the resumed pull was relayed {served} bytes for the {rest} left");
    // the rest of the weights, plus metadata, model.sig, config.json and headers
    assert!(
        served >= rest && served < rest + 256 * 1024,
        "relayed {served} bytes, {rest} were missing"
    );
    assert!(
        proxy
            .ranges
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.ends_with(&format!("bytes={have}-"))),
        "{:?}",
        proxy.ranges.lock().unwrap()
    );
    assert_eq!(
        std::fs::read(target.join("model.safetensors")).unwrap(),
        weights()
    );
    assert!(
        part_files(&config.join("cache")).is_empty(),
        "the stage is gone"
    );
    assert_eq!(listing(&root.path().join("out")), ["model"]);
}

#[test]
fn tampered_bytes_in_the_kept_part_fail_the_resumed_pull_and_write_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (_hub, proxy, config, target, _) = interrupted(root.path());
    let part = &part_files(&config.join("cache"))[0];
    let mut bytes = std::fs::read(part).unwrap();
    bytes[1000] ^= 0x01;
    std::fs::write(part, bytes).unwrap();
    pull_via(&proxy.url, "acme/big", &target, &config)
        .run()
        .expect(
            1,
            &["model.safetensors arrived corrupted", "nothing was written"],
        );
    assert!(
        !root.path().join("out").exists(),
        "nothing beside the target either"
    );
    assert!(
        part_files(&config.join("cache")).is_empty(),
        "the bad part is deleted"
    );
    // the next pull starts over and succeeds
    pull_via(&proxy.url, "acme/big", &target, &config)
        .run()
        .expect(0, &["Verified"]);
}

#[test]
fn a_server_that_ignores_range_restarts_the_file_cleanly() {
    let root = tempfile::tempdir().unwrap();
    let (_hub, proxy, config, target, _) = interrupted(root.path());
    proxy.strip_range.store(true, Ordering::SeqCst);
    pull_via(&proxy.url, "acme/big", &target, &config)
        .run()
        .expect(0, &["Verified"]);
    assert!(
        proxy.take_served() >= WEIGHTS as u64,
        "the whole file came again"
    );
    assert_eq!(
        std::fs::read(target.join("model.safetensors")).unwrap(),
        weights()
    );
}

/// Clients that go away in the middle of a download (each reads 64 KiB of the weights,
/// then shuts the connection with unread bytes, as the proxy above does) must not take
/// the hub down. Before the fix the hub kept the CLI's SIGPIPE default: its `writev` to a
/// reset socket killed it (wait status 13) and every later connection was refused. The
/// kill depends on timing, so the hub's signal mask is checked too.
#[test]
fn clients_hanging_up_mid_download_do_not_kill_the_hub() {
    let root = tempfile::tempdir().unwrap();
    let hub = Hub::start(root.path());
    let ignored = std::fs::read_to_string(format!("/proc/{}/status", hub.pid()))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .map(|m| u64::from_str_radix(m.trim(), 16).unwrap())
        .unwrap();
    assert_ne!(ignored & (1 << (13 - 1)), 0, "the hub ignores SIGPIPE");
    let dir = model_with(root.path(), "m", "1", "model.safetensors", &weights());
    hub.push(&dir, "acme/big", &hub.alice);
    let addr = hub.url.trim_start_matches("http://");
    for i in 0..20 {
        let mut s = TcpStream::connect(addr)
            .unwrap_or_else(|e| panic!("hang-up {i}: the hub is gone: {e}"));
        write!(
            s,
            "GET /acme/big/resolve/main/model.safetensors HTTP/1.1\r\nHost: {addr}\r\n\r\n"
        )
        .unwrap();
        let mut head = vec![0u8; 64 * 1024];
        s.read_exact(&mut head)
            .unwrap_or_else(|e| panic!("hang-up {i}: the hub is gone: {e}"));
        let _ = s.shutdown(Shutdown::Both);
    }
    let config = root.path().join("config");
    pull_via(&hub.url, "acme/big", &root.path().join("out"), &config)
        .run()
        .expect(0, &["Verified"]);
}
