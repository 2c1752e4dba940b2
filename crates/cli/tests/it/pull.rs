//! `hallmark pull` against a live `hallmark hub serve` (issue 16 item 4): the first pull
//! pins the repository's trust config and signer; a revision signed by someone else is
//! refused (exit 1, naming both identities) unless the user names or accepts the new
//! signer; a tampered blob, a swapped signature row or another instance's trust config
//! fails the pull; and a failed pull writes nothing: no target directory, an existing one
//! untouched, no staging left.

use std::path::{Path, PathBuf};
use std::process::Child;

use crate::{Cmd, Out};

/// A running hub on a fresh data directory, with users alice and bob (both maintainers of
/// org acme) and a write token each. Killed on drop.
pub(crate) struct Hub {
    child: Child,
    pub(crate) url: String,
    pub(crate) data: PathBuf,
    pub(crate) alice: String,
    pub(crate) bob: String,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Hub {
    pub(crate) fn start(root: &Path) -> Self {
        let data = root.join("hub");
        let (child, url) = crate::hubproc::spawn_hub(&data);
        let mut hub = Self {
            child,
            url,
            data,
            alice: String::new(),
            bob: String::new(),
        };
        for args in [
            &["user", "add", "alice"][..],
            &["user", "add", "bob"],
            &["org", "add", "acme", "--owner", "alice"],
            &["org", "member", "acme", "bob", "--role", "maintainer"],
        ] {
            hub.admin(args).expect(0, &[]);
        }
        hub.alice = hub.token("alice");
        hub.bob = hub.token("bob");
        hub
    }

    pub(crate) fn admin(&self, args: &[&str]) -> Out {
        Cmd::new(["hub", "admin", "--data-dir"])
            .arg(&self.data)
            .args(args)
            .run()
    }

    pub(crate) fn token(&self, user: &str) -> String {
        let out = self.admin(&["token", user, "--scope", "write"]);
        out.expect(0, &[]);
        out.stdout.trim().to_owned()
    }

    /// `hallmark push DIR REPO --json`: checks the JSON result names the revision and
    /// the hub's verified signature.
    pub(crate) fn push(&self, dir: &Path, repo: &str, token: &str) {
        let out = Cmd::new(["push".as_ref(), dir.as_os_str(), repo.as_ref()])
            .opt("--hub", &self.url)
            .opt("--token", token)
            .arg("-q")
            .json()
            .run();
        out.expect(0, &[]);
        let v = out.json();
        assert_eq!(v["repo"], repo);
        assert!(v["revision"].as_str().is_some_and(|r| r.len() >= 7), "{v}");
        assert_eq!(v["signature"]["status"], "verified", "{v}");
    }

    /// `hallmark pull REPO DIR --hub URL -q` with the pins under `config` (and the
    /// resumable downloads under `config/cache`).
    pub(crate) fn pull(&self, repo: &str, dir: &Path, config: &Path) -> Cmd {
        pull_via(&self.url, repo, dir, config)
    }

    /// The hub process's id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn identity(&self, user: &str) -> String {
        format!("{}/{user}", self.url)
    }
}

/// What each pull test starts from: a temporary root, a hub in it, the directory pins are
/// kept under (`XDG_CONFIG_HOME`) and an empty `out` directory for the pulls.
pub(crate) fn scene() -> (tempfile::TempDir, Hub, PathBuf, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let hub = Hub::start(root.path());
    let config = root.path().join("config");
    let out = root.path().join("out");
    std::fs::create_dir(&out).unwrap();
    (root, hub, config, out)
}

/// `hallmark pull REPO DIR --hub URL -q`, pins under `config`, stages under `config/cache`.
pub(crate) fn pull_via(url: &str, repo: &str, dir: &Path, config: &Path) -> Cmd {
    Cmd::new(["pull".as_ref(), repo.as_ref(), dir.as_os_str()])
        .opt("--hub", url)
        .arg("-q")
        .env("XDG_CONFIG_HOME", config)
        .env("XDG_CACHE_HOME", config.join("cache"))
}

/// A small model: config.json and a `len`-byte weights file (a size no other blob has).
fn model(root: &Path, name: &str, version: &str, len: u32) -> PathBuf {
    let weights: Vec<u8> = (0..len)
        .map(|i| (i.wrapping_mul(31) ^ 0x5a) as u8)
        .collect();
    model_with(root, name, version, "model.safetensors", &weights)
}

