//! `hallmark pull --require KIND[=VALUE]` and `--policy FILE` against a live hub (issue 16
//! §4): a missing or failing claim refuses the pull with exit 1 naming it, and nothing is
//! left in the target directory (nor a staging directory beside it).

use std::path::Path;

use crate::Cmd;
use crate::pull::{listing, model_with as model, scene};

const CODE: &str = "https://github.com/acme/train@0123456789abcdef0123456789abcdef01234567";

/// A valid safetensors file: one F32 tensor of shape [2] (scans clean).
fn safetensors() -> Vec<u8> {
    let header = br#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    let mut v = (header.len() as u64).to_le_bytes().to_vec();
    v.extend_from_slice(header);
    v.extend_from_slice(&[0u8; 8]);
    v
}

/// A `torch.load`-able pickle that runs `os.system("id")` when loaded.
fn pickle_payload() -> Vec<u8> {
    b"\x80\x02cos\nsystem\n(X\x02\x00\x00\x00idtR.".to_vec()
}

#[test]
fn a_missing_or_failing_required_claim_refuses_the_pull_and_writes_nothing() {
    let (root, hub, config, out) = scene();
    let clean = model(root.path(), "c", "1", "model.safetensors", &safetensors());
    hub.push(&clean, "acme/clean", &hub.alice);
    let bad = model(
        root.path(),
        "b",
        "1",
        "pytorch_model.bin",
        &pickle_payload(),
    );
    hub.push(&bad, "acme/bad", &hub.alice);

    hub.pull("acme/clean", &out.join("ok"), &config)
        .opt("--require", "scan=clean")
        .opt("--require", "hub-signature")
        .run()
        .expect(0, &["Verified"]);
    assert!(out.join("ok/model.safetensors").exists());

    // no publisher signature was pushed: missing, named
    let target = out.join("pub");
    hub.pull("acme/clean", &target, &config)
        .opt("--require", "publisher-signature")
        .run()
        .expect(
            1,
            &[
                "required claim publisher-signature is missing",
                "nothing was written",
            ],
        );
    assert!(!target.exists());

    // the hub's signed scan says dangerous: scan=clean fails naming the verdict
    let target = out.join("bad");
    hub.pull("acme/bad", &target, &config)
        .opt("--require", "scan=clean")
        .run()
        .expect(1, &["scan=clean", "dangerous", "nothing was written"]);
    assert!(!target.exists());
    // into an existing directory (--force): untouched
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep.txt"), b"mine").unwrap();
    hub.pull("acme/bad", &target, &config)
        .opt("--require", "scan=suspicious")
        .arg("--force")
        .run()
        .expect(1, &["dangerous"]);
    assert_eq!(listing(&target), ["keep.txt"]);
    assert_eq!(listing(&out), ["bad", "ok"], "no staging directory left");
    // accepting dangerous is the user's choice
    hub.pull("acme/bad", &out.join("anyway"), &config)
        .opt("--require", "scan=dangerous")
        .run()
        .expect(0, &["Verified"]);

    // a kind or verdict that does not exist: a usage error naming the choices
    hub.pull("acme/clean", &out.join("x"), &config)
        .opt("--require", "scan=ok")
        .run()
        .expect(2, &["clean, unverified, suspicious, dangerous"]);
    hub.pull("acme/clean", &out.join("x"), &config)
        .opt("--require", "signature")
        .run()
        .expect(2, &["publisher-signature"]);
    assert!(!out.join("x").exists());
}

#[test]
fn publisher_claims_and_policy_files_decide_the_pull() {
    let (root, hub, config, out) = scene();
    let key = |n: &str| hallmark_testkit::test_key(n);
    // a model with training provenance (about its files) and a key-signed model.sig
    let signed = |name: &str, version: &str| {
        let dir = model(
            root.path(),
            name,
            version,
            "model.safetensors",
            &safetensors(),
        );
        let data = root.path().join("train");
        std::fs::create_dir_all(&data).unwrap();
        std::fs::write(data.join("rows.csv"), b"a,b\n1,2\n").unwrap();
        Cmd::new(["attest", "train", "--model"])
            .arg(&dir)
            .opt("--dataset", &data)
            .opt("--code", CODE)
            .opt("--key", key("test.key"))
            .opt("-o", root.path().join(format!("{name}.provenance.json")))
            .run()
            .expect(0, &["Provenance written"]);
        Cmd::sign_key(&dir, key("test.key"))
            .opt("--signature", dir.join("model.sig"))
            .arg("-q")
            .run()
            .expect(0, &[]);
        dir
    };
    let provenance = |name: &str| root.path().join(format!("{name}.provenance.json"));
    let push = |dir: &Path, attach: &Path| {
        Cmd::new(["push".as_ref(), dir.as_os_str(), "acme/signed".as_ref()])
            .opt("--hub", &hub.url)
            .opt("--token", &hub.alice)
            .opt("--attach", attach)
            .arg("-q")
            .run()
    };
    push(&signed("s1", "1"), &provenance("s1")).expect(
        0,
        &[
            "publisher's signature",
            "attached",
            "provenance claim",
            "untrusted",
        ],
    );

    // acme trusts no publisher key yet: the claim is kept as untrusted
    let target = out.join("t");
    hub.pull("acme/signed", &target, &config)
        .opt("--require", "publisher-signature")
        .run()
        .expect(1, &["publisher-signature=verified", "status untrusted"]);
    assert!(!target.exists());
    hub.pull("acme/signed", &out.join("u"), &config)
        .opt("--require", "publisher-signature=untrusted")
        .run()
        .expect(0, &["Verified"]);

    // a policy trusting the publisher's key, requiring a clean local scan: allowed
    let policy = |name: &str, public: &str| {
        let p = root.path().join(name);
        std::fs::write(
            &p,
            format!(
                "[signature]\npublic_keys = [{:?}]\n[scan]\nmax_verdict = \"clean\"\n\
                 [provenance]\nrequired = true\n",
                key(public)
            ),
        )
        .unwrap();
        p
    };
    hub.pull("acme/signed", &out.join("p"), &config)
        .opt("--policy", policy("ok.toml", "test.pub"))
        .run()
        .expect(0, &["Verified"]);
    assert!(out.join("p/model.sig").exists(), "model.sig is put back");
    // a policy trusting another key: denied, naming the signature check
    hub.pull("acme/signed", &target, &config)
        .opt("--policy", policy("other.toml", "other.pub"))
        .run()
        .expect(
            1,
            &["other.toml", "denied", "signature:", "nothing was written"],
        );
    assert!(!target.exists());
    hub.pull("acme/signed", &target, &config)
        .opt("--policy", root.path().join("absent.toml"))
        .run()
        .expect(2, &["absent.toml"]);
    assert!(!target.exists());
    assert_eq!(listing(&out), ["p", "u"], "no staging directory left");

    // once acme trusts the key, the next revision's publisher claim is verified
    let trust = Cmd::new(["hub", "admin", "--data-dir"])
        .arg(&hub.data)
        .args(["org", "trust", "acme", "--public-key"])
        .arg(key("test.pub"))
        .run();
    trust.expect(0, &[]);
    let s2 = signed("s2", "2");
    // another revision's provenance: refused by the hub, the push names the file
    push(&s2, &provenance("s1")).expect(1, &["s1.provenance.json", "attaching"]);
    push(&s2, &provenance("s2")).expect(0, &["provenance claim", "verified"]);
    hub.pull("acme/signed", &target, &config)
        .opt("--require", "publisher-signature")
        .opt("--require", "provenance=verified")
        .opt("--require", "scan=clean")
        .run()
        .expect(0, &["Verified"]);
}
