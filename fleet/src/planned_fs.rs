//! A planned tree ([`OutputTree`]) read in place as the renderer's [`FileSystem`], rooted at a
//! folder: no copy of its bytes and no per-component path walk (paths are looked up as
//! `/`-separated strings). Planned trees hold files only, no symbolic links; folders are the
//! prefixes of their paths.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use edgefleet_overlays::tree::OutputTree;
use kustomize::fs::FileSystem;

/// `tree` as a filesystem whose files sit under the absolute folder `root`.
pub struct PlannedFs {
    root: PathBuf,
    tree: Arc<OutputTree>,
}

impl PlannedFs {
    pub fn new(tree: Arc<OutputTree>, root: &Path) -> PlannedFs {
        PlannedFs {
            root: lexical(root).unwrap_or_else(|| PathBuf::from("/")),
            tree,
        }
    }

    /// The path under the root as the tree names it (`""` for the root itself), or `None` for
    /// a path outside the root.
    fn key(&self, path: &Path) -> Option<String> {
        let absolute = lexical(path)?;
        let rest = absolute.strip_prefix(&self.root).ok()?;
        let parts: Vec<&str> = rest
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect::<Option<_>>()?;
        Some(parts.join("/"))
    }

    fn dir_key(&self, key: &str) -> bool {
        if key.is_empty() {
            return true;
        }
        let prefix = format!("{key}/");
        self.tree
            .paths_from(&prefix)
            .next()
            .is_some_and(|p| p.starts_with(&prefix))
    }

    /// Whether `path` is a folder holding the root (`/`, `/repo` for a root `/repo/out`).
    fn above_root(&self, path: &Path) -> bool {
        lexical(path).is_some_and(|p| self.root.starts_with(&p))
    }
}

/// `path` made absolute (from `/`) with `.` and `..` resolved lexically.
fn lexical(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir | Component::Prefix(_) => out = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(n) => out.push(n),
        }
    }
    Some(out)
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file or directory", path.display()),
    )
}

impl FileSystem for PlannedFs {
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        if self.is_dir(path) || self.is_file(path) {
            lexical(path).ok_or_else(|| not_found(path))
        } else {
            Err(not_found(path))
        }
    }

    fn is_dir(&self, path: &Path) -> bool {
        match self.key(path) {
            Some(k) => self.dir_key(&k),
            None => self.above_root(path),
        }
    }

    fn is_file(&self, path: &Path) -> bool {
        self.key(path)
            .is_some_and(|k| !k.is_empty() && self.tree.get(&k).is_some())
    }

    fn file_len(&self, path: &Path) -> io::Result<u64> {
        self.key(path)
            .and_then(|k| self.tree.get(&k))
            .map(|b| b.len() as u64)
            .ok_or_else(|| not_found(path))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.key(path)
            .and_then(|k| self.tree.get(&k))
            .map(<[u8]>::to_vec)
            .ok_or_else(|| not_found(path))
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        let Some(key) = self.key(path) else {
            if self.above_root(path) {
                // The one entry of a folder above the root leads towards it.
                let base = lexical(path).ok_or_else(|| not_found(path))?;
                let next = self
                    .root
                    .strip_prefix(&base)
                    .ok()
                    .and_then(|r| r.components().next());
                return Ok(next.map(|c| base.join(c)).into_iter().collect());
            }
            return Err(not_found(path));
        };
        if !self.dir_key(&key) {
            return Err(not_found(path));
        }
        let prefix = if key.is_empty() {
            String::new()
        } else {
            format!("{key}/")
        };
        let base = lexical(path).ok_or_else(|| not_found(path))?;
        let mut names: Vec<&str> = Vec::new();
        for p in self.tree.paths_from(&prefix) {
            let Some(rest) = p.strip_prefix(&prefix) else {
                break;
            };
            let name = rest.split('/').next().unwrap_or(rest);
            if names.last() != Some(&name) {
                names.push(name);
            }
        }
        // Files and folders of one name sort apart in the tree (`a/x` after `a.yaml`): dedupe.
        names.sort_unstable();
        names.dedup();
        Ok(names.into_iter().map(|n| base.join(n)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same tree as a [`MemoryFs`] (the reference) and a [`PlannedFs`] give the same
    /// answers, and the same render.
    #[test]
    fn answers_as_a_memory_filesystem_of_the_same_tree() {
        let mut tree = OutputTree::new();
        tree.insert("a.yaml", b"x: 1\n".to_vec());
        tree.insert("a/b/c.yaml", b"y: 2\n".to_vec());
        tree.insert("a/kustomization.yaml", b"resources: [b/c.yaml]\n".to_vec());
        tree.insert("a-b/d.yaml", b"z: 3\n".to_vec());
        let root = Path::new("/repo/out");
        let memory = crate::memory_fs(&tree, root);
        let planned = PlannedFs::new(Arc::new(tree), root);
        for p in [
            "/",
            "/repo",
            "/repo/out",
            "/repo/out/a",
            "/repo/out/a.yaml",
            "/repo/out/a/b",
            "/repo/out/a/b/c.yaml",
            "/repo/out/a/../a.yaml",
            "/repo/out/./a/b/../b/c.yaml",
            "/repo/out/a-b",
            "/repo/out/nope",
            "/repo/out/a/b/c.yaml/x",
            "/other",
            "/repo/o",
        ] {
            let p = Path::new(p);
            assert_eq!(
                planned.is_dir(p),
                memory.is_dir(p),
                "is_dir {}",
                p.display()
            );
            assert_eq!(
                planned.is_file(p),
                memory.is_file(p),
                "is_file {}",
                p.display()
            );
            assert_eq!(
                planned.canonicalize(p).ok(),
                memory.canonicalize(p).ok(),
                "canonicalize {}",
                p.display()
            );
            assert_eq!(
                planned.read(p).ok(),
                memory.read(p).ok(),
                "read {}",
                p.display()
            );
            if memory.is_file(p) {
                assert_eq!(
                    planned.file_len(p).ok(),
                    memory.file_len(p).ok(),
                    "file_len {}",
                    p.display()
                );
            }
            assert_eq!(
                planned.read_dir(p).ok(),
                memory.read_dir(p).ok(),
                "read_dir {}",
                p.display()
            );
        }
    }
}
