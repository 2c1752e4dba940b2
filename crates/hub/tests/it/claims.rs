//! Claims (issue 16, item 3): a publisher's `model.sig` is verified against the uploaded
//! files and kept as a claim beside the hub's signature and its signed scan verdict;
//! attachments must name the revision's digests; owners set whom they trust.

use axum::http::{Method, StatusCode};
use hallmark_crypto::{Curve, PublicKey, SigningKey};
use hallmark_hub::admin::Operator;
use hallmark_hub::claims::trust::NewTrust;
use hallmark_hub::signer::revision_manifest;
use hallmark_signing::keyless::KeylessVerifier;
use hallmark_signing::verify::{EnvelopeVerifier, KeyVerifier};
use hallmark_signing::{Signer, VerifyOptions, sign_manifest, verify_model};
use hallmark_sigstore::{IdentityPolicy, TrustedRoot};
use hallmark_store::FileEntry;
use serde_json::{Value, json};

use crate::harness::{Hub, Resp, URL, hub};

pub(crate) const FILES: &[(&str, &[u8])] = &[
    ("config.json", b"{\"layers\": 2}"),
    ("weights/model.bin", b"not really weights, but bytes"),
];

fn entries(files: &[(&str, &[u8])]) -> Vec<FileEntry> {
    files
        .iter()
        .map(|(p, d)| FileEntry {
            path: (*p).into(),
            sha256: hex::encode(hallmark_crypto::sha256(d)),
            size: d.len() as u64,
        })
        .collect()
}

/// A fresh publisher key: the signer and its public key.
pub(crate) fn new_key() -> (Signer, PublicKey) {
    let k = SigningKey::generate(Curve::P256).unwrap();
    let public = k.public_key();
    (Signer::Key(k), public)
}

/// `model.sig` for `files` as `hallmark sign --method key` would make it.
pub(crate) fn publisher_sig(key: &Signer, files: &[(&str, &[u8])]) -> Vec<u8> {
    let manifest = revision_manifest("my-model", &entries(files)).unwrap();
    sign_manifest(manifest, key).unwrap().bundle_json
}

pub(crate) fn with_sig<'a>(
    files: &[(&'a str, &'a [u8])],
    sig: &'a [u8],
) -> Vec<(&'a str, &'a [u8])> {
    let mut v = files.to_vec();
    v.push(("model.sig", sig));
    v
}

impl Hub {
    async fn claims_of(&self, repo: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/api/models/{repo}"), Some(&self.alice))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.json()["hallmark"]["claims"].as_array().unwrap().clone()
    }

    async fn trust_key(&self, org: &str, key: &PublicKey) {
        Operator::new(&*self.state.meta, "test")
            .trust_add(
                org,
                &NewTrust {
                    public_key: Some(key.to_pem()),
                    ..NewTrust::default()
                },
            )
            .await
            .unwrap();
    }

    async fn bundle_at(&self, claim: &Value) -> Vec<u8> {
        let url = claim["url"].as_str().unwrap().strip_prefix(URL).unwrap();
        let r = self.get(url, Some(&self.alice)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        r.body
    }

    async fn head_of(&self, repo: &str) -> Value {
        self.get(&format!("/api/models/{repo}"), Some(&self.alice))
            .await
            .json()["sha"]
            .clone()
    }
}

fn kind<'a>(claims: &'a [Value], k: &str) -> &'a Value {
    claims
        .iter()
        .find(|c| c["kind"] == k)
        .unwrap_or_else(|| panic!("no {k} claim in {claims:?}"))
}

fn write_model(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (p, d) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, d).unwrap();
    }
    dir
}

