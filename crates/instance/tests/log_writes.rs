//! Attacks on the log's write API (issue 15, findings 1, 2 and 6), each performed and its
//! bound asserted: anonymous writes to the hub's log, a self-signed certificate naming a
//! hub user, one client flooding, repeated and excess verifiers, a full disk.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use hallmark_instance::{
    InstanceConfig, LogBackend, LogWrites, Rate, WriteAccess, WriteToken, router,
};
use hallmark_tlog::mem::{MemLock, MemTiles};
use hallmark_tlog::{Error, TileFetch, TileStorage, Upload, Uploaded};
use tower::ServiceExt as _;

const TOKEN: &str = "a-long-enough-log-write-token";

#[tokio::test]
async fn anonymous_writes_are_refused_in_the_hub_and_when_a_token_is_set() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let (key, cert) = certified(d.path(), email("alice@example.com"));
    let entry = || dsse_request(b"{}", &[&key], &[&cert]);

    // The hub: the write API is off, even for an entry its own CA certified.
    let hub = router(Arc::clone(&inst), LogWrites::off());
    let (s, _, e) = post_entry(&hub, entry(), None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("write API is off"),
        "{e}"
    );
    let (s, _, _) = post_entry(&hub, entry(), None, Some(TOKEN)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A standalone instance with a write token: none or a wrong one is 401.
    let guarded = router(
        Arc::clone(&inst),
        LogWrites {
            access: WriteAccess::Token(WriteToken::new(TOKEN).unwrap()),
            ..unlimited()
        },
    );
    let (s, _, e) = post_entry(&guarded, entry(), None, None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{e}");
    let (s, _, _) = post_entry(&guarded, entry(), None, Some("a-wrong-log-write-token-x")).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(log_size(&inst), 0, "nothing was logged");
    let (s, _, e) = post_entry(&guarded, entry(), None, Some(TOKEN)).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(log_size(&inst), 1);
    assert!(WriteToken::new("short").is_none());
    assert_eq!(
        format!("{:?}", WriteToken::new(TOKEN).unwrap()),
        "WriteToken(..)"
    );
}

#[tokio::test]
async fn certificates_this_ca_did_not_issue_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = router(Arc::clone(&inst), unlimited());
    let alice = SanIdentityUri::alice();

    // Another CA (same organisation name and URL) certifies `{hub}/alice`.
    let (key, foreign) = certified(other.path(), alice.clone());
    let (s, _, e) = post_entry(&app, dsse_request(b"{}", &[&key], &[&foreign]), None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("http://hub.test/alice")
            && msg.contains("does not chain to this instance's CA"),
        "{msg}"
    );

    // The same certificate, self-signed.
    let self_signed = self_sign(&foreign, &key);
    let (s, _, e) = post_entry(
        &app,
        dsse_request(b"{}", &[&key], &[&self_signed]),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");

    // A bare public key.
    let pk = key.public_key().to_pem();
    let (s, _, e) = post_entry(&app, dsse_request(b"{}", &[&key], &[&pk]), None, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert!(e["message"].as_str().unwrap().contains("public key"), "{e}");
    assert_eq!(log_size(&inst), 0, "nothing was logged");

    // This CA's certificate, expired an hour ago (a leaked key replayed), is refused.
    let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let (old_key, expired) = certified_at(d.path(), alice.clone(), hour_ago);
    let (s, _, e) = post_entry(
        &app,
        dsse_request(b"{}", &[&old_key], &[&expired]),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(log_size(&inst), 0, "nothing was logged");

    // This CA's certificate for the same identity is logged.
    let (own_key, own) = certified(d.path(), alice);
    let (s, _, e) = post_entry(&app, dsse_request(b"{}", &[&own_key], &[&own]), None, None).await;
    assert_eq!(s, StatusCode::CREATED, "{e}");

    // Configured otherwise, foreign certificates and public keys are accepted.
    let lenient = router(
        Arc::clone(&inst),
        LogWrites {
            accept_foreign_certificates: true,
            accept_public_keys: true,
            ..unlimited()
        },
    );
    for v in [&foreign, &self_signed, &pk] {
        let (s, _, e) = post_entry(
            &lenient,
            dsse_request(v.as_bytes(), &[&key], &[v]),
            None,
            None,
        )
        .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
    }
    assert_eq!(log_size(&inst), 4);
}

struct SanIdentityUri;
impl SanIdentityUri {
    fn alice() -> hallmark_ca::SanIdentity {
        hallmark_ca::SanIdentity::Uri(format!("{URL}/alice"))
    }
}

/// `cert_pem` re-signed by its own key, its issuer set to its subject.
fn self_sign(cert_pem: &str, key: &hallmark_crypto::SigningKey) -> String {
    use der::{Decode as _, Encode as _};
    let der = hallmark_crypto::load_certificates_pem(cert_pem.as_bytes()).unwrap()[0]
        .der()
        .to_vec();
    let mut c = x509_cert::Certificate::from_der(&der).unwrap();
    c.tbs_certificate.issuer = c.tbs_certificate.subject.clone();
    let sig = key.sign(&c.tbs_certificate.to_der().unwrap()).unwrap();
    c.signature = der::asn1::BitString::from_bytes(&sig).unwrap();
    hallmark_ca::material::pem("CERTIFICATE", &c.to_der().unwrap())
}

#[tokio::test]
async fn one_client_is_limited_to_its_burst_then_gets_429() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let burst = 5;
    let app = router(
        Arc::clone(&inst),
        LogWrites {
            rate: Some(Rate {
                burst,
                per_minute: 1,
            }),
            ..LogWrites::open()
        },
    );
    let (key, cert) = certified(d.path(), email("alice@example.com"));
    let a: IpAddr = "192.0.2.7".parse().unwrap();
    let mut created = 0;
    let mut limited = 0;
    let mut retry_after = 0;
    for n in 0..3 * burst {
        let body = dsse_request(format!("{{\"n\":{n}}}").as_bytes(), &[&key], &[&cert]);
        let (s, h, e) = post_entry(&app, body, Some(a), None).await;
        match s {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                limited += 1;
                retry_after = h["retry-after"].to_str().unwrap().parse().unwrap();
                assert!(e["message"].as_str().unwrap().contains("retry in"), "{e}");
            }
            other => panic!("{other}: {e}"),
        }
    }
    eprintln!(
        "one client, {} requests: {created} created, {limited} answered 429",
        3 * burst
    );
    assert_eq!(created, burst);
    assert_eq!(limited, 2 * burst);
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    // Another client is not affected.
    let b: IpAddr = "198.51.100.9".parse().unwrap();
    let (s, _, e) = post_entry(
        &app,
        dsse_request(b"{\"b\":1}", &[&key], &[&cert]),
        Some(b),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(log_size(&inst), u64::from(burst) + 1);
}

#[tokio::test]
async fn repeated_and_excess_verifiers_and_signatures_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let inst = instance(d.path());
    let app = router(Arc::clone(&inst), unlimited());
    let (key, cert) = certified(d.path(), email("alice@example.com"));

    let (s, _, e) = post_entry(
        &app,
        dsse_request(b"{}", &[&key], &[&cert, &cert]),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("verifier 1 repeats"),
        "{e}"
    );

    let (s, _, e) = post_entry(
        &app,
        dsse_request(b"{}", &[&key, &key], &[&cert]),
        None,
        None,
    )
    .await;
    // ECDSA signatures are randomized: the same key twice is two signatures, each valid.
    assert_eq!(s, StatusCode::CREATED, "{e}");

    let nine: Vec<(hallmark_crypto::SigningKey, String)> = (0..9)
        .map(|i| certified(d.path(), email(&format!("u{i}@example.com"))))
        .collect();
    let pems: Vec<&str> = nine.iter().map(|(_, c)| c.as_str()).collect();
    let (s, _, e) = post_entry(&app, dsse_request(b"{}", &[&nine[0].0], &pems), None, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("more than 8 verifiers"),
        "{e}"
    );
    let keys: Vec<&hallmark_crypto::SigningKey> = nine.iter().map(|(k, _)| k).collect();
    let (s, _, e) = post_entry(&app, dsse_request(b"{}", &keys, &pems[..8]), None, None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("more than 8 envelope signatures"),
        "{e}"
    );
    let (s, _, e) = post_entry(
        &app,
        dsse_request(b"{}", &keys[..8], &pems[..8]),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    assert_eq!(log_size(&inst), 2);
}

/// Tiles in memory behind a switch that makes every write fail as a full disk does, with
/// a server path in the error (which must not reach clients).
#[derive(Default)]
struct FullDisk {
    tiles: MemTiles,
    full: AtomicBool,
    broken_reads: AtomicBool,
}

const SECRET_PATH: &str = "/srv/hallmark-secret/log/public";

impl TileFetch for FullDisk {
    fn fetch(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        if self.broken_reads.load(Ordering::SeqCst) {
            return Err(Error::Io {
                op: "read",
                path: format!("{SECRET_PATH}/{key}").into(),
                source: io::Error::from(io::ErrorKind::PermissionDenied),
            });
        }
        self.tiles.fetch(key)
    }
}

impl TileStorage for FullDisk {
    fn upload(&self, key: &str, data: &[u8], mode: Upload) -> Result<Uploaded, Error> {
        if self.full.load(Ordering::SeqCst) {
            // What DirStore answers on ENOSPC (Error::io maps it).
            return Err(Error::StorageFull {
                op: "write",
                path: format!("{SECRET_PATH}/{key}"),
            });
        }
        self.tiles.upload(key, data, mode)
    }
    fn discard(&self, key: &str) -> Result<(), Error> {
        self.tiles.discard(key)
    }
    fn list(&self, prefix: &str) -> Result<Vec<String>, Error> {
        self.tiles.list(prefix)
    }
}

#[tokio::test]
async fn a_full_disk_answers_507_and_no_error_names_a_server_path() {
    let d = tempfile::tempdir().unwrap();
    let disk = Arc::new(FullDisk::default());
    let inst = Arc::new(
        hallmark_instance::Instance::open_with_log(
            InstanceConfig::new(d.path(), URL),
            LogBackend::Single {
                store: Arc::clone(&disk) as Arc<dyn TileStorage>,
                lock: Arc::new(MemLock::default()),
            },
        )
        .unwrap(),
    );
    let app = router(Arc::clone(&inst), unlimited());
    let (key, cert) = certified(d.path(), email("alice@example.com"));
    let (s, _, e) = post_entry(
        &app,
        dsse_request(b"{\"n\":1}", &[&key], &[&cert]),
        None,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");

    disk.full.store(true, Ordering::SeqCst);
    let (s, _, e) = post_entry(
        &app,
        dsse_request(b"{\"n\":2}", &[&key], &[&cert]),
        None,
        None,
    )
    .await;
    eprintln!("append on a full disk: {s} {e}");
    assert_eq!(s, StatusCode::INSUFFICIENT_STORAGE, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("storage is full"),
        "{e}"
    );
    assert!(!e.to_string().contains("/srv"), "a server path leaked: {e}");

    // Whatever the log answers next (stopped, or recovered: issue 15's sequencer work),
    // no answer names a server path.
    let (s, _, e) = post_entry(
        &app,
        dsse_request(b"{\"n\":3}", &[&key], &[&cert]),
        None,
        None,
    )
    .await;
    assert!(
        !e.to_string().contains("/srv"),
        "{s}: a server path leaked: {e}"
    );
    disk.broken_reads.store(true, Ordering::SeqCst);
    for uri in [
        "/checkpoint",
        "/tile/0/000",
        "/api/v1/log",
        "/api/v1/log/entries?logIndex=0",
    ] {
        let resp = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let s = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(s.is_server_error(), "{uri}: {s} {text}");
        assert!(
            !text.contains("/srv"),
            "{uri}: a server path leaked: {text}"
        );
    }
}
