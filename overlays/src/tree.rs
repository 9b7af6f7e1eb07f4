//! The planned output: relative path → file bytes, entirely in memory.

use std::collections::BTreeMap;

/// A generated repository before it touches disk. Paths are relative, `/`-separated, sorted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputTree {
    files: BTreeMap<String, Vec<u8>>,
}

impl OutputTree {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file; a second file at the same path is a planner bug, reported as such.
    pub fn insert(&mut self, path: impl Into<String>, bytes: impl Into<Vec<u8>>) {
        let path = path.into();
        debug_assert!(is_safe_relative(&path), "unsafe output path {path}");
        let previous = self.files.insert(path.clone(), bytes.into());
        debug_assert!(previous.is_none(), "two planned files at {path}");
    }

    pub fn get(&self, path: &str) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// The paths from `start` on, in order (those under a folder `dir/` come first from
    /// `paths_from("dir/")`).
    pub fn paths_from<'a>(&'a self, start: &str) -> impl Iterator<Item = &'a str> + 'a {
        use std::ops::Bound;
        self.files
            .range::<str, _>((Bound::Included(start), Bound::Unbounded))
            .map(|(k, _)| k.as_str())
    }

    pub fn extend(&mut self, other: OutputTree) {
        for (k, v) in other.files {
            self.insert(k, v);
        }
    }

    pub fn total_bytes(&self) -> usize {
        self.files.values().map(Vec::len).sum()
    }
}

/// A relative path with no `..`, no empty or hidden-root segment and no backslash: every planned
/// path stays inside the output folder.
pub fn is_safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}
