//! What a revision string names: a full commit id, a branch or tag (also spelled
//! `refs/heads/…`, `refs/tags/…`), or a short commit id — an unambiguous prefix of at
//! least [`MIN_SHORT_ID`] hex characters — everywhere a revision is accepted (resolve
//! URLs, repo info, tree, paths-info, commits, the UI).

use axum::http::StatusCode;
use hallmark_store::Repo;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Fewest hex characters a short commit id may have (as git's default abbreviation).
pub const MIN_SHORT_ID: usize = 7;

/// Whether `s` is a full 40-hex commit id.
#[must_use]
pub fn is_commit_id(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether `s` may be a short commit id: [`MIN_SHORT_ID`] to 39 hex characters.
#[must_use]
pub fn is_short_commit_id(s: &str) -> bool {
    (MIN_SHORT_ID..40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The ref name a revision string means (`refs/heads/x` and `refs/tags/x` are `x`).
#[must_use]
pub fn ref_name(rev: &str) -> &str {
    rev.strip_prefix("refs/heads/")
        .or_else(|| rev.strip_prefix("refs/tags/"))
        .unwrap_or(rev)
}

fn not_found(rev: &str) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        code: Some("RevisionNotFound"),
        message: format!("Invalid rev id: {rev}"),
    }
}

/// The full commit id `rev` names in `repo`: a full id as given (lower-cased), else a
/// branch or tag, else the one commit the short id starts.
///
/// # Errors
/// 404 `RevisionNotFound` when nothing matches; 400 when a short id matches several
/// commits (naming how many characters to add).
pub async fn resolve_commit(state: &AppState, repo: &Repo, rev: &str) -> ApiResult<String> {
    if is_commit_id(rev) {
        return Ok(rev.to_ascii_lowercase());
    }
    if let Some(c) = state.meta.resolve_ref(repo.id, ref_name(rev)).await? {
        return Ok(c);
    }
    if !is_short_commit_id(rev) {
        return Err(not_found(rev));
    }
    let found = state.meta.commits_with_prefix(repo.id, rev, 2).await?;
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(not_found(rev)),
        _ => Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            code: Some("AmbiguousRevision"),
            message: format!(
                "short commit id {rev} is ambiguous in {}: several commits start with it; give more characters",
                repo.full_name()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert!(is_commit_id(&"a".repeat(40)));
        assert!(!is_commit_id(&"g".repeat(40)));
        assert!(is_short_commit_id("abcdef0"));
        assert!(!is_short_commit_id("abcdef"));
        assert!(!is_short_commit_id(&"a".repeat(40)));
        assert!(!is_short_commit_id("main123"));
        assert_eq!(ref_name("refs/heads/dev"), "dev");
        assert_eq!(ref_name("refs/tags/v1"), "v1");
        assert_eq!(ref_name("main"), "main");
    }
}
