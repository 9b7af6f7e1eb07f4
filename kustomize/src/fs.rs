//! The filesystem the renderer reads through.
//!
//! Every read of a build goes through a [`FileSystem`]: the disk ([`DiskFs`]), a tree held in
//! memory ([`MemoryFs`]), or anything else that can answer the same five questions (a git tree
//! at a revision, for instance). The load restrictor and the symlink rules are written once, in
//! the renderer, against canonical paths: a filesystem only has to canonicalize as the disk does
//! (absolute, `.` and `..` resolved, symlinks followed), and the same tree gives the same build
//! and the same errors on every filesystem.

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

/// What the renderer needs of a filesystem. Paths handed in are absolute or relative to the
/// filesystem's working folder; every path handed back is canonical.
pub trait FileSystem: Send + Sync {
    /// The absolute path with `.`, `..` and symlinks resolved (as `realpath` does); an error
    /// of kind `NotFound` when it does not exist.
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf>;

    /// Whether `path` is a folder (following symlinks).
    fn is_dir(&self, path: &Path) -> bool;

    /// Whether `path` is a regular file (following symlinks).
    fn is_file(&self, path: &Path) -> bool;

    /// The size of the file at `path` in bytes (following symlinks).
    fn file_len(&self, path: &Path) -> io::Result<u64>;

    /// The bytes of the file at `path` (following symlinks).
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;

    /// The entries of the folder at `path` (following symlinks), each as `path` joined with the
    /// entry's name, sorted by name. Hidden entries are included. The renderer itself never
    /// lists folders; tools that discover kustomizations in a tree do. A filesystem that cannot
    /// list answers `ErrorKind::Unsupported`.
    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            format!("{}: this filesystem cannot list folders", path.display()),
        ))
    }

    /// The file at `path` as UTF-8 text.
    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        String::from_utf8(self.read(path)?).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        })
    }
}

/// The real disk, through `std::fs`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiskFs;

impl FileSystem for DiskFs {
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        std::fs::canonicalize(path)
    }

    fn is_dir(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn file_len(&self, path: &Path) -> io::Result<u64> {
        Ok(std::fs::metadata(path)?.len())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }

    fn read_to_string(&self, path: &Path) -> io::Result<String> {
        std::fs::read_to_string(path)
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        let mut entries = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<io::Result<Vec<_>>>()?;
        entries.sort();
        Ok(entries)
    }
}

#[derive(Debug, Clone)]
enum Node {
    Dir,
    File(Vec<u8>),
    /// A symbolic link and its target as written (relative to the link's folder, or absolute).
    Symlink(PathBuf),
}

/// A tree held in memory, rooted at `/`. Folders are created as files are added; relative paths
/// are taken from `/`. Symlinks resolve as on disk (relative to their folder; at most 40 hops).
///
/// ```
/// use kustomize::fs::MemoryFs;
/// let mut fs = MemoryFs::new();
/// fs.add_file("/app/kustomization.yaml", "resources: [cm.yaml]\n");
/// fs.add_file("/app/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
/// let yaml = kustomize::Renderer::with_fs(fs).build_yaml("/app".as_ref()).unwrap();
/// assert!(yaml.contains("name: c"));
/// ```
#[derive(Debug, Clone)]
pub struct MemoryFs {
    nodes: BTreeMap<PathBuf, Node>,
}

impl Default for MemoryFs {
    fn default() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(PathBuf::from("/"), Node::Dir);
        Self { nodes }
    }
}

/// Symlink hops before giving up (Linux's limit).
const MAX_LINKS: usize = 40;

impl MemoryFs {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file, creating its folders.
    pub fn add_file(&mut self, path: impl AsRef<Path>, content: impl Into<Vec<u8>>) -> &mut Self {
        let path = absolute(path.as_ref());
        self.add_parents(&path);
        self.nodes.insert(path, Node::File(content.into()));
        self
    }

    /// Adds an empty folder (and its parents).
    pub fn add_dir(&mut self, path: impl AsRef<Path>) -> &mut Self {
        let path = absolute(path.as_ref());
        self.add_parents(&path);
        self.nodes.insert(path, Node::Dir);
        self
    }

    /// Adds a symbolic link at `path` pointing at `target` (relative to the link's folder, or
    /// absolute), as `ln -s target path` does.
    pub fn add_symlink(&mut self, path: impl AsRef<Path>, target: impl AsRef<Path>) -> &mut Self {
        let path = absolute(path.as_ref());
        self.add_parents(&path);
        self.nodes
            .insert(path, Node::Symlink(target.as_ref().to_path_buf()));
        self
    }

    fn add_parents(&mut self, path: &Path) {
        let mut p = path.parent();
        while let Some(dir) = p {
            self.nodes.entry(dir.to_path_buf()).or_insert(Node::Dir);
            p = dir.parent();
        }
    }

    /// Resolves `path` to a canonical path and its node, following symlinks in every component
    /// (a `..` after a symlink leaves the link's target, as on disk).
    fn resolve(&self, path: &Path) -> io::Result<(PathBuf, &Node)> {
        let mut done = PathBuf::from("/");
        let mut hops = 0;
        // Components still to walk, the next one last.
        let mut todo: Vec<PathBuf> = components_rev(&absolute(path));
        while let Some(c) = todo.pop() {
            match c.components().next() {
                Some(Component::RootDir | Component::Prefix(_)) => done = PathBuf::from("/"),
                Some(Component::CurDir) | None => {}
                Some(Component::ParentDir) => {
                    done.pop();
                }
                Some(Component::Normal(name)) => {
                    let next = done.join(name);
                    match self.nodes.get(&next) {
                        None => return Err(not_found(path)),
                        Some(Node::Symlink(target)) => {
                            hops += 1;
                            if hops > MAX_LINKS {
                                return Err(io::Error::other(format!(
                                    "{}: too many levels of symbolic links",
                                    path.display()
                                )));
                            }
                            // The target replaces the link: walked from the link's folder (or
                            // from `/`), then the rest of the path.
                            todo.extend(components_rev(target));
                        }
                        Some(Node::File(_)) if !todo.is_empty() => {
                            return Err(io::Error::new(
                                io::ErrorKind::NotADirectory,
                                format!("{}: not a directory", next.display()),
                            ));
                        }
                        Some(_) => done = next,
                    }
                }
            }
        }
        let node = self.nodes.get(&done).ok_or_else(|| not_found(path))?;
        Ok((done, node))
    }
}

