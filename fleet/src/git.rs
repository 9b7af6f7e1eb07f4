//! The git repository a generated tree lives in, read with git2 (no `git` binary needed):
//! which files changed since a revision (`lint --changed-since`), and the revisions and trees
//! `diff` compares.

use std::path::{Path, PathBuf};

use git2::{Delta, DiffOptions, Repository};

/// A failure of git access; the message says what was asked (`--changed-since` names the
/// option itself when it is the caller).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GitError(pub String);

/// The repository that holds a folder.
pub struct Repo {
    repo: Repository,
}

impl Repo {
    /// The repository holding `start` (it or a parent folder).
    pub fn discover(start: &Path) -> Result<Repo, GitError> {
        Repository::discover(start)
            .map(|repo| Repo { repo })
            .map_err(|e| GitError(format!("needs a git repository: {}", e.message())))
    }

    /// The underlying git2 repository (for reading objects at a revision).
    pub fn git2(&self) -> &Repository {
        &self.repo
    }

    /// The working tree, or an error for a bare repository.
    pub fn workdir(&self) -> Result<&Path, GitError> {
        self.repo.workdir().ok_or_else(|| {
            GitError("needs a repository with a working tree (this one is bare)".into())
        })
    }

    /// The tree of the commit (or tree) `rev` names (`HEAD~1`, a branch, a tag, an id).
    pub fn tree_at(&self, rev: &str) -> Result<git2::Tree<'_>, GitError> {
        self.repo
            .revparse_single(rev)
            .and_then(|object| object.peel_to_tree())
            .map_err(|e| GitError(format!("{rev}: {}", e.message())))
    }

    /// The files added, modified, renamed, copied or retyped since `rev`, comparing the tree at
    /// `rev` with the index *and* the working tree (as `git diff REV` does), plus untracked
    /// files that are not ignored (a new manifest not yet staged is still a change). Deleted
    /// files are left out. Paths are absolute (the working tree joined with the
    /// repository-relative path), sorted, and every one exists on disk.
    pub fn changed_since(&self, rev: &str) -> Result<Vec<PathBuf>, GitError> {
        let workdir = self.workdir()?.to_path_buf();
        let tree = self.tree_at(rev)?;
        let mut options = DiffOptions::new();
        options
            .include_untracked(true)
            .recurse_untracked_dirs(true)
            .ignore_submodules(true)
            .include_typechange(true);
        let diff = self
            .repo
            .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut options))
            .map_err(|e| GitError(format!("{rev}: {}", e.message())))?;
        let mut files: Vec<PathBuf> = diff
            .deltas()
            .filter(|d| {
                matches!(
                    d.status(),
                    Delta::Added
                        | Delta::Modified
                        | Delta::Renamed
                        | Delta::Copied
                        | Delta::Typechange
                        | Delta::Untracked
                )
            })
            .filter_map(|d| d.new_file().path().map(|p| workdir.join(p)))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files.dedup();
        Ok(files)
    }
}

/// [`Repo::changed_since`] in the repository holding `start`.
pub fn changed_files(start: &Path, rev: &str) -> Result<Vec<PathBuf>, GitError> {
    Repo::discover(start)?.changed_since(rev)
}

/// `true` for `*.yaml` and `*.yml` files.
pub fn is_yaml(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Keeps the changed YAML files that lie under one of `scopes` (files or folders; all of them
/// when `scopes` is empty), shown relative to `cwd` when they are under it.
pub fn select(changed: Vec<PathBuf>, scopes: &[PathBuf], cwd: &Path) -> Vec<PathBuf> {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| cwd.join(p));
    let scopes: Vec<PathBuf> = scopes.iter().map(|s| canon(s)).collect();
    let cwd = canon(cwd);
    changed
        .into_iter()
        .filter(|f| is_yaml(f))
        .map(|f| canon(&f))
        .filter(|f| scopes.is_empty() || scopes.iter().any(|s| f.starts_with(s)))
        .map(|f| match f.strip_prefix(&cwd) {
            Ok(relative) => relative.to_path_buf(),
            Err(_) => f,
        })
        .collect()
}
