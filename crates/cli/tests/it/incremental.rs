//! `sign … --incremental` and `verify … --incremental` through the CLI: the statement
//! equals a full sign's, a file whose bytes change under a restored mtime (`touch -d`)
//! is hashed again, and the messages say which files were trusted from the cache and
//! which were hashed, and why.

use std::path::Path;
use std::time::Duration;

use hallmark_testkit::test_key as key;

use crate::{Cmd, Out};

/// The DSSE payload of a signature (the statement; the signature bytes are randomized).
fn payload(sig: &Path) -> String {
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(sig).unwrap()).unwrap();
    v["dsseEnvelope"]["payload"].as_str().unwrap().to_owned()
}

/// Lets the filesystem clock move past every change made so far, so the next run's
/// stamp is later than them (else their entries are racily clean and re-hashed).
fn tick() {
    std::thread::sleep(Duration::from_millis(50));
}

fn run(cmd: Cmd, cache: &Path, code: i32, words: &[&str]) -> Out {
    let out = cmd.env("XDG_CACHE_HOME", cache).arg("--incremental").run();
    out.expect(code, words);
    out
}

#[test]
fn restored_mtime_is_rehashed_and_messages_say_what_was_trusted() {
    let tmp = hallmark_testkit::temp_tree(&[
        ("model/config.json", "{\"hidden_size\": 8}\n"),
        ("model/sub/extra.bin", "x"),
        ("model/weights.bin", "0123456789"),
    ]);
    let (t, cache) = (tmp.path(), tmp.path().join("cache"));
    let (k, p) = (key("test.key"), key("test.pub"));
    let sign = || {
        Cmd::sign_key("model", &k)
            .cwd(t)
            .opt("--signature", "inc.sig")
    };
    let verify = || Cmd::verify_key("model", "inc.sig", &p).cwd(t);
    tick();
    run(
        sign(),
        &cache,
        0,
        &["0 files not read", "3 files hashed", "3 not in the cache"],
    );
    tick();
    run(sign(), &cache, 0, &["3 files not read", "0 files hashed"]);

    // Other bytes, same size, mtime set back with touch -d: the ctime still moves.
    let w = t.join("model/weights.bin");
    let mtime = std::fs::metadata(&w).unwrap().modified().unwrap();
    let since = mtime.duration_since(std::time::UNIX_EPOCH).unwrap();
    std::fs::write(&w, "9876543210").unwrap();
    let stamp = format!("@{}.{:09}", since.as_secs(), since.subsec_nanos());
    let touched = std::process::Command::new("touch")
        .args(["-d", &stamp])
        .arg(&w)
        .status()
        .unwrap();
    assert!(touched.success());
    assert_eq!(std::fs::metadata(&w).unwrap().modified().unwrap(), mtime);
    tick();
    run(
        sign(),
        &cache,
        0,
        &[
            "2 files not read",
            "1 file hashed",
            "weights.bin (stat changed)",
        ],
    );
    let full = Cmd::sign_key("model", &k)
        .cwd(t)
        .opt("--signature", "full.sig")
        .run();
    full.expect(0, &[]);
    assert_eq!(payload(&t.join("inc.sig")), payload(&t.join("full.sig")));

    tick();
    let json = run(
        verify().json(),
        &cache,
        0,
        &["3 files not read", "0 files hashed"],
    );
    assert_eq!(json.json()["verified"], true);
    // A changed file fails verification, and the message says it was read, not trusted.
    std::fs::write(t.join("model/config.json"), "{}\n").unwrap();
    run(
        verify(),
        &cache,
        1,
        &[
            "config.json",
            "2 files not read",
            "config.json (stat changed)",
        ],
    );
}

/// The attack on the cache: its recorded digest of an unchanged file is edited (the
/// file's stat still matches). The cache then no longer writes the statement of the
/// signature beside it, the signature's manifest decides, and the file is hashed: the
/// new signature's statement is a full sign's.
#[test]
fn an_edited_cache_digest_is_not_trusted() {
    let tmp = hallmark_testkit::temp_tree(&[
        ("model/config.json", "{}\n"),
        ("model/weights.bin", "0123456789"),
    ]);
    let (t, cache) = (tmp.path(), tmp.path().join("cache"));
    let k = key("test.key");
    let sign = |sig: &str| Cmd::sign_key("model", &k).cwd(t).opt("--signature", sig);
    tick();
    run(sign("inc.sig"), &cache, 0, &["2 files hashed"]);
    tick();
    run(sign("inc.sig"), &cache, 0, &["2 files not read"]);
    let dir = cache.join("hallmark/statcache");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cache"))
        .unwrap();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b"0123456789");
    let mut bytes = std::fs::read(&file).unwrap();
    let at = bytes
        .windows(32)
        .position(|w| w == digest.as_ref())
        .expect("the digest of weights.bin in the cache");
    bytes[at] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    tick();
    run(
        sign("inc.sig"),
        &cache,
        0,
        &[
            "1 file not read",
            "1 file hashed",
            "weights.bin (signature records another digest)",
        ],
    );
    sign("full.sig").run().expect(0, &[]);
    assert_eq!(payload(&t.join("inc.sig")), payload(&t.join("full.sig")));
}
