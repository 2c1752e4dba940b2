//! The command-line surface itself: `--version` names the commit, `completions SHELL`
//! covers every command.

use crate::Cmd;

#[test]
fn version_names_the_commit() {
    let out = Cmd::new(["--version"]).run();
    out.expect(0, &["hallmark "]);
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(hallmark_testkit::repo())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        // Built from this checkout (the binary is rebuilt when HEAD moves).
        Some(head) if std::env::var_os("HALLMARK_GIT_COMMIT").is_none() => assert!(
            out.stdout.contains(&format!("(commit {})", &head[..12])),
            "{} does not name {head}",
            out.stdout
        ),
        Some(_) => assert!(out.stdout.contains("(commit "), "{}", out.stdout),
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
