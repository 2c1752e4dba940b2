//! Resource identifiers: model-relative POSIX paths and `path:start:end` shard names
//! (OMS spec §6.1.2; reference behaviour in `docs/oms-spec.md` §2.3–§2.4).

use std::cmp::Ordering;
use std::fmt;

use crate::error::{FormatError, NameRefusal};

/// The identifier a single-file model's only resource carries in reference bundles.
pub const SINGLE_FILE_NAME: &str = ".";

/// What one manifest entry covers: a whole file or a byte range of one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResourceName {
    /// A whole file, named by its model-relative POSIX path (or `"."` for a single-file model).
    File(String),
    /// The byte range `[start, end)` of a file.
    Shard {
        /// Model-relative POSIX path of the file.
        path: String,
        /// First byte (inclusive).
        start: u64,
        /// End (exclusive).
        end: u64,
    },
}

impl ResourceName {
    /// The file path this resource belongs to.
    #[must_use]
    pub fn path(&self) -> &str {
        match self {
            Self::File(p) | Self::Shard { path: p, .. } => p,
        }
    }

    /// Parses a `files` identifier, normalising it the way the reference's
    /// `PurePosixPath` does (`./a//b` is `a/b`), and rejecting anything that could
    /// point outside the model: absolute paths, `..`, empty names, NUL and backslashes.
    pub fn parse_file(name: &str) -> Result<Self, FormatError> {
        Ok(Self::File(normalize_path(name)?))
    }

    /// Parses a `shards` identifier `path:start:end`. The last two `:`-separated
    /// fields are the offsets, so a path may itself contain `:`.
    pub fn parse_shard(name: &str) -> Result<Self, FormatError> {
        let bad = |reason| FormatError::BadResourceName {
            name: name.to_owned(),
            reason,
        };
        let mut parts = name.rsplitn(3, ':');
        let end = parts.next().ok_or_else(|| bad(NameRefusal::ShardSyntax))?;
        let start = parts.next().ok_or_else(|| bad(NameRefusal::ShardSyntax))?;
        let path = parts.next().ok_or_else(|| bad(NameRefusal::ShardSyntax))?;
        let start: u64 = parse_offset(start).ok_or_else(|| bad(NameRefusal::StartOffset))?;
        let end: u64 = parse_offset(end).ok_or_else(|| bad(NameRefusal::EndOffset))?;
        if end <= start {
            return Err(bad(NameRefusal::EmptyShard));
        }
        Ok(Self::Shard {
            path: normalize_path(path)?,
            start,
            end,
        })
    }

    /// Compares two names in the reference's canonical order: path components
    /// compared one by one (so `/` sorts below every other byte), then numeric offsets.
    #[must_use]
    pub fn reference_cmp(&self, other: &Self) -> Ordering {
        compare_paths(self.path(), other.path()).then_with(|| match (self, other) {
            (
                Self::Shard {
                    start: a, end: ae, ..
                },
                Self::Shard {
                    start: b, end: be, ..
                },
            ) => a.cmp(b).then(ae.cmp(be)),
            (Self::File(_), Self::Shard { .. }) => Ordering::Less,
            (Self::Shard { .. }, Self::File(_)) => Ordering::Greater,
            (Self::File(_), Self::File(_)) => Ordering::Equal,
        })
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(p) => f.write_str(p),
            Self::Shard { path, start, end } => write!(f, "{path}:{start}:{end}"),
        }
    }
}

fn parse_offset(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Component-wise comparison of two POSIX paths, each component by code point
/// (equivalently: byte order of UTF-8 with `/` below every other byte, which is how
/// it is computed: sorting tens of thousands of names is on the signing path).
#[must_use]
pub fn compare_paths(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).find(|(x, y)| x != y) {
        Some((&x, &y)) => separator_lowest(x).cmp(&separator_lowest(y)),
        None => a.len().cmp(&b.len()),
    }
}

/// A byte's rank when `/` sorts below every other byte.
fn separator_lowest(b: u8) -> u16 {
    if b == b'/' { 0 } else { u16::from(b) + 1 }
}

