//! Issue 16 §2: the hub never serves bytes whose SHA-256 differs from the revision's
//! record. Each test alters a stored blob on disk (found under the data directory by its
//! digest) and downloads it.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use futures_util::StreamExt;
use tower::ServiceExt;

use crate::harness::{Hub, hub};

/// 3 MiB (many read chunks), so an altered blob is cut short mid-body.
pub(crate) fn big() -> Vec<u8> {
    (0..3u32 << 20).map(|i| (i % 251) as u8).collect()
}

fn blob_path(h: &Hub, data: &[u8]) -> std::path::PathBuf {
    let sha = hex::encode(hallmark_crypto::sha256(data));
    h.dir
        .path()
        .join(format!("blobs/blobs/sha256/{}/{sha}", &sha[..2]))
}

pub(crate) fn flip_byte(h: &Hub, data: &[u8], at: usize) {
    let path = blob_path(h, data);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[at] ^= 0x01;
    // written aside and renamed over the blob: another inode, so its stamp changes even
    // within one tick of the file system's clock (in-place writes in the same tick: see
    // `racy.rs`)
    let aside = path.with_extension("altered");
    std::fs::write(&aside, bytes).unwrap();
    std::fs::rename(&aside, &path).unwrap();
}

/// A hub where alice/m has `a.bin` = [`big`].
async fn hub_with_big_file() -> (Hub, Vec<u8>) {
    let h = hub().await;
    let data = big();
    let r = h
        .push(&h.alice, "alice/m", &[("a.bin", &data)], false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    (h, data)
}

/// GETs `uri` and reads the body frame by frame: (status, content-length, bytes received,
/// whether the body ended in an error).
async fn download(h: &Hub, uri: &str) -> (StatusCode, Option<u64>, Vec<u8>, bool) {
    let req = Request::builder()
        .method(Method::GET)
        .uri(uri)
        .body(Body::empty())
        .unwrap();
    let resp = h.app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let len = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let mut body = resp.into_body().into_data_stream();
    let mut got = Vec::new();
    while let Some(frame) = body.next().await {
        match frame {
            Ok(b) => got.extend_from_slice(&b),
            Err(_) => return (status, len, got, true),
        }
    }
    (status, len, got, false)
}

/// The failure is recorded by a task spawned when the stream ends; wait for it (bounded
/// by a count of polls, ample on a loaded machine).
async fn signature_after_failure(h: &Hub) -> serde_json::Value {
    for _ in 0..500 {
        let sig = h.get("/api/models/alice/m", None).await.json()["hallmark"]["signature"].clone();
        if sig["status"] == "failed" {
            return sig;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the revision was never marked failed");
}

#[tokio::test]
async fn altered_blob_is_never_served_whole_and_fails_the_revision() {
    let h = hub().await;
    let data = big();
    let r = h
        .push(
            &h.alice,
            "alice/m",
            &[("a.bin", &data), ("b.bin", b"untouched")],
            false,
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let before = h.get("/api/models/alice/m", None).await.json()["hallmark"]["signature"].clone();
    assert_eq!(before["status"], "verified");
    assert!(before["identity"].is_string());

    // intact: whole body, no error
    let (status, len, got, errored) = download(&h, "/alice/m/resolve/main/a.bin").await;
    assert_eq!(
        (status, len, errored),
        (StatusCode::OK, Some(3 << 20), false)
    );
    assert_eq!(got, data);

    flip_byte(&h, &data, (3 << 20) - 10);
    let (status, len, got, errored) = download(&h, "/alice/m/resolve/main/a.bin").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "headers go out before the end is hashed"
    );
    assert_eq!(len, Some(3 << 20));
    assert!(errored, "the body must end in an error");
    assert!(
        got.len() < data.len(),
        "received {} of {} bytes: the altered tail must be withheld",
        got.len(),
        data.len()
    );

    // recorded: failed, naming the file, the signer and log entry kept
    let sig = signature_after_failure(&h).await;
    let detail = sig["detail"].as_str().unwrap();
    assert!(
        detail.contains("a.bin") && detail.contains("altered"),
        "{detail}"
    );
    for k in [
        "identity",
        "issuer",
        "log_index",
        "method",
        "verify_command",
    ] {
        assert_eq!(sig[k], before[k], "{k} kept on failure");
    }
    // a re-check without rehash does not clear it
    let commit = r.json()["commit"].as_str().unwrap().to_owned();
    let again = h
        .send(
            Method::POST,
            &format!("/api/models/alice/m/verify/{commit}"),
            Some(&h.carol),
            &[],
            vec![],
        )
        .await
        .json();
    assert_eq!(again["signature"]["status"], "failed");
    assert!(
        again["signature"]["detail"]
            .as_str()
            .unwrap()
            .contains("a.bin")
    );
    // the audit log shows it
    let audit = h.get("/api/audit", None).await.json();
    assert_eq!(audit[0]["status"], "failed");
    assert!(audit[0]["detail"].as_str().unwrap().contains("a.bin"));

    // a range of the altered blob is refused
    let part = h.range("/alice/m/resolve/main/a.bin", "bytes=0-99").await;
    assert_eq!(part.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(part.header("x-error-code"), Some("StoredContentAltered"));

    // the untouched file still downloads, whole and by range
    let (status, _, got, errored) = download(&h, "/alice/m/resolve/main/b.bin").await;
    assert_eq!(
        (status, errored, &got[..]),
        (StatusCode::OK, false, &b"untouched"[..])
    );
    let part = h.range("/alice/m/resolve/main/b.bin", "bytes=2-4").await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, b"tou");
}

#[tokio::test]
async fn ranges_of_a_blob_altered_after_verification_are_refused() {
    let (h, data) = hub_with_big_file().await;
    let uri = "/alice/m/resolve/main/a.bin";
    // first range: the whole blob is verified, then the range served
    let part = h.range(uri, "bytes=10-19").await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, &data[10..20]);
    // altered after it was verified: the rewrite makes the verification stale
    flip_byte(&h, &data, 100);
    let part = h.range(uri, "bytes=10-19").await;
    assert_eq!(
        part.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        part.text()
    );
    let sig = signature_after_failure(&h).await;
    assert!(sig["detail"].as_str().unwrap().contains("a.bin"));
}

/// `GET /alice/m/resolve/main/a.bin` over a real HTTP/1.1 connection (hyper, as in
/// production): the raw response and where its body starts.
async fn http_get_a_bin(h: &Hub) -> (Vec<u8>, usize) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, h.app.clone()).into_future());
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(
        b"GET /alice/m/resolve/main/a.bin HTTP/1.1\r\nHost: hub.test\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let mut raw = Vec::new();
    // ends when the server closes the connection (bounded: the blob is 3 MiB)
    let _ = conn.read_to_end(&mut raw).await;
    server.abort();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (raw, split)
}

