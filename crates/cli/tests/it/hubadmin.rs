//! `hallmark hub admin …` on a data directory (issue 15, findings 9 and 16): it never
//! makes a second, empty hub, and the operator commands work on a hub `hub serve` made.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use crate::Cmd;

#[test]
fn hub_admin_refuses_a_directory_without_a_hub_and_creates_nothing() {
    let cwd = tempfile::tempdir().unwrap();
    // no --data-dir: the default ./hallmark-hub does not exist
    Cmd::new(["hub", "admin", "user", "add", "alice"])
        .cwd(cwd.path())
        .run()
        .expect(
            2,
            &[
                "hallmark-hub",
                "holds no hub",
                "--data-dir",
                "HALLMARK_HUB_DATA",
            ],
        );
    assert!(!cwd.path().join("hallmark-hub").exists(), "nothing created");
    // an existing, empty directory stays empty
    let empty = cwd.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    Cmd::new(["hub", "admin", "token", "alice", "--scope", "write"])
        .opt("--data-dir", &empty)
        .run()
        .expect(2, &["empty", "no hub.db", "--data-dir"]);
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);
}

/// Starts `hub serve` on a fresh data directory until it listens, then stops it: the
/// directory then holds a hub.
fn make_hub(dir: &std::path::Path) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hallmark"))
        .args(["hub", "serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = BufReader::new(child.stdout.take().unwrap());
    for line in out.lines() {
        if line.unwrap().contains("admin bootstrap token") {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(dir.join("hub.db").is_file());
}

/// `hallmark hub admin --data-dir DIR ARGS…`, run.
fn admin_in(dir: &std::path::Path, args: &[&str]) -> crate::cmd::Out {
    Cmd::new(["hub", "admin", "--data-dir"])
        .arg(dir)
        .args(args)
        .run()
}

#[test]
fn operator_commands_disable_list_expire_and_audit() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    make_hub(&dir);
    let admin = |args: &[&str]| admin_in(&dir, args);
    admin(&["user", "add", "alice"]).expect(0, &["user alice added"]);
    admin(&["user", "add", "root", "--admin"]).expect(0, &[]);
    admin(&["user", "disable", "alice"]).expect(0, &["disabled"]);
    let list = admin(&["user", "list"]);
    list.expect(0, &["alice", "disabled since", "root\tadmin"]);
    admin(&["user", "enable", "alice"]).expect(0, &[]);
    assert!(
        admin(&["user", "list"])
            .stdout
            .contains("alice\t-\tenabled")
    );
    let t = admin(&[
        "token",
        "alice",
        "--scope",
        "write",
        "--expires-in-days",
        "7",
    ]);
    t.expect(0, &["expires 20"]);
    assert!(t.stdout.trim().starts_with("hm_"));
    admin(&["token-lifetime", "--days", "30"]).expect(0, &["30 days"]);
    admin(&["token", "alice"]).expect(0, &["expires 20"]);
    admin(&["token", "alice", "--never-expires"]).expect(0, &["never expires"]);
    let j = admin(&["token", "alice", "--scope", "write", "--json"]);
    j.expect(0, &[]);
    let v = j.json();
    assert!(v["token"].as_str().unwrap().starts_with("hm_"), "{v}");
    assert_eq!(
        (&v["user"], &v["scope"]),
        (&"alice".into(), &"write".into())
    );
    assert!(v["expires_at"].as_str().unwrap().ends_with('Z'), "{v}");
    admin(&["user", "logout", "alice"]).expect(0, &["0 sessions"]);
    admin(&["user", "grant-admin", "alice"]).expect(0, &[]);
    admin(&["repo", "delete", "alice/none"]).expect(2, &["no repository named alice/none"]);
    admin(&["user", "disable", "nobody"]).expect(2, &["no user named nobody"]);
    let audit = admin(&["audit"]);
    audit.expect(
        0,
        &[
            "cli:",
            "user.disable\talice",
            "user.enable\talice",
            "token.lifetime\thub",
        ],
    );
    assert!(!audit.stdout.contains("hm_"), "no secret in the audit log");
}

#[test]
fn sigstore_token_json_names_the_identity_and_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let out = Cmd::new(["sigstore", "token", "--email", "ci@example.com", "--json"])
        .opt("--public-url", "http://127.0.0.1:9")
        .opt("--data-dir", dir.path())
        .run();
    out.expect(0, &[]);
    let v = out.json();
    assert_eq!(v["subject"], "ci@example.com");
    assert_eq!(v["issuer"], "http://127.0.0.1:9");
    assert_eq!(v["token"].as_str().unwrap().split('.').count(), 3, "a JWT");
    assert!(v["expires_at"].as_str().unwrap().ends_with('Z'), "{v}");
}

/// `hub admin org trust` takes each kind an org can trust (issue 16 §3: `--public-key`,
/// `--certificate-chain`, `--identity` with `--issuer`), lists and removes entries, and
/// `hub admin rescan` runs; every change is in the operator audit log.
#[test]
fn org_trust_takes_each_kind_and_rescan_is_audited() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("hub");
    make_hub(&dir);
    let admin = |args: &[&str]| admin_in(&dir, args);
    let data = |p: &str| hallmark_testkit::testdata(p).display().to_string();
    admin(&["user", "add", "alice"]).expect(0, &[]);
    admin(&["org", "add", "acme", "--owner", "alice"]).expect(0, &[]);
    let trust = |opts: &[&str]| {
        let mut args = vec!["org", "trust", "acme"];
        args.extend_from_slice(opts);
        admin(&args)
    };
    trust(&["--public-key", &data("crypto/case01/p256.pub")]).expect(0, &["1  public-key sha256:"]);
    trust(&["--certificate-chain", &data("crypto/case04/root-ca.crt")])
        .expect(0, &["2  certificate-chain CN=OMS Fixtures Root CA"]);
    trust(&["--identity", "https://ci.example/b"]).expect(2, &["--issuer"]);
    trust(&[
        "--identity",
        "https://ci.example/b",
        "--issuer",
        "https://issuer.example",
    ])
    .expect(
        0,
        &["3  identity https://ci.example/b from https://issuer.example"],
    );
    trust(&["--remove", "1"]).expect(0, &["no longer trusts entry 1"]);
    trust(&["--remove", "1"]).expect(2, &["no trust entry 1"]);
    let list = trust(&[]);
    list.expect(0, &["2  certificate-chain", "3  identity"]);
    assert!(!list.stdout.contains("public-key"), "{}", list.stdout);
    admin(&["rescan", "--all"]).expect(0, &["examined 0 revisions"]);
    admin(&["audit"]).expect(
        0,
        &[
            "org.trust.add\tacme\tpublic-key sha256:",
            "org.trust.add\tacme\tcertificate-chain",
            "org.trust.add\tacme\tidentity https://ci.example/b",
            "org.trust.remove\tacme\tentry 1",
            "scan.rescan\thub",
        ],
    );
}
