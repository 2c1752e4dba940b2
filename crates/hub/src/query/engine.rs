//! Answering queries from the store alone (the API, the UI, incidents and the
//! benchmark call these): identity patterns under a compile and match budget, and the
//! transitive closure over fine-tuned-from links.

use std::collections::{HashMap, HashSet};

use hallmark_store::{ClaimRefKind, MetaStore, QueryHit, SignatureQuery, Visibility};
use thiserror::Error;

use super::refs::normalise;
use crate::error::ApiResult;

/// Longest identity pattern accepted, in bytes.
pub const MAX_PATTERN: usize = 256;
/// Compiled size budget of an identity pattern (`regex-lite`'s `size_limit`), bytes.
pub const PATTERN_SIZE_LIMIT: usize = 64 * 1024;
/// Most distinct signers a pattern is matched against.
pub const MAX_SIGNERS: u32 = 100_000;
/// Most signers a pattern may select (each becomes a bound parameter).
pub const MAX_MATCHED: usize = 2_000;
/// Most fine-tuned-from generations followed.
pub const MAX_DEPTH: u32 = 16;
/// Default and largest number of rows a query returns.
pub const DEFAULT_LIMIT: u32 = 1_000;

/// Why a query was refused (400).
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryRefusal {
    /// The identity pattern is longer than [`MAX_PATTERN`].
    #[error("identity_regex refused: {len} bytes exceed the limit of {MAX_PATTERN}")]
    PatternTooLong {
        /// Its length.
        len: usize,
    },
    /// The identity pattern does not compile within [`PATTERN_SIZE_LIMIT`].
    #[error("identity_regex refused: {why}")]
    Pattern {
        /// The compiler's words (syntax error, or the size limit).
        why: String,
    },
    /// The pattern selects more than [`MAX_MATCHED`] signers.
    #[error("identity_regex refused: it matches more than {MAX_MATCHED} signers; narrow it")]
    TooBroad,
    /// A time is not RFC 3339.
    #[error("{field} refused: {value:?} is not an RFC 3339 time")]
    Time {
        /// The parameter.
        field: &'static str,
        /// What was sent.
        value: String,
    },
    /// No selector, or more than one.
    #[error("pass exactly one of {expected}")]
    Selector {
        /// The selectors accepted.
        expected: &'static str,
    },
}

impl From<QueryRefusal> for crate::error::ApiError {
    fn from(e: QueryRefusal) -> Self {
        Self::bad_request(e.to_string())
    }
}

/// Compiles an identity pattern (anchored: it must match the whole identity) under
/// [`MAX_PATTERN`] and [`PATTERN_SIZE_LIMIT`]. `regex-lite` matches in time linear in
/// the input for a pattern of bounded size, so a pathological pattern costs at most
/// its size times the signers' length.
///
/// # Errors
/// [`QueryRefusal::PatternTooLong`], [`QueryRefusal::Pattern`].
pub fn identity_pattern(pattern: &str) -> Result<regex_lite::Regex, QueryRefusal> {
    if pattern.len() > MAX_PATTERN {
        return Err(QueryRefusal::PatternTooLong { len: pattern.len() });
    }
    regex_lite::RegexBuilder::new(&format!("^(?:{pattern})$"))
        .size_limit(PATTERN_SIZE_LIMIT)
        .nest_limit(32)
        .build()
        .map_err(|e| QueryRefusal::Pattern {
            why: e.to_string().replace('\n', " "),
        })
}

/// Signers matching `re` (of `issuer`, when given).
///
/// # Errors
/// [`QueryRefusal::TooBroad`]; storage failures.
pub async fn matching_signers(
    meta: &dyn MetaStore,
    re: &regex_lite::Regex,
    issuer: Option<&str>,
) -> ApiResult<Vec<String>> {
    let all = meta.claim_signers(issuer, MAX_SIGNERS).await?;
    let matched: Vec<String> = all.into_iter().filter(|s| re.is_match(s)).collect();
    if matched.len() > MAX_MATCHED {
        return Err(QueryRefusal::TooBroad.into());
    }
    Ok(matched)
}

/// Signatures by identity (exact or pattern) and/or issuer in a window.
///
/// # Errors
/// As [`matching_signers`]; storage failures.
pub async fn signatures(
    meta: &dyn MetaStore,
    mut q: SignatureQuery,
    pattern: Option<&regex_lite::Regex>,
    vis: Visibility,
) -> ApiResult<Vec<QueryHit>> {
    if let Some(re) = pattern {
        let mut ids = matching_signers(meta, re, q.issuer.as_deref()).await?;
        ids.extend(q.identities.take().unwrap_or_default());
        q.identities = Some(ids);
    }
    Ok(meta.query_signatures(&q, vis).await?)
}

