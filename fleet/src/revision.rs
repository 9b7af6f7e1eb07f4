//! A project's files at one revision: a commit read straight from git objects (no checkout, no
//! temporary worktree), or the working tree on disk. `diff` reads the config, the inventory and
//! the catalogue of both revisions through this, plans both fleets in memory and renders them.

use std::path::{Component, Path, PathBuf};

use edgefleet_inventory::{Diagnostics, Fleet};
use edgefleet_overlays::catalogue::{Catalogue, CatalogueError};
use git2::{ObjectType, Tree};

use crate::git::{GitError, Repo};

/// The files of a project at one revision.
pub enum Snapshot<'r> {
    /// A commit's tree (`rev` as the user wrote it, for messages).
    Git {
        repo: &'r Repo,
        rev: String,
        tree: Tree<'r>,
    },
    /// The working tree under `root` (what is on disk, committed or not).
    Disk { root: PathBuf },
}

/// What a revision holds at a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    File,
    Dir,
    Missing,
}

impl<'r> Snapshot<'r> {
    /// The commit `rev` names in `repo`.
    pub fn git(repo: &'r Repo, rev: &str) -> Result<Snapshot<'r>, GitError> {
        Ok(Snapshot::Git {
            repo,
            rev: rev.to_owned(),
            tree: repo.tree_at(rev)?,
        })
    }

    /// The working tree of `repo`.
    pub fn working_tree(repo: &'r Repo) -> Result<Snapshot<'r>, GitError> {
        Ok(Snapshot::Disk {
            root: repo.workdir()?.to_path_buf(),
        })
    }

    /// `rev` for a commit, `working tree` for the disk.
    pub fn label(&self) -> String {
        match self {
            Snapshot::Git { rev, .. } => rev.clone(),
            Snapshot::Disk { .. } => "working tree".to_owned(),
        }
    }

    /// How a path of this revision is shown in messages: `REV:path` (git's own notation) for a
    /// commit, the path on disk for the working tree.
    pub fn display(&self, rel: &Path) -> PathBuf {
        match self {
            Snapshot::Git { rev, .. } => PathBuf::from(format!("{rev}:{}", slash(rel))),
            Snapshot::Disk { root } => root.join(rel),
        }
    }

    /// What is at `rel` (a path relative to the repository's root).
    pub fn entry(&self, rel: &Path) -> Entry {
        match self {
            Snapshot::Git { tree, .. } => {
                if is_root(rel) {
                    return Entry::Dir;
                }
                match tree.get_path(rel) {
                    Ok(e) => match e.kind() {
                        Some(ObjectType::Tree) => Entry::Dir,
                        Some(ObjectType::Blob) => Entry::File,
                        _ => Entry::Missing,
                    },
                    Err(_) => Entry::Missing,
                }
            }
            Snapshot::Disk { root } => {
                let p = root.join(rel);
                if p.is_dir() {
                    Entry::Dir
                } else if p.is_file() {
                    Entry::File
                } else {
                    Entry::Missing
                }
            }
        }
    }

    /// The bytes of the file at `rel`.
    pub fn read(&self, rel: &Path) -> Result<Vec<u8>, GitError> {
        match self {
            Snapshot::Git { repo, tree, .. } => {
                let entry = tree.get_path(rel).map_err(|_| {
                    GitError(format!("{}: no such file", self.display(rel).display()))
                })?;
                let blob = entry
                    .to_object(repo.git2())
                    .and_then(|o| o.peel_to_blob())
                    .map_err(|e| {
                        GitError(format!("{}: {}", self.display(rel).display(), e.message()))
                    })?;
                Ok(blob.content().to_vec())
            }
            Snapshot::Disk { root } => std::fs::read(root.join(rel))
                .map_err(|e| GitError(format!("{}: {e}", root.join(rel).display()))),
        }
    }

    /// Every file under the folder `rel`, recursively, hidden entries (`.name`) left out, as
    /// (path relative to `rel`, bytes), sorted by path. Symbolic links in a commit are left out
    /// (their target is not a file of the revision).
    pub fn files_under(&self, rel: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, GitError> {
        let mut out = Vec::new();
        match self {
            Snapshot::Git { repo, tree, .. } => {
                let sub;
                let tree = if is_root(rel) {
                    tree
                } else {
                    sub = tree
                        .get_path(rel)
                        .and_then(|e| e.to_object(repo.git2()))
                        .and_then(|o| o.peel_to_tree())
                        .map_err(|e| {
                            GitError(format!("{}: {}", self.display(rel).display(), e.message()))
                        })?;
                    &sub
                };
                walk_tree(repo, tree, Path::new(""), &mut out)?;
            }
            Snapshot::Disk { root } => walk_disk(&root.join(rel), Path::new(""), &mut out)?,
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// The nearest `name` at or above the folder `start` (both relative to the repository's
    /// root), as config discovery walks up from the working directory.
    pub fn find_upwards(&self, start: &Path, name: &str) -> Option<PathBuf> {
        let mut dir = Some(start);
        while let Some(d) = dir {
            let candidate = d.join(name);
            if self.entry(&candidate) == Entry::File {
                return Some(candidate);
            }
            dir = d.parent();
        }
        None
    }

    /// The inventory at `rel` (a folder, or one file), loaded and validated as
    /// `edgefleet validate` loads it from disk: `*.yaml`, `*.yml` and `*.csv` files, hidden
    /// entries left out. Messages name `REV:path`.
    pub fn inventory(&self, rel: &Path) -> Result<Fleet, InputError> {
        let shown = self.display(rel);
        let files: Vec<(PathBuf, Vec<u8>)> = match self.entry(rel) {
            Entry::File => vec![(PathBuf::new(), self.read(rel)?)],
            Entry::Dir => self
                .files_under(rel)?
                .into_iter()
                .filter(|(p, _)| {
                    matches!(
                        p.extension().and_then(|e| e.to_str()),
                        Some("yaml" | "yml" | "csv")
                    )
                })
                .collect(),
            Entry::Missing => {
                return Err(InputError::Git(GitError(format!(
                    "{}: no inventory there (the config's `paths.inventory`)",
                    shown.display()
                ))));
            }
        };
        if files.is_empty() {
            return Err(InputError::Git(GitError(format!(
                "{}: no inventory files (*.yaml, *.yml, *.csv)",
                shown.display()
            ))));
        }
        let mut sources = Vec::with_capacity(files.len());
        for (p, bytes) in files {
            let path = if p.as_os_str().is_empty() {
                shown.clone()
            } else {
                shown.join(&p)
            };
            match String::from_utf8(bytes) {
                Ok(text) => sources.push((path, text)),
                Err(_) => {
                    return Err(InputError::Git(GitError(format!(
                        "{}: is not UTF-8 text",
                        path.display()
                    ))));
                }
            }
        }
        edgefleet_inventory::load_sources(&shown, &sources).map_err(InputError::Inventory)
    }

    /// The workload catalogue in the folder `rel`, read as [`Catalogue::load`] reads a folder.
    pub fn catalogue(&self, rel: &Path) -> Result<Catalogue, InputError> {
        if self.entry(rel) != Entry::Dir {
            return Err(InputError::Git(GitError(format!(
                "{}: no catalogue folder there (the config's `paths.templates`)",
                self.display(rel).display()
            ))));
        }
        Catalogue::from_files(self.display(rel), self.files_under(rel)?)
            .map_err(InputError::Catalogue)
    }
}

/// Why a revision's inputs could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{0}")]
    Git(#[from] GitError),
    #[error("{} error(s) in the inventory", .0.len())]
    Inventory(Diagnostics),
    #[error("{0}")]
    Catalogue(CatalogueError),
}

fn is_root(rel: &Path) -> bool {
    rel.components().all(|c| matches!(c, Component::CurDir))
}

fn slash(rel: &Path) -> String {
    rel.components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn walk_tree(
    repo: &Repo,
    tree: &Tree<'_>,
    prefix: &Path,
    out: &mut Vec<(PathBuf, Vec<u8>)>,
) -> Result<(), GitError> {
    let err = |e: git2::Error| GitError(e.message().to_owned());
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = prefix.join(&name);
        match entry.kind() {
            Some(ObjectType::Tree) => {
                let sub = entry
                    .to_object(repo.git2())
                    .and_then(|o| o.peel_to_tree())
                    .map_err(err)?;
                walk_tree(repo, &sub, &path, out)?;
            }
            // 0o120000: a symbolic link, stored as a blob holding its target.
            Some(ObjectType::Blob) if entry.filemode() != 0o120000 => {
                let blob = entry
                    .to_object(repo.git2())
                    .and_then(|o| o.peel_to_blob())
                    .map_err(err)?;
                out.push((path, blob.content().to_vec()));
            }
            _ => {}
        }
    }
    Ok(())
}

fn walk_disk(dir: &Path, prefix: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) -> Result<(), GitError> {
    let read = std::fs::read_dir(dir).map_err(|e| GitError(format!("{}: {e}", dir.display())))?;
    for entry in read.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk_disk(&path, &prefix.join(&name), out)?;
        } else if path.is_file() {
            let bytes =
                std::fs::read(&path).map_err(|e| GitError(format!("{}: {e}", path.display())))?;
            out.push((prefix.join(&name), bytes));
        }
    }
    Ok(())
}