/// Over a real HTTP/1.1 connection: the response announces the full `Content-Length`,
/// and the connection closes before that many body bytes arrive, which every HTTP client
/// (`requests`/urllib3, `hf download`, curl) reports as a failed transfer.
#[tokio::test]
async fn over_http_an_altered_blob_ends_in_a_short_body() {
    let (h, data) = hub_with_big_file().await;
    flip_byte(&h, &data, 5);
    let (raw, split) = http_get_a_bin(&h).await;
    let head = String::from_utf8_lossy(&raw[..split]).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(
        head.contains(&format!("content-length: {}", data.len())),
        "{head}"
    );
    let body = raw.len() - split;
    assert!(
        body < data.len(),
        "received {body} of {} announced bytes: the transfer must end short",
        data.len()
    );
}

/// Over a real HTTP/1.1 connection hyper stops polling the body once `Content-Length`
/// bytes went out, never reaching the stream's end: a complete download must still mark
/// the blob verified (before the fix every download of it was hashed again).
#[tokio::test]
async fn over_http_a_complete_download_marks_the_blob_verified() {
    let (h, data) = hub_with_big_file().await;
    // a blob changed less than the racy margin before its verification is not remembered
    tokio::time::sleep(hallmark_store::RACY_MARGIN + std::time::Duration::from_millis(100)).await;
    let sha = hex::encode(hallmark_crypto::sha256(&data));
    let (raw, split) = http_get_a_bin(&h).await;
    assert_eq!(&raw[split..], &data[..], "the whole body");
    let stamp = h.state.blobs.stamp(&sha).await.unwrap();
    assert!(
        h.state.verified.contains(&sha, &stamp),
        "a complete download over HTTP leaves the blob verified"
    );
}

/// A blob verified by a download is streamed from the verified cache after that; an
/// in-place write (same inode and size, modification time set back to what it was)
/// still changes its stamp (the status-change time), so the next download re-hashes it
/// and fails instead of serving the altered bytes.
#[tokio::test]
async fn an_in_place_write_with_the_old_mtime_is_not_served_from_the_verified_cache() {
    let (h, data) = hub_with_big_file().await;
    let uri = "/alice/m/resolve/main/a.bin";
    // past the racy margin, so that the download's verification is remembered
    tokio::time::sleep(hallmark_store::RACY_MARGIN + std::time::Duration::from_millis(100)).await;
    let (status, _, got, errored) = download(&h, uri).await;
    assert_eq!((status, errored), (StatusCode::OK, false));
    assert_eq!(got, data);
    let sha = hex::encode(hallmark_crypto::sha256(&data));
    let stamp = h.state.blobs.stamp(&sha).await.unwrap();
    assert!(h.state.verified.contains(&sha, &stamp));
    // served again from the cache, whole and intact
    let (_, _, got, errored) = download(&h, uri).await;
    assert!(!errored && got == data);
    let path = blob_path(&h, &data);
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.seek(SeekFrom::Start(1000)).unwrap();
        f.write_all(&[data[1000] ^ 1]).unwrap();
        f.set_modified(mtime).unwrap();
    }
    let (status, _, got, errored) = download(&h, uri).await;
    assert_eq!(status, StatusCode::OK);
    assert!(errored, "the altered blob must not be served whole");
    assert!(
        got.len() < data.len(),
        "{} of {} bytes",
        got.len(),
        data.len()
    );
    signature_after_failure(&h).await;
}