/// A revision found by [`closure`]: the hit, how many fine-tuned-from links away from a
/// revision naming the value it is, and through which base revision (`owner/name@commit`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The revision and the claim cited.
    pub hit: QueryHit,
    /// 0: its own claim names the value.
    pub depth: u32,
    /// The base revision it was fine-tuned from (depth > 0).
    pub via: Option<String>,
}

/// The names a revision is known by as a base model: `owner/name`, its hub purl with
/// and without the commit.
fn model_names(repo: &str, commit: &str) -> [String; 3] {
    let repo = repo.to_ascii_lowercase();
    [
        format!("pkg:huggingface/{repo}@{commit}"),
        format!("pkg:huggingface/{repo}"),
        repo,
    ]
}

/// Revisions whose claims name `value` as `kind`, and (unless `direct`) every revision
/// fine-tuned from one of them, transitively ([`MAX_DEPTH`] generations), at most `limit`.
///
/// # Errors
/// Storage failures.
pub async fn closure(
    meta: &dyn MetaStore,
    kind: ClaimRefKind,
    value: &str,
    direct: bool,
    vis: Visibility,
    limit: u32,
) -> ApiResult<Vec<Found>> {
    let limit = limit.clamp(1, DEFAULT_LIMIT);
    let mut seen: HashSet<(i64, String)> = HashSet::new();
    let mut out: Vec<Found> = Vec::new();
    let first = meta
        .query_refs(kind, &[normalise(value)], vis, limit)
        .await?;
    let mut frontier = Vec::new();
    for hit in first {
        if seen.insert((hit.repo_id, hit.revision.clone())) {
            frontier.push((hit.repo_id, hit.repo.clone(), hit.revision.clone()));
            out.push(Found {
                hit,
                depth: 0,
                via: None,
            });
        }
    }
    let mut depth = 0;
    while !direct && !frontier.is_empty() && depth < MAX_DEPTH && out.len() < limit as usize {
        depth += 1;
        let mut names: HashMap<String, String> = HashMap::new();
        for (_, repo, commit) in &frontier {
            for n in model_names(repo, commit) {
                names.insert(n, format!("{repo}@{commit}"));
            }
        }
        let keys: Vec<(i64, String)> = frontier.iter().map(|(r, _, c)| (*r, c.clone())).collect();
        for (repo_id, commit, digest) in meta.model_refs(&keys).await? {
            if let Some((_, repo, _)) = frontier
                .iter()
                .find(|(r, _, c)| *r == repo_id && *c == commit)
            {
                names.insert(digest, format!("{repo}@{commit}"));
            }
        }
        let values: Vec<String> = names.keys().cloned().collect();
        // Rows for revisions already found come back too: ask for as many more as were
        // found, so that they do not take the room of new ones.
        let room = limit - u32::try_from(out.len()).unwrap_or(limit);
        let ask = room.saturating_add(u32::try_from(seen.len()).unwrap_or(u32::MAX));
        let next = meta
            .query_refs(ClaimRefKind::BaseModel, &values, vis, ask)
            .await?;
        frontier.clear();
        for hit in next {
            if out.len() >= limit as usize {
                break;
            }
            if seen.insert((hit.repo_id, hit.revision.clone())) {
                frontier.push((hit.repo_id, hit.repo.clone(), hit.revision.clone()));
                let via = names.get(&hit.matched).cloned();
                out.push(Found { hit, depth, via });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_are_anchored_and_bounded() {
        let re = identity_pattern("https://hub/(alice|bob)").unwrap();
        assert!(re.is_match("https://hub/alice"));
        assert!(!re.is_match("https://hub/alice2"));
        assert!(matches!(
            identity_pattern(&"a".repeat(MAX_PATTERN + 1)),
            Err(QueryRefusal::PatternTooLong { .. })
        ));
        // A pattern whose compiled program is enormous is refused, not built.
        assert!(matches!(
            identity_pattern("((((a{100}){100}){100}){100})"),
            Err(QueryRefusal::Pattern { .. })
        ));
        assert!(matches!(
            identity_pattern("(unclosed"),
            Err(QueryRefusal::Pattern { .. })
        ));
    }
}
