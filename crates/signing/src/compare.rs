//! Comparing the signed manifest with the model on disk, reporting every difference.

use std::collections::HashMap;
use std::fmt;

use hallmark_format::{Resource, Resources};
use serde::Serialize;

/// One way the model on disk differs from what was signed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// Signed, but not on disk (or excluded on disk).
    Missing {
        /// Resource name.
        name: String,
        /// Why it was not found, when known (e.g. excluded by an ignore rule).
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// On disk, but not signed.
    Extra {
        /// Resource name.
        name: String,
    },
    /// Present on both sides with different content.
    Modified {
        /// Resource name.
        name: String,
        /// `algorithm:hex` as signed.
        signed: String,
        /// `algorithm:hex` as found.
        actual: String,
    },
}

impl Difference {
    /// The resource this difference is about.
    #[must_use]
    pub fn name(&self) -> &str {
        match self {
            Self::Missing { name, .. } | Self::Extra { name } | Self::Modified { name, .. } => name,
        }
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { name, note: None } => {
                write!(f, "missing:  {name} (signed, not found in the model)")
            }
            Self::Missing {
                name,
                note: Some(n),
            } => write!(f, "missing:  {name} ({n})"),
            Self::Extra { name } => write!(f, "extra:    {name} (in the model, not signed)"),
            Self::Modified {
                name,
                signed,
                actual,
            } => {
                write!(
                    f,
                    "modified: {name}\n            signed:  {signed}\n            on disk: {actual}"
                )
            }
        }
    }
}

fn label(r: &Resource<'_>) -> String {
    format!("{}:{}", r.algorithm, hex::encode(r.digest))
}

/// What identifies a resource: its path and, for a shard, its range.
type Key<'a> = (&'a str, Option<(u64, u64)>);

fn key<'a>(r: &Resource<'a>) -> Key<'a> {
    (r.path, r.range)
}

/// Compares signed and actual resources as maps keyed by name. Both the algorithm
/// string and the digest bytes must match. With `ignore_extra`, resources on disk that
/// were not signed are accepted (`--ignore-unsigned-files`). Output is sorted by name.
#[must_use]
pub fn compare(signed: &Resources, actual: &Resources, ignore_extra: bool) -> Vec<Difference> {
    // The usual outcome, in the usual order (both lists in reference order): equal
    // entry by entry means no resource is missing, extra or modified.
    if signed.len() == actual.len() && signed.iter().zip(actual).all(|(s, a)| s == a) {
        return Vec::new();
    }
    let actual_map: HashMap<Key<'_>, Resource<'_>> = actual.iter().map(|r| (key(&r), r)).collect();
    let signed_map: HashMap<Key<'_>, Resource<'_>> = signed.iter().map(|r| (key(&r), r)).collect();
    let mut out = Vec::new();
    for s in signed {
        match actual_map.get(&key(&s)) {
            None => out.push((
                s.name(),
                Difference::Missing {
                    name: s.to_string(),
                    note: None,
                },
            )),
            Some(a) if a.algorithm != s.algorithm || a.digest != s.digest => out.push((
                s.name(),
                Difference::Modified {
                    name: s.to_string(),
                    signed: label(&s),
                    actual: label(a),
                },
            )),
            Some(_) => {}
        }
    }
    // With `ignore_extra`, only files that were not signed at all may be extra: a new
    // shard of a signed file (bytes appended, or a gap in the signed ranges) is a change
    // to a signed file, never an "unsigned file".
    let signed_paths: std::collections::HashSet<&str> = signed.iter().map(|r| r.path).collect();
    for a in actual {
        if ignore_extra && !signed_paths.contains(a.path) {
            continue;
        }
        if !signed_map.contains_key(&key(&a)) {
            out.push((
                a.name(),
                Difference::Extra {
                    name: a.to_string(),
                },
            ));
        }
    }
    out.sort_by(|a, b| a.0.reference_cmp(&b.0));
    out.into_iter().map(|(_, d)| d).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallmark_format::{ResourceDigest, ResourceName};

    fn list<const N: usize>(v: [ResourceDigest; N]) -> Resources {
        Resources::try_from(v.to_vec()).unwrap()
    }

    fn r(name: &str, d: u8) -> ResourceDigest {
        ResourceDigest {
            name: ResourceName::File(name.into()),
            algorithm: "sha256".into(),
            digest: vec![d; 32],
        }
    }

    #[test]
    fn reports_every_kind_of_difference() {
        let signed = list([r("a", 1), r("b", 2), r("c", 3)]);
        let actual = list([r("a", 1), r("b", 9), r("d", 4)]);
        let diffs = compare(&signed, &actual, false);
        assert_eq!(diffs.len(), 3);
        assert!(matches!(&diffs[0], Difference::Modified { name, .. } if name == "b"));
        assert!(matches!(&diffs[1], Difference::Missing { name, .. } if name == "c"));
        assert!(matches!(&diffs[2], Difference::Extra { name } if name == "d"));
        assert_eq!(compare(&signed, &actual, true).len(), 2);
    }

    #[test]
    fn new_shards_of_a_signed_file_are_never_ignored() {
        let shard = |n: &str, d: u8| ResourceDigest {
            name: ResourceName::parse_shard(n).unwrap(),
            algorithm: "sha256-sharded-8".into(),
            digest: vec![d; 32],
        };
        let signed = list([shard("w:0:8", 1)]);
        let actual = list([shard("w:0:8", 1), shard("w:8:12", 2), shard("other:0:8", 3)]);
        let diffs = compare(&signed, &actual, true);
        assert_eq!(diffs.len(), 1, "{diffs:?}");
        assert!(matches!(&diffs[0], Difference::Extra { name } if name == "w:8:12"));
    }

    #[test]
    fn algorithm_strings_must_match_exactly() {
        let mut other = r("a", 1);
        other.algorithm = "SHA256".into();
        assert_eq!(compare(&list([r("a", 1)]), &list([other]), false).len(), 1);
    }
}
