//! `edgefleet generate` under faults: `kill -9` in the middle of a large write, a full disk, a
//! read-only output folder, an output folder on another file system. The tree on disk is always
//! the old one or the new one, never a mix; the next run repairs what a killed run left.
//!
//! Kill points come from the writer's fault hook (`EDGEFLEET_TEST_FAULT=kill-at:N`: the process
//! sends itself SIGKILL at its N-th file system step), so the 50 points land inside the write and
//! not in planning. File systems come from `mount` when the test may mount (it runs as root in
//! CI containers that allow it); otherwise the injected error says why.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use edgefleet_e2e::{copy_dir, describe, edgefleet_bin, synth_inventory};

/// Every file under `root` but the rerun cache, relative path → bytes.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                // The rerun cache is not part of the tree (it records times and inodes).
                if rel != ".edgefleet/cache" {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out
}

fn generate(inventory: &Path, out: &Path, fault: Option<&str>) -> Output {
    let mut command = Command::new(edgefleet_bin());
    command
        .args(["generate", "--inventory"])
        .arg(inventory)
        .arg("--out")
        .arg(out)
        .env_remove("EDGEFLEET_TEST_FAULT");
    if let Some(f) = fault {
        command.env("EDGEFLEET_TEST_FAULT", f);
    }
    command.output().unwrap()
}

fn generate_ok(inventory: &Path, out: &Path) {
    let o = generate(inventory, out, None);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
}

/// How many file system steps a write of `inventory` over a copy of `old` takes.
fn count_steps(inventory: &Path, old: &Path, scratch: &Path) -> usize {
    let out = scratch.join("count");
    copy_dir(old, &out);
    let o = generate(inventory, &out, Some("count"));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let steps = stderr
        .lines()
        .find_map(|l| l.strip_prefix("edgefleet-test-fault: "))
        .and_then(|l| l.strip_suffix(" write steps"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no step count in {stderr}"));
    std::fs::remove_dir_all(&out).unwrap();
    steps
}

/// Names next to `out` in its parent other than `out` itself (staging leftovers).
fn siblings(out: &Path) -> Vec<String> {
    std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != out.file_name().unwrap().to_str().unwrap())
        .collect()
}

/// Two inventories (the old and the new fleet) and their trees, with a file of the user's in the
/// output folder that every write must keep.
struct Fixture {
    _tmp: tempfile::TempDir,
    old_inventory: PathBuf,
    new_inventory: PathBuf,
    old_tree: PathBuf,
    old: BTreeMap<String, Vec<u8>>,
    new: BTreeMap<String, Vec<u8>>,
}

fn fixture(old_sites: u32, new_sites: u32) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let old_inventory = tmp.path().join("old-inv");
    let new_inventory = tmp.path().join("new-inv");
    synth_inventory(old_sites, 1, &old_inventory);
    synth_inventory(new_sites, 2, &new_inventory);
    let old_tree = tmp.path().join("old-tree");
    generate_ok(&old_inventory, &old_tree);
    std::fs::write(old_tree.join("NOTES.md"), "kept by every run\n").unwrap();
    let new_tree = tmp.path().join("new-tree");
    copy_dir(&old_tree, &new_tree);
    generate_ok(&new_inventory, &new_tree);
    let (old, new) = (files(&old_tree), files(&new_tree));
    assert_ne!(old, new);
    assert_eq!(
        new.get("NOTES.md").map(Vec::as_slice),
        Some(&b"kept by every run\n"[..])
    );
    Fixture {
        old_inventory,
        new_inventory,
        old_tree,
        old,
        new,
        _tmp: tmp,
    }
}

