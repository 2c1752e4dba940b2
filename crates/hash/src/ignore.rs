//! Ignored paths (OMS `serialization.ignore_paths`; `docs/oms-spec.md` §2.2).

use std::borrow::Cow;
use std::collections::BTreeSet;

/// Model-relative POSIX paths to skip.
///
/// A path is skipped iff it equals an entry or lies under it: a purely lexical,
/// component-wise prefix test, as the reference's `PurePath.is_relative_to`.
/// So `.git` hides `.git/config` but not `.github2` or `sub/.git`. There is no
/// globbing, and entries are not resolved against the file system.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IgnoreSet {
    paths: BTreeSet<String>,
}

impl IgnoreSet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a model-relative POSIX path, normalised (`./a//b/` becomes `a/b`).
    /// Empty paths and `.` (the model root itself) are ignored: ignoring the root
    /// would make every model empty.
    pub fn insert(&mut self, rel_posix_path: &str) {
        let norm = normalize(rel_posix_path);
        if !norm.is_empty() {
            self.paths.insert(norm.into_owned());
        }
    }

    /// Whether `rel_posix_path` equals an entry or lies below one.
    #[must_use]
    pub fn is_ignored(&self, rel_posix_path: &str) -> bool {
        if self.paths.is_empty() {
            return false;
        }
        let p = normalize(rel_posix_path);
        if p.is_empty() {
            return false;
        }
        // Every proper prefix ending at a component boundary, then the path itself.
        p.match_indices('/')
            .any(|(i, _)| p.get(..i).is_some_and(|pre| self.paths.contains(pre)))
            || self.paths.contains(p.as_ref())
    }

    /// Whether `name` is exactly an entry. Enough for a walk that never enters an
    /// ignored directory, given names that are already normal (as a walk builds them).
    pub(crate) fn contains(&self, name: &str) -> bool {
        !self.paths.is_empty() && self.paths.contains(name)
    }

    /// The entries, sorted, as recorded in `serialization.ignore_paths`.
    #[must_use]
    pub fn paths(&self) -> Vec<String> {
        self.paths.iter().cloned().collect()
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether no path is ignored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

impl<S: AsRef<str>> FromIterator<S> for IgnoreSet {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut set = Self::new();
        for p in iter {
            set.insert(p.as_ref());
        }
        set
    }
}

/// Drops empty and `.` components, like `PurePosixPath`. Borrows when already normal.
fn normalize(p: &str) -> Cow<'_, str> {
    let already = !p.is_empty() && p.split('/').all(|c| !c.is_empty() && c != ".");
    if already {
        return Cow::Borrowed(p);
    }
    let parts: Vec<&str> = p
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    Cow::Owned(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_prefix_semantics() {
        let set: IgnoreSet = [".git", "sub/skip.bin"].into_iter().collect();
        assert!(set.is_ignored(".git"));
        assert!(set.is_ignored(".git/config"));
        assert!(set.is_ignored(".git/objects/ab/cdef"));
        assert!(!set.is_ignored(".github2"));
        assert!(!set.is_ignored(".gitx/config"));
        assert!(!set.is_ignored("sub/.git"));
        assert!(!set.is_ignored("sub/.git/config"));
        assert!(set.is_ignored("sub/skip.bin"));
        assert!(!set.is_ignored("sub/skip.bin2"));
        assert!(!set.is_ignored("sub"));
    }

    #[test]
    fn insert_normalises() {
        let mut set = IgnoreSet::new();
        set.insert("./a//b/");
        set.insert("");
        set.insert(".");
        set.insert("./");
        set.insert("z");
        assert_eq!(set.paths(), ["a/b", "z"]);
        assert!(set.is_ignored("a/b/c"));
        assert!(set.is_ignored("./a/b"));
        assert!(!set.is_ignored("a"));
        assert!(!set.is_ignored("."));
    }

    #[test]
    fn empty_set_ignores_nothing() {
        let set = IgnoreSet::new();
        assert!(set.is_empty());
        assert!(!set.is_ignored("x"));
    }
}