/// A model directory `name`: config.json (naming `version`) and `weights` as `file`.
pub(crate) fn model_with(
    root: &Path,
    name: &str,
    version: &str,
    file: &str,
    weights: &[u8],
) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.json"),
        format!("{{\"version\": \"{version}\"}}\n"),
    )
    .unwrap();
    std::fs::write(dir.join(file), weights).unwrap();
    dir
}

/// The names in `dir` (sorted): what a pull left there.
pub(crate) fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn pull_pins_the_first_signer_and_refuses_another_until_the_user_accepts_it() {
    let (root, hub, config, out) = scene();
    let (alice, bob) = (hub.identity("alice"), hub.identity("bob"));

    hub.push(
        &model(root.path(), "v1", "1", 100_003),
        "acme/demo",
        &hub.alice,
    );
    let first = out.join("first");
    hub.pull("acme/demo", &first, &config)
        .run()
        .expect(0, &["Verified", &alice, "pinned"]);
    let pins = std::fs::read_to_string(config.join("hallmark/pins.json")).unwrap();
    assert!(
        pins.contains(&alice) && pins.contains("trust_config_sha256"),
        "{pins}"
    );
    let v1 = std::fs::read(first.join("config.json")).unwrap();
    let again = hub
        .pull("acme/demo", &root.path().join("again"), &config)
        .json()
        .run();
    again.expect(0, &[]);
    let j = again.json();
    assert_eq!(
        (&j["verified"], &j["pinned"], &j["signer"]["identity"]),
        (&true.into(), &false.into(), &alice.clone().into()),
        "{j}"
    );
    assert_eq!(j["resource_count"], 2);

    // bob pushes a new revision: the hub signs it as bob
    hub.push(
        &model(root.path(), "v2", "2", 100_003),
        "acme/demo",
        &hub.bob,
    );
    let second = out.join("second");
    hub.pull("acme/demo", &second, &config).run().expect(
        1,
        &[
            &alice,
            &bob,
            "signer identity changed",
            "--accept-new-signer",
        ],
    );
    assert!(!second.exists(), "a refused pull creates no target");
    // --force into the existing download: refused, and the old files stay as they were
    hub.pull("acme/demo", &first, &config)
        .arg("--force")
        .run()
        .expect(1, &[&alice, &bob]);
    assert_eq!(std::fs::read(first.join("config.json")).unwrap(), v1);
    assert_eq!(listing(&out), ["first"], "no staging directory left");

    // naming bob explicitly is the user's decision: verified, pin unchanged
    hub.pull("acme/demo", &second, &config)
        .opt("--identity", &bob)
        .run()
        .expect(0, &["Verified", &bob]);
    assert!(std::fs::read(second.join("config.json")).unwrap() != v1);
    // an --identity that is not the signer: refused, naming both
    let third = out.join("third");
    hub.pull("acme/demo", &third, &config)
        .opt("--identity", &alice)
        .run()
        .expect(1, &[&alice, &bob]);
    // the right identity from another OIDC issuer than the one that certified it: refused
    hub.pull("acme/demo", &third, &config)
        .opt("--identity", &bob)
        .opt("--identity-provider", "https://other-issuer.example")
        .run()
        .expect(1, &["https://other-issuer.example"]);
    hub.pull("acme/demo", &third, &config)
        .run()
        .expect(1, &["--accept-new-signer"]);
    assert!(!third.exists());
    // accepting re-pins to bob; the next plain pull is fine
    hub.pull("acme/demo", &third, &config)
        .arg("--accept-new-signer")
        .run()
        .expect(0, &["Verified", &bob, "pinned"]);
    let fourth = out.join("fourth");
    hub.pull("acme/demo", &fourth, &config)
        .run()
        .expect(0, &["Verified", &bob]);
    let pins = std::fs::read_to_string(config.join("hallmark/pins.json")).unwrap();
    assert!(pins.contains(&bob) && !pins.contains(&alice), "{pins}");
}