#[test]
fn kill_9_at_50_points_of_a_large_write_leaves_the_old_or_the_new_tree_never_a_mix() {
    let f = fixture(40, 60);
    let scratch = tempfile::tempdir().unwrap();
    let steps = count_steps(&f.new_inventory, &f.old_tree, scratch.path());
    assert!(steps > 500, "only {steps} write steps: not a large write");
    let seed = std::env::var("EDGEFLEET_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        });
    eprintln!("kill points from seed {seed} (EDGEFLEET_FAULT_SEED={seed} repeats them)");
    let mut rng = fastrand::Rng::with_seed(seed);
    // The first and last steps, then random ones.
    let mut points = vec![1, steps];
    points.extend((0..48).map(|_| rng.usize(1..=steps)));
    let (mut old_seen, mut new_seen) = (0, 0);
    for (i, at) in points.into_iter().enumerate() {
        let out = scratch.path().join(format!("run{i}")).join("out");
        copy_dir(&f.old_tree, &out);
        let killed = generate(&f.new_inventory, &out, Some(&format!("kill-at:{at}")));
        assert_eq!(
            killed.status.signal(),
            Some(9),
            "kill-at:{at} of {steps}: not killed by SIGKILL: {}",
            describe(&killed)
        );
        let after = files(&out);
        if after == f.old {
            old_seen += 1;
        } else if after == f.new {
            new_seen += 1;
        } else {
            let differ: Vec<&String> = f
                .new
                .keys()
                .chain(f.old.keys())
                .filter(|k| after.get(*k) != f.old.get(*k) && after.get(*k) != f.new.get(*k))
                .take(5)
                .collect();
            let mixed_old = f
                .old
                .iter()
                .filter(|(k, v)| after.get(*k) == Some(v))
                .count();
            panic!(
                "kill -9 at step {at} of {steps} left a mixed tree ({} files; {mixed_old} as in \
                 the old tree; first odd paths {differ:?})",
                after.len()
            );
        }
        // The next run repairs: the new tree, nothing left next to it.
        generate_ok(&f.new_inventory, &out);
        assert_eq!(
            files(&out),
            f.new,
            "the run after kill-at:{at} did not repair"
        );
        assert_eq!(
            siblings(&out),
            Vec::<String>::new(),
            "leftovers after kill-at:{at}"
        );
        std::fs::remove_dir_all(out.parent().unwrap()).unwrap();
    }
    eprintln!("after kill -9: {old_seen} old trees, {new_seen} new trees, no mix");
    assert!(
        old_seen > 0 && new_seen > 0,
        "the kill points missed the swap"
    );
}

/// A small tmpfs mounted for the test, unmounted on drop; `Err` says why it could not be.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, options: &str) -> Result<Self, String> {
        std::fs::create_dir_all(dir).unwrap();
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "edgefleet-test"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if o.status.success() {
            Ok(Self {
                dir: dir.to_path_buf(),
            })
        } else {
            Err(format!(
                "mount -t tmpfs refused ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
    }
}

fn assert_clear_error(o: &Output, what: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", describe(o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains(what) && stderr.contains("nothing was changed"),
        "expected a clear `{what}` error: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_full_disk_is_a_clear_error_and_the_old_tree_stays() {
    let f = fixture(3, 80);
    let scratch = tempfile::tempdir().unwrap();
    // Room for the old tree (tmpfs counts a page per file), not for the new one.
    let size = (f.old.len() * 4096 * 2).max(256 * 1024);
    let disk = scratch.path().join("disk");
    match Tmpfs::mount(&disk, &format!("size={size}")) {
        Ok(_mounted) => {
            let out = disk.join("out");
            copy_dir(&f.old_tree, &out);
            let o = generate(&f.new_inventory, &out, None);
            assert_clear_error(&o, "No space left on device");
            assert_eq!(files(&out), f.old, "the old tree changed after a full disk");
            assert_eq!(siblings(&out), Vec::<String>::new());
        }
        Err(why) => {
            eprintln!("note: {why}; the full disk is an injected ENOSPC instead");
            let steps = count_steps(&f.new_inventory, &f.old_tree, scratch.path());
            for at in [1, steps / 2, steps - 1] {
                let out = scratch.path().join(format!("enospc{at}")).join("out");
                copy_dir(&f.old_tree, &out);
                let o = generate(&f.new_inventory, &out, Some(&format!("enospc-at:{at}")));
                assert_clear_error(&o, "No space left on device");
                assert_eq!(
                    files(&out),
                    f.old,
                    "the old tree changed after ENOSPC at {at}"
                );
                assert_eq!(siblings(&out), Vec::<String>::new());
            }
        }
    }
    // The old inventory still reads back as up to date.
    let _ = &f.old_inventory;
}

#[test]
fn a_read_only_output_folder_is_a_clear_error_and_stays_as_it_was() {
    let f = fixture(3, 6);
    let scratch = tempfile::tempdir().unwrap();
    let out = scratch.path().join("out");
    copy_dir(&f.old_tree, &out);
    // Root ignores permission bits: a read-only bind mount is the real thing.
    let bind = Command::new("mount")
        .args(["--bind"])
        .arg(&out)
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    let remount = bind
        && Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(&out)
            .status()
            .is_ok_and(|s| s.success());
    let expected = if remount {
        "Read-only file system"
    } else {
        if bind {
            let _ = Command::new("umount").arg(&out).status();
        }
        if is_root() {
            eprintln!(
                "note: cannot bind-mount read-only (no mount permission) and root ignores \
                 permission bits: checking an injected write error instead"
            );
            let o = generate(&f.new_inventory, &out, Some("enospc-at:1"));
            assert_clear_error(&o, "No space left on device");
            assert_eq!(files(&out), f.old);
            return;
        }
        set_read_only(&out, true);
        "Permission denied"
    };
    let o = generate(&f.new_inventory, &out, None);
    let after = files(&out);
    if remount {
        let _ = Command::new("umount").arg(&out).status();
    } else {
        set_read_only(&out, false);
    }
    assert_clear_error(&o, expected);
    assert_eq!(after, f.old, "a read-only output folder changed");
    assert_eq!(siblings(&out), Vec::<String>::new());
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn set_read_only(dir: &Path, read_only: bool) {
    let mode = if read_only { "a-w" } else { "u+w" };
    assert!(
        Command::new("chmod")
            .args(["-R", mode])
            .arg(dir)
            .status()
            .unwrap()
            .success()
    );
}

fn device(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().dev()
}

#[test]
fn an_output_folder_on_another_file_system_than_the_temp_dir() {
    let f = fixture(3, 6);
    let scratch = tempfile::tempdir().unwrap();
    let temp_dev = device(&std::env::temp_dir());
    // A tmpfs of our own, else /dev/shm when it is another file system.
    let mount_dir = scratch.path().join("other-fs");
    let (_mounted, root) = match Tmpfs::mount(&mount_dir, "size=64m") {
        Ok(m) => (Some(m), mount_dir.clone()),
        Err(why) => {
            let shm = Path::new("/dev/shm");
            if shm.is_dir() && device(shm) != temp_dev {
                eprintln!("note: {why}; using /dev/shm, another file system");
                (None, tempfile::tempdir_in(shm).unwrap().keep())
            } else {
                assert!(
                    !edgefleet_e2e::is_ci(),
                    "CI=true: no second file system to write to: {why}"
                );
                eprintln!("SKIPPED: no second file system: {why}");
                return;
            }
        }
    };
    assert_ne!(device(&root), temp_dev);
    // A folder inside the other file system: fresh, then updated (the swap path).
    let out = root.join("fleet/out");
    generate_ok(&f.old_inventory, &out);
    std::fs::write(out.join("NOTES.md"), "kept by every run\n").unwrap();
    assert_eq!(files(&out), f.old);
    generate_ok(&f.new_inventory, &out);
    assert_eq!(files(&out), f.new);
    assert_eq!(siblings(&out), Vec::<String>::new());
    // The file system's root itself as the output folder (a mount point cannot be swapped:
    // the per-file path runs).
    if _mounted.is_some() {
        for entry in std::fs::read_dir(&root).unwrap().flatten() {
            std::fs::remove_dir_all(entry.path()).unwrap();
        }
        generate_ok(&f.old_inventory, &root);
        std::fs::write(root.join("NOTES.md"), "kept by every run\n").unwrap();
        generate_ok(&f.new_inventory, &root);
        assert_eq!(files(&root), f.new);
    } else {
        std::fs::remove_dir_all(&root).unwrap();
    }
}
