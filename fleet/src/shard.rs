//! `--shard K/N`: one fixed part of a fleet's sites, so that N machines (a CI matrix, a
//! Kubernetes Indexed Job, an Argo Workflows fan-out) each do a quarter of the work and
//! `edgefleet merge` joins their reports into the report of one run.
//!
//! **The partition.** A site belongs to shard `1 + (h mod N)`, where `h` is the first 8 bytes
//! (big-endian) of the SHA-256 of the site id's UTF-8 bytes. It depends on the id and `N` only:
//! adding or removing other sites, reordering the inventory, or renaming a region moves no site
//! between shards. Every command (`generate --check`, `lint --fleet`, `diff`) uses
//! [`Shard::of`], so one site is in the same shard for all of them.
//!
//! **Fleet-wide work** (files outside `sites/`, such as bases, components and ApplicationSets,
//! problems of the tree that belong to no site) is done by shard 1 only
//! ([`Shard::fleet_wide`]): never twice, never lost.
//!
//! **The manifest.** Every report of a sharded run carries a [`Manifest`]: edgefleet's version,
//! the command, a hash of the inputs (the inventory's files for `lint --fleet`, the two planned
//! trees for `diff`) and `K/N`. `merge` accepts only a complete set of
//! shards of one command over one inventory ([`check_set`]).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Shard `index` of `count` (1-based: `1/4` .. `4/4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

/// The number of shards edgefleet accepts (far more than any CI matrix runs).
pub const MAX_SHARDS: u32 = 10_000;

impl Shard {
    /// Shard `index` of `count`, `None` unless `1 <= index <= count <= MAX_SHARDS`.
    pub fn new(index: u32, count: u32) -> Option<Shard> {
        (index >= 1 && index <= count && count <= MAX_SHARDS).then_some(Shard { index, count })
    }

    /// The whole fleet in one shard (`1/1`).
    pub const WHOLE: Shard = Shard { index: 1, count: 1 };

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// The shard (1-based) of `count` that a site id belongs to: 1 + (the first 8 bytes of
    /// SHA-256(id), big-endian) mod `count`.
    pub fn of(site: &str, count: u32) -> u32 {
        let digest = Sha256::digest(site.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        // `count` is at least 1 for every shard made by `new`.
        1 + (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32
    }

    /// `true` when the site is in this shard.
    pub fn contains(self, site: &str) -> bool {
        self.count == 1 || Shard::of(site, self.count) == self.index
    }

    /// `true` for the shard that does the fleet-wide work (shard 1).
    pub fn fleet_wide(self) -> bool {
        self.index == 1
    }

    /// `true` when a path of the generated tree (relative, `/`-separated) is this shard's:
    /// `sites/<region>/<site>/...` by the site folder's name, every other path in shard 1.
    pub fn owns_path(self, path: &str) -> bool {
        let mut parts = path.split('/');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(edgefleet_overlays::layout::SITES), Some(_), Some(site)) => self.contains(site),
            _ => self.fleet_wide(),
        }
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a `--shard` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid shard `{value}`: {reason} (expected K/N with 1 <= K <= N <= {MAX_SHARDS}, e.g. 2/4)"
)]
pub struct ShardError {
    pub value: String,
    pub reason: &'static str,
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let err = |reason| ShardError {
            value: s.to_owned(),
            reason,
        };
        let (k, n) = s.trim().split_once('/').ok_or_else(|| err("no `/`"))?;
        let number = |t: &str| {
            t.trim()
                .parse::<u32>()
                .ok()
                .filter(|_| t.trim().bytes().all(|b| b.is_ascii_digit()))
        };
        let k = number(k).ok_or_else(|| err("K is not a whole number"))?;
        let n = number(n).ok_or_else(|| err("N is not a whole number"))?;
        if n == 0 {
            return Err(err("N must be at least 1"));
        }
        if n > MAX_SHARDS {
            return Err(err("N is too large"));
        }
        if k == 0 {
            return Err(err("shards are numbered from 1"));
        }
        if k > n {
            return Err(err("K is larger than N"));
        }
        Ok(Shard { index: k, count: n })
    }
}

