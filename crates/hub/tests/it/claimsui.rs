//! Claims in the UI (issue 16 §3): the model page lists the revision's claims (kind,
//! predicate type, status, signer, log entry, what each asserts, a download link), and
//! the org page's trust form (owners only, CSRF-checked) changes whom the org trusts,
//! with everything it shows escaped.

use axum::http::{Method, StatusCode};
use hallmark_hub::admin::Operator;

use crate::claims::{FILES, new_key, publisher_sig, with_sig};
use crate::harness::{FORM, Hub, form, hub};

impl Hub {
    /// A page as the session `cookie` sees it.
    async fn page_as(&self, path: &str, cookie: &str) -> String {
        let r = self
            .send(Method::GET, path, None, &[("cookie", cookie)], vec![])
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.text()
    }

    /// Posts the org page's trust form for `acme` as `cookie`.
    async fn trust_form(&self, cookie: &str, fields: &[(&str, &str)]) -> StatusCode {
        self.send(
            Method::POST,
            "/settings/orgs/acme/trust",
            None,
            &[("cookie", cookie), FORM],
            form(fields),
        )
        .await
        .status
    }
}

/// The CSRF token of the first form on a page.
fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_model_page_lists_the_revisions_claims() {
    let h = hub().await;
    let (key, _) = new_key();
    let sig = publisher_sig(&key, FILES);
    let r = h
        .push(&h.alice, "acme/m", &with_sig(FILES, &sig), false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let page = h.get("/acme/m", None).await.text();
    assert!(page.contains(r#"<table id="claims">"#), "{page}");
    let rows: Vec<&str> = page.split(r#"<tr class="claim">"#).skip(1).collect();
    assert_eq!(rows.len(), 3, "publisher, hub and scan claims: {page}");
    let row = |kind: &str| {
        *rows
            .iter()
            .find(|r| r.contains(&format!("<code>{kind}</code>")))
            .unwrap_or_else(|| panic!("no {kind} row in {page}"))
    };
    let p = row("publisher-signature");
    assert!(
        p.contains(r#"<span class="badge untrusted">untrusted</span>"#),
        "{p}"
    );
    assert!(
        p.contains("<code>key hint "),
        "the untrusted key, by its hint: {p}"
    );
    assert!(p.contains("the publisher (key"), "what it asserts: {p}");
    assert!(p.contains("https://model_signing/signature/v1.0"), "{p}");
    assert!(p.contains(r#"<a href="/api/models/acme/m/claims/"#), "{p}");
    let s = row("scan");
    assert!(s.contains(hallmark_hub::claims::SCAN_PREDICATE_TYPE), "{s}");
    assert!(s.contains("found the revision clean"), "{s}");
    assert!(row("hub-signature").contains("verified"));
    // every listed bundle downloads
    for r in &rows {
        let href = r
            .split(r#"<a href=""#)
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(h.get(href, None).await.status, StatusCode::OK, "{href}");
    }
}

#[tokio::test]
async fn org_owners_change_trust_on_the_org_page_and_others_cannot() {
    let h = hub().await;
    Operator::new(&*h.state.meta, "test")
        .reset_password("bob", "bob-password".into())
        .await
        .unwrap();
    let alice = h.session("alice", "alice-password").await;
    let bob = h.session("bob", "bob-password").await;
    let mine = h.page_as("/acme", &alice).await;
    assert!(mine.contains(r#"id="trust-form""#), "{mine}");
    let csrf = csrf_of(&mine);
    let theirs = h.page_as("/acme", &bob).await;
    assert!(
        !theirs.contains(r#"id="trust-form""#),
        "readers see no form"
    );
    let org = h.state.meta.account("acme").await.unwrap().unwrap();
    let count = || async { h.state.meta.trust_entries(org.id).await.unwrap().len() };

    let identity = "<b>ci</b>@acme.example";
    let add = [
        ("csrf", csrf.as_str()),
        ("identity", identity),
        ("issuer", "https://issuer.example"),
        ("public_key", ""),
        ("certificate_chain", ""),
    ];
    let mut forged = add;
    forged[0].1 = "forged";
    assert_eq!(h.trust_form(&alice, &forged).await, StatusCode::FORBIDDEN);
    let bob_csrf = csrf_of(&theirs);
    let mut as_bob = add;
    as_bob[0].1 = &bob_csrf;
    assert_eq!(h.trust_form(&bob, &as_bob).await, StatusCode::FORBIDDEN);
    assert_eq!(count().await, 0);

    assert_eq!(h.trust_form(&alice, &add).await, StatusCode::SEE_OTHER);
    assert_eq!(count().await, 1);
    let page = h.page_as("/acme", &alice).await;
    assert!(
        page.contains("&#60;b&#62;ci&#60;/b&#62;@acme.example"),
        "{page}"
    );
    assert!(!page.contains(identity), "escaped: {page}");
    // two kinds at once: refused with the reason, nothing added
    let (_, public) = new_key();
    let pem = public.to_pem();
    let both = [
        ("csrf", csrf.as_str()),
        ("identity", "x@acme.example"),
        ("issuer", "https://issuer.example"),
        ("public_key", pem.as_str()),
    ];
    assert_eq!(h.trust_form(&alice, &both).await, StatusCode::BAD_REQUEST);
    assert_eq!(count().await, 1);
    assert_eq!(
        h.trust_form(&alice, &[("csrf", &csrf), ("public_key", &pem)])
            .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(count().await, 2);
    assert!(
        h.page_as("/acme", &alice)
            .await
            .contains(&public.fingerprint())
    );
    // remove the identity again
    let id = h.state.meta.trust_entries(org.id).await.unwrap()[0]
        .id
        .to_string();
    assert_eq!(
        h.trust_form(&alice, &[("csrf", &csrf), ("remove", &id)])
            .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(count().await, 1);
    assert!(!h.page_as("/acme", &alice).await.contains("ci&#60;/b&#62;"));
}
