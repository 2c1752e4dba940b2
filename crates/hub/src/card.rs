//! Model cards: `README.md` with YAML front matter.
//!
//! The front matter (between a leading `---` line and the next `---` line) becomes the
//! repo info's `cardData` and fills `tags`; the rest is rendered on the model page as
//! markdown (pulldown-cmark), sanitised by ammonia: no scripts, styles, event-handler
//! attributes, forms or frames, and only `http`, `https` and `mailto` links.
//!
//! A card is untrusted input. Bounds: a README larger than [`MAX_README`] is neither
//! parsed nor rendered; front matter larger than [`MAX_FRONT_MATTER`] is refused before
//! parsing; the YAML parser (serde-saphyr) runs under a [`budget`] of events, nodes,
//! nesting depth, anchors, aliases and replayed alias events, so an alias bomb ("billion
//! laughs") stops after a few thousand events instead of expanding. Parsed cards are kept
//! by the README's SHA-256 (content-addressed, so never stale) in a small cache.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use hallmark_store::{Repo, Revision};
use serde_json::Value;

use crate::state::AppState;

/// The card's file name.
pub const README: &str = "README.md";

/// Largest README.md parsed and rendered.
pub const MAX_README: u64 = 1 << 20;
/// Largest front matter parsed.
pub const MAX_FRONT_MATTER: usize = 64 * 1024;
/// Most tags derived from a card.
pub const MAX_TAGS: usize = 100;
/// Longest tag kept.
pub const MAX_TAG_LEN: usize = 200;
/// Parsed cards kept in memory.
const CACHE_ENTRIES: usize = 512;

/// Why a card's front matter was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    /// The README is larger than [`MAX_README`].
    #[error("README.md is {size} bytes; cards larger than {limit} bytes are not parsed")]
    ReadmeTooLarge {
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The front matter is larger than [`MAX_FRONT_MATTER`].
    #[error("README.md front matter is {size} bytes; at most {limit} are parsed")]
    FrontMatterTooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The README is not UTF-8.
    #[error("README.md is not UTF-8")]
    NotUtf8,
    /// The YAML did not parse, or broke a parser budget (aliases, depth, events…).
    #[error("README.md front matter is not valid YAML: {0}")]
    Yaml(String),
    /// The YAML is not a mapping of names to values.
    #[error("README.md front matter must be a YAML mapping (name: value)")]
    NotMapping,
}

/// A parsed card.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// The front matter as JSON (`None`: none, or refused: see `error`).
    pub data: Option<serde_json::Map<String, Value>>,
    /// The markdown after the front matter.
    pub body: String,
    /// Why the front matter was not used.
    pub error: Option<CardError>,
}

/// Splits `text` into front matter (without the `---` lines) and body. No front matter
/// when the text does not start with a `---` line or the block is not closed.
#[must_use]
pub fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return (Some(&rest[..offset]), &rest[offset + line.len()..]);
        }
        offset += line.len();
    }
    (None, text)
}

/// The parser budget for front matter: generous for real cards (a few hundred lines,
/// `model-index` results), small enough that no input costs more than a few milliseconds.
#[must_use]
pub fn budget() -> Option<serde_saphyr::Budget> {
    serde_saphyr::budget! {
        max_events: 50_000,
        max_aliases: 256,
        max_anchors: 256,
        max_depth: 32,
        max_nodes: 20_000,
        max_documents: 1,
        max_total_scalar_bytes: MAX_FRONT_MATTER,
        max_recorded_anchor_events: 10_000,
        max_recorded_anchor_bytes: MAX_FRONT_MATTER,
        max_merge_keys: 256,
    }
}

/// Parses front matter into a JSON object.
///
/// # Errors
/// [`CardError::FrontMatterTooLarge`], [`CardError::Yaml`] (syntax or budget),
/// [`CardError::NotMapping`].
pub fn parse_front_matter(yaml: &str) -> Result<serde_json::Map<String, Value>, CardError> {
    if yaml.len() > MAX_FRONT_MATTER {
        return Err(CardError::FrontMatterTooLarge {
            size: yaml.len(),
            limit: MAX_FRONT_MATTER,
        });
    }
    if yaml.trim().is_empty() {
        return Ok(serde_json::Map::new());
    }
    let options = serde_saphyr::options! {
        budget: budget(),
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 10_000,
            max_replay_stack_depth: 16,
        },
    };
    let v: Value = serde_saphyr::from_str_with_options(yaml, options).map_err(|e| {
        let mut m = e.to_string();
        m.truncate(500);
        CardError::Yaml(m)
    })?;
    match v {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(serde_json::Map::new()),
        _ => Err(CardError::NotMapping),
    }
}