/// What a sharded report says about the run that wrote it. Every field is a string, so that
/// the manifest reads the same in JSON, SARIF run properties and JUnit properties.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The edgefleet version that wrote the report.
    pub edgefleet: String,
    /// The command and the options that shape the report (`lint --fleet --format sarif`).
    pub command: String,
    /// `sha256:<hex>` of the inputs (see [`inventory_hash`]).
    pub inventory: String,
    /// `K/N`.
    pub shard: String,
}

impl Manifest {
    pub fn new(shard: Shard, command: impl Into<String>, inventory: impl Into<String>) -> Self {
        Manifest {
            edgefleet: env!("CARGO_PKG_VERSION").to_owned(),
            command: command.into(),
            inventory: inventory.into(),
            shard: shard.to_string(),
        }
    }

    /// The manifest as a JSON object (what reports embed).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// A manifest read back from a report; `None` when it is not one.
    pub fn from_value(value: &serde_json::Value) -> Option<Manifest> {
        serde_json::from_value(value.clone()).ok()
    }
}

/// Checks that `manifests` (one per input report, named by `names`) are one complete set: the
/// same version, command, inventory and N, each shard once, none missing. The error names what
/// differs, the duplicates or the missing shards.
pub fn check_set(manifests: &[(String, Manifest)]) -> Result<u32, String> {
    let Some((first_name, first)) = manifests.first() else {
        return Err("no shard reports given".to_owned());
    };
    let parse = |name: &str, m: &Manifest| {
        m.shard
            .parse::<Shard>()
            .map_err(|e| format!("{name}: shard manifest: {e}"))
    };
    let count = parse(first_name, first)?.count();
    let mut seen: Vec<Option<&str>> = vec![None; count as usize];
    for (name, m) in manifests {
        for (what, a, b) in [
            ("edgefleet version", &first.edgefleet, &m.edgefleet),
            ("command", &first.command, &m.command),
            ("inventory hash", &first.inventory, &m.inventory),
        ] {
            if a != b {
                return Err(format!(
                    "{name} and {first_name} are shards of different runs: {what} `{b}` vs `{a}`"
                ));
            }
        }
        let shard = parse(name, m)?;
        if shard.count() != count {
            return Err(format!(
                "{name} and {first_name} are shards of different runs: {} shards vs {count}",
                shard.count()
            ));
        }
        let slot = &mut seen[(shard.index() - 1) as usize];
        if let Some(other) = slot {
            return Err(format!("shard {shard} is given twice: {other} and {name}"));
        }
        *slot = Some(name);
    }
    let missing: Vec<String> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(i, _)| format!("{}/{count}", i + 1))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "incomplete set of shards: missing {} (got {} of {count})",
            missing.join(", "),
            manifests.len()
        ));
    }
    Ok(count)
}

/// `sha256:<hex>` of an inventory (a folder or one file): every file under it, in path order,
/// as its relative path and its bytes. Hidden files and folders are left out, as the
/// inventory loader does.
pub fn inventory_hash(inventory: &Path) -> std::io::Result<String> {
    let mut files = Vec::new();
    if inventory.is_dir() {
        walk(inventory, &mut files)?;
    } else {
        files.push(inventory.to_path_buf());
    }
    files.sort();
    let mut hash = Sha256::new();
    for file in &files {
        let relative = file.strip_prefix(inventory).unwrap_or(file);
        let name = relative.to_string_lossy().replace('\\', "/");
        let bytes = std::fs::read(file)?;
        hash.update((name.len() as u64).to_be_bytes());
        hash.update(name.as_bytes());
        hash.update((bytes.len() as u64).to_be_bytes());
        hash.update(&bytes);
    }
    Ok(hex(&hash.finalize()))
}