#[test]
fn a_tampered_blob_or_another_trust_root_fails_the_pull_and_writes_nothing() {
    let (root, hub, config, out) = scene();
    hub.push(
        &model(root.path(), "m", "1", 100_003),
        "acme/demo",
        &hub.alice,
    );
    hub.push(
        &model(root.path(), "c", "1", 90_001),
        "acme/clean",
        &hub.alice,
    );

    // flip bytes of the stored weights blob of acme/demo (the only 100,003-byte file)
    let blob = find_file(&hub.data.join("blobs"), 100_003).expect("the weights blob");
    let mut bytes = std::fs::read(&blob).unwrap();
    for b in &mut bytes[1000..1016] {
        *b ^= 0xff;
    }
    std::fs::write(&blob, bytes).unwrap();
    let target = out.join("dl");
    hub.pull("acme/demo", &target, &config)
        .run()
        .expect(1, &["model.safetensors", "nothing was written"]);
    assert!(!target.exists(), "no target directory");
    // into an existing directory (--force): untouched
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep.txt"), b"mine").unwrap();
    hub.pull("acme/demo", &target, &config)
        .arg("--force")
        .run()
        .expect(1, &["model.safetensors"]);
    assert_eq!(listing(&target), ["keep.txt"]);
    assert_eq!(listing(&out), ["dl"], "no staging directory left");
    assert!(
        !config.join("hallmark/pins.json").exists(),
        "a failed pull pins nothing"
    );

    // another instance's trust config: the hub's signature does not chain to it
    let other = hallmark_testkit::repo()
        .join("testdata/oms/case40-sigstore-private-offline/sigstore/trust_config.json");
    let clean = out.join("clean");
    hub.pull("acme/clean", &clean, &config)
        .opt("--trust-config", &other)
        .run()
        .expect(1, &["FAILED", "nothing was written"]);
    assert!(!clean.exists());
    assert!(!config.join("hallmark/pins.json").exists());
    // the same pull trusting the hub on first use works (the repository is intact)
    hub.pull("acme/clean", &clean, &config)
        .run()
        .expect(0, &["Verified"]);
}

/// Issue 16: a database-only change. acme/demo's `model.sig` row is swapped for bob's
/// genuine bundle over the same files (his push to acme/copy); the hub serves it and still
/// reports alice. A pull pinned to alice, and a first-use pull naming `--identity` alice,
/// refuse it naming both signers, and write nothing.
#[test]
fn a_swapped_signature_row_fails_the_pull_and_writes_nothing() {
    let (root, hub, config, out) = scene();
    let (alice, bob) = (hub.identity("alice"), hub.identity("bob"));
    hub.push(
        &model(root.path(), "a", "1", 100_003),
        "acme/demo",
        &hub.alice,
    );
    hub.push(
        &model(root.path(), "b", "1", 100_003),
        "acme/copy",
        &hub.bob,
    );
    hub.pull("acme/demo", &out.join("first"), &config)
        .run()
        .expect(0, &["Verified", &alice, "pinned"]);

    let swapped = swap_signature_row(&hub.data.join("hub.db"), "demo", "copy");
    assert_eq!(swapped, 1, "one model.sig row changed");
    let target = out.join("dl");
    hub.pull("acme/demo", &target, &config)
        .run()
        .expect(1, &[&alice, &bob, "Nothing was written"]);
    assert!(!target.exists(), "no target directory");
    let fresh = root.path().join("fresh-config");
    hub.pull("acme/demo", &target, &fresh)
        .opt("--identity", &alice)
        .run()
        .expect(1, &[&alice, &bob, "Nothing was written"]);
    assert!(!target.exists());
    assert_eq!(listing(&out), ["first"], "no staging directory left");
    // The bundle itself is genuine: bob's own repository verifies as his.
    hub.pull("acme/copy", &target, &fresh)
        .opt("--identity", &bob)
        .run()
        .expect(0, &["Verified", &bob]);
}

/// Points the `model.sig` row of repo `victim` at the `model.sig` blob of repo `source`
/// (SQL on the hub's database, as someone with access to it could); returns rows changed.
fn swap_signature_row(db: &Path, victim: &str, source: &str) -> u64 {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let of_source = "FROM revision_files f JOIN repos r ON r.id = f.repo_id \
                         WHERE r.name = ?2 AND f.path = 'model.sig'";
        let sql = format!(
            "UPDATE revision_files SET sha256 = (SELECT f.sha256 {of_source}), \
             size = (SELECT f.size {of_source}) \
             WHERE path = 'model.sig' AND repo_id = (SELECT id FROM repos WHERE name = ?1)"
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(victim)
            .bind(source)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        r.rows_affected()
    })
}

/// The first regular file of exactly `len` bytes under `dir`.
fn find_file(dir: &Path, len: u64) -> Option<PathBuf> {
    for e in std::fs::read_dir(dir).ok()? {
        let e = e.ok()?;
        let p = e.path();
        let t = e.file_type().ok()?;
        if t.is_dir() {
            if let Some(f) = find_file(&p, len) {
                return Some(f);
            }
        } else if t.is_file() && e.metadata().ok()?.len() == len {
            return Some(p);
        }
    }
    None
}