/// Parses a whole README.md.
#[must_use]
pub fn parse(bytes: &[u8]) -> Card {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Card {
            data: None,
            body: String::new(),
            error: Some(CardError::NotUtf8),
        };
    };
    let (fm, body) = split_front_matter(text);
    let (data, error) = match fm.map(parse_front_matter) {
        None => (None, None),
        Some(Ok(m)) => (Some(m), None),
        Some(Err(e)) => (None, Some(e)),
    };
    Card {
        data,
        body: body.to_owned(),
        error,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The repo tags a card gives, as the HF hub derives them: its `tags`, `library_name`,
/// `pipeline_tag`, languages, then `license:…`, `dataset:…`, `base_model:…`. At most
/// [`MAX_TAGS`], each at most [`MAX_TAG_LEN`] bytes, no duplicates.
#[must_use]
pub fn tags(data: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |t: String| {
        let t = t.trim().to_owned();
        if !t.is_empty() && t.len() <= MAX_TAG_LEN && out.len() < MAX_TAGS && !out.contains(&t) {
            out.push(t);
        }
    };
    for k in ["tags", "library_name", "pipeline_tag", "language"] {
        strings(data.get(k)).into_iter().for_each(&mut push);
    }
    for (k, prefix) in [
        ("license", "license:"),
        ("datasets", "dataset:"),
        ("base_model", "base_model:"),
    ] {
        for v in strings(data.get(k)) {
            push(format!("{prefix}{v}"));
        }
    }
    out
}

/// Renders markdown to sanitised HTML.
#[must_use]
pub fn render_markdown(md: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut raw = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(md, opts));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&raw)
        .to_string()
}

/// The card of a revision (its top-level `README.md`), or `None` when it has none. A
/// README whose stored bytes cannot be read or verified counts as none (logged).
pub async fn for_revision(state: &AppState, repo: &Repo, rev: &Revision) -> Option<Arc<Card>> {
    let file = match state.meta.revision_file(repo.id, &rev.commit, README).await {
        Ok(f) => f?,
        Err(e) => {
            tracing::warn!(repo = %repo.full_name(), error = %e, "model card lookup failed");
            return None;
        }
    };
    if file.size > MAX_README {
        return Some(Arc::new(Card {
            data: None,
            body: String::new(),
            error: Some(CardError::ReadmeTooLarge {
                size: file.size,
                limit: MAX_README,
            }),
        }));
    }
    if let Some(c) = cache()
        .lock()
        .ok()
        .and_then(|c| c.get(&file.sha256).cloned())
    {
        return Some(c);
    }
    let bytes = match crate::integrity::ensure_verified(state, repo, rev, &file).await {
        Ok(()) => state.blobs.read_all(&file.sha256).await.ok(),
        Err(_) => None,
    };
    let Some(bytes) = bytes else {
        tracing::warn!(repo = %repo.full_name(), commit = %rev.commit, "model card unreadable or altered: not shown");
        return None;
    };
    Some(cached(&file.sha256, || parse(&bytes)))
}

/// The card data and tags of a repo's head (for listings).
pub async fn head_tags(state: &AppState, repo: &Repo) -> Vec<String> {
    let Some(head) = &repo.head else {
        return Vec::new();
    };
    let Ok(Some(rev)) = state.meta.revision(repo.id, head).await else {
        return Vec::new();
    };
    for_revision(state, repo, &rev)
        .await
        .and_then(|c| c.data.as_ref().map(tags))
        .unwrap_or_default()
}

fn cache() -> &'static Mutex<HashMap<String, Arc<Card>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Card>>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The card with content `sha256`, parsed by `load` on a miss.
pub fn cached(sha256: &str, load: impl FnOnce() -> Card) -> Arc<Card> {
    if let Ok(c) = cache().lock()
        && let Some(card) = c.get(sha256)
    {
        return Arc::clone(card);
    }
    let card = Arc::new(load());
    if let Ok(mut c) = cache().lock() {
        if c.len() >= CACHE_ENTRIES {
            c.clear();
        }
        c.insert(sha256.to_owned(), Arc::clone(&card));
    }
    card
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_split() {
        assert_eq!(
            split_front_matter("---\na: 1\n---\n# T\n"),
            (Some("a: 1\n"), "# T\n")
        );
        assert_eq!(split_front_matter("# T\n"), (None, "# T\n"));
        assert_eq!(split_front_matter("---\na: 1\n"), (None, "---\na: 1\n"));
        assert_eq!(
            split_front_matter("---\r\na: 1\r\n---\r\nx"),
            (Some("a: 1\r\n"), "x")
        );
    }

    #[test]
    fn card_data_and_tags() {
        let c = parse(
            b"---\nlicense: mit\ntags: [vision, safe]\nbase_model: org/base\ndatasets:\n  - d1\npipeline_tag: image-classification\nlibrary_name: transformers\n---\n# Hi\n",
        );
        let d = c.data.unwrap();
        assert_eq!(d["license"], "mit");
        assert_eq!(
            tags(&d),
            [
                "vision",
                "safe",
                "transformers",
                "image-classification",
                "license:mit",
                "dataset:d1",
                "base_model:org/base"
            ]
        );
        assert_eq!(c.body, "# Hi\n");
    }

    #[test]
    fn bad_front_matter() {
        assert_eq!(parse(b"---\n- a\n---\n").error, Some(CardError::NotMapping));
        assert!(matches!(
            parse(b"---\na: [\n---\n").error,
            Some(CardError::Yaml(_))
        ));
        let big = format!("---\na: \"{}\"\n---\n", "x".repeat(MAX_FRONT_MATTER));
        assert!(matches!(
            parse(big.as_bytes()).error,
            Some(CardError::FrontMatterTooLarge { .. })
        ));
        assert_eq!(parse(&[0xff, 0xfe]).error, Some(CardError::NotUtf8));
    }
}
