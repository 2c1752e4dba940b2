//! The `/query` page (issue 20 §1): the forms are in the nav; a dataset query shows the
//! revisions that name it and their fine-tuned descendants, a private one only to who may
//! read it (the API's rule, one code path); each row links its log index to the log entry
//! (served with its inclusion proof); a revoked revision shows its incident; a hostile
//! identity is escaped; a refused query is a 400 page naming why.

use axum::http::StatusCode;
use hallmark_store::{ClaimKind, ClaimStatus, NewClaim};

use crate::harness::{URL, hub};
use crate::incidentkit::{D, enc, root_token};

const EVIL: &str = "<script>alert('owned')</script>";

#[tokio::test]
async fn the_query_page_answers_like_the_api_with_log_links_statuses_and_escaping() {
    let h = hub().await;
    let index = h.get("/", None).await.text();
    assert!(index.contains("href=\"/query\""), "the nav links the page");
    let empty = h.get("/query", None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.text().contains("id=\"query-signatures\""));
    assert!(!empty.text().contains("id=\"query-results\""));

    let base = h.lineage().await;

    let q = format!("/query?q=revisions&by=dataset&value={}", enc(D));
    let anon = h.get(&q, None).await.text();
    assert!(
        anon.contains(">alice/base<") && anon.contains(">bob/ft<"),
        "{anon}"
    );
    assert!(anon.contains(&format!("alice/base@{base}")), "via is shown");
    assert!(!anon.contains("alice/secret"), "a private repo is hidden");
    assert!(
        h.get(&q, Some(&h.alice))
            .await
            .text()
            .contains("alice/secret")
    );
    let direct = h.get(&format!("{q}&direct=on"), None).await.text();
    assert!(direct.contains(">alice/base<") && !direct.contains(">bob/ft<"));

    // Signatures by identity pattern: rows link their log entry, which the log serves.
    let re = format!(
        "/query?q=signatures&regex=on&identity={}",
        enc(&format!("{URL}/(alice|bob)"))
    );
    let page = h.get(&re, None).await.text();
    let prefix = format!("{URL}/api/v1/log/entries?logIndex=");
    let at = page.find(&prefix).expect("a log entry link");
    let rest = &page[at + URL.len()..];
    let link = &rest[..rest.find('"').unwrap()];
    let entry = h.get(link, None).await;
    assert_eq!(entry.status, StatusCode::OK, "{link}: {}", entry.text());
    assert!(entry.text().contains("inclusionProof"), "{}", entry.text());

    // A hostile identity (a claim signer the hub recorded) is escaped, in the form too.
    let repo = h.state.meta.repo("alice", "base").await.unwrap().unwrap();
    h.state
        .meta
        .add_claim(
            repo.id,
            &base,
            &NewClaim {
                kind: ClaimKind::PublisherSignature,
                predicate_type: "x".into(),
                signer: EVIL.into(),
                issuer: Some(URL.into()),
                status: ClaimStatus::Untrusted,
                log_index: None,
                integrated_time: Some(1),
                bundle_sha256: "0".repeat(64),
                asserts: String::new(),
            },
        )
        .await
        .unwrap();
    let page = h
        .get(&format!("/query?q=signatures&identity={}", enc(EVIL)), None)
        .await
        .text();
    assert!(!page.contains(EVIL), "{page}");
    assert!(page.contains("&#60;script&#62;alert("), "{page}");
    assert!(page.contains("1 signatures"), "the row is shown: {page}");

    // A revoked revision shows the incident.
    let root = root_token(&h).await;
    let reason = "alice's key <leaked>";
    let id = h.open_incident(&root, reason).await["id"].as_i64().unwrap();
    let page = h.get(&q, None).await.text();
    assert!(page.contains("badge revoked"), "{page}");
    assert!(page.contains(&format!("incident {id} (opened ")), "{page}");
    assert!(page.contains("alice&#39;s key &#60;leaked&#62;"), "{page}");

    // A refused query is a 400 page naming why, the form kept.
    let bad = h
        .get("/query?q=signatures&identity=x&since=yesterday", None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text().contains("since refused"), "{}", bad.text());
    let none = h.get("/query?q=revisions&by=nonsense&value=x", None).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
}
