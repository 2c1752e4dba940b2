//! Attacks on the hub's HTTP application (issue 15), each performed and bounded.

use axum::http::{Method, StatusCode};

use crate::harness::{FORM, form, hub, hub_with};

/// Finding 11: a cross-site page can make the browser post to the JSON API with the session
/// cookie attached; such writes are refused, bearer-token writes still work.
#[tokio::test]
async fn cookie_only_api_writes_are_refused() {
    let h = hub().await;
    let cookie = h.session("alice", "alice-password").await;
    let before = h.blob_count();
    let body = serde_json::json!({}).to_string().into_bytes();
    let json = ("content-type", "application/json");
    let forged = h
        .send(
            Method::POST,
            "/api/models/acme/csrf-model/uploads",
            None,
            &[json, ("cookie", &cookie)],
            body.clone(),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text());
    assert!(forged.text().contains("bearer token"), "{}", forged.text());
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let r = h
            .send(
                method.clone(),
                "/api/models/acme/csrf-model/uploads/1",
                None,
                &[("cookie", &cookie)],
                vec![],
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{method}");
    }
    // reads with the cookie still work; writes with a bearer token (and a stray cookie) too
    let who = h
        .send(
            Method::GET,
            "/api/whoami-v2",
            None,
            &[("cookie", &cookie)],
            vec![],
        )
        .await;
    assert_eq!(who.status, StatusCode::OK);
    let r = h
        .send(
            Method::POST,
            "/api/models/acme/csrf-model/uploads",
            Some(&h.alice),
            &[json, ("cookie", &cookie)],
            body,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(h.blob_count(), before);
}

/// `VmHWM` (peak resident set) of this process, in KiB.
fn peak_rss_kib() -> u64 {
    hallmark_testkit::peak_rss() / 1024
}

/// Finding 3: every Argon2 check holds 19 MiB; 64 concurrent bad logins used to run 64 at
/// once (≈1.2 GiB). Now at most one per core runs, and the peak RSS grows by a few of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bad_logins_stay_within_the_hashing_cap() {
    const N: usize = 64;
    let h = hub_with(|c| {
        // the rate limits would refuse most of the burst; this test is about the gate
        c.login.ip_free = 10_000;
        c.login.account_free = 10_000;
    })
    .await;
    let h = std::sync::Arc::new(h);
    // Warm up first (hashing threads, their allocator arenas, the database pool), so the
    // measure below is the burst's own growth, not one-time start-up cost.
    let warm: Vec<_> = (0..2 * hallmark_hub::password::hash_cap())
        .map(|i| {
            let h = std::sync::Arc::clone(&h);
            tokio::spawn(async move { h.login("alice", &format!("warm-{i}")).await.status })
        })
        .collect();
    for t in warm {
        t.await.unwrap();
    }
    let before = peak_rss_kib();
    let tasks: Vec<_> = (0..N)
        .map(|i| {
            let h = std::sync::Arc::clone(&h);
            tokio::spawn(async move { h.login("alice", &format!("guess-{i}")).await.status })
        })
        .collect();
    let mut statuses = vec![];
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let grown_mib = (peak_rss_kib().saturating_sub(before)) / 1024;
    let stats = hallmark_hub::password::hashing_stats();
    eprintln!(
        "{N} concurrent bad logins: peak RSS +{grown_mib} MiB, {} hashes at most in flight (cap {}), statuses {:?}",
        stats.peak_in_flight,
        hallmark_hub::password::hash_cap(),
        statuses
            .iter()
            .fold(std::collections::BTreeMap::new(), |mut m, s| {
                *m.entry(s.as_u16()).or_insert(0) += 1;
                m
            })
    );
    assert!(stats.peak_in_flight <= hallmark_hub::password::hash_cap());
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::SERVICE_UNAVAILABLE),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::UNAUTHORIZED));
    assert!(grown_mib < 300, "peak RSS grew by {grown_mib} MiB");
}

/// A capture of the tracing output of the current thread.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Finding 3: guessing is limited per account (exponential backoff, 429 + Retry-After) and
/// per client address; every failure is logged with the name and address, never the password.
#[tokio::test]
async fn repeated_bad_logins_are_throttled_and_logged_without_the_password() {
    let h = hub_with(|c| {
        c.trusted_proxy_header = Some("x-forwarded-for".into());
        c.login.ip_free = 8;
        // blocks outlast the test however slow the machine (the default starts at 1 s)
        c.login.base = std::time::Duration::from_secs(60);
    })
    .await;
    let log = Captured::default();
    let writer = log.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish(),
    );
    let from = |ip: &'static str| [FORM, ("x-forwarded-for", ip)];
    let attempt = |user: &'static str, password: String, ip: &'static str| {
        let h = &h;
        async move {
            h.send(
                Method::POST,
                "/login",
                None,
                &from(ip),
                form(&[("username", user), ("password", &password)]),
            )
            .await
        }
    };
    // the account: 5 free attempts, the 6th starts the backoff, the 7th is refused unchecked
    let mut statuses = vec![];
    for i in 0..7 {
        let r = attempt("alice", format!("secret-guess-{i}"), "198.51.100.7").await;
        statuses.push(r.status.as_u16());
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            let after: u64 = r.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=60).contains(&after), "{after}");
        }
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 429]);
    let runs = hallmark_hub::password::hashing_stats().runs;
    assert_eq!(
        attempt("alice", "alice-password".into(), "203.0.113.9")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "the account's block holds from any address"
    );
    assert_eq!(
        hallmark_hub::password::hashing_stats().runs,
        runs,
        "a refused attempt costs no hash"
    );
    // the address: 8 free attempts across any names, then refused
    let mut statuses = vec![];
    for i in 0..10 {
        let user = ["carol", "dave", "erin", "frank", "grace"][i % 5];
        statuses.push(
            attempt(user, format!("secret-guess-{i}"), "192.0.2.66")
                .await
                .status
                .as_u16(),
        );
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 401, 401, 401, 401, 429]);
    let text = log.text();
    assert!(text.contains("failed login"), "{text}");
    assert!(
        text.contains("\"alice\"") && text.contains("198.51.100.7"),
        "{text}"
    );
    assert!(text.contains("too many failed attempts"), "{text}");
    assert!(
        !text.contains("secret-guess"),
        "a password reached the log: {text}"
    );
}

/// Finding 3: an unknown name, a passwordless account and a wrong password each cost exactly
/// one Argon2 verification and get the same answer (passwordless accounts used to answer
/// without any: 20× faster, an enumeration oracle).
#[tokio::test]
async fn unknown_passwordless_and_wrong_password_cost_the_same() {
    let h = hub().await;
    let mut bodies = vec![];
    for (user, expect_dummy) in [("nobody", 1), ("bob", 1), ("alice", 0)] {
        let before = hallmark_hub::password::hashing_stats();
        let r = h.login(user, "wrong-password").await;
        let after = hallmark_hub::password::hashing_stats();
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{user}");
        assert_eq!(after.runs - before.runs, 1, "{user}: one verification");
        assert_eq!(after.dummy_runs - before.dummy_runs, expect_dummy, "{user}");
        bodies.push(r.text());
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "same page for all three"
    );
}
