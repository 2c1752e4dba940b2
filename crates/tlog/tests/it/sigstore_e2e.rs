//! End to end with a Sigstore verifier: the DSSE envelope of a bundle signed by the
//! reference `model_signing` against a private Sigstore (case40) is re-logged in our log;
//! our entry, inclusion proof, checkpoint and SET replace the bundle's `tlogEntries[0]`, our
//! log key replaces the trust root's `tlogs[0]`, and hallmark-sigstore (sigstore-verify
//! 0.15.1) must accept it — all checks, including the transparency-log ones. The
//! certificate (and so its Fulcio CA and SCT) stays the reference's, so no CA is needed.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hallmark_sigstore::{IdentityPolicy, TrustedRoot, verify_dsse_bundle};
use hallmark_tlog::rekor::{EntryProof, dsse_body};
use hallmark_tlog::{LogKey, Options};
use serde_json::{Value, json};

use crate::{dir_log, fill, testdata};

fn load() -> (Value, Value) {
    let bundle = std::fs::read(testdata().join("case40/model.sig")).unwrap();
    let trust = std::fs::read(testdata().join("case40/trust_config.json")).unwrap();
    (
        serde_json::from_slice(&bundle).unwrap(),
        serde_json::from_slice(&trust).unwrap(),
    )
}