#[tokio::test]
async fn a_key_signed_model_sig_is_a_verified_publisher_claim_beside_the_hubs() {
    let h = hub().await;
    let (key, public) = new_key();
    h.trust_key("acme", &public).await;
    let sig = publisher_sig(&key, FILES);
    let before = h.log_size().await;
    let r = h
        .push(&h.alice, "acme/m", &with_sig(FILES, &sig), false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let commit = r.json()["commit"].as_str().unwrap().to_owned();
    let claims = h.claims_of("acme/m").await;
    assert_eq!(claims.len(), 3, "{claims:?}");
    let p = kind(&claims, "publisher-signature");
    assert_eq!(p["status"], "verified", "{p}");
    assert_eq!(p["signer"], format!("key {}", public.fingerprint()));
    assert!(
        p["log_index"].is_u64() && p["integrated_time"].is_i64(),
        "{p}"
    );
    let hs = kind(&claims, "hub-signature");
    assert_eq!(hs["status"], "verified");
    assert_eq!(hs["signer"], format!("{URL}/alice"));
    assert!(hs["log_index"].is_u64(), "{hs}");
    let scan = kind(&claims, "scan");
    assert_eq!(
        scan["predicate_type"],
        hallmark_hub::claims::SCAN_PREDICATE_TYPE
    );
    assert_eq!(scan["signer"], format!("{URL}/.well-known/hallmark-hub"));
    // publisher + hub + scan: three log entries for this revision.
    assert_eq!(h.log_size().await, before + 3);

    // The publisher's bundle is served as uploaded and verifies offline with their key.
    let model = write_model(FILES);
    let pb = h.bundle_at(p).await;
    assert_eq!(pb, sig);
    let opts = VerifyOptions::default();
    verify_model(
        model.path(),
        &pb,
        &KeyVerifier {
            key: public.clone(),
        },
        &opts,
    )
    .unwrap();
    // The revision's model.sig is the hub's (one model.sig, not counted as a model file),
    // and it is the hub-signature claim's bundle; it verifies keylessly.
    let info = h.get("/api/models/acme/m", None).await.json();
    let names: Vec<&str> = info["siblings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["rfilename"].as_str().unwrap())
        .collect();
    assert_eq!(
        names.iter().filter(|n| **n == "model.sig").count(),
        1,
        "{names:?}"
    );
    let served = h
        .get(&format!("/acme/m/resolve/{commit}/model.sig"), None)
        .await
        .body;
    assert_eq!(h.bundle_at(hs).await, served);
    let tc = h.get("/trust-config.json", None).await.body;
    let keyless = |identity: String| KeylessVerifier {
        trust: TrustedRoot::from_client_trust_config_json(&tc).unwrap(),
        policy: IdentityPolicy {
            identity: Some(identity),
            identity_regex: None,
            issuer: URL.into(),
        },
    };
    verify_model(
        model.path(),
        &served,
        &keyless(format!("{URL}/alice")),
        &opts,
    )
    .unwrap();
    // The scan claim is the hub's signed statement about the same manifest root.
    let sb = h.bundle_at(scan).await;
    let bundle = hallmark_format::bundle::Bundle::parse(&sb, &Default::default()).unwrap();
    keyless(format!("{URL}/.well-known/hallmark-hub"))
        .authenticate(&bundle, &sb)
        .unwrap();
    let st: Value = serde_json::from_slice(&bundle.envelope.payload).unwrap();
    let manifest = revision_manifest("m", &entries(FILES)).unwrap();
    assert_eq!(
        st["subject"][0]["digest"]["sha256"],
        hallmark_hub::claims::statement::root_digest(&manifest)
    );
    assert_eq!(
        st["predicate"]["verdict"],
        info["hallmark"]["scan"]["verdict"]
    );
    assert_eq!(st["predicate"]["revision"], commit.as_str());
}

#[tokio::test]
async fn a_signature_by_a_key_the_owner_does_not_trust_is_kept_as_untrusted() {
    let h = hub().await;
    let (key, _) = new_key();
    let sig = publisher_sig(&key, FILES);
    let r = h
        .push(&h.alice, "alice/m", &with_sig(FILES, &sig), false)
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let claims = h.claims_of("alice/m").await;
    let p = kind(&claims, "publisher-signature");
    assert_eq!(p["status"], "untrusted", "{p}");
    assert!(
        p["signer"].as_str().unwrap().starts_with("key hint "),
        "{p}"
    );
    // Nobody can check it without the key: it is not logged.
    assert!(p["log_index"].is_null(), "{p}");
}

pub(crate) async fn refused(h: &Hub, repo: &str, sig: &[u8], want: &str) -> Resp {
    let before = h.log_size().await;
    let r = h.push(&h.alice, repo, &with_sig(FILES, sig), false).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains(want), "{}", r.text());
    assert_eq!(h.log_size().await, before, "nothing logged");
    assert!(h.head_of(repo).await.is_null(), "nothing stored");
    r
}

#[tokio::test]
async fn forged_or_mismatching_publisher_signatures_are_refused_and_nothing_is_logged() {
    let h = hub().await;
    let (key, public) = new_key();
    h.trust_key("acme", &public).await;
    // Signed over other bytes of weights/model.bin.
    let other: &[(&str, &[u8])] = &[FILES[0], ("weights/model.bin", b"other bytes")];
    refused(
        &h,
        "acme/a",
        &publisher_sig(&key, other),
        "weights/model.bin: signed sha256:",
    )
    .await;
    // Missing a file.
    refused(
        &h,
        "acme/b",
        &publisher_sig(&key, &FILES[..1]),
        "weights/model.bin was uploaded but is not signed",
    )
    .await;
    // The trusted key's hint, another signature: forged.
    let mut forged: Value = serde_json::from_slice(&publisher_sig(&key, FILES)).unwrap();
    let (other_key, _) = new_key();
    let theirs: Value = serde_json::from_slice(&publisher_sig(&other_key, FILES)).unwrap();
    forged["dsseEnvelope"]["signatures"] = theirs["dsseEnvelope"]["signatures"].clone();
    refused(
        &h,
        "acme/c",
        forged.to_string().as_bytes(),
        "the signature does not verify",
    )
    .await;
    refused(
        &h,
        "acme/d",
        b"{not json",
        "model.sig refused: not a Sigstore bundle",
    )
    .await;
}

fn statement(predicate_type: &str, digest: &str) -> Vec<u8> {
    json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "m", "digest": {"sha256": digest}}],
        "predicateType": predicate_type,
        "predicate": {"note": "test"},
    })
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn attachments_must_name_this_revisions_digests() {
    let h = hub().await;
    let r1 = h.push(&h.alice, "alice/m", FILES, false).await;
    let c1 = r1.json()["commit"].as_str().unwrap().to_owned();
    let second: &[(&str, &[u8])] = &[FILES[0], ("weights/model.bin", b"v2")];
    let r2 = h.push(&h.alice, "alice/m", second, false).await;
    let c2 = r2.json()["commit"].as_str().unwrap().to_owned();
    let root1 = hallmark_hub::claims::statement::root_digest(
        &revision_manifest("m", &entries(FILES)).unwrap(),
    );
    let (key, _) = new_key();
    let sign = |p: Vec<u8>| hallmark_provenance::sign_payload(p, &key).unwrap();
    let prov = sign(statement("https://slsa.dev/provenance/v1", &root1));
    let h = &h;
    let attach = |c: &str, body: Vec<u8>| {
        let uri = format!("/api/models/alice/m/attach/{c}");
        async move { h.send(Method::POST, &uri, Some(&h.alice), &[], body).await }
    };
    // Revision 1's provenance attached to revision 2: refused, naming the digest.
    let r = attach(&c2, prov.clone()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains(&root1) && r.text().contains(&c2),
        "{}",
        r.text()
    );
    // To revision 1: kept.
    let r = attach(&c1, prov).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["kind"], "provenance");
    assert_eq!(r.json()["status"], "untrusted");
    // A BOM naming one file's digest.
    let file = hex::encode(hallmark_crypto::sha256(FILES[1].1));
    let r = attach(
        &c1,
        sign(statement("https://cyclonedx.org/bom/v1.6", &file)),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["kind"], "bom");
    let r = attach(&c1, sign(statement("https://example.com/other", &file))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    // Only pushers attach.
    let r = h
        .send(
            Method::POST,
            &format!("/api/models/alice/m/attach/{c1}"),
            Some(&h.bob),
            &[],
            sign(statement("https://slsa.dev/provenance/v1", &root1)),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let claims = h
        .get(&format!("/api/models/alice/m/revision/{c1}"), None)
        .await
        .json()["hallmark"]["claims"]
        .clone();
    let kinds: Vec<&str> = claims
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["hub-signature", "scan", "provenance", "bom"]);
}

