//! `edgefleet generate` reruns with the rerun cache (docs/generated-tree.md, "Reruns"): after
//! every kind of change (a site, a profile, a site template, a base template, the settings, a
//! site added or removed) the rerun's tree is byte for byte the tree of a generate from scratch
//! into an empty folder, whatever `--jobs`; a generated file edited by hand (even keeping its
//! size and modification time) or deleted is restored; a corrupt cache means the full path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use edgefleet_e2e::{copy_dir, edgefleet_bin, workspace_root};

const CACHE: &str = ".edgefleet/cache";

/// Runs edgefleet in `cwd` (where an `edgefleet.toml` may be).
fn edgefleet_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(edgefleet_bin())
        .args(args)
        .current_dir(cwd)
        .env_remove("EDGEFLEET_TEST_FAULT")
        .output()
        .expect("runs edgefleet")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct Fleet {
    dir: PathBuf,
    inventory: PathBuf,
    templates: PathBuf,
    out: PathBuf,
}

impl Fleet {
    fn new(dir: &Path, sites: usize) -> Fleet {
        let inventory = dir.join("inventory");
        let o = edgefleet_in(
            dir,
            &[
                "inventory",
                "synth",
                "--sites",
                &sites.to_string(),
                "--seed",
                "3",
                "--out",
                inventory.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let templates = dir.join("templates");
        copy_dir(&workspace_root().join("templates"), &templates);
        Fleet {
            dir: dir.to_path_buf(),
            inventory,
            templates,
            out: dir.join("out"),
        }
    }

    fn generate(&self, out: &Path, jobs: usize) -> String {
        let o = edgefleet_in(
            &self.dir,
            &[
                "generate",
                "--inventory",
                self.inventory.to_str().unwrap(),
                "--templates",
                self.templates.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--jobs",
                &jobs.to_string(),
                "--timings",
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        // The summary, then the rerun cache's count of sites not planned again.
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    }

    /// Reruns into `out`, generates from scratch into a new folder, and compares the trees.
    fn rerun_matches_fresh(&self, what: &str, jobs: usize) -> String {
        let said = self.generate(&self.out, jobs);
        let fresh = self.dir.join(format!("fresh-{}", what.replace(' ', "-")));
        self.generate(&fresh, 1);
        let (a, b) = (tree(&self.out), tree(&fresh));
        for (path, bytes) in &b {
            assert!(
                a.get(path) == Some(bytes),
                "{what}: {path} differs from a generate from scratch"
            );
        }
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "{what}: other files"
        );
        std::fs::remove_dir_all(&fresh).unwrap();
        said
    }

    fn edit(&self, rel: &str, from: &str, to: &str) {
        let path = self.dir.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{rel} has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
}

/// Every file of a generated tree (relative path → bytes), without the rerun cache (not part of
/// the tree: it records times and inodes).
fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                if rel != CACHE {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out
}

/// The first site overlay of the tree (a path relative to `out`).
fn some_overlay(out: &Path, nth: usize) -> String {
    let mut overlays: Vec<String> = tree(out)
        .into_keys()
        .filter(|k| k.starts_with("sites/") && k.ends_with("/kustomization.yaml"))
        .collect();
    overlays.sort();
    overlays[nth % overlays.len()].clone()
}

/// `(sites not planned again, sites)` of generate's `--timings` report (a rerun whose inputs
/// did not change plans none: every site).
fn cached(said: &str) -> (usize, usize) {
    let line = said
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("rerun cache: "))
        .unwrap_or_else(|| panic!("no rerun cache count in {said:?}"));
    if let Some(rest) = line.strip_prefix(UNCHANGED_RUN) {
        let sites = rest.trim_start_matches(" (").split(' ').next().unwrap();
        let sites = sites.parse().unwrap();
        return (sites, sites);
    }
    let words: Vec<&str> = line.split_whitespace().collect();
    (words[0].parse().unwrap(), words[2].parse().unwrap())
}

/// What `--timings` says of a rerun whose inputs and files are all as recorded.
const UNCHANGED_RUN: &str = "no input changed and every file is as written: nothing planned";

/// The count of files written that generate's summary line reports.
fn written(said: &str) -> usize {
    let words: Vec<&str> = said.split_whitespace().collect();
    words
        .windows(3)
        .find(|w| w[1] == "files" && w[2] == "written")
        .and_then(|w| w[0].parse().ok())
        .unwrap_or_else(|| panic!("no count of files written in {said:?}"))
}

#[test]
fn every_change_gives_the_tree_of_a_generate_from_scratch() {
    let tmp = tempfile::tempdir().unwrap();
    let f = Fleet::new(tmp.path(), 40);
    f.generate(&f.out, 2);
    assert!(f.out.join(CACHE).is_file(), "no rerun cache was written");
    let said = f.rerun_matches_fresh("no change", 3);
    assert_eq!(written(&said), 0, "{said}");
    // Files written in the clock tick of the cache are looked at once more; then none is.
    std::thread::sleep(std::time::Duration::from_millis(30));
    let said = f.rerun_matches_fresh("no change, later", 2);
    let (kept, sites) = cached(&said);
    assert_eq!((kept, sites), (40, 40), "{said}");

    // One site: a label of the first site of a file.
    let sites = std::fs::read_dir(f.inventory.join("sites"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .min()
        .unwrap();
    let sites_rel = sites.strip_prefix(&f.dir).unwrap().to_str().unwrap();
    f.edit(
        sites_rel,
        "\"asset-class\":",
        "\"owner\":\"ops\",\"asset-class\":",
    );
    std::thread::sleep(std::time::Duration::from_millis(30));
    let said = f.rerun_matches_fresh("one site", 1);
    assert!(written(&said) >= 2, "{said}");
    assert_eq!(cached(&said), (39, 40), "{said}");

    // A hardware profile: every site on it.
    f.edit(
        "inventory/profiles.yaml",
        "\"memory\":\"14Gi\"",
        "\"memory\":\"15Gi\"",
    );
    let said = f.rerun_matches_fresh("a hardware profile", 4);
    assert!(cached(&said).0 < 39, "{said}");
    // A backhaul profile: the outage buffers of every site on it.
    f.edit(
        "inventory/profiles.yaml",
        "\"max_outage\":\"72h\"",
        "\"max_outage\":\"48h\"",
    );
    let said = f.rerun_matches_fresh("a backhaul profile", 2);
    assert!(written(&said) > 0, "{said}");

    // A site template, a base template, a helper-free workload's metadata.
    let site_template = "templates/telemetry-collector/site.yaml.j2";
    let text = std::fs::read_to_string(f.dir.join(site_template)).unwrap();
    std::fs::write(
        f.dir.join(site_template),
        text.replacen("edgefleet", "edgefleet-x", 1),
    )
    .unwrap();
    let said = f.rerun_matches_fresh("a site template", 2);
    assert!(written(&said) > 0, "{said}");
    std::fs::write(
        f.dir.join(site_template),
        format!("{text}{{# comment #}}\n"),
    )
    .unwrap();
    f.rerun_matches_fresh("a comment in a site template", 2);
    let base = "templates/metrics-agent/base.yaml.j2";
    let text = std::fs::read_to_string(f.dir.join(base)).unwrap();
    std::fs::write(f.dir.join(base), text.replacen("app", "app2", 1)).unwrap();
    f.rerun_matches_fresh("a base template", 3);

    // The settings (edgefleet.toml next to the run): ApplicationSet shards, so site.json.
    std::fs::write(f.dir.join("edgefleet.toml"), "[generate]\nshard_size = 7\n").unwrap();
    let said = f.rerun_matches_fresh("the shard size", 2);
    assert!(written(&said) > 0, "{said}");
    std::fs::write(
        f.dir.join("edgefleet.toml"),
        "[generate]\nshard_size = 7\n[argocd]\nrevision = \"release\"\n",
    )
    .unwrap();
    f.rerun_matches_fresh("the revision", 1);

    // A site removed (pruned), a site added.
    let text = std::fs::read_to_string(&sites).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let gone = lines.remove(2).to_owned();
    std::fs::write(&sites, lines.join("\n") + "\n").unwrap();
    let said = f.rerun_matches_fresh("a site removed", 2);
    assert!(said.contains("removed"), "{said}");
    let id = gone.split('"').nth(3).unwrap().to_owned();
    std::fs::write(
        &sites,
        format!(
            "{}\n{}\n",
            lines.join("\n"),
            gone.replace(&id, "new-site-9")
        ),
    )
    .unwrap();
    f.rerun_matches_fresh("a site added", 3);
    f.rerun_matches_fresh("no change again", 1);
}

#[test]
fn hand_edits_and_deletions_are_restored() {
    let tmp = tempfile::tempdir().unwrap();
    let f = Fleet::new(tmp.path(), 30);
    f.generate(&f.out, 2);
    let generated = tree(&f.out);
    // Let the times of the files be older than the cache's, then rerun: nothing to do.
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert_eq!(written(&f.generate(&f.out, 2)), 0);
    std::thread::sleep(std::time::Duration::from_millis(30));
    let said = f.generate(&f.out, 2);
    assert_eq!(cached(&said), (30, 30), "{said}");

    // 1. Edited in place, same size, modification time set back: the change time gives it away.
    let edited = some_overlay(&f.out, 0);
    let path = f.out.join(&edited);
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.iter().position(|b| *b == b':').unwrap();
    bytes[at] = b';';
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut file| {
            use std::io::Write;
            file.write_all(&bytes)?;
            file.set_modified(before)
        })
        .unwrap();
    // 2. Deleted.
    let deleted = some_overlay(&f.out, 7);
    std::fs::remove_file(f.out.join(&deleted)).unwrap();
    // 3. Replaced by an editor's save (a new file renamed over it), same size and time.
    let replaced = some_overlay(&f.out, 13);
    let path = f.out.join(&replaced);
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'x' { b'y' } else { b'x' };
    let tmp_file = path.with_extension("swp");
    std::fs::write(&tmp_file, &bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&tmp_file)
        .and_then(|file| file.set_modified(before))
        .unwrap();
    std::fs::rename(&tmp_file, &path).unwrap();
    // 4. A site.json edited with a new size.
    let json = generated
        .keys()
        .find(|k| k.ends_with("/site.json"))
        .unwrap()
        .clone();
    std::fs::write(f.out.join(&json), "{}\n").unwrap();

    let said = f.generate(&f.out, 3);
    assert_eq!(written(&said), 4, "{said}");
    let (kept, sites) = cached(&said);
    assert!(kept >= sites - 4 && kept < sites, "{said}");
    assert_eq!(
        tree(&f.out),
        generated,
        "the hand edits were not all undone"
    );
    for rel in [&edited, &deleted, &replaced, &json] {
        assert_eq!(
            std::fs::read(f.out.join(rel)).unwrap(),
            generated[rel],
            "{rel}"
        );
    }
    // `--check` sees a hand edit too.
    std::fs::write(f.out.join(&edited), "edited: true\n").unwrap();
    let o = edgefleet_in(
        &f.dir,
        &[
            "generate",
            "--check",
            "--inventory",
            f.inventory.to_str().unwrap(),
            "--templates",
            f.templates.to_str().unwrap(),
            "--out",
            f.out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("update {edited}")),
        "{}",
        text(&o)
    );
}

/// The cache with another (well-formed) identity: of another build or other settings.
fn other_identity(cache: &str) -> String {
    let at = cache.find("identity ").unwrap() + "identity ".len();
    let mut bytes = cache.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
    String::from_utf8(bytes).unwrap()
}

#[test]
fn a_corrupt_or_missing_cache_means_the_full_path() {
    let tmp = tempfile::tempdir().unwrap();
    let f = Fleet::new(tmp.path(), 20);
    f.generate(&f.out, 2);
    let generated = tree(&f.out);
    let cache = std::fs::read_to_string(f.out.join(CACHE)).unwrap();
    let edited = some_overlay(&f.out, 3);
    let corruptions = [
        ("cut short", cache[..cache.len() / 2].to_owned()),
        ("garbage", "\u{0}\u{1}not a cache\n".to_owned()),
        ("empty", String::new()),
        ("another identity", other_identity(&cache)),
        ("another manifest", {
            let at = cache.find("manifest ").unwrap() + "manifest ".len();
            let mut bytes = cache.as_bytes().to_vec();
            bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
            String::from_utf8(bytes).unwrap()
        }),
        // A cache that names a file outside the tree is not trusted at all.
        ("a path outside", cache.replacen(" sites/", " ../sites/", 1)),
    ];
    for (what, corrupt) in corruptions {
        // A hand edit that keeps size and times would pass a trusted cache's check only if
        // the cache were trusted; here it is not, so every file is compared.
        std::fs::write(f.out.join(&edited), "hand edit\n").unwrap();
        std::fs::write(f.out.join(CACHE), &corrupt).unwrap();
        let said = f.generate(&f.out, 2);
        assert!(written(&said) >= 1, "{what}: {said}");
        assert_eq!(tree(&f.out), generated, "{what}");
        let again = std::fs::read_to_string(f.out.join(CACHE)).unwrap();
        assert!(
            again.starts_with("edgefleet generate cache 2\n") && again.ends_with("end\n"),
            "{what}: the cache was not written again"
        );
    }
    // A manifest edited by hand (here: a line added) disowns the cache: the full path.
    std::fs::write(f.out.join(&edited), "hand edit\n").unwrap();
    let manifest = f.out.join(".edgefleet/manifest");
    let mut text = std::fs::read_to_string(&manifest).unwrap();
    text.push_str("sites/nowhere/nothing.yaml\n");
    std::fs::write(&manifest, text).unwrap();
    let said = f.generate(&f.out, 2);
    assert_eq!(written(&said), 1, "{said}");
    assert_eq!(cached(&said).0, 0, "{said}");
    assert_eq!(tree(&f.out), generated);
    // No cache at all: the full path, then a cache.
    std::fs::remove_file(f.out.join(CACHE)).unwrap();
    std::fs::remove_file(f.out.join(&edited)).unwrap();
    let said = f.generate(&f.out, 1);
    assert_eq!(written(&said), 1, "{said}");
    assert_eq!(tree(&f.out), generated);
    assert!(f.out.join(CACHE).is_file());
    // The cache is kept out of the user's repository.
    assert_eq!(
        std::fs::read_to_string(f.out.join(".edgefleet/.gitignore"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect::<Vec<_>>(),
        vec!["cache", "cache.edgefleet-tmp"]
    );
    // And it is not in the manifest of owned files.
    let manifest = std::fs::read_to_string(f.out.join(".edgefleet/manifest")).unwrap();
    assert!(!manifest.lines().any(|l| l.starts_with(".edgefleet")));
}

/// How long edgefleet waits before it trusts an input file's times (`inputs::RACY`), and a
/// little more.
const SETTLE: std::time::Duration = std::time::Duration::from_millis(3300);

/// A line of generate's output without the time it took.
fn untimed(said: &str) -> String {
    said.lines()
        .map(|l| match l.rfind(" in ") {
            Some(at) if l.ends_with('s') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A rerun none of whose inputs changed plans nothing and says what a full run says (the same
/// summary and outage-buffer warnings, `--check` the same); any input changed — an inventory
/// file edited, added, removed or only touched, a template edited — and the rerun plans again,
/// its tree that of a generate from scratch.
#[test]
fn a_rerun_with_no_input_changed_plans_nothing_and_says_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let inventory = dir.join("inventory");
    copy_dir(
        &workspace_root().join("examples/fleet/site-inventory"),
        &inventory,
    );
    // Small disks on the Jetson boxes: outage buffers too small, so generate warns.
    let profiles = inventory.join("profiles.yaml");
    let yaml = std::fs::read_to_string(&profiles).unwrap();
    assert!(yaml.contains("ephemeral-storage: 100Gi}"));
    std::fs::write(
        &profiles,
        yaml.replacen("ephemeral-storage: 100Gi}", "ephemeral-storage: 8Gi}", 1),
    )
    .unwrap();
    let templates = dir.join("templates");
    copy_dir(&workspace_root().join("templates"), &templates);
    let f = Fleet {
        dir: dir.to_path_buf(),
        inventory: inventory.clone(),
        templates,
        out: dir.join("out"),
    };
    let run = |extra: &[&str]| {
        let mut args = vec![
            "generate",
            "--inventory",
            f.inventory.to_str().unwrap(),
            "--templates",
            f.templates.to_str().unwrap(),
            "--out",
            f.out.to_str().unwrap(),
        ];
        args.extend(extra);
        edgefleet_in(dir, &args)
    };
    let stdout = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let warnings = |o: &Output| {
        String::from_utf8_lossy(&o.stderr)
            .lines()
            .filter(|l| l.starts_with("warning: "))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let inputs_line = || {
        let cache = std::fs::read_to_string(f.out.join(CACHE)).unwrap();
        cache.lines().nth(3).unwrap().to_owned()
    };

    // (Inputs written a moment ago are not recorded, their times could still hide an edit:
    // a unit test of `inputs::stamp` shows it; here the first run may start late.)
    let first = run(&[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let warned = warnings(&first);
    assert!(
        warned.iter().any(|w| w.contains("outage buffer")),
        "{}",
        text(&first)
    );
    // A full rerun (its inputs touched, same bytes), whose inputs are settled: it records them.
    std::fs::write(&profiles, std::fs::read(&profiles).unwrap()).unwrap();
    std::thread::sleep(SETTLE);
    let full = run(&["--timings"]);
    assert_eq!(full.status.code(), Some(0), "{}", text(&full));
    assert!(!text(&full).contains(UNCHANGED_RUN), "{}", text(&full));
    assert_eq!(cached(&text(&full)), (15, 15), "{}", text(&full));
    assert!(inputs_line().starts_with("inputs ") && inputs_line() != "inputs -");
    // Nothing changed: nothing planned, the same words.
    let fast = run(&["--timings"]);
    assert_eq!(fast.status.code(), Some(0), "{}", text(&fast));
    assert!(text(&fast).contains(UNCHANGED_RUN), "{}", text(&fast));
    assert_eq!(untimed(&stdout(&fast)), untimed(&stdout(&full)));
    assert_eq!(warnings(&fast), warned);
    let check = run(&["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check));
    assert_eq!(stdout(&check), format!("{}: up to date\n", f.out.display()));
    assert_eq!(warnings(&check), warned);
    let quiet = run(&["--quiet"]);
    assert_eq!(
        (quiet.status.code(), stdout(&quiet)),
        (Some(0), String::new())
    );

    // Each input change, made right after a run that recorded the inputs: the rerun plans.
    let sites = inventory.join("sites");
    let changes: [(&str, &dyn Fn()); 5] = [
        ("an inventory file touched", &|| {
            let p = sites.join("offshore.yaml");
            std::fs::write(&p, std::fs::read(&p).unwrap()).unwrap();
        }),
        ("a site edited", &|| {
            f.edit(
                "inventory/sites/offshore.yaml",
                "wave: ",
                "wave: main\n    # ",
            );
        }),
        ("an inventory file added", &|| {
            std::fs::write(sites.join("more.yaml"), "# nothing yet\nsites: []\n").unwrap();
        }),
        ("an inventory file removed", &|| {
            std::fs::remove_file(sites.join("more.yaml")).unwrap();
        }),
        ("a template edited", &|| {
            let dir = f.templates.join("telemetry-collector");
            let file = std::fs::read_dir(&dir)
                .unwrap()
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "j2"))
                .min()
                .expect("a template file");
            let mut template = std::fs::read_to_string(&file).unwrap();
            template.push_str("{# edited #}\n");
            std::fs::write(&file, template).unwrap();
        }),
    ];
    for (what, change) in changes {
        change();
        let said = f.rerun_matches_fresh(what, 2);
        assert!(!said.contains(UNCHANGED_RUN), "{what}: {said}");
        // Settled again, a run records the inputs, and the next plans nothing.
        std::thread::sleep(SETTLE);
        f.generate(&f.out, 2);
        let said = f.generate(&f.out, 2);
        assert!(said.contains(UNCHANGED_RUN), "{what}: {said}");
    }

    // A generated file edited by hand is found without any input changing.
    let edited = some_overlay(&f.out, 1);
    let before = std::fs::read(f.out.join(&edited)).unwrap();
    std::fs::write(f.out.join(&edited), "hand edit\n").unwrap();
    let said = f.generate(&f.out, 2);
    assert!(!said.contains(UNCHANGED_RUN), "{said}");
    assert_eq!(written(&said), 1, "{said}");
    assert_eq!(std::fs::read(f.out.join(&edited)).unwrap(), before);
}
