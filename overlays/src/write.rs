//! Putting a planned tree on disk: only what changed, atomically, never touching foreign files.
//!
//! edgefleet keeps a manifest of the files it owns (`.edgefleet/manifest`). A planned file that
//! exists but is not owned (and differs) is a conflict: nothing is written. Owned files that are
//! no longer planned are removed, and folders they leave empty are pruned.
//!
//! Atomicity (docs/generate.md, "Crash safety"): the whole tree is replaced in one step, so a
//! crash, `kill -9` or a full disk leaves the old tree or the new one, never a mix.
//! - A new output folder is written in a staging folder next to it and renamed into place.
//! - An existing folder is mirrored into a staging folder next to it (unchanged and foreign files
//!   as hard links, so nothing is copied), the changed files are written there, and the two
//!   folders are swapped with one atomic `renameat2(RENAME_EXCHANGE)`; the old tree is then
//!   deleted. Leftovers of an interrupted run (staging folders of a dead process, an old tree
//!   not yet deleted) are removed by the next run.
//! - Where the swap cannot be done (not Linux, the output folder is a mount point, its parent is
//!   not writable, a file system without hard links or exchange), each changed file is written to
//!   a temporary sibling first and only when all are on disk renamed over the old ones: an error
//!   before that point leaves the tree as it was, and an interrupted rename loop leaves each file
//!   old or new, never partial; the next run finishes the job (the pending manifest records what
//!   the interrupted run owned).
//!
//! For tests, `EDGEFLEET_TEST_FAULT` injects faults into the write steps (see [`fault`]).

use std::collections::{BTreeSet, HashSet};

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::cache::FileStat;
use crate::tree::OutputTree;

pub const MANIFEST: &str = ".edgefleet/manifest";
const PENDING: &str = ".edgefleet/manifest.pending";
const MANIFEST_HEADER: &str =
    "# Files written by edgefleet generate. edgefleet updates and prunes only these.";
const TMP_SUFFIX: &str = ".edgefleet-tmp";

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{} file(s) in {} were not written by edgefleet and would be overwritten: {}{}",
        paths.len(),
        out.display(),
        paths.iter().take(10).cloned().collect::<Vec<_>>().join(", "),
        if paths.len() > 10 { ", ..." } else { "" }
    )]
    Foreign { out: PathBuf, paths: Vec<String> },
    #[error("{}: {message}", path.display())]
    Unsafe { path: PathBuf, message: String },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What writing a tree would do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes<'k> {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub removed: Vec<String>,
    pub unchanged: usize,
    /// Planned files that exist, are identical and were not in the manifest (adopted silently).
    pub adopted: usize,
    pub foreign: Vec<String>,
    /// Planned files known to be on disk as planned, not held in the tree (a rerun's kept
    /// sites: [`crate::cache::Cache::kept_paths`]); counted in `unchanged`. Sorted.
    pub kept: Vec<&'k str>,
    /// Whether the manifest itself needs rewriting.
    manifest_stale: bool,
    out_exists: bool,
}

impl Changes<'_> {
    /// No file would change on disk.
    pub fn is_clean(&self) -> bool {
        self.created.is_empty() && self.updated.is_empty() && self.removed.is_empty()
    }

    /// Whether the output folder existed when compared.
    pub fn out_exists(&self) -> bool {
        self.out_exists
    }

    /// Whether [`apply`] writes anything (a file, the manifest, a new folder).
    pub fn writes(&self) -> bool {
        !self.out_exists || !self.is_clean() || self.manifest_stale
    }
}

/// The text of the manifest `name` in `out`; `None` when there is none.
fn read_manifest(out: &Path, name: &str) -> Result<Option<String>, WriteError> {
    let path = out.join(name);
    match fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(&path)(e)),
    }
}

/// The paths a manifest's text lists that `owns` takes, sorted, each once (comment, empty and
/// unsafe lines are left out). A manifest is written sorted, so sorting costs one pass.
fn listed_paths<'a>(text: Option<&'a str>, owns: &(dyn Fn(&str) -> bool + Sync)) -> Vec<&'a str> {
    let mut paths: Vec<&str> = text
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter(|l| crate::tree::is_safe_relative(l) && owns(l))
        .collect();
    if !paths.is_sorted() {
        paths.sort_unstable();
    }
    paths.dedup();
    paths
}

/// An error naming the first folder (in path order) on the way to sorted `paths` that is a
/// symbolic link in `out`: edgefleet does not `what` (written after "edgefleet does not").
fn refuse_links<'a>(
    out: &Path,
    paths: impl IntoIterator<Item = &'a str>,
    what: &str,
) -> Result<(), WriteError> {
    let linked = folders_of(paths)
        .into_par_iter()
        .filter(|d| fs::symlink_metadata(out.join(d)).is_ok_and(|m| m.file_type().is_symlink()))
        .min();
    match linked {
        Some(d) => Err(WriteError::Unsafe {
            path: out.join(d),
            message: format!("is a symbolic link; edgefleet does not {what}"),
        }),
        None => Ok(()),
    }
}

/// Whether the manifest at `path` lists exactly `planned` (strictly sorted paths) in order,
/// as [`listed_paths`] reads it: its paths that `owns` takes are those. Reads it in pieces; a
/// manifest that cannot be read, or lists them otherwise (out of order, twice), is `false`:
/// the caller then reads it whole.
fn manifest_lists_exactly<'a>(
    path: &Path,
    planned: impl IntoIterator<Item = &'a str>,
    owns: &(dyn Fn(&str) -> bool + Sync),
) -> bool {
    use std::io::BufRead as _;
    let Ok(file) = fs::File::open(path) else {
        return false;
    };
    let mut reader = io::BufReader::with_capacity(1 << 16, file);
    let mut planned = planned.into_iter();
    let mut previous: Option<&str> = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => return false,
        }
        let Ok(text) = std::str::from_utf8(&line) else {
            return false;
        };
        // As `str::lines` splits: on `\n`, a `\r` right before it dropped.
        let text = match text.strip_suffix('\n') {
            Some(text) => text.strip_suffix('\r').unwrap_or(text),
            None => text,
        };
        if text.starts_with('#') || text.is_empty() || !crate::tree::is_safe_relative(text) {
            continue;
        }
        if !owns(text) {
            continue;
        }
        match planned.next() {
            Some(want) if want == text && previous.is_none_or(|p| p < want) => {
                previous = Some(want);
            }
            _ => return false,
        }
    }
    planned.next().is_none()
}

/// The items of sorted `a` that sorted `b` does not hold, in order (one pass over each).
fn sorted_difference<'a>(
    a: impl IntoIterator<Item = &'a str>,
    b: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let mut b = b.into_iter().peekable();
    a.into_iter()
        .filter(|x| {
            while b.next_if(|y| y < x).is_some() {}
            b.peek() != Some(x)
        })
        .collect()
}

/// The folders on the way to sorted `paths`, each once. The paths under a folder are neighbours
/// in sorted order, so a folder is new exactly where the path before did not go through it.
fn folders_of<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut folders = Vec::new();
    let mut previous = "";
    for path in paths {
        for (i, _) in path.match_indices('/') {
            let through = previous.as_bytes().get(i) == Some(&b'/') && previous[..i] == path[..i];
            if !through {
                folders.push(&path[..i]);
            }
        }
        previous = path;
    }
    folders
}

