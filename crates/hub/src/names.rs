//! Validation of account names, repo names and repo-relative file paths.
//!
//! File paths arrive in URLs and from clients: they must be relative POSIX paths with no
//! empty, `.` or `..` component, no backslash, no NUL or control character, bounded in
//! length, and must not collide with the reserved signature file.

use crate::error::HubError;

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
/// [`HubError::Invalid`] naming the rule broken.
pub fn check_account_name(s: &str) -> Result<(), HubError> {
    if !valid_name(s, 39) {
        return Err(HubError::Invalid(format!(
            "invalid name {s:?}: use 1-39 letters, digits, '-', '_' or '.', starting with a letter or digit"
        )));
    }
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) {
        return Err(HubError::Invalid(format!("the name {s:?} is reserved")));
    }
    Ok(())
}

/// Checks a repo name.
///
/// # Errors
/// [`HubError::Invalid`].
pub fn check_repo_name(s: &str) -> Result<(), HubError> {
    if valid_name(s, 96) {
        Ok(())
    } else {
        Err(HubError::Invalid(format!(
            "invalid repo name {s:?}: use 1-96 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// Checks an uploaded file path and returns it unchanged if acceptable.
///
/// # Errors
/// [`HubError::Invalid`] for traversal, absolute paths, odd characters or the reserved
/// signature file.
pub fn check_file_path(p: &str) -> Result<&str, HubError> {
    let bad = |why: &str| Err(HubError::Invalid(format!("file path {p:?} refused: {why}")));
    if p.is_empty() || p.len() > 1024 {
        return bad("empty or longer than 1024 bytes");
    }
    if p.starts_with('/') {
        return bad("absolute path");
    }
    if p.chars().any(|c| c == '\\' || c.is_control()) {
        return bad("backslash or control character");
    }
    for comp in p.split('/') {
        if comp.is_empty() || comp == "." || comp == ".." {
            return bad("empty, '.' or '..' component");
        }
        if comp.len() > 255 {
            return bad("component longer than 255 bytes");
        }
    }
    if p == SIGNATURE_FILE {
        return bad("model.sig is written by the hub");
    }
    if p == ".git" || p.starts_with(".git/") {
        return bad("git metadata is not model content");
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
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/.",
            "a\\b",
            "a\0b",
            "a\nb",
            "model.sig",
            ".git/config",
            ".git",
        ] {
            assert!(check_file_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_file_path(&"a".repeat(2000)).is_err());
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
            assert!(check_account_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_repo_name("bert-base.v2").is_ok());
        assert!(check_repo_name("../x").is_err());
    }
}
