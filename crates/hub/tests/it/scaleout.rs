//! Replicas on one PostgreSQL database (`HALLMARK_TEST_PG_URL`; skipped, saying so, when
//! unset): a replica whose data directory lacks the shared key material must refuse to
//! start instead of making itself a second transparency log.

use hallmark_hub::HubConfig;

pub(crate) async fn fresh_database(test: &str) -> Option<String> {
    let Ok(base) = std::env::var("HALLMARK_TEST_PG_URL") else {
        eprintln!("skipped {test}: HALLMARK_TEST_PG_URL is not set");
        return None;
    };
    let (server, _) = base.rsplit_once('/').unwrap();
    let name = format!("t_{test}_{}", std::process::id());
    let url = format!("{server}/{name}");
    let status = std::process::Command::new("psql")
        .args(["-q", &base, "-c", &format!("CREATE DATABASE {name}")])
        .status()
        .unwrap();
    assert!(status.success());
    Some(url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_replica_without_the_key_material_refuses_to_start() {
    let Some(url) = fresh_database("pg_replica_keys").await else {
        return;
    };
    let first = tempfile::tempdir().unwrap();
    let config = |dir: &std::path::Path| {
        let mut c = HubConfig::new(dir.to_owned(), "http://hub.test");
        c.database = Some(url.clone());
        c
    };
    let opened = hallmark_hub::open(config(first.path())).await.unwrap();
    assert!(opened.bootstrap_token.is_some());
    drop(opened);
    let stranger = tempfile::tempdir().unwrap();
    let err = hallmark_hub::open(config(stranger.path()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, hallmark_hub::HubError::ForeignLog { .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(err.contains("copy the sigstore/ directory"), "{err}");
    assert!(err.contains("hub.test - "), "{err}");
    // …and leaves no log identity of its own behind to be mistaken for the real one.
    assert!(!stranger.path().join("sigstore/log/tree-id").exists());
    assert!(!stranger.path().join("sigstore/log/origin-host").exists());
    // With the first replica's sigstore/ copied in, it joins the same log.
    let copy = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(first.path().join("sigstore"))
        .arg(copy.path())
        .status()
        .unwrap();
    assert!(status.success());
    let joined = hallmark_hub::open(config(copy.path())).await.unwrap();
    assert!(joined.bootstrap_token.is_none());
}