/// The manifest of the planned files: those of `tree` and the `kept` ones (sorted), merged.
fn manifest_text<S: AsRef<str>>(tree: &OutputTree, kept: &[S]) -> String {
    let mut text = String::with_capacity((tree.len() + kept.len()) * 48);
    text.push_str(MANIFEST_HEADER);
    text.push('\n');
    for p in merge_sorted(tree.paths(), kept.iter().map(AsRef::as_ref)) {
        text.push_str(p);
        text.push('\n');
    }
    text
}

/// Two sorted sequences as one sorted sequence (a stable merge: on ties, `a` first).
fn merge_sorted<T: Ord>(
    a: impl IntoIterator<Item = T>,
    b: impl IntoIterator<Item = T>,
) -> impl Iterator<Item = T> {
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if x <= y => a.next(),
        (Some(_), Some(_)) | (None, Some(_)) => b.next(),
        (Some(_), None) => a.next(),
        (None, None) => None,
    })
}

/// Compare a planned tree with the output folder, reading only.
pub fn compare(tree: &OutputTree, out: &Path) -> Result<Changes<'static>, WriteError> {
    compare_part(tree, out, &|_| true)
}

/// [`compare`] of a part of the tree (`generate --check --shard K/N`): `tree` holds the
/// planned files of the part, `owns` says which paths of the output folder are in the part
/// (a file edgefleet owns outside it is not "to remove"). Only for checking: [`apply`] writes
/// whole trees.
pub fn compare_part(
    tree: &OutputTree,
    out: &Path,
    owns: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Changes<'static>, WriteError> {
    compare_kept(tree, Vec::new(), out, owns)
}

