//! Keyless publisher signatures (issue 16 §3): a `model.sig` whose certificate comes from
//! a Fulcio-like CA is kept with the signer and OIDC issuer its certificate names, whether
//! or not the org trusts them: `untrusted` for an identity the org does not list, and for
//! a listed identity certified by a CA that is not one of the hub's trust roots (anyone
//! can run a CA that writes any identity); `verified` for a listed identity certified by
//! a trust root the hub accepts. A certificate with another key's signature is refused.

use std::sync::Arc;

use axum::http::StatusCode;
use hallmark_hub::admin::Operator;
use hallmark_hub::claims::trust::NewTrust;
use hallmark_hub::keyless::KeylessRevisionSigner;
use hallmark_hub::signer::revision_manifest;
use hallmark_instance::{EmbeddedSigner, Instance, InstanceConfig};
use hallmark_signing::{Signer, sign_manifest};
use hallmark_store::FileEntry;
use serde_json::Value;

use crate::claims::{FILES, new_key, publisher_sig, refused, with_sig};
use crate::harness::{Hub, URL, hub};

const CI: &str = "https://ci.example";
const BUILDER: &str = "https://ci.example/builder";

/// A Sigstore instance (OIDC issuer `url`, CA, log) in `dir`.
async fn instance(dir: std::path::PathBuf, url: &'static str) -> Arc<Instance> {
    let i = tokio::task::spawn_blocking(move || Instance::open(InstanceConfig::new(&dir, url)));
    Arc::new(i.await.unwrap().unwrap())
}

/// `model.sig` over [`FILES`], signed keylessly by `identity` through `ca`.
async fn keyless_sig(ca: &Arc<Instance>, identity: &str) -> Vec<u8> {
    let entries: Vec<FileEntry> = FILES
        .iter()
        .map(|(p, d)| FileEntry {
            path: (*p).into(),
            sha256: hex::encode(hallmark_crypto::sha256(d)),
            size: d.len() as u64,
        })
        .collect();
    let signer = Signer::Keyless(Box::new(EmbeddedSigner::new(
        Arc::clone(ca),
        identity,
        None,
    )));
    let manifest = revision_manifest("m", &entries).unwrap();
    tokio::task::spawn_blocking(move || sign_manifest(manifest, &signer).unwrap().bundle_json)
        .await
        .unwrap()
}

/// Pushes [`FILES`] with `sig` to `repo` and returns its publisher-signature claim.
async fn publisher_claim(h: &Hub, repo: &str, sig: &[u8]) -> Value {
    let r = h.push(&h.alice, repo, &with_sig(FILES, sig), false).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let info = h
        .get(&format!("/api/models/{repo}"), Some(&h.alice))
        .await
        .json();
    info["hallmark"]["claims"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "publisher-signature")
        .unwrap_or_else(|| panic!("no publisher claim: {info}"))
        .clone()
}

async fn trust_identity(h: &Hub, identity: &str, issuer: &str) {
    Operator::new(&*h.state.meta, "test")
        .trust_add(
            "acme",
            &NewTrust {
                identity: Some(identity.into()),
                issuer: Some(issuer.into()),
                ..NewTrust::default()
            },
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_keyless_signature_shows_the_signer_and_issuer_of_its_certificate() {
    let h = hub().await;
    let ci = instance(h.dir.path().join("ci-sigstore"), CI).await;
    let sig = keyless_sig(&ci, BUILDER).await;

    // The org trusts nobody: kept, untrusted, signer and issuer from the certificate.
    let p = publisher_claim(&h, "acme/a", &sig).await;
    assert_eq!(
        (&p["status"], &p["signer"], &p["issuer"]),
        (&"untrusted".into(), &BUILDER.into(), &CI.into()),
        "{p}"
    );
    let page = h.get("/acme/a", None).await.text();
    let row = page
        .split(r#"<tr class="claim">"#)
        .find(|r| r.contains("<code>publisher-signature</code>"))
        .unwrap_or_else(|| panic!("no publisher row: {page}"));
    assert!(
        row.contains(r#"<span class="badge untrusted">untrusted</span>"#)
            && row.contains(BUILDER)
            && row.contains(CI),
        "{row}"
    );

    // The certificate with another key's signature: refused, nothing logged or stored.
    let mut forged: Value = serde_json::from_slice(&sig).unwrap();
    let (other, _) = new_key();
    let theirs: Value = serde_json::from_slice(&publisher_sig(&other, FILES)).unwrap();
    forged["dsseEnvelope"]["signatures"] = theirs["dsseEnvelope"]["signatures"].clone();
    let r = refused(
        &h,
        "acme/forged",
        forged.to_string().as_bytes(),
        "the signature does not verify",
    )
    .await;
    assert!(
        r.text().contains("not by the key of certificate"),
        "{}",
        r.text()
    );

    // The org lists that identity, but this CA is none of the hub's trust roots: still
    // untrusted (a CA of one's own can certify any identity).
    trust_identity(&h, BUILDER, CI).await;
    let p = publisher_claim(&h, "acme/b", &sig).await;
    assert_eq!(
        (&p["status"], &p["signer"], &p["issuer"]),
        (&"untrusted".into(), &BUILDER.into(), &CI.into()),
        "{p}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyless_signature_from_a_trusted_identity_under_the_hubs_root_is_verified() {
    let h = hub().await;
    // The hub signs through an instance this test holds, so it can certify a publisher
    // identity under the hub's own trust root.
    let own = instance(h.dir.path().join("own-sigstore"), URL).await;
    let state = hallmark_hub::with_parts(
        Arc::clone(&h.state.meta),
        h.state.blobs.clone(),
        Arc::new(KeylessRevisionSigner::new(Arc::clone(&own))),
        h.state.config.clone(),
    );
    let h = Hub {
        app: hallmark_hub::app(state.clone()),
        state,
        ..h
    };
    let publisher = format!("{URL}/ci-builder");
    let sig = keyless_sig(&own, &publisher).await;
    let p = publisher_claim(&h, "acme/a", &sig).await;
    assert_eq!(
        (&p["status"], &p["signer"], &p["issuer"]),
        (&"untrusted".into(), &publisher.as_str().into(), &URL.into()),
        "not listed yet: {p}"
    );
    trust_identity(&h, &publisher, URL).await;
    let p = publisher_claim(&h, "acme/b", &sig).await;
    assert_eq!(
        (&p["status"], &p["signer"], &p["issuer"]),
        (&"verified".into(), &publisher.as_str().into(), &URL.into()),
        "{p}"
    );
    assert!(p["log_index"].is_u64(), "{p}");
}
