//! Validation of account names, repo names and repo-relative file paths.
//!
//! File paths arrive in URLs and from clients: they must be relative POSIX paths with no
//! empty, `.` or `..` component, no backslash, no NUL or control character, bounded in
//! length, and must not collide with the reserved signature file.

use crate::error::{HubError, PathRefusal, Refusal};

/// The signature file the hub stores in every signed revision.
pub const SIGNATURE_FILE: &str = "model.sig";

/// First path segments the web UI and API use; not available as account names.
const RESERVED: &[&str] = &[
    "api",
    "login",
    "logout",
    "settings",
    "static",
    "audit",
    "admin",
    "new",
    "models",
    "datasets",
    "spaces",
    "search",
    "trust-config.json",
    "signing-key.pem",
    "favicon.ico",
    ".well-known",
];

fn valid_name(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s.len() <= max
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && s.as_bytes()[0].is_ascii_alphanumeric()
        && !s.ends_with('.')
        && !s.contains("..")
}

/// Checks a user or org name.
///
/// # Errors
/// [`Refusal::AccountName`] or [`Refusal::ReservedName`].
pub fn check_account_name(s: &str) -> Result<(), HubError> {
    if !valid_name(s, 39) {
        return Err(Refusal::AccountName(s.to_owned()).into());
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) {
        return Err(Refusal::ReservedName(s.to_owned()).into());
    }
    Ok(())
}

/// Checks a repo name.
///
/// # Errors
/// [`Refusal::RepoName`].
pub fn check_repo_name(s: &str) -> Result<(), HubError> {
    if valid_name(s, 96) {
        Ok(())
    } else {
        Err(Refusal::RepoName(s.to_owned()).into())
    }
}

/// Checks an uploaded file path and returns it unchanged if acceptable.
///
/// # Errors
/// [`Refusal::FilePath`] for traversal, absolute paths, odd characters or the reserved
/// signature file.
pub fn check_file_path(p: &str) -> Result<&str, HubError> {
    let bad = |why: PathRefusal| {
        Err(Refusal::FilePath {
            path: p.to_owned(),
            why,
        }
        .into())
    };
    if p.is_empty() || p.len() > 1024 {
        return bad(PathRefusal::Length);
    }
    if p.starts_with('/') {
        return bad(PathRefusal::Absolute);
    }
    if p.chars().any(|c| c == '\\' || c.is_control()) {
        return bad(PathRefusal::Character);
    }
    for comp in p.split('/') {
        if comp.is_empty() || comp == "." || comp == ".." {
            return bad(PathRefusal::Component);
        }
        if comp.len() > 255 {
            return bad(PathRefusal::ComponentLength);
        }
    }
    if p == SIGNATURE_FILE {
        return bad(PathRefusal::SignatureFile);
    }
    if p == ".git" || p.starts_with(".git/") {
        return bad(PathRefusal::GitMetadata);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_paths() {
        for ok in [
            "a",
            "a/b.bin",
            "weights/naïve ü.bin",
            ".gitattributes",
            "x/.cache/y",
            "a..b",
        ] {
            assert!(check_file_path(ok).is_ok(), "{ok}");
        }
        for (bad, reason) in [
            ("", PathRefusal::Length),
            ("/etc/passwd", PathRefusal::Absolute),
            ("../x", PathRefusal::Component),
            ("a/../../x", PathRefusal::Component),
            ("a//b", PathRefusal::Component),
            ("./a", PathRefusal::Component),
            ("a/.", PathRefusal::Component),
            ("a\\b", PathRefusal::Character),
            ("a\0b", PathRefusal::Character),
            ("a\nb", PathRefusal::Character),
            ("model.sig", PathRefusal::SignatureFile),
            (".git/config", PathRefusal::GitMetadata),
            (".git", PathRefusal::GitMetadata),
            (&"a".repeat(2000), PathRefusal::Length),
            (
                &format!("{}/b", "a".repeat(256)),
                PathRefusal::ComponentLength,
            ),
        ] {
            let err = check_file_path(bad).unwrap_err();
            assert!(
                matches!(&err, HubError::Refused(Refusal::FilePath { path, why }) if path == bad && *why == reason),
                "{bad:?}: {err:?}"
            );
        }
        // The message users see names the path and the rule.
        assert_eq!(
            check_file_path("model.sig").unwrap_err().to_string(),
            "file path \"model.sig\" refused: model.sig is written by the hub"
        );
    }

    #[test]
    fn account_and_repo_names() {
        for ok in ["alice", "acme-corp", "a", "A1_b.c"] {
            assert!(check_account_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-x",
            "a b",
            "api",
            "Login",
            "a..b",
            "x.",
            &"a".repeat(40),
            "é",
        ] {
            assert!(
                matches!(
                    check_account_name(bad),
                    Err(HubError::Refused(
                        Refusal::AccountName(_) | Refusal::ReservedName(_)
                    ))
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            check_account_name("Login"),
            Err(HubError::Refused(Refusal::ReservedName(n))) if n == "Login"
        ));
        assert!(check_repo_name("bert-base.v2").is_ok());
        assert!(matches!(
            check_repo_name("../x"),
            Err(HubError::Refused(Refusal::RepoName(n))) if n == "../x"
        ));
    }
}