/// [`compare_part`] of a plan that left `kept` files out of its tree (sorted paths, known to
/// be on disk as planned: [`crate::plan::plan_skipping`]). They count as unchanged and stay
/// in the manifest; they are not read.
pub fn compare_kept<'k>(
    tree: &OutputTree,
    kept: Vec<&'k str>,
    out: &Path,
    owns: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Changes<'k>, WriteError> {
    let mut changes = Changes::default();
    match fs::symlink_metadata(out) {
        Ok(m) if m.is_dir() => changes.out_exists = true,
        Ok(_) => {
            return Err(WriteError::Unsafe {
                path: out.to_path_buf(),
                message: "the output path exists and is not a folder".into(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            // Nothing can be kept in a folder that does not exist.
            changes.created = tree.paths().map(str::to_owned).collect();
            changes.manifest_stale = true;
            return Ok(changes);
        }
        Err(e) => return Err(io_err(out)(e)),
    }
    // The planned files, sorted.
    let planned = || merge_sorted(tree.paths(), kept.iter().copied());
    // The common case, a rerun: the manifest lists exactly the planned files and no
    // interrupted run left a pending manifest. Checked reading the manifest in pieces, it
    // needs no list of its own (a fleet has half a million files).
    let exact = fs::symlink_metadata(out.join(PENDING)).is_err()
        && manifest_lists_exactly(&out.join(MANIFEST), planned(), owns);
    // Otherwise: what the manifest lists (in the part) and what an interrupted run's pending
    // manifest adds, as sorted lists borrowed from the two texts.
    let (manifest, pending) = if exact {
        (None, None)
    } else {
        (read_manifest(out, MANIFEST)?, read_manifest(out, PENDING)?)
    };
    let current = listed_paths(manifest.as_deref(), owns);
    let extra = sorted_difference(
        listed_paths(pending.as_deref(), owns),
        current.iter().copied(),
    );
    let is_owned =
        |p: &str| exact || current.binary_search(&p).is_ok() || extra.binary_search(&p).is_ok();

    // A symlinked folder inside the output could send writes outside it. Only the tree's files
    // are written: a kept file is neither written nor removed (a swap mirrors it as a hard link
    // of what is there, a link included), so the folders only kept files are in are not looked
    // at (a rerun keeps nearly every file).
    refuse_links(out, tree.paths(), "write through links")?;

    enum State {
        Created,
        Updated,
        Unchanged,
        Adopted,
        Foreign,
    }
    let states: Vec<Result<State, WriteError>> = tree
        .iter()
        .collect::<Vec<_>>()
        .par_iter()
        .map(|(path, bytes)| {
            let full = out.join(path);
            match fs::read(&full) {
                Ok(existing) => {
                    let same = existing.as_slice() == *bytes;
                    Ok(match (is_owned(path), same) {
                        (true, true) => State::Unchanged,
                        (true, false) => State::Updated,
                        (false, true) => State::Adopted,
                        (false, false) => State::Foreign,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(State::Created),
                // A file of the user's stands where the plan needs a folder.
                Err(e) if e.kind() == io::ErrorKind::NotADirectory => Ok(State::Foreign),
                Err(e) => Err(io_err(&full)(e)),
            }
        })
        .collect();
    for ((path, _), state) in tree.iter().zip(states) {
        match state? {
            State::Created => changes.created.push(path.to_owned()),
            State::Updated => changes.updated.push(path.to_owned()),
            State::Unchanged => changes.unchanged += 1,
            State::Adopted => {
                changes.unchanged += 1;
                changes.adopted += 1;
            }
            State::Foreign => changes.foreign.push(path.to_owned()),
        }
    }
    changes.unchanged += kept.len();
    // Owned files no longer planned, in order (none when the manifest lists the plan).
    let owned = merge_sorted(current.iter().copied(), extra.iter().copied());
    for path in sorted_difference(owned, planned()) {
        if fs::symlink_metadata(out.join(path)).is_ok() {
            changes.removed.push(path.to_owned());
        }
    }
    // Nor is anything removed through a link.
    refuse_links(
        out,
        changes.removed.iter().map(String::as_str),
        "remove files through links",
    )?;
    changes.manifest_stale = changes.adopted > 0
        || !changes.is_clean()
        || (!exact && (!current.iter().copied().eq(planned()) || pending.is_some()));
    changes.kept = kept;
    Ok(changes)
}

/// Apply `changes` (from [`compare`] on the same tree). Refuses when foreign files would be
/// overwritten; on any error before the final renames, the folder is left as it was.
pub fn apply(tree: &OutputTree, out: &Path, changes: &Changes) -> Result<(), WriteError> {
    if !changes.foreign.is_empty() {
        return Err(WriteError::Foreign {
            out: out.to_path_buf(),
            paths: changes.foreign.clone(),
        });
    }
    remove_leftovers(out);
    let result = if !changes.out_exists {
        write_fresh(tree, out)
    } else if changes.is_clean() && !changes.manifest_stale {
        Ok(())
    } else {
        match swap_in(tree, out, changes) {
            Ok(()) => Ok(()),
            Err(Swap::Unsupported) => apply_in_place(tree, out, changes),
            Err(Swap::Failed(e)) => Err(e),
        }
    };
    fault::report();
    result
}

/// Why the whole-tree swap was not done.
enum Swap {
    /// This file system or layout cannot do it: fall back to per-file replacement.
    Unsupported,
    /// A real error (full disk, permissions...): nothing was changed.
    Failed(WriteError),
}

fn is_unsupported(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if [
            libc::EXDEV, libc::EBUSY, libc::EINVAL, libc::ENOSYS, libc::EPERM,
            libc::EACCES, libc::EROFS, libc::EMLINK, libc::ENOTSUP,
        ]
        .contains(&code)
    )
}

/// Name of a staging folder next to `out`, for process `pid`.
fn staging_name(name: &std::ffi::OsStr, pid: u32) -> String {
    format!(".{}.edgefleet-staging-{pid}", name.to_string_lossy())
}

fn parent_of(out: &Path) -> PathBuf {
    match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Removes what an interrupted run left next to `out`: staging folders (or a swapped-out old
/// tree) of processes that no longer run.
fn remove_leftovers(out: &Path) {
    let Some(name) = out.file_name() else { return };
    let prefix = format!(".{}.edgefleet-staging-", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(parent_of(out)) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || !process_alive(pid) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

fn process_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Swaps two folders atomically (Linux `renameat2(RENAME_EXCHANGE)`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let b = CString::new(b.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// The whole-tree swap (see the module documentation).
fn swap_in(tree: &OutputTree, out: &Path, changes: &Changes) -> Result<(), Swap> {
    let name = out.file_name().ok_or(Swap::Unsupported)?;
    let staging = parent_of(out).join(staging_name(name, std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let result = build_staging(tree, out, changes, &staging).and_then(|()| {
        fault::step().map_err(|e| Swap::Failed(io_err(out)(e)))?;
        exchange(&staging, out).map_err(|e| {
            if is_unsupported(&e) {
                Swap::Unsupported
            } else {
                Swap::Failed(io_err(out)(e))
            }
        })
    });
    // After the swap `staging` holds the old tree; after a failure, a partial new one.
    let _ = fault::step();
    let _ = fs::remove_dir_all(&staging);
    // Errors name the file in the output folder, not in the staging folder.
    result.map_err(|e| match e {
        Swap::Failed(WriteError::Io { path, source }) => Swap::Failed(WriteError::Io {
            path: path
                .strip_prefix(&staging)
                .map(|rel| out.join(rel))
                .unwrap_or(path),
            source,
        }),
        other => other,
    })
}

fn build_staging(
    tree: &OutputTree,
    out: &Path,
    changes: &Changes,
    staging: &Path,
) -> Result<(), Swap> {
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |e: io::Error| {
            if is_unsupported(&e) && e.raw_os_error() != Some(libc::EACCES) {
                Swap::Unsupported
            } else {
                Swap::Failed(WriteError::Io { path, source: e })
            }
        }
    };
    step_then(|| fs::create_dir(staging)).map_err(|e| {
        // The parent is not writable, or the like: the in-place path reports the real problem.
        if is_unsupported(&e) {
            Swap::Unsupported
        } else {
            Swap::Failed(io_err(staging)(e))
        }
    })?;
    // Every folder and file of the current tree, except what this run replaces or removes.
    let skip: BTreeSet<&str> = changes
        .created
        .iter()
        .chain(&changes.updated)
        .chain(&changes.removed)
        .map(String::as_str)
        .chain([MANIFEST, PENDING, crate::cache::CACHE])
        .collect();
    let mut dirs: Vec<(PathBuf, fs::Permissions)> = Vec::new();
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let here = out.join(&rel);
        for entry in fs::read_dir(&here).map_err(|e| Swap::Failed(io_err(&here)(e)))? {
            let entry = entry.map_err(|e| Swap::Failed(io_err(&here)(e)))?;
            let child = rel.join(entry.file_name());
            let kind = entry
                .file_type()
                .map_err(|e| Swap::Failed(io_err(&here)(e)))?;
            let text = child.to_string_lossy();
            if kind.is_dir() {
                let perms = entry
                    .metadata()
                    .map_err(|e| Swap::Failed(io_err(&out.join(&child))(e)))?
                    .permissions();
                dirs.push((child.clone(), perms));
                stack.push(child);
            } else if !skip.contains(text.as_ref()) && !text.ends_with(TMP_SUFFIX) {
                files.push(child);
            }
        }
    }
    dirs.sort_by_key(|(d, _)| d.components().count());
    for (dir, _) in &dirs {
        let full = staging.join(dir);
        step_then(|| fs::create_dir(&full)).map_err(failed(&full))?;
    }
    files.par_iter().try_for_each(|rel| {
        let to = staging.join(rel);
        step_then(|| fs::hard_link(out.join(rel), &to)).map_err(failed(&to))
    })?;
    // The new and changed files.
    let to_write: Vec<&String> = changes.created.iter().chain(&changes.updated).collect();
    let mut created = Vec::new();
    for path in &to_write {
        if let Some(parent) = Path::new(path.as_str()).parent() {
            create_dirs(staging, parent, &mut created).map_err(Swap::Failed)?;
        }
    }
    to_write.par_iter().try_for_each(|path| {
        let full = staging.join(path.as_str());
        let bytes = tree.get(path).unwrap_or_default();
        step_then(|| fs::write(&full, bytes)).map_err(|e| Swap::Failed(io_err(&full)(e)))
    })?;
    // Folders emptied by removed files go too (never the root, never a folder with other files).
    for path in &changes.removed {
        let mut dir = staging.join(path).parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == staging || !d.starts_with(staging) || fs::remove_dir(&d).is_err() {
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
    }
    write_atomic(
        &staging.join(MANIFEST),
        manifest_text(tree, &changes.kept).as_bytes(),
    )
    .map_err(Swap::Failed)?;
    // Folders keep their permissions (set last: a read-only folder was still filled above).
    for (dir, perms) in dirs.iter().rev() {
        let full = staging.join(dir);
        if full.is_dir() {
            fs::set_permissions(&full, perms.clone())
                .map_err(|e| Swap::Failed(io_err(&full)(e)))?;
        }
    }
    if let Ok(meta) = fs::metadata(out) {
        let _ = fs::set_permissions(staging, meta.permissions());
    }
    Ok(())
}

/// One write step: counts it for fault injection, then runs it.
fn step_then<T>(f: impl FnOnce() -> io::Result<T>) -> io::Result<T> {
    fault::step()?;
    f()
}

/// Per-file replacement, where the whole-tree swap cannot be done (see the module documentation).
fn apply_in_place(tree: &OutputTree, out: &Path, changes: &Changes) -> Result<(), WriteError> {
    // The rerun cache describes the files as they are; it goes before any of them changes.
    crate::cache::Cache::remove(out).map_err(io_err(&out.join(crate::cache::CACHE)))?;
    let to_write: Vec<&String> = changes.created.iter().chain(&changes.updated).collect();
    // 1. Every new content in a temporary file next to its target.
    let mut created_dirs = Vec::new();
    for path in &to_write {
        if let Some(parent) = Path::new(path.as_str()).parent() {
            create_dirs(out, parent, &mut created_dirs)?;
        }
    }
    let staged: Vec<Result<PathBuf, WriteError>> = to_write
        .par_iter()
        .map(|path| {
            let tmp = out.join(format!("{path}{TMP_SUFFIX}"));
            let bytes = tree.get(path).unwrap_or_default();
            step_then(|| fs::write(&tmp, bytes)).map_err(io_err(&tmp))?;
            Ok(tmp)
        })
        .collect();
    if let Some(err) = staged.iter().find_map(|r| r.as_ref().err()) {
        let message = err.to_string();
        for tmp in staged.iter().flatten() {
            let _ = fs::remove_file(tmp);
        }
        for dir in created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
        return Err(WriteError::Io {
            path: out.to_path_buf(),
            source: io::Error::other(message),
        });
    }
    // 2. Record what this run owns before anything is replaced, then swap files in.
    let mut pending = manifest_text(tree, &changes.kept);
    for r in &changes.removed {
        pending.push_str(r);
        pending.push('\n');
    }
    write_atomic(&out.join(PENDING), pending.as_bytes())?;
    for path in &to_write {
        let tmp = out.join(format!("{path}{TMP_SUFFIX}"));
        let target = out.join(path);
        step_then(|| fs::rename(&tmp, &target)).map_err(io_err(&target))?;
    }
    // 3. Remove owned files no longer planned, and the folders they leave empty.
    for path in &changes.removed {
        let full = out.join(path);
        match fs::remove_file(&full) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&full)(e)),
        }
        let mut dir = full.parent();
        while let Some(d) = dir {
            if d == out || !d.starts_with(out) || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
    write_atomic(
        &out.join(MANIFEST),
        manifest_text(tree, &changes.kept).as_bytes(),
    )?;
    fs::remove_file(out.join(PENDING)).map_err(io_err(&out.join(PENDING)))?;
    Ok(())
}

fn create_dirs(out: &Path, rel: &Path, created: &mut Vec<PathBuf>) -> Result<(), WriteError> {
    let mut current = out.to_path_buf();
    for part in rel.components() {
        current.push(part);
        match step_then(|| fs::create_dir(&current)) {
            Ok(()) => created.push(current.clone()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_err(&current)(e)),
        }
    }
    Ok(())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(io_err(parent))?;
    }
    let tmp = PathBuf::from(format!("{}{TMP_SUFFIX}", path.display()));
    step_then(|| fs::write(&tmp, bytes)).map_err(io_err(&tmp))?;
    step_then(|| fs::rename(&tmp, path)).map_err(io_err(path))
}

/// A new output folder: write everything in a staging folder, then rename it into place.
fn write_fresh(tree: &OutputTree, out: &Path) -> Result<(), WriteError> {
    let name = out.file_name().ok_or_else(|| WriteError::Unsafe {
        path: out.to_path_buf(),
        message: "the output path has no folder name".into(),
    })?;
    let parent = parent_of(out);
    fs::create_dir_all(&parent).map_err(io_err(&parent))?;
    let staging = parent.join(staging_name(name, std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    let result = (|| {
        // Every folder, parents before children: one level at a time, each level in parallel.
        let mut by_depth: Vec<BTreeSet<&str>> = Vec::new();
        for p in tree.paths() {
            for (i, (end, _)) in p.match_indices('/').enumerate() {
                if by_depth.len() <= i {
                    by_depth.push(BTreeSet::new());
                }
                by_depth[i].insert(&p[..end]);
            }
        }
        step_then(|| fs::create_dir(&staging)).map_err(io_err(&staging))?;
        for level in &by_depth {
            level.par_iter().try_for_each(|d| {
                let full = staging.join(d);
                step_then(|| fs::create_dir(&full)).map_err(io_err(&full))
            })?;
        }
        tree.iter()
            .collect::<Vec<_>>()
            .par_iter()
            .try_for_each(|(path, bytes)| {
                let full = staging.join(path);
                step_then(|| fs::write(&full, bytes)).map_err(io_err(&full))
            })?;
        write_atomic(
            &staging.join(MANIFEST),
            manifest_text::<&str>(tree, &[]).as_bytes(),
        )?;
        step_then(|| fs::rename(&staging, out)).map_err(io_err(out))
    })();
    if result.is_err() {
        let _ = fs::remove_dir_all(&staging);
    }
    result
}

/// A new output folder written while its sites are still being planned (`generate`'s first
/// run): each site's files go into the staging folder of a fresh write as soon as the site is
/// planned ([`FreshWriter::write`], on the planner's threads), and [`FreshWriter::finish`]
/// writes the rest and the manifest and renames the folder into place, so the output folder
/// appears whole or not at all, as with [`apply`]. Dropped unfinished (planning failed), it
/// removes its staging folder: there was no output folder, so nothing on disk is lost.
pub struct FreshWriter {
    out: PathBuf,
    staging: PathBuf,
    /// Folders made in the staging folder (relative paths) that several calls may share: the
    /// ones above the common folder of a call's files (`sites`, `sites/<region>` for a site's
    /// tree). A call keeps its own folders to itself, so this set stays small however many
    /// sites are written.
    dirs: Mutex<HashSet<String>>,
    /// The first error of [`FreshWriter::write`]; nothing more is written after it.
    failed: Mutex<Option<WriteError>>,
    /// Parent folders of the output folder this writer made (deepest last).
    made_parents: Vec<PathBuf>,
    finished: bool,
}

impl FreshWriter {
    /// A writer for `out` when it does not exist yet; `None` when it exists, cannot be looked
    /// at, or the staging folder cannot be made (the write after planning then decides and
    /// reports).
    pub fn start(out: &Path) -> Option<FreshWriter> {
        match fs::symlink_metadata(out) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            _ => return None,
        }
        let name = out.file_name()?;
        let parent = parent_of(out);
        let mut made_parents: Vec<PathBuf> = parent
            .ancestors()
            .take_while(|a| !a.as_os_str().is_empty() && !a.exists())
            .map(Path::to_path_buf)
            .collect();
        made_parents.reverse();
        let remove_parents = |dirs: &[PathBuf]| {
            for dir in dirs.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
        };
        if fs::create_dir_all(&parent).is_err() {
            remove_parents(&made_parents);
            return None;
        }
        remove_leftovers(out);
        let staging = parent.join(staging_name(name, std::process::id()));
        if step_then(|| fs::create_dir(&staging)).is_err() {
            remove_parents(&made_parents);
            return None;
        }
        Some(FreshWriter {
            out: out.to_path_buf(),
            staging,
            dirs: Mutex::default(),
            failed: Mutex::default(),
            made_parents,
            finished: false,
        })
    }

    /// Writes the files of `tree` (one site's) into the staging folder. When every one was
    /// written, returns what `fstat` said about each right after writing it, in the tree's
    /// order; the caller then drops their bytes and passes their paths to
    /// [`FreshWriter::finish`] (for the manifest) or [`FreshWriter::restore`] (to read them
    /// back). An error is kept for [`FreshWriter::finish`] and stops later writes.
    pub fn write(&self, tree: &OutputTree) -> Option<Vec<Option<FileStat>>> {
        if lock(&self.failed).is_some() {
            return None;
        }
        // A site's tree: its own folders stay out of the shared set, and its files and
        // folders are made relative to its folder (opened once), so the kernel does not walk
        // the whole path again for each. (Without a common folder, every folder is shared.)
        let mut own = Own::new(match common_folder(tree.iter().map(|(path, _)| path)) {
            0 => usize::MAX,
            len => len,
        });
        let result: Result<Vec<Option<FileStat>>, WriteError> = tree
            .iter()
            .map(|(path, bytes)| {
                self.make_parents(path, &mut own)?;
                match own.relative(path) {
                    Some((dir, rel)) => step_then(|| write_and_stat_at(dir, rel, bytes))
                        .map_err(|e| io_err(&self.staging.join(path))(e)),
                    None => {
                        let full = self.staging.join(path);
                        step_then(|| write_and_stat(&full, bytes)).map_err(io_err(&full))
                    }
                }
            })
            .collect();
        match result {
            Ok(stats) => Some(stats),
            Err(e) => {
                lock(&self.failed).get_or_insert(e);
                None
            }
        }
    }

    /// Reads files [`FreshWriter::write`] wrote (`paths`) back from the staging folder into
    /// `tree`: for when the output folder appeared while planning, and is then written as an
    /// existing folder ([`apply`]) from the whole planned tree.
    pub fn restore(&self, tree: &mut OutputTree, paths: &[&str]) -> Result<(), WriteError> {
        let read: Vec<Result<(String, Vec<u8>), WriteError>> = paths
            .par_iter()
            .map(|p| {
                let full = self.staging.join(p);
                fs::read(&full)
                    .map(|bytes| ((*p).to_owned(), bytes))
                    .map_err(io_err(&full))
            })
            .collect();
        for r in read {
            let (path, bytes) = r?;
            tree.insert(path, bytes);
        }
        Ok(())
    }

    /// Makes the folders of `path` in the staging folder, parents first (each once). Folders
    /// in `own`'s folder (it included) belong to the calling write alone and are recorded in
    /// `own` (a handful per site); those above it in the writer's shared set. A folder made
    /// twice (another call got there first) is no error.
    fn make_parents<'p>(&self, path: &'p str, own: &mut Own<'p>) -> Result<(), WriteError> {
        // A folder is recorded once made, after its parents: when the deepest folder of `path`
        // is known, so are the others (one look-up per file, not one per folder).
        let mut missing = Vec::new();
        {
            let mut dirs = None;
            for (end, _) in path.rmatch_indices('/') {
                let dir = &path[..end];
                let known = if end >= own.from {
                    own.dirs.contains(&dir)
                } else {
                    dirs.get_or_insert_with(|| lock(&self.dirs)).contains(dir)
                };
                if known {
                    break;
                }
                missing.push(end);
            }
        }
        for &end in missing.iter().rev() {
            let dir = &path[..end];
            let made = match own.relative(dir) {
                Some((at, rel)) => step_then(|| mkdir_at(at, rel)),
                None => step_then(|| fs::create_dir(self.staging.join(dir))),
            };
            match made {
                Ok(()) => {}
                // Another thread made it first.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&self.staging.join(dir))(e)),
            }
            if end >= own.from {
                own.dirs.push(dir);
                if end == own.from {
                    own.open(&self.staging.join(dir));
                }
            } else {
                lock(&self.dirs).insert(dir.to_owned());
            }
        }
        Ok(())
    }

    /// Writes the files of `tree` and the manifest (of `tree` and `staged`: the files
    /// [`FreshWriter::write`] wrote while planning, left out of `tree`, sorted), then renames
    /// the staging folder to the output folder. `changes` are [`compare`]'s after planning:
    /// when they say the output folder exists by now (made by someone else meanwhile), the
    /// staging folder is dropped and [`apply`] writes as it would have without this writer.
    ///
    /// What [`FreshWriter::write`] returned about the staged files stays true after the rename
    /// (a rename of their folder changes none of it), so the rerun cache need not `lstat` them.
    pub fn finish(
        mut self,
        tree: &OutputTree,
        staged: &[&str],
        changes: &Changes,
    ) -> Result<(), WriteError> {
        debug_assert!(staged.is_sorted() && staged.iter().all(|p| tree.get(p).is_none()));
        if changes.out_exists {
            let out = self.out.clone();
            drop(self);
            return apply(tree, &out, changes);
        }
        let result = (|| {
            if let Some(e) = lock(&self.failed).take() {
                return Err(e);
            }
            let rest: Vec<(&str, &[u8])> = tree.iter().collect();
            // The shared files, written once: every folder goes to the shared set.
            let mut own = Own::new(usize::MAX);
            for (path, _) in &rest {
                self.make_parents(path, &mut own)?;
            }
            rest.par_iter().try_for_each(|(path, bytes)| {
                let full = self.staging.join(path);
                step_then(|| fs::write(&full, bytes)).map_err(io_err(&full))
            })?;
            write_atomic(
                &self.staging.join(MANIFEST),
                manifest_text(tree, staged).as_bytes(),
            )?;
            step_then(|| fs::rename(&self.staging, &self.out)).map_err(io_err(&self.out))
        })();
        self.finished = result.is_ok();
        fault::report();
        result
    }
}

impl Drop for FreshWriter {
    fn drop(&mut self) {
        if !self.finished {
            let _ = fs::remove_dir_all(&self.staging);
            // Folders made for the output folder go too (only while empty).
            for dir in self.made_parents.iter().rev() {
                let _ = fs::remove_dir(dir);
            }
        }
    }
}

/// The length of the deepest folder holding every one of `paths` (relative, `/`-separated):
/// 11 (`sites/eu/s1`) for the files of site `s1`; 0 when they share none, or there are none.
fn common_folder<'a>(mut paths: impl Iterator<Item = &'a str>) -> usize {
    let Some(first) = paths.next() else {
        return 0;
    };
    let mut len = first.rfind('/').unwrap_or(0);
    for path in paths {
        while len > 0 && !(path.as_bytes().get(len) == Some(&b'/') && path[..len] == first[..len]) {
            len = first[..len].rfind('/').unwrap_or(0);
        }
        if len == 0 {
            break;
        }
    }
    len
}

/// The folder of one write's files (see [`FreshWriter::make_parents`]): where it ends in
/// their paths, the folders made in it, and the folder itself, opened once made.
struct Own<'p> {
    from: usize,
    dirs: Vec<&'p str>,
    #[cfg(unix)]
    fd: Option<std::os::fd::OwnedFd>,
    #[cfg(not(unix))]
    fd: Option<()>,
}

impl<'p> Own<'p> {
    fn new(from: usize) -> Self {
        Own {
            from,
            dirs: Vec::new(),
            fd: None,
        }
    }

    /// Opens the folder (made just now); without it, paths stay whole (the same files, the
    /// kernel walks more).
    fn open(&mut self, dir: &Path) {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            self.fd = fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY)
                .open(dir)
                .ok()
                .map(std::os::fd::OwnedFd::from);
        }
        #[cfg(not(unix))]
        let _ = dir;
    }

    /// The opened folder and `path` relative to it, when `path` is below it.
    #[cfg(unix)]
    fn relative<'a>(&self, path: &'a str) -> Option<(std::os::fd::BorrowedFd<'_>, &'a str)> {
        use std::os::fd::AsFd as _;
        let fd = self.fd.as_ref()?;
        let rel = path.get(self.from..)?.strip_prefix('/')?;
        Some((fd.as_fd(), rel))
    }

    #[cfg(not(unix))]
    fn relative<'a>(&self, _path: &'a str) -> Option<((), &'a str)> {
        None
    }
}

/// `mkdir` of `rel` in the folder `at`.
#[cfg(unix)]
fn mkdir_at(at: std::os::fd::BorrowedFd<'_>, rel: &str) -> io::Result<()> {
    use std::os::fd::AsRawFd as _;
    let rel = std::ffi::CString::new(rel).map_err(io::Error::other)?;
    // SAFETY: `at` is an open folder and `rel` a NUL-terminated string, both live for the call.
    if unsafe { libc::mkdirat(at.as_raw_fd(), rel.as_ptr(), 0o777) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn mkdir_at(_at: (), _rel: &str) -> io::Result<()> {
    unreachable!("no folder is opened off Unix")
}

/// [`write_and_stat`] of `rel` in the folder `at` (created or truncated, mode 0666 less the
/// umask, as `fs::write` makes files).
#[cfg(unix)]
fn write_and_stat_at(
    at: std::os::fd::BorrowedFd<'_>,
    rel: &str,
    bytes: &[u8],
) -> io::Result<Option<FileStat>> {
    use std::io::Write as _;
    use std::os::fd::{AsRawFd as _, FromRawFd as _};
    let rel = std::ffi::CString::new(rel).map_err(io::Error::other)?;
    // SAFETY: as in `mkdir_at`; the descriptor returned is owned by the `File` made from it.
    let fd = unsafe {
        libc::openat(
            at.as_raw_fd(),
            rel.as_ptr(),
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
            0o666 as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    let mut file = unsafe { fs::File::from_raw_fd(fd) };
    file.write_all(bytes)?;
    Ok(FileStat::of_metadata(&file.metadata()?))
}

#[cfg(not(unix))]
fn write_and_stat_at(_at: (), _rel: &str, _bytes: &[u8]) -> io::Result<Option<FileStat>> {
    unreachable!("no folder is opened off Unix")
}

/// `fs::write`, then `fstat` of the written file.
fn write_and_stat(path: &Path, bytes: &[u8]) -> io::Result<Option<FileStat>> {
    use std::io::Write as _;
    let mut file = fs::File::create(path)?;
    file.write_all(bytes)?;
    Ok(FileStat::of_metadata(&file.metadata()?))
}

/// A mutex's data, also after a panic of another thread while it held it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Fault injection for crash-safety tests, from the variable `EDGEFLEET_TEST_FAULT` (read once;
/// without it every hook is a no-op). Each file system step of a write (a folder or file created,
/// a link, a rename, the swap) counts as one step:
/// - `count`: prints `edgefleet-test-fault: N write steps` to stderr when the write ends;
/// - `kill-at:N`: the process kills itself with SIGKILL at step N (a `kill -9` at a known point);
/// - `enospc-at:N`: step N and every later one fail with "No space left on device".
pub mod fault {
    use std::io;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The variable that turns fault injection on.
    pub const VAR: &str = "EDGEFLEET_TEST_FAULT";

    enum Fault {
        None,
        Count,
        KillAt(usize),
        EnospcAt(usize),
    }

    static STEPS: AtomicUsize = AtomicUsize::new(0);

    fn fault() -> &'static Fault {
        static FAULT: OnceLock<Fault> = OnceLock::new();
        FAULT.get_or_init(|| {
            let Ok(spec) = std::env::var(VAR) else {
                return Fault::None;
            };
            let at = |prefix: &str| spec.strip_prefix(prefix).and_then(|n| n.parse().ok());
            if spec == "count" {
                Fault::Count
            } else if let Some(n) = at("kill-at:") {
                Fault::KillAt(n)
            } else if let Some(n) = at("enospc-at:") {
                Fault::EnospcAt(n)
            } else {
                Fault::None
            }
        })
    }

    /// Counts one write step and injects the configured fault there.
    pub(super) fn step() -> io::Result<()> {
        let fault = fault();
        if matches!(fault, Fault::None) {
            return Ok(());
        }
        let n = STEPS.fetch_add(1, Ordering::SeqCst) + 1;
        match *fault {
            Fault::KillAt(at) if n == at => {
                // SAFETY: sends SIGKILL to this process; nothing runs after it.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGKILL);
                }
                Ok(())
            }
            Fault::EnospcAt(at) if n >= at => Err(io::Error::from_raw_os_error(libc::ENOSPC)),
            _ => Ok(()),
        }
    }

    /// In `count` mode, prints how many steps the write took.
    pub(super) fn report() {
        if matches!(fault(), Fault::Count) {
            eprintln!(
                "edgefleet-test-fault: {} write steps",
                STEPS.load(Ordering::SeqCst)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> OutputTree {
        let mut t = OutputTree::new();
        for (p, c) in files {
            t.insert(*p, c.as_bytes().to_vec());
        }
        t
    }

    fn snapshot(root: &Path) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap().flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    let rel = e.path().strip_prefix(root).unwrap().display().to_string();
                    out.push((rel, fs::read(e.path()).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn merging_sorted_sequences() {
        let merged: Vec<u32> = merge_sorted([1, 3, 5, 9], [2, 3, 4, 6]).collect();
        assert_eq!(merged, [1, 2, 3, 3, 4, 5, 6, 9]);
        assert_eq!(
            merge_sorted(Vec::<u32>::new(), [1]).collect::<Vec<_>>(),
            [1]
        );
        assert_eq!(merge_sorted([1], []).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn fresh_write_then_clean_rerun() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let t = tree(&[("a/b.yaml", "1"), ("c.yaml", "2")]);
        let changes = compare(&t, &out).unwrap();
        assert_eq!(changes.created.len(), 2);
        apply(&t, &out, &changes).unwrap();
        assert_eq!(fs::read_to_string(out.join("a/b.yaml")).unwrap(), "1");
        let again = compare(&t, &out).unwrap();
        assert!(again.is_clean() && !again.manifest_stale, "{again:?}");
        // No staging folder is left next to the output.
        let siblings: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(siblings, vec![std::ffi::OsString::from("out")]);
    }

    #[test]
    fn a_fresh_writer_writes_what_apply_writes_or_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let t = tree(&[("a/b.yaml", "1"), ("a/c/d.yaml", "2"), ("e.yaml", "3")]);
        let by_apply = dir.path().join("by-apply");
        apply(&t, &by_apply, &compare(&t, &by_apply).unwrap()).unwrap();
        // Part of the tree while planning, the rest at the end.
        let out = dir.path().join("out");
        let w = FreshWriter::start(&out).unwrap();
        let stats = w.write(&tree(&[("a/c/d.yaml", "2")])).unwrap();
        assert!(!out.exists(), "the output folder appeared before the end");
        let rest = tree(&[("a/b.yaml", "1"), ("e.yaml", "3")]);
        w.finish(&rest, &["a/c/d.yaml"], &compare(&rest, &out).unwrap())
            .unwrap();
        assert_eq!(snapshot(&out), snapshot(&by_apply));
        // What fstat said while writing is what lstat says after the rename.
        let now = FileStat::of(&out.join("a/c/d.yaml"));
        assert!(now.is_some());
        assert_eq!(stats, [now]);
        assert!(FreshWriter::start(&out).is_none(), "the folder exists now");
        // Dropped unfinished (planning failed): nothing is left, not even the staging folder.
        let failed = dir.path().join("new/parents/failed");
        let w = FreshWriter::start(&failed).unwrap();
        w.write(&t);
        drop(w);
        assert!(!dir.path().join("new").exists());
        // An output folder made by someone else meanwhile: written as apply writes it.
        let raced = dir.path().join("raced");
        let w = FreshWriter::start(&raced).unwrap();
        w.write(&t);
        fs::create_dir(&raced).unwrap();
        fs::write(raced.join("mine.txt"), "user data").unwrap();
        w.finish(&t, &[], &compare(&t, &raced).unwrap()).unwrap();
        assert_eq!(
            fs::read_to_string(raced.join("mine.txt")).unwrap(),
            "user data"
        );
        assert_eq!(fs::read_to_string(raced.join("a/c/d.yaml")).unwrap(), "2");
        let mut siblings: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        siblings.sort();
        assert_eq!(siblings, ["by-apply", "out", "raced"]);
    }

    #[test]
    fn the_common_folder_of_paths() {
        let of = |paths: &[&str]| common_folder(paths.iter().copied());
        assert_eq!(of(&[]), 0);
        assert_eq!(of(&["e.yaml"]), 0);
        assert_eq!(of(&["sites/eu/s1/site.json"]), "sites/eu/s1".len());
        let site = [
            "sites/eu/s1/site.json",
            "sites/eu/s1/w/k.yaml",
            "sites/eu/s1/v/k.yaml",
        ];
        assert_eq!(of(&site), "sites/eu/s1".len());
        // A folder whose name another extends is not shared by them (`s1` and `s10`).
        assert_eq!(of(&["sites/eu/s1/a", "sites/eu/s10/a"]), "sites/eu".len());
        assert_eq!(of(&["sites/eu/s10/a", "sites/eu/s1/a"]), "sites/eu".len());
        assert_eq!(of(&["sites/eu/s1/a", "sites/eu/s1"]), "sites/eu".len());
        assert_eq!(
            of(&["sites/eu/s1/w/a", "sites/eu/s1/v/a"]),
            "sites/eu/s1".len()
        );
        assert_eq!(of(&["a/b", "c/d"]), 0);
        assert_eq!(of(&["ä/b/c", "ä/b/d", "ä/x"]), "ä".len());
    }

    #[test]
    fn a_fresh_writer_shares_only_the_folders_above_each_site() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let sites: Vec<OutputTree> = (0..40)
            .map(|i| {
                let site = format!("sites/r{}/s{i}", i % 3);
                let site_json = format!("{site}/site.json");
                let own = format!("{site}/w/k.yaml");
                let deeper = format!("{site}/v/x/k.yaml");
                tree(&[(&site_json, "{}"), (&own, "a"), (&deeper, "b")])
            })
            .collect();
        let w = FreshWriter::start(&out).unwrap();
        // Two threads at once, as planning writes.
        sites.par_iter().for_each(|t| {
            assert!(w.write(t).is_some());
        });
        let mut shared: Vec<String> = lock(&w.dirs).iter().cloned().collect();
        shared.sort();
        assert_eq!(shared, ["sites", "sites/r0", "sites/r1", "sites/r2"]);
        let rest = tree(&[("bases/w/k.yaml", "base"), ("sites/r0/README", "r")]);
        let staged: Vec<String> = sites
            .iter()
            .flat_map(|t| t.iter().map(|(p, _)| p.to_owned()))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let staged: Vec<&str> = staged.iter().map(String::as_str).collect();
        w.finish(&rest, &staged, &compare(&rest, &out).unwrap())
            .unwrap();
        let mut whole = rest.clone();
        for t in &sites {
            for (p, b) in t.iter() {
                whole.insert(p, b.to_vec());
            }
        }
        let by_apply = dir.path().join("by-apply");
        apply(&whole, &by_apply, &compare(&whole, &by_apply).unwrap()).unwrap();
        assert_eq!(snapshot(&out), snapshot(&by_apply));
        // Files and folders made relative to a site's folder get the modes the others get.
        #[cfg(unix)]
        for p in ["sites/r1/s1/v/x/k.yaml", "sites/r1/s1/v/x", "sites/r1/s1"] {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |root: &Path| fs::metadata(root.join(p)).unwrap().permissions().mode();
            assert_eq!(mode(&out), mode(&by_apply), "{p}");
        }
    }

    #[test]
    fn files_a_fresh_writer_took_need_not_stay_in_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let t = tree(&[("a/b.yaml", "1"), ("a/c/d.yaml", "2"), ("e.yaml", "3")]);
        let by_apply = dir.path().join("by-apply");
        apply(&t, &by_apply, &compare(&t, &by_apply).unwrap()).unwrap();
        // The planner drops the bytes of what the writer took: only `e.yaml` is left.
        let rest = tree(&[("e.yaml", "3")]);
        let taken = ["a/b.yaml", "a/c/d.yaml"];
        let out = dir.path().join("out");
        let w = FreshWriter::start(&out).unwrap();
        let stats = w.write(&tree(&[("a/b.yaml", "1"), ("a/c/d.yaml", "2")]));
        assert_eq!(stats.map(|s| s.len()), Some(2));
        w.finish(&rest, &taken, &compare(&rest, &out).unwrap())
            .unwrap();
        // Same files, manifest included.
        assert_eq!(snapshot(&out), snapshot(&by_apply));
        // The output folder appeared meanwhile: the taken files are read back, and the whole
        // tree is written as into any existing folder.
        let raced = dir.path().join("raced");
        let w = FreshWriter::start(&raced).unwrap();
        assert!(
            w.write(&tree(&[("a/b.yaml", "1"), ("a/c/d.yaml", "2")]))
                .is_some()
        );
        fs::create_dir(&raced).unwrap();
        let mut whole = rest.clone();
        w.restore(&mut whole, &taken).unwrap();
        assert_eq!(whole, t);
        w.finish(&whole, &[], &compare(&whole, &raced).unwrap())
            .unwrap();
        assert_eq!(snapshot(&raced), snapshot(&by_apply));
        // After a failed write the writer takes nothing.
        let failing = dir.path().join("failing");
        let w = FreshWriter::start(&failing).unwrap();
        fs::write(w.staging.join("a"), "a file where a folder goes").unwrap();
        assert!(w.write(&tree(&[("a/b.yaml", "1")])).is_none());
        assert!(w.write(&tree(&[("e.yaml", "3")])).is_none());
    }

    #[test]
    fn a_file_in_the_way_of_a_folder_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = tree(&[("a/b.yaml", "1"), ("c.yaml", "2")]);
        apply(&first, &out, &compare(&first, &out).unwrap()).unwrap();
        // A file of the user's where the new plan needs a folder: a conflict, found before
        // anything is written, so the files that did change are not half-updated either.
        fs::write(out.join("blocker"), "user data").unwrap();
        let before = snapshot(&out);
        let second = tree(&[
            ("a/b.yaml", "1 changed"),
            ("blocker/x.yaml", "3"),
            ("c.yaml", "2 changed"),
        ]);
        let changes = compare(&second, &out).unwrap();
        assert_eq!(changes.foreign, vec!["blocker/x.yaml".to_owned()]);
        assert!(apply(&second, &out, &changes).is_err());
        assert_eq!(
            snapshot(&out),
            before,
            "the tree changed after a failed write"
        );
    }

    #[test]
    fn removed_files_are_pruned_with_their_empty_folders_only() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = tree(&[("sites/r/s1/w/k.yaml", "1"), ("sites/r/s2/w/k.yaml", "2")]);
        apply(&first, &out, &compare(&first, &out).unwrap()).unwrap();
        fs::write(out.join("sites/r/s2/notes.txt"), "mine").unwrap();
        let second = tree(&[("sites/r/s1/w/k.yaml", "1")]);
        let changes = compare(&second, &out).unwrap();
        assert_eq!(changes.removed, vec!["sites/r/s2/w/k.yaml".to_owned()]);
        apply(&second, &out, &changes).unwrap();
        assert!(!out.join("sites/r/s2/w").exists());
        assert_eq!(
            fs::read_to_string(out.join("sites/r/s2/notes.txt")).unwrap(),
            "mine"
        );
        assert!(!out.join(PENDING).exists());
    }

    #[test]
    fn a_foreign_file_at_a_planned_path_is_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("c.yaml"), "hand-written").unwrap();
        let t = tree(&[("c.yaml", "generated"), ("d.yaml", "x")]);
        let changes = compare(&t, &out).unwrap();
        assert_eq!(changes.foreign, vec!["c.yaml".to_owned()]);
        assert!(matches!(
            apply(&t, &out, &changes),
            Err(WriteError::Foreign { .. })
        ));
        assert_eq!(
            fs::read_to_string(out.join("c.yaml")).unwrap(),
            "hand-written"
        );
        assert!(!out.join("d.yaml").exists());
    }

    /// Paths like a fleet's: shared folders, names that sort around `/` (`-`, `.`, `0`).
    fn sample_paths() -> Vec<String> {
        let mut paths = Vec::new();
        for region in ["eu", "eu-north", "eu.x", "eu0"] {
            for site in ["s", "s-1", "s/x", "s0"] {
                for file in ["k.yaml", "w/k.yaml", "w-2/k.yaml"] {
                    paths.push(format!("sites/{region}/{site}/{file}"));
                }
            }
        }
        paths.push("appsets/a.yaml".into());
        paths.push("top.yaml".into());
        paths.sort();
        paths
    }

    #[test]
    fn the_folders_of_sorted_paths_are_each_listed_once() {
        let paths = sample_paths();
        let mut found = folders_of(paths.iter().map(String::as_str));
        let mut by_set: Vec<&str> = paths
            .iter()
            .flat_map(|p| p.match_indices('/').map(move |(i, _)| &p[..i]))
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .collect();
        assert_eq!(found.len(), by_set.len(), "{found:?}");
        found.sort_unstable();
        by_set.sort_unstable();
        assert_eq!(found, by_set);
    }

    #[test]
    fn a_sorted_difference_is_what_a_set_difference_is() {
        let paths = sample_paths();
        let every_third: Vec<&str> = paths.iter().step_by(3).map(String::as_str).collect();
        let all: Vec<&str> = paths.iter().map(String::as_str).collect();
        let by_set: Vec<&str> = all
            .iter()
            .filter(|p| !every_third.contains(p))
            .copied()
            .collect();
        assert_eq!(sorted_difference(all.clone(), every_third.clone()), by_set);
        assert!(sorted_difference(every_third.clone(), all.clone()).is_empty());
        assert_eq!(sorted_difference(all.clone(), []), all);
        // A manifest edited by hand (unsorted, repeated, comments, unsafe lines) lists the same.
        let text = format!("# header\n{}\n../x\n\n{}\n", all.join("\n"), all[0]);
        let mut shuffled: Vec<&str> = text.lines().collect();
        shuffled.reverse();
        assert_eq!(listed_paths(Some(&text), &|_| true), all);
        assert_eq!(listed_paths(Some(&shuffled.join("\n")), &|_| true), all);
        assert_eq!(
            listed_paths(Some(&text), &|p| p.starts_with("sites/eu/")),
            all.iter()
                .filter(|p| p.starts_with("sites/eu/"))
                .copied()
                .collect::<Vec<_>>()
        );
        assert!(listed_paths(None, &|_| true).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn nothing_is_written_through_a_symlinked_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = tree(&[
            ("sites/r/s1/w/k.yaml", "1"),
            ("sites/r/s2/w/k.yaml", "2"),
            ("sites/q/s3/w/k.yaml", "3"),
        ]);
        apply(&first, &out, &compare(&first, &out).unwrap()).unwrap();
        // Two folders replaced by links to copies elsewhere.
        let elsewhere = dir.path().join("elsewhere");
        for site in ["r/s2", "q/s3"] {
            let from = out.join("sites").join(site);
            let to = elsewhere.join(site);
            fs::create_dir_all(to.parent().unwrap()).unwrap();
            fs::rename(&from, &to).unwrap();
            std::os::unix::fs::symlink(&to, &from).unwrap();
        }
        // A plan writing below them is refused, naming the first such folder in path order.
        let second = tree(&[
            ("sites/r/s1/w/k.yaml", "1"),
            ("sites/r/s2/w/k.yaml", "2 changed"),
            ("sites/q/s3/w/k.yaml", "3 changed"),
        ]);
        match compare(&second, &out) {
            Err(WriteError::Unsafe { path, .. }) => assert_eq!(path, out.join("sites/q/s3")),
            other => panic!("{other:?}"),
        }
        // Files kept as they are (a rerun's unchanged sites) are neither written nor looked
        // through: the links stay, and nothing changes on either side.
        let only_s1 = tree(&[("sites/r/s1/w/k.yaml", "1")]);
        let kept = vec!["sites/q/s3/w/k.yaml", "sites/r/s2/w/k.yaml"];
        let changes = compare_kept(&only_s1, kept, &out, &|_| true).unwrap();
        assert!(changes.is_clean() && !changes.writes(), "{changes:?}");
        apply(&only_s1, &out, &changes).unwrap();
        assert_eq!(
            fs::read_to_string(elsewhere.join("r/s2/w/k.yaml")).unwrap(),
            "2"
        );
        assert!(
            fs::symlink_metadata(out.join("sites/r/s2"))
                .unwrap()
                .file_type()
                .is_symlink()
        );
    }

    #[test]
    fn a_manifest_read_in_pieces_lists_the_plan_only_when_read_whole_it_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest");
        let paths = sample_paths();
        let planned: Vec<&str> = paths.iter().map(String::as_str).collect();
        let every = |_: &str| true;
        let in_eu = |p: &str| p.starts_with("sites/eu/");
        let written = manifest_text(&OutputTree::new(), &planned);
        let cases = [
            written.clone(),
            written.replace('\n', "\r\n"),
            format!("{written}# a comment\n\n../escape\n"),
            written.trim_end().to_owned(),
            format!("{}\r", written.trim_end()),
            written.replacen(planned[3], "", 1),
            written.replacen(planned[3], &format!("{}\n{}", planned[3], planned[3]), 1),
            written
                .replacen(planned[3], &format!("{}\n{}", planned[4], planned[3]), 1)
                .replacen(
                    &format!("{}\n{}\n", planned[4], planned[4]),
                    &format!("{}\n", planned[4]),
                    1,
                ),
            format!("{written}sites/zz/extra.yaml\n"),
            String::new(),
        ];
        for (i, text) in cases.iter().enumerate() {
            fs::write(&path, text).unwrap();
            for owns in [&every as &(dyn Fn(&str) -> bool + Sync), &in_eu] {
                let want: Vec<&str> = planned.iter().copied().filter(|p| owns(p)).collect();
                let whole = listed_paths(Some(text), owns) == want;
                let in_pieces = manifest_lists_exactly(&path, want.iter().copied(), owns);
                // In pieces it may only be stricter (then the manifest is read whole).
                assert!(!in_pieces || whole, "case {i}");
                if i < 4 {
                    assert!(in_pieces, "case {i}");
                }
            }
        }
        assert!(!manifest_lists_exactly(
            &dir.path().join("none"),
            [],
            &every
        ));
        fs::write(&path, b"\xff\xfe\n").unwrap();
        assert!(!manifest_lists_exactly(&path, [], &every));
    }

    #[cfg(unix)]
    #[test]
    fn nothing_is_removed_through_a_symlinked_folder() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let first = tree(&[("sites/r/s1/w/k.yaml", "1"), ("sites/r/s2/w/k.yaml", "2")]);
        apply(&first, &out, &compare(&first, &out).unwrap()).unwrap();
        let elsewhere = dir.path().join("elsewhere");
        fs::rename(out.join("sites/r/s2"), &elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, out.join("sites/r/s2")).unwrap();
        // Site s2 leaves the plan: its owned file is behind a link, so nothing is removed.
        let second = tree(&[("sites/r/s1/w/k.yaml", "1")]);
        match compare(&second, &out) {
            Err(WriteError::Unsafe { path, message }) => {
                assert_eq!(path, out.join("sites/r/s2"));
                assert!(message.contains("remove"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(fs::read_to_string(elsewhere.join("w/k.yaml")).unwrap(), "2");
    }
}
