//! What a whole `generate` run reads, fingerprinted without reading it: the inventory's files
//! and the catalogue's folders and files, each by path and what `stat` says of it (size,
//! modification and change times, inode, device).
//!
//! A rerun whose inputs all look as they did when the rerun cache was written, and whose files
//! all look as written, has nothing to plan (docs/generated-tree.md, "Reruns"). The stamp only
//! ever sends a run down the full path: any doubt (a file that cannot be listed or stat'ed, a
//! file changed too recently for its times to tell) means no stamp.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::cache::digest;
use crate::catalogue::Catalogue;

/// Inputs changed less than this long before a run started are not trusted to show a later
/// change in their times: a file system keeps times in ticks (a few milliseconds on local
/// Linux file systems, a second or two on older or shared ones), and a file written twice in
/// one tick, once before and once after it was read, would look unchanged.
pub const RACY: Duration = Duration::from_secs(3);

/// The fingerprint of a run's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputStamp {
    pub digest: [u8; 32],
    /// Whether every input's times are older than [`RACY`] before the stamp was taken: only
    /// then may a run record it.
    pub settled: bool,
}

/// The stamp of the inventory at `inventory` (a folder or one file) and the catalogue folder
/// `templates` (`None`: the built-in catalogue, part of the edgefleet build), with the settings
/// that are not in the build's identity (the two paths as given). `None` when anything cannot
/// be listed or stat'ed (the run then reports it, from the full path).
pub fn stamp(inventory: &Path, templates: Option<&Path>) -> Option<InputStamp> {
    let started = SystemTime::now();
    let mut text = String::new();
    let mut newest = (i64::MIN, 0i64);
    let mut add = |kind: &str, path: &Path, with_stat: bool| -> Option<()> {
        let path_text = path.to_str()?;
        // One line per entry: a path with a line break could run into the next line.
        if path_text.contains(['\n', '\r']) {
            return None;
        }
        text.push_str(kind);
        text.push(' ');
        text.push_str(path_text);
        if with_stat {
            let s = Stat::of(path)?;
            newest = newest.max(s.mtime).max(s.ctime);
            text.push_str(&format!(
                " {} {} {} {} {} {} {}",
                s.size, s.mtime.0, s.mtime.1, s.ctime.0, s.ctime.1, s.ino, s.dev
            ));
        }
        text.push('\n');
        Some(())
    };
    add("inventory", inventory, false)?;
    for file in edgefleet_inventory::load::inventory_files(inventory).ok()? {
        add("f", &file, true)?;
    }
    match templates {
        None => add("catalogue", Path::new("(built in)"), false)?,
        Some(dir) => {
            add("catalogue", dir, false)?;
            for (name, files) in Catalogue::source_files(dir).ok()? {
                // The workload folder by name: an empty one is a workload too.
                add("w", Path::new(&name), false)?;
                for file in &files {
                    add("f", file, true)?;
                }
            }
        }
    }
    let limit = started.checked_sub(RACY).unwrap_or(UNIX_EPOCH);
    let settled = newest < seconds_nanos(limit);
    Some(InputStamp {
        digest: digest(&[b"edgefleet generate inputs 1", text.as_bytes()]),
        settled,
    })
}

fn seconds_nanos(t: SystemTime) -> (i64, i64) {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, i64::from(d.subsec_nanos())),
        Err(_) => (i64::MIN, 0),
    }
}

/// What `stat` (following links, as the loaders read through them) says of an input file.
struct Stat {
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
}

impl Stat {
    #[cfg(unix)]
    fn of(path: &Path) -> Option<Stat> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(Stat {
            size: m.size(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
            ino: m.ino(),
            dev: m.dev(),
        })
    }

    /// Without unix metadata there is no stamp: every rerun takes the per-site path.
    #[cfg(not(unix))]
    fn of(_: &Path) -> Option<Stat> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[cfg(unix)]
    #[test]
    fn the_stamp_changes_with_what_the_loaders_read_and_settles() {
        let dir = tempfile::tempdir().unwrap();
        let (inventory, templates) = (dir.path().join("inv"), dir.path().join("tpl"));
        fs::create_dir_all(inventory.join("sites")).unwrap();
        fs::create_dir_all(templates.join("broker")).unwrap();
        fs::write(inventory.join("sites/a.yaml"), "sites: []\n").unwrap();
        fs::write(templates.join("broker/base.yaml.j2"), "x\n").unwrap();
        let of = || stamp(&inventory, Some(&templates)).unwrap();
        let first = of();
        // Written a moment ago: not settled.
        assert!(!first.settled);
        assert_eq!(of().digest, first.digest);
        assert_ne!(stamp(&inventory, None).unwrap().digest, first.digest);
        // What neither loader reads changes nothing: another kind of file, hidden entries, a
        // file at the catalogue's top level.
        fs::write(inventory.join("notes.txt"), "x").unwrap();
        fs::write(inventory.join(".hidden.yaml"), "x").unwrap();
        fs::write(templates.join("README.md"), "x").unwrap();
        fs::create_dir_all(templates.join(".git")).unwrap();
        assert_eq!(of().digest, first.digest);
        // What they read does.
        let mut seen = vec![first.digest];
        let changes: [&dyn Fn(); 5] = [
            &|| fs::write(inventory.join("sites/b.csv"), "id\n").unwrap(),
            &|| fs::write(inventory.join("sites/a.yaml"), "sites: []\n").unwrap(),
            &|| fs::create_dir_all(templates.join("agent")).unwrap(),
            &|| fs::write(templates.join("broker/base.yaml.j2"), "y\n").unwrap(),
            &|| fs::remove_file(inventory.join("sites/b.csv")).unwrap(),
        ];
        for (i, change) in changes.iter().enumerate() {
            // A tick later than the last change, on any local file system.
            std::thread::sleep(Duration::from_millis(20));
            change();
            let now = of().digest;
            assert!(!seen.contains(&now), "change {i} not seen");
            seen.push(now);
        }
        // Unreadable: no stamp.
        assert!(stamp(&dir.path().join("missing"), Some(&templates)).is_none());
        assert!(stamp(&inventory, Some(&dir.path().join("missing"))).is_none());
        // Once every input is older than `RACY`, the stamp may be recorded.
        std::thread::sleep(RACY + Duration::from_millis(300));
        let settled = of();
        assert!(settled.settled);
        assert_eq!(settled.digest, *seen.last().unwrap());
    }
}
