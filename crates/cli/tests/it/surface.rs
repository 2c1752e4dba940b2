//! The command-line surface itself: `--version` names the commit, `completions SHELL`
//! covers every command.

use crate::Cmd;

/// `git ARGS` in the repository: its trimmed stdout, or `None` (no git, not a checkout, or a
/// failed command).
fn git(args: &[&str]) -> Option<String> {
    std::process::Command::new("git")
        .args(args)
        .current_dir(hallmark_testkit::repo())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
}

#[test]
fn version_names_the_commit() {
    let out = Cmd::new(["--version"]).run();
    out.expect(0, &["hallmark "]);
    let named = out
        .stdout
        .split_once("(commit ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(c, _)| c.to_owned());
    match git(&["rev-parse", "HEAD"]) {
        // Built from this checkout: the commit is HEAD, or one HEAD descends from (a binary
        // another worktree built into a shared or copied target dir: build.rs watches this
        // checkout's HEAD and branch, but cargo reruns it only when those files are newer
        // than its last run). A named commit that is not in this history fails, as does none.
        Some(head) if std::env::var_os("HALLMARK_GIT_COMMIT").is_none() => {
            let named = named.unwrap_or_else(|| panic!("no commit named: {}", out.stdout));
            assert!(
                named.len() == 12 && named.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}",
                out.stdout
            );
            if !head.starts_with(&named) {
                assert!(
                    git(&["merge-base", "--is-ancestor", &named, "HEAD"]).is_some(),
                    "{} names {named}, which is neither HEAD ({head}) nor an ancestor of it",
                    out.stdout
                );
                eprintln!("note: the binary was built at {named}, an ancestor of HEAD {head}");
            }
        }
        Some(_) => assert!(named.is_some(), "{}", out.stdout),
        None => assert!(out.stdout.contains("unknown commit"), "{}", out.stdout),
    }
}

#[test]
fn completions_cover_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = Cmd::new(["completions", shell]).run();
        out.expect(0, &[]);
        for word in ["verify", "inspect", "digest", "completions"] {
            assert!(out.stdout.contains(word), "{shell} completion lacks {word}");
        }
        #[cfg(feature = "pkcs11")]
        assert!(out.stdout.contains("pkcs11-key"), "{shell}");
    }
    Cmd::new(["completions", "tcsh"])
        .run()
        .expect(2, &["invalid value"]);
}

/// The incident webhook's URL may carry a secret: `--help` does not show the value the
/// environment gives it (clap prints `[env: NAME=VALUE]` unless told not to).
#[cfg(feature = "server")]
#[test]
fn help_hides_the_incident_webhook_from_the_environment() {
    let secret = "hook-secret-5b1e";
    let out = Cmd::new(["hub", "serve", "--help"])
        .env(
            "HALLMARK_HUB_INCIDENT_WEBHOOK",
            format!("https://hooks.example/{secret}"),
        )
        .run();
    out.expect(0, &["--incident-webhook", "HALLMARK_HUB_INCIDENT_WEBHOOK"]);
    assert!(!out.stdout.contains(secret), "{}", out.stdout);
}