fn cert_pem(bundle: &Value) -> String {
    let der = B64
        .decode(
            bundle["verificationMaterial"]["certificate"]["rawBytes"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &der).unwrap()
}

fn policy() -> IdentityPolicy {
    IdentityPolicy {
        identity: Some("model-signer@example.com".into()),
        identity_regex: None,
        issuer: "https://oidc.oms-fixtures.test".into(),
    }
}

fn without_envelope_hash(body: &[u8]) -> Value {
    let mut v: Value = serde_json::from_slice(body).unwrap();
    v["spec"].as_object_mut().unwrap().remove("envelopeHash");
    v
}

/// Our canonicalized body equals the one the reference's Rekor wrote (except the hash of
/// the envelope text, which depends on how the client serialized it).
#[test]
fn dsse_body_matches_rekor_bytes() {
    let (bundle, _) = load();
    let env = serde_json::to_string(&bundle["dsseEnvelope"]).unwrap();
    let ours = dsse_body(&env, &[&cert_pem(&bundle)]).unwrap();
    let theirs = B64
        .decode(
            bundle["verificationMaterial"]["tlogEntries"][0]["canonicalizedBody"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(without_envelope_hash(&ours), without_envelope_hash(&theirs));
    // Byte-level: same canonical form once the envelope hash is aligned.
    let their_hash =
        serde_json::from_slice::<Value>(&theirs).unwrap()["spec"]["envelopeHash"]["value"]
            .as_str()
            .unwrap()
            .to_owned();
    let our_hash = serde_json::from_slice::<Value>(&ours).unwrap()["spec"]["envelopeHash"]["value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        String::from_utf8(ours)
            .unwrap()
            .replace(&our_hash, &their_hash)
            .into_bytes(),
        theirs
    );
    // A signature that does not verify is refused, like Rekor does.
    let mut forged = bundle["dsseEnvelope"].clone();
    forged["payload"] = json!(B64.encode(b"{}"));
    assert!(
        dsse_body(
            &serde_json::to_string(&forged).unwrap(),
            &[&cert_pem(&bundle)]
        )
        .is_err()
    );
}

/// Our Rekor v1 style entry (SET, proof, checkpoint), under an ECDSA and under an Ed25519
/// log key, is accepted by sigstore-rust once the trusted root names the key (for Ed25519
/// with `keyDetails: PKIX_ED25519` and the typed key hash as `logId`), and refused before.
#[test]
fn our_log_entry_verifies_with_sigstore_verify() {
    for kind in hallmark_tlog::LogKeyType::ALL {
        our_log_entry_verifies_with(kind);
    }
}

fn our_log_entry_verifies_with(kind: hallmark_tlog::LogKeyType) {
    let (mut bundle, mut trust) = load();
    let entry = &bundle["verificationMaterial"]["tlogEntries"][0];
    let integrated: i64 = entry["integratedTime"].as_str().unwrap().parse().unwrap();
    let env = serde_json::to_string(&bundle["dsseEnvelope"]).unwrap();
    let body = dsse_body(&env, &[&cert_pem(&bundle)]).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let key = Arc::new(LogKey::generate(kind).unwrap());
    // The entry's time must fall inside the 10-minute certificate: use the original one.
    let opts = Options {
        clock: Arc::new(move || integrated),
        ..Options::default()
    };
    let (seq, _) = dir_log(dir.path(), &key, opts);
    fill(&seq, "earlier", 300);
    let a = seq.append(body.clone()).unwrap();
    fill(&seq, "later", 3); // the proof is against the checkpoint returned with the entry
    let set = a.sign_set(&key, &crate::cfg(), &body).unwrap();
    let tlog_entry = EntryProof {
        body: &body,
        index: a.index,
        integrated_time: a.integrated_time,
        log_id: key.verifier().log_id(&crate::cfg().host),
        set: &set,
        proof: &a.proof,
        checkpoint: &a.checkpoint,
    }
    .bundle_tlog_entry();
    assert_eq!(tlog_entry["logIndex"], "300");
    assert!(
        tlog_entry["inclusionProof"]["checkpoint"]["envelope"]
            .as_str()
            .unwrap()
            .starts_with("log.hallmark.test - 7001\n301\n")
    );
    bundle["verificationMaterial"]["tlogEntries"][0] = tlog_entry.clone();

    // Before the trust root names our key, the bundle must be refused.
    let original_trust =
        TrustedRoot::from_client_trust_config_json(&serde_json::to_vec(&trust).unwrap()).unwrap();
    let bytes = serde_json::to_vec(&bundle).unwrap();
    assert!(verify_dsse_bundle(&bytes, &original_trust, &policy()).is_err());

    let tlog = &mut trust["trustedRoot"]["tlogs"][0];
    tlog["publicKey"]["rawBytes"] = json!(B64.encode(key.verifier().spki_der()));
    tlog["publicKey"]["keyDetails"] = json!(kind.key_details());
    tlog["logId"]["keyId"] = json!(B64.encode(key.verifier().log_id(&crate::cfg().host)));
    let ours =
        TrustedRoot::from_client_trust_config_json(&serde_json::to_vec(&trust).unwrap()).unwrap();
    let v = verify_dsse_bundle(&bytes, &ours, &policy()).unwrap_or_else(|e| panic!("refused: {e}"));
    assert_eq!(v.identity, "model-signer@example.com");

    // Tampering with any of our parts is caught by the verifier.
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut b = bundle.clone();
        f(&mut b["verificationMaterial"]["tlogEntries"][0]);
        verify_dsse_bundle(&serde_json::to_vec(&b).unwrap(), &ours, &policy()).is_err()
    };
    assert!(
        mutate(&|e| e["integratedTime"] = json!((integrated + 1).to_string())),
        "SET covers the time"
    );
    assert!(
        mutate(&|e| e["inclusionProof"]["hashes"][0] = json!(B64.encode([0u8; 32]))),
        "proof"
    );
    assert!(
        mutate(&|e| e["inclusionProof"]["logIndex"] = json!("299")),
        "proof index"
    );
    assert!(
        mutate(&|e| {
            let cp = e["inclusionProof"]["checkpoint"]["envelope"]
                .as_str()
                .unwrap()
                .replacen("\n301\n", "\n302\n", 1);
            e["inclusionProof"]["checkpoint"]["envelope"] = json!(cp);
        }),
        "checkpoint signature"
    );
    assert!(
        mutate(&|e| e["inclusionPromise"]["signedEntryTimestamp"] = json!(B64.encode(b"nope"))),
        "SET"
    );
}
