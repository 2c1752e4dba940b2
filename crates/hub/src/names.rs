//! Validation of account names, repo names and repo-relative file paths, and the
//! percent-encoding of file paths in URLs the hub generates.
//!
//! File paths arrive in URLs and from clients. One path is refused ([`check_file_path`])
//! unless it is a relative POSIX path with no empty, `.` or `..` component, bounded in
//! length, in Unicode NFC (the signature covers the exact bytes, so two spellings of one
//! name must not both exist), free of backslashes, control, invisible, bidirectional-control,
//! odd-whitespace, private-use and unassigned characters, and clear of the reserved names:
//! `.git` at any depth, and at the top level `model.sig` (which the hub writes), the git
//! files `model_signing` leaves out of every signature by default (`.gitattributes`,
//! `.gitignore`, `.github`: stock `model_signing verify` skips them, so no signature the
//! hub makes can cover them), and `.cache` (download tools' metadata, which the verify
//! command the hub prints skips). Reserved names match in any letter case and with trailing
//! dots or spaces, as case-insensitive file systems and Windows would store them.
//!
//! The paths of one revision together are refused ([`check_revision_paths`]) when two of
//! them would be one file on such a file system, or one is a file and the other needs it
//! to be a directory.

use std::collections::HashMap;

use hallmark_format::manifest::DEFAULT_GIT_IGNORES;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use unicode_general_category::{GeneralCategory, get_general_category};

use crate::error::{HubError, PathRefusal, Refusal};

/// The signature file the hub stores in every signed revision.
pub const SIGNATURE_FILE: &str = "model.sig";

/// Where download tools (`huggingface_hub`'s `--local-dir`) keep their metadata inside a
/// model directory; the verify command the hub prints ignores it.
pub const DOWNLOAD_CACHE: &str = ".cache";