impl FileSystem for MemoryFs {
    fn canonicalize(&self, path: &Path) -> io::Result<PathBuf> {
        Ok(self.resolve(path)?.0)
    }

    fn is_dir(&self, path: &Path) -> bool {
        matches!(self.resolve(path), Ok((_, Node::Dir)))
    }

    fn is_file(&self, path: &Path) -> bool {
        matches!(self.resolve(path), Ok((_, Node::File(_))))
    }

    fn file_len(&self, path: &Path) -> io::Result<u64> {
        match self.resolve(path)? {
            (_, Node::File(bytes)) => Ok(bytes.len() as u64),
            _ => Ok(0),
        }
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        match self.resolve(path)? {
            (_, Node::File(bytes)) => Ok(bytes.clone()),
            _ => Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                format!("{}: is a directory", path.display()),
            )),
        }
    }

    fn read_dir(&self, path: &Path) -> io::Result<Vec<PathBuf>> {
        let (dir, node) = self.resolve(path)?;
        if !matches!(node, Node::Dir) {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{}: not a directory", path.display()),
            ));
        }
        // Children sort right after their folder; stop at the first path outside it.
        Ok(self
            .nodes
            .range(dir.clone()..)
            .skip(1)
            .take_while(|(p, _)| p.starts_with(&dir))
            .filter(|(p, _)| p.parent() == Some(dir.as_path()))
            .filter_map(|(p, _)| p.file_name().map(|n| path.join(n)))
            .collect())
    }
}

/// The components of `path` as owned paths, last first (a stack to pop from).
fn components_rev(path: &Path) -> Vec<PathBuf> {
    path.components()
        .rev()
        .map(|c| PathBuf::from(c.as_os_str()))
        .collect()
}

/// `path` made absolute against `/`.
fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        Path::new("/").join(path)
    }
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file or directory", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fs() -> MemoryFs {
        let mut fs = MemoryFs::new();
        fs.add_file("/repo/base/a.yaml", "a")
            .add_dir("/repo/empty")
            .add_symlink("/repo/link", "base")
            .add_symlink("/repo/abs", "/repo/base/a.yaml")
            .add_symlink("/repo/base/up", "../empty")
            .add_symlink("/repo/loop", "loop");
        fs
    }

    #[test]
    fn canonicalizes_like_the_disk() {
        let fs = fs();
        let c = |p: &str| {
            fs.canonicalize(Path::new(p))
                .map(|p| p.display().to_string())
        };
        assert_eq!(
            c("/repo/./base/../base/a.yaml").unwrap(),
            "/repo/base/a.yaml"
        );
        assert_eq!(c("/repo/link/a.yaml").unwrap(), "/repo/base/a.yaml");
        assert_eq!(c("/repo/abs").unwrap(), "/repo/base/a.yaml");
        // `..` after a symlink leaves the target, not the link.
        assert_eq!(c("/repo/base/up/..").unwrap(), "/repo");
        assert_eq!(c("/repo/link/up").unwrap(), "/repo/empty");
        assert_eq!(c("repo/base").unwrap(), "/repo/base");
        assert_eq!(
            c("/repo/missing").unwrap_err().kind(),
            io::ErrorKind::NotFound
        );
        assert!(
            c("/repo/loop")
                .unwrap_err()
                .to_string()
                .contains("symbolic links")
        );
        assert_eq!(
            c("/repo/base/a.yaml/x").unwrap_err().kind(),
            io::ErrorKind::NotADirectory
        );
    }

    #[test]
    fn answers_kind_size_and_content() {
        let fs = fs();
        assert!(fs.is_dir(Path::new("/repo/link")));
        assert!(fs.is_file(Path::new("/repo/abs")));
        assert!(!fs.is_file(Path::new("/repo/empty")));
        assert_eq!(fs.file_len(Path::new("/repo/abs")).unwrap(), 1);
        assert_eq!(
            fs.read_to_string(Path::new("/repo/link/a.yaml")).unwrap(),
            "a"
        );
        assert!(fs.read(Path::new("/repo/empty")).is_err());
        let names = |p: &str| {
            fs.read_dir(Path::new(p))
                .unwrap()
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names("/repo"),
            [
                "/repo/abs",
                "/repo/base",
                "/repo/empty",
                "/repo/link",
                "/repo/loop"
            ]
        );
        // Through a symlink, named under the path asked for.
        assert_eq!(names("/repo/link"), ["/repo/link/a.yaml", "/repo/link/up"]);
        assert!(names("/repo/empty").is_empty());
        assert_eq!(
            fs.read_dir(Path::new("/repo/abs")).unwrap_err().kind(),
            io::ErrorKind::NotADirectory
        );
        let mut bad = MemoryFs::new();
        bad.add_file("/x", vec![0xff, 0xfe]);
        assert_eq!(
            bad.read_to_string(Path::new("/x")).unwrap_err().kind(),
            io::ErrorKind::InvalidData
        );
    }
}