/// `sha256:<hex>` of planned trees (the two revisions `diff` compares): every path and its
/// bytes, tree after tree.
pub fn hash_trees(trees: &[&edgefleet_overlays::tree::OutputTree]) -> String {
    let mut hash = Sha256::new();
    for tree in trees {
        hash.update((tree.len() as u64).to_be_bytes());
        for (path, bytes) in tree.iter() {
            hash.update((path.len() as u64).to_be_bytes());
            hash.update(path.as_bytes());
            hash.update((bytes.len() as u64).to_be_bytes());
            hash.update(bytes);
        }
    }
    hex(&hash.finalize())
}

fn hex(digest: &[u8]) -> String {
    let mut s = String::from("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files)?;
        } else {
            files.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard::new(2, 4).unwrap()));
        assert_eq!(" 1/1 ".parse::<Shard>(), Ok(Shard::WHOLE));
        for bad in [
            "0/4", "5/4", "1/0", "x", "1/x", "-1/4", "+1/4", "1/4/2", "", "/",
        ] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let e = "5/4".parse::<Shard>().unwrap_err().to_string();
        assert!(e.contains("K is larger than N"), "{e}");
    }

    #[test]
    fn the_partition_depends_on_the_id_only() {
        // Fixed values: changing the function would move sites between the shards of users'
        // pipelines; this test says so.
        let ids = [
            "rig-nsea-042",
            "rig-gulf-007",
            "store-0001",
            "mec-sg-changi-2",
        ];
        let shards: Vec<u32> = ids.iter().map(|id| Shard::of(id, 4)).collect();
        assert_eq!(shards, PINNED, "the partition changed");
        for id in ids {
            let n = Shard::of(id, 4);
            assert!((1..=4).contains(&n));
            assert!(Shard::new(n, 4).unwrap().contains(id));
            assert!(Shard::WHOLE.contains(id));
        }
    }
    const PINNED: [u32; 4] = [4, 3, 3, 2];

    #[test]
    fn spreads_sites_evenly() {
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            counts[(Shard::of(&format!("site-{i:05}"), 4) - 1) as usize] += 1;
        }
        for c in counts {
            assert!((850..1150).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn paths_outside_sites_belong_to_shard_one() {
        let one = Shard::new(1, 3).unwrap();
        let two = Shard::new(2, 3).unwrap();
        assert!(one.owns_path("appsets/w-eu.yaml") && !two.owns_path("appsets/w-eu.yaml"));
        assert!(one.owns_path("bases/w/kustomization.yaml"));
        let site = "rig-nsea-042";
        let path = format!("sites/eu-north/{site}/w/kustomization.yaml");
        let owner = Shard::new(Shard::of(site, 3), 3).unwrap();
        assert!(owner.owns_path(&path));
        assert_eq!(
            [one, two, Shard::new(3, 3).unwrap()]
                .iter()
                .filter(|s| s.owns_path(&path))
                .count(),
            1
        );
    }

    fn manifest(shard: &str) -> (String, Manifest) {
        (
            format!("shard-{shard}.json").replace('/', "of"),
            Manifest {
                edgefleet: "0.1.0".into(),
                command: "lint --fleet --format json".into(),
                inventory: "sha256:ab".into(),
                shard: shard.into(),
            },
        )
    }

    #[test]
    fn a_set_must_be_complete_and_of_one_run() {
        assert_eq!(check_set(&[manifest("2/2"), manifest("1/2")]), Ok(2));
        let e = check_set(&[manifest("1/3"), manifest("3/3")]).unwrap_err();
        assert!(e.contains("missing 2/3"), "{e}");
        let e = check_set(&[manifest("1/2"), manifest("1/2")]).unwrap_err();
        assert!(e.contains("given twice"), "{e}");
        let mut other = manifest("2/2");
        other.1.inventory = "sha256:cd".into();
        let e = check_set(&[manifest("1/2"), other]).unwrap_err();
        assert!(e.contains("inventory hash"), "{e}");
        let e = check_set(&[manifest("1/2"), manifest("2/3")]).unwrap_err();
        assert!(e.contains("3 shards vs 2"), "{e}");
        let mut other = manifest("2/2");
        other.1.command = "lint --fleet --format sarif".into();
        assert!(
            check_set(&[manifest("1/2"), other])
                .unwrap_err()
                .contains("command")
        );
    }
}