/// First path segments the web UI and API use; not available as account names.
const RESERVED: &[&str] = &[
    "api",
    "login",
    "logout",
    "settings",
    "static",
    "audit",
    "query",
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

/// Characters a URL path segment keeps as they are (RFC 3986 unreserved); everything
/// else is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

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

/// A repo-relative path as a URL path: each `/`-separated segment percent-encoded.
#[must_use]
pub fn url_path(p: &str) -> String {
    p.split('/')
        .map(|seg| utf8_percent_encode(seg, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// One path component as a case-insensitive file system or Windows would store it:
/// lower case, without trailing dots and spaces.
fn fold(component: &str) -> String {
    component.trim_end_matches(['.', ' ']).to_lowercase()
}

/// Code points that render as nothing but are not of category Cf (from Unicode's
/// `Default_Ignorable_Code_Point`): combining grapheme joiner, Hangul fillers, Khmer
/// inherent vowels, Mongolian and other variation selectors.
fn invisible_mark(c: char) -> bool {
    matches!(
        c,
        '\u{034F}'
            | '\u{115F}'..='\u{1160}'
            | '\u{17B4}'..='\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FFA0}'
            | '\u{E0100}'..='\u{E01EF}'
    )
}

/// The rule a character breaks, if any.
fn character_refusal(c: char) -> Option<PathRefusal> {
    if c == '\\' || c.is_control() {
        return Some(PathRefusal::Character);
    }
    if invisible_mark(c) {
        return Some(PathRefusal::Invisible(c));
    }
    match get_general_category(c) {
        GeneralCategory::Format => Some(PathRefusal::Invisible(c)),
        GeneralCategory::SpaceSeparator if c != ' ' => Some(PathRefusal::Whitespace(c)),
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
            Some(PathRefusal::Whitespace(c))
        }
        GeneralCategory::PrivateUse | GeneralCategory::Unassigned | GeneralCategory::Surrogate => {
            Some(PathRefusal::Unassigned(c))
        }
        _ => None,
    }
}

/// The reserved name a path uses, if any (see the module documentation).
fn reserved_refusal(p: &str) -> Option<PathRefusal> {
    let folded: Vec<String> = p.split('/').map(fold).collect();
    if folded.iter().any(|c| c == ".git") {
        return Some(PathRefusal::GitMetadata);
    }
    let top = folded.first().map(String::as_str).unwrap_or_default();
    if top == SIGNATURE_FILE {
        Some(PathRefusal::SignatureFile)
    } else if DEFAULT_GIT_IGNORES.contains(&top) {
        Some(PathRefusal::Unsigned)
    } else if top == DOWNLOAD_CACHE {
        Some(PathRefusal::DownloadCache)
    } else {
        None
    }
}

/// Checks an uploaded file path and returns it unchanged if acceptable.
///
/// # Errors
/// [`Refusal::FilePath`] naming the path and the [`PathRefusal`] rule it breaks.
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
    if let Some(why) = p.chars().find_map(character_refusal) {
        return bad(why);
    }
    if !unicode_normalization::is_nfc(p) {
        return bad(PathRefusal::NotNfc);
    }
    for comp in p.split('/') {
        if comp.is_empty() || comp == "." || comp == ".." {
            return bad(PathRefusal::Component);
        }
        if comp.len() > 255 {
            return bad(PathRefusal::ComponentLength);
        }
    }
    match reserved_refusal(p) {
        Some(why) => bad(why),
        None => Ok(p),
    }
}

/// Checks the paths of one revision together: no two may fold to the same name
/// ([`PathRefusal::SameName`]), and no file may sit where another path needs a directory
/// ([`PathRefusal::FileAndDirectory`]).
///
/// # Errors
/// [`Refusal::PathConflict`] naming both paths (the first conflict in path order).
pub fn check_revision_paths<'a>(paths: impl IntoIterator<Item = &'a str>) -> Result<(), HubError> {
    let mut sorted: Vec<&str> = paths.into_iter().collect();
    sorted.sort_unstable();
    let key = |p: &str| p.split('/').map(fold).collect::<Vec<_>>();
    let mut files: HashMap<Vec<String>, &str> = HashMap::with_capacity(sorted.len());
    for p in &sorted {
        if let Some(other) = files.insert(key(p), p) {
            return Err(Refusal::PathConflict {
                path: (*p).to_owned(),
                other: other.to_owned(),
                why: PathRefusal::SameName,
            }
            .into());
        }
    }
    for p in &sorted {
        let k = key(p);
        for depth in 1..k.len() {
            if let Some(file) = files.get(&k[..depth]) {
                return Err(Refusal::PathConflict {
                    path: (*p).to_owned(),
                    other: (*file).to_owned(),
                    why: PathRefusal::FileAndDirectory,
                }
                .into());
            }
        }
    }
    Ok(())
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
            "x/.cache/y",
            "x/.github/workflows/ci.yml",
            "x/.gitattributes",
            ".githubx",
            "a..b",
            "model.sig.bak",
            "models.sig",
            "日本語/モデル.bin",
            "a b/c#d?e%f<g\"h",
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
            ("MODEL.SIG", PathRefusal::SignatureFile),
            ("Model.Sig", PathRefusal::SignatureFile),
            ("model.sig.", PathRefusal::SignatureFile),
            ("model.sig /x", PathRefusal::SignatureFile),
            ("model.sig/x", PathRefusal::SignatureFile),
            (".git/config", PathRefusal::GitMetadata),
            (".git", PathRefusal::GitMetadata),
            (".GIT/config", PathRefusal::GitMetadata),
            (".Git./hooks/pre-commit", PathRefusal::GitMetadata),
            ("sub/.git/config", PathRefusal::GitMetadata),
            (".gitattributes", PathRefusal::Unsigned),
            (".gitignore", PathRefusal::Unsigned),
            (".GitIgnore", PathRefusal::Unsigned),
            (".github/hooks/setup.py", PathRefusal::Unsigned),
            (".GITHUB/workflows/x.yml", PathRefusal::Unsigned),
            (
                ".cache/huggingface/download/x.metadata",
                PathRefusal::DownloadCache,
            ),
            (".Cache/x", PathRefusal::DownloadCache),
            ("evil\u{202E}nib.exe", PathRefusal::Invisible('\u{202E}')),
            ("a\u{200B}b", PathRefusal::Invisible('\u{200B}')),
            ("a\u{2066}b", PathRefusal::Invisible('\u{2066}')),
            ("\u{FEFF}a", PathRefusal::Invisible('\u{FEFF}')),
            ("a\u{00AD}b", PathRefusal::Invisible('\u{00AD}')),
            ("a\u{FE0F}", PathRefusal::Invisible('\u{FE0F}')),
            ("a\u{3164}b", PathRefusal::Invisible('\u{3164}')),
            ("a\u{E0041}b", PathRefusal::Invisible('\u{E0041}')),
            ("a\u{00A0}b", PathRefusal::Whitespace('\u{00A0}')),
            ("a\u{3000}b", PathRefusal::Whitespace('\u{3000}')),
            ("a\u{2028}b", PathRefusal::Whitespace('\u{2028}')),
            ("a\u{E000}b", PathRefusal::Unassigned('\u{E000}')),
            ("a\u{FDD0}b", PathRefusal::Unassigned('\u{FDD0}')),
            ("a\u{0378}b", PathRefusal::Unassigned('\u{0378}')),
            ("a\u{0085}b", PathRefusal::Character),
            ("cafe\u{0301}.bin", PathRefusal::NotNfc),
            ("\u{212B}ngstrom", PathRefusal::NotNfc),
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
            "file path \"model.sig\" refused: model.sig is written by the hub (no top-level name may spell it in any case)"
        );
        // Code points are named, and the bidi override is escaped, not echoed.
        assert_eq!(
            check_file_path("a\u{202E}b").unwrap_err().to_string(),
            "file path \"a\\u{202e}b\" refused: invisible or bidirectional-control character U+202E"
        );
        // The NFC spelling of a name refused in NFD is accepted.
        assert!(check_file_path("caf\u{00E9}.bin").is_ok());
    }

    fn conflict(paths: &[&str]) -> Option<(String, String, PathRefusal)> {
        match check_revision_paths(paths.iter().copied()) {
            Ok(()) => None,
            Err(HubError::Refused(Refusal::PathConflict { path, other, why })) => {
                Some((path, other, why))
            }
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn revision_paths_conflict() {
        assert_eq!(conflict(&["a/b", "a/c", "ab", "a.b/c", "b/a"]), None);
        let c = |p: &str, o: &str, w| Some((p.to_owned(), o.to_owned(), w));
        assert_eq!(
            conflict(&["a", "a/b"]),
            c("a/b", "a", PathRefusal::FileAndDirectory)
        );
        assert_eq!(
            conflict(&["x/y/z/w", "x/y"]),
            c("x/y/z/w", "x/y", PathRefusal::FileAndDirectory)
        );
        assert_eq!(
            conflict(&["A/b", "a"]),
            c("A/b", "a", PathRefusal::FileAndDirectory)
        );
        assert_eq!(
            conflict(&["w/a.bin", "W/A.BIN"]),
            c("w/a.bin", "W/A.BIN", PathRefusal::SameName)
        );
        assert_eq!(
            conflict(&["readme", "readme."]),
            c("readme.", "readme", PathRefusal::SameName)
        );
        assert_eq!(
            check_revision_paths(["a", "a/b"]).unwrap_err().to_string(),
            "file path \"a/b\" refused: it needs a directory where the revision has the file \"a\""
        );
    }

    #[test]
    fn url_paths_encode_every_segment() {
        assert_eq!(
            url_path("a b/c#d?e%f<g\"h/ü.bin"),
            "a%20b/c%23d%3Fe%25f%3Cg%22h/%C3%BC.bin"
        );
        assert_eq!(url_path("w/x-y_z.~1"), "w/x-y_z.~1");
        // Valid account and repo names need no encoding: the UI links them as they are.
        for n in ["alice", "acme-corp", "A1_b.c", "bert-base.v2"] {
            assert!(check_repo_name(n).is_ok());
            assert_eq!(url_path(n), n);
        }
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