/// Normalises a model-relative POSIX path as `PurePosixPath` would and rejects
/// paths that are unsafe to join to a model root.
pub fn normalize_path(name: &str) -> Result<String, FormatError> {
    check_path(name).map_err(|reason| FormatError::BadResourceName {
        name: name.to_owned(),
        reason,
    })
}

/// [`normalize_path`], returning only why a path is refused.
pub(crate) fn check_path(name: &str) -> Result<String, NameRefusal> {
    if name == SINGLE_FILE_NAME {
        return Ok(name.to_owned());
    }
    if name.is_empty() {
        return Err(NameRefusal::Empty);
    }
    if name.starts_with('/') {
        return Err(NameRefusal::Absolute);
    }
    if name.contains('\0') {
        return Err(NameRefusal::Nul);
    }
    if name.contains('\\') {
        return Err(NameRefusal::Backslash);
    }
    if name.split('/').all(|c| !matches!(c, "" | "." | "..")) {
        // Already normal (the usual case): nothing to drop.
        return Ok(name.to_owned());
    }
    let mut out: Vec<&str> = Vec::new();
    for comp in name.split('/') {
        match comp {
            "" | "." => {}
            ".." => return Err(NameRefusal::DotDot),
            c => out.push(c),
        }
    }
    if out.is_empty() {
        return Err(NameRefusal::NoFile);
    }
    Ok(out.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_order_puts_directory_separator_lowest() {
        let mut names = [
            "layers.bin",
            "layers-extra/b.bin",
            "layers/a.bin",
            "a0",
            "a.b",
            "a-b",
            "a/b",
        ]
        .map(|s| ResourceName::File(s.to_owned()));
        names.sort_by(ResourceName::reference_cmp);
        let got: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(
            got,
            [
                "a/b",
                "a-b",
                "a.b",
                "a0",
                "layers/a.bin",
                "layers-extra/b.bin",
                "layers.bin"
            ]
        );
    }

    #[test]
    fn compare_paths_is_component_wise() {
        let alphabet = ["a", "b", "/", "-", ".", "\0", "é", "ÿ", "z0", "~"];
        // Every string of up to three symbols, pairwise.
        let mut names = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = names
                .iter()
                .flat_map(|n| alphabet.iter().map(move |s| format!("{n}{s}")))
                .collect();
            names.extend(longer);
        }
        names.sort();
        names.dedup();
        for a in &names {
            for b in &names {
                assert_eq!(
                    compare_paths(a, b),
                    a.split('/').cmp(b.split('/')),
                    "{a:?} vs {b:?}"
                );
            }
        }
    }

    #[test]
    fn shard_offsets_sort_numerically() {
        let mut names = [
            ResourceName::parse_shard("w:16:24").unwrap(),
            ResourceName::parse_shard("w:8:16").unwrap(),
            ResourceName::parse_shard("w:0:8").unwrap(),
        ];
        names.sort_by(ResourceName::reference_cmp);
        let got: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(got, ["w:0:8", "w:8:16", "w:16:24"]);
    }

    #[test]
    fn shard_path_may_contain_colons() {
        let n = ResourceName::parse_shard("a:b.bin:0:10").unwrap();
        assert_eq!(n.path(), "a:b.bin");
    }

    #[test]
    fn unsafe_names_are_rejected() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a\\b",
            "a\0b",
            "./",
            "shard:x:1",
        ] {
            assert!(
                ResourceName::parse_file(bad).is_err() || bad == "shard:x:1",
                "{bad:?}"
            );
        }
        assert!(ResourceName::parse_shard("a:1:1").is_err());
        assert!(ResourceName::parse_shard("a:x:1").is_err());
        assert!(ResourceName::parse_shard("a:1").is_err());
        assert!(ResourceName::parse_shard("a:-1:2").is_err());
    }

    #[test]
    fn names_are_normalised_like_purepath() {
        assert_eq!(normalize_path("./config.json").unwrap(), "config.json");
        assert_eq!(normalize_path("a//b/").unwrap(), "a/b");
        assert_eq!(normalize_path(".").unwrap(), ".");
    }
}