#[tokio::test]
async fn only_org_owners_set_what_the_org_trusts() {
    let h = hub().await;
    let (_, public) = new_key();
    let body = json!({"public_key": public.to_pem()});
    let r = h
        .post_json("/api/orgs/acme/trust", Some(&h.bob), body.clone())
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    let r = h
        .post_json("/api/orgs/acme/trust", Some(&h.alice), body.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = h
        .post_json("/api/orgs/acme/trust", Some(&h.alice), body)
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let r = h
        .post_json(
            "/api/orgs/acme/trust",
            Some(&h.alice),
            json!({"identity": "https://ci.example/builder", "issuer": "not a url"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = h
        .post_json(
            "/api/orgs/acme/trust",
            Some(&h.alice),
            json!({"identity": "https://ci.example/builder", "issuer": "https://issuer.example"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let list = h.get("/api/orgs/acme/trust", Some(&h.alice)).await.json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["label"], public.fingerprint());
    let id = list[0]["id"].as_i64().unwrap();
    let r = h
        .send(
            Method::DELETE,
            &format!("/api/orgs/acme/trust/{id}"),
            Some(&h.bob),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = h
        .send(
            Method::DELETE,
            &format!("/api/orgs/acme/trust/{id}"),
            Some(&h.alice),
            &[],
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let events = h.state.meta.admin_events(10).await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e.action == "org.trust.remove" && e.actor == "alice")
    );
}

/// A `model.sig` made with `hallmark sign certificate` (leaf + intermediate, OMS case04):
/// `untrusted` while the org trusts no anchor of its chain (here, an unrelated root),
/// `verified` and logged once the owner trusts its root; signer and issuer are the leaf's.
#[tokio::test]
async fn a_certificate_signed_model_sig_is_verified_only_under_a_trusted_anchor() {
    let pki = |f: &str| std::fs::read(hallmark_testkit::testdata("crypto/case04").join(f)).unwrap();
    let signer = Signer::Certificate {
        key: SigningKey::from_pem(&pki("leaf.key"), None).unwrap(),
        leaf: hallmark_crypto::load_certificates_pem(&pki("leaf.crt")).unwrap()[0].clone(),
        chain: hallmark_crypto::load_certificates_pem(&pki("intermediate-ca.crt")).unwrap(),
    };
    let sig = publisher_sig(&signer, FILES);
    let h = hub().await;
    let trust = |pem: Vec<u8>| NewTrust {
        certificate_chain: Some(String::from_utf8(pem).unwrap()),
        ..NewTrust::default()
    };
    let op = Operator::new(&*h.state.meta, "test");
    let unrelated = std::fs::read(hallmark_testkit::testdata("crypto/pki/root.crt")).unwrap();
    op.trust_add("acme", &trust(unrelated)).await.unwrap();
    for (repo, want) in [("acme/c1", "untrusted"), ("acme/c2", "verified")] {
        if want == "verified" {
            op.trust_add("acme", &trust(pki("root-ca.crt")))
                .await
                .unwrap();
        }
        let r = h.push(&h.alice, repo, &with_sig(FILES, &sig), false).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        let claims = h.claims_of(repo).await;
        let p = kind(&claims, "publisher-signature");
        assert_eq!(
            (&p["status"], &p["signer"], &p["issuer"]),
            (
                &json!(want),
                &json!("CN=OMS Fixtures Model Signer,O=OMS Fixtures"),
                &json!("CN=OMS Fixtures Intermediate CA,O=OMS Fixtures")
            ),
            "{p}"
        );
        assert!(p["log_index"].is_u64(), "checkable, so logged: {p}");
    }
}
