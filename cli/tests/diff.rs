//! `edgefleet diff` in scratch git repositories built with git2: a copy of the example fleet
//! (inventory and catalogue) committed, changed and committed again. Expected sites come from
//! the inventory the test wrote, never from the diff's own output.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use edgefleet_overlays::catalogue::Catalogue;
use edgefleet_overlays::plan::site_workloads;
use git2::Repository;

mod common;
use common::commit_all;
use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A repository holding the example fleet's inventory and the catalogue, with a config naming
/// them, committed once.
fn scratch(name: &str) -> (PathBuf, Repository) {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("edgefleet-diff")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    copy_dir(
        &workspace().join("examples/fleet/site-inventory"),
        &dir.join("fleet/inventory"),
    );
    copy_dir(&workspace().join("templates"), &dir.join("fleet/templates"));
    std::fs::write(
        dir.join("edgefleet.toml"),
        "[paths]\ninventory = \"fleet/inventory\"\ntemplates = \"fleet/templates\"\nout = \"out\"\n",
    )
    .unwrap();
    let repo = Repository::init(&dir).unwrap();
    commit_all(&repo, "the fleet");
    (dir, repo)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no `{from}`", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn diff(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .arg("diff")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("edgefleet runs")
}

fn describe(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let out = diff(dir, &all);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        describe(&out)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&out)))
}

/// (site, change) of every listed site.
fn sites(report: &Value) -> BTreeSet<(String, String)> {
    report["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["site"].as_str().unwrap().to_owned(),
                s["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn changed(ids: impl IntoIterator<Item = String>, how: &str) -> BTreeSet<(String, String)> {
    ids.into_iter().map(|id| (id, how.to_owned())).collect()
}

/// The inventory and catalogue as the repository holds them now.
fn inventory(dir: &Path) -> (edgefleet_inventory::Fleet, Catalogue) {
    (
        edgefleet_inventory::load_inventory(&dir.join("fleet/inventory")).unwrap(),
        Catalogue::load(&dir.join("fleet/templates")).unwrap(),
    )
}

#[test]
fn a_template_change_reaches_exactly_the_sites_running_that_workload() {
    let (dir, repo) = scratch("template");
    let (fleet, catalogue) = inventory(&dir);
    let runs = |w: &str| -> BTreeSet<String> {
        fleet
            .sites
            .iter()
            .filter(|s| site_workloads(s, &catalogue).iter().any(|m| m.name == w))
            .map(|s| s.id.clone())
            .collect()
    };
    // A workload that some sites run and others do not.
    let workload = catalogue
        .workloads()
        .map(|w| w.name.clone())
        .find(|w| !runs(w).is_empty() && runs(w).len() < fleet.sites.len())
        .expect("the example has a workload not every site runs");
    edit(
        &dir.join("fleet/templates")
            .join(&workload)
            .join("base.yaml.j2"),
        "\"app.kubernetes.io/part-of\": \"edgefleet\"",
        "\"app.kubernetes.io/part-of\": \"edgefleet-edge\"",
    );
    commit_all(&repo, "relabel one workload");
    let report = json(&dir, &["--base", "HEAD~1", "--head", "HEAD"]);
    assert_eq!(sites(&report), changed(runs(&workload), "changed"));
    for site in report["sites"].as_array().unwrap() {
        for o in site["objects"].as_array().unwrap() {
            assert_eq!(o["workload"], workload.as_str(), "{o}");
            assert_eq!(o["change"], "changed", "{o}");
        }
    }
    // The same change at every one of those sites: one group.
    assert_eq!(report["groups"].as_array().unwrap().len(), 1, "{report}");
    assert_eq!(
        report["summary"]["sites"]["changed"],
        runs(&workload).len(),
        "{report}"
    );
    // The unified diff shows the label's line changing.
    let out = diff(&dir, &["--base", "HEAD~1", "--head", "HEAD", "--objects"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("-    app.kubernetes.io/part-of: edgefleet\n")
            && text.contains("+    app.kubernetes.io/part-of: edgefleet-edge\n"),
        "{}",
        describe(&out)
    );
}

#[test]
fn one_sites_inventory_line_changes_that_site_only() {
    let (dir, repo) = scratch("one-site");
    let csv = dir.join("fleet/inventory/sites/stores.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let line = text
        .lines()
        .find(|l| l.contains(",rpi-cm4,"))
        .expect("a store on rpi-cm4")
        .to_owned();
    let id = line.split(',').next().unwrap().to_owned();
    edit(&csv, &line, &line.replacen(",rpi-cm4,", ",xeon-d-2u,", 1));
    commit_all(&repo, "bigger hardware at one store");
    let report = json(&dir, &["--base", "HEAD~1", "--head", "HEAD"]);
    assert_eq!(sites(&report), changed([id], "changed"), "{report}");
}

#[test]
fn a_site_added_and_one_removed() {
    let (dir, repo) = scratch("add-remove");
    let csv = dir.join("fleet/inventory/sites/stores.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = text.lines().skip(1).collect();
    let (kept, gone) = (rows[0], rows[rows.len() - 1]);
    let gone_id = gone.split(',').next().unwrap().to_owned();
    let kept_id = kept.split(',').next().unwrap();
    let new_id = format!("{kept_id}-annex");
    let mut new = text.replace(&format!("{gone}\n"), "");
    new.push_str(&kept.replacen(kept_id, &new_id, 1));
    new.push('\n');
    std::fs::write(&csv, new).unwrap();
    commit_all(&repo, "one store opens, one closes");
    let report = json(&dir, &["--base", "HEAD~1", "--head", "HEAD"]);
    let mut expected = changed([new_id.clone()], "added");
    expected.extend(changed([gone_id], "removed"));
    assert_eq!(sites(&report), expected, "{report}");
    let added = report["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["site"] == new_id.as_str())
        .unwrap();
    assert!(
        added["objects"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["change"] == "added")
            && !added["objects"].as_array().unwrap().is_empty(),
        "{added}"
    );
}

#[test]
fn no_change_lists_nothing_and_exit_code_tells_change_from_none() {
    let (dir, repo) = scratch("exit-code");
    let same = diff(&dir, &["--base", "HEAD", "--exit-code", "--format", "json"]);
    assert_eq!(same.status.code(), Some(0), "{}", describe(&same));
    let report: Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(report["sites"], serde_json::json!([]), "{report}");
    assert_eq!(report["version"], 1);
    // An uncommitted change in the working tree (the default head) is seen, and exits 1.
    let csv = dir.join("fleet/inventory/sites/stores.csv");
    edit(&csv, ",lte-cat12,", ",fibre-1g,");
    let changed_tree = diff(&dir, &["--base", "HEAD", "--exit-code"]);
    assert_eq!(
        changed_tree.status.code(),
        Some(1),
        "{}",
        describe(&changed_tree)
    );
    let without = diff(&dir, &["--base", "HEAD"]);
    assert_eq!(without.status.code(), Some(0), "{}", describe(&without));
    commit_all(&repo, "faster link");
}

#[test]
fn a_change_only_in_comments_changes_no_site() {
    let (dir, repo) = scratch("comment");
    let (_, catalogue) = inventory(&dir);
    for w in catalogue.workloads() {
        let file = dir
            .join("fleet/templates")
            .join(&w.name)
            .join("base.yaml.j2");
        let text = std::fs::read_to_string(&file).unwrap();
        // A YAML comment and a template comment: what the sites receive does not change.
        std::fs::write(&file, format!("# reviewed\n{{# reviewed #}}\n{text}")).unwrap();
    }
    let inventory = dir.join("fleet/inventory/sites/industrial.yaml");
    edit(&inventory, "sites:\n", "# reviewed\nsites:\n");
    commit_all(&repo, "comments only");
    let out = diff(&dir, &["--base", "HEAD~1", "--head", "HEAD", "--exit-code"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report = json(&dir, &["--base", "HEAD~1", "--head", "HEAD"]);
    assert_eq!(report["sites"], serde_json::json!([]), "{report}");
}

#[test]
fn both_revisions_are_read_from_git_objects_not_the_checkout() {
    let (dir, repo) = scratch("no-checkout");
    let csv = dir.join("fleet/inventory/sites/stores.csv");
    edit(&csv, ",lte-cat12,", ",fibre-1g,");
    commit_all(&repo, "faster link");
    let args = ["--base", "HEAD~1", "--head", "HEAD", "--format", "json"];
    let before = diff(&dir, &args);
    assert_eq!(before.status.code(), Some(0), "{}", describe(&before));
    assert!(!sites(&serde_json::from_slice(&before.stdout).unwrap()).is_empty());
    // Every file of the checkout goes (the repository stays), and a file that would break the
    // config if it were read takes the config's place.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != ".git" {
            let p = entry.path();
            if p.is_dir() {
                std::fs::remove_dir_all(p).unwrap();
            } else {
                std::fs::remove_file(p).unwrap();
            }
        }
    }
    std::fs::write(dir.join("edgefleet.toml"), "not = [valid\n").unwrap();
    let after = diff(&dir, &args);
    assert_eq!(after.status.code(), Some(0), "{}", describe(&after));
    assert_eq!(after.stdout, before.stdout);
}

#[test]
fn a_bad_revision_or_a_broken_inventory_is_an_input_error_naming_the_place() {
    let (dir, repo) = scratch("errors");
    let out = diff(&dir, &["--base", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no-such-branch"),
        "{}",
        describe(&out)
    );
    let csv = dir.join("fleet/inventory/sites/stores.csv");
    edit(&csv, ",lte-cat12,", ",no-such-backhaul,");
    let broken = commit_all(&repo, "a typo");
    let out = diff(&dir, &["--base", "HEAD~1", "--head", &broken]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Git's own `REV:path` notation, with line and column.
    let place = format!("{broken}:fleet/inventory/sites/stores.csv:");
    assert!(stderr.contains(&place), "{}", describe(&out));
    assert!(stderr.contains("no-such-backhaul"), "{}", describe(&out));
}

#[test]
fn the_report_is_the_same_whatever_the_number_of_threads() {
    let (dir, repo) = scratch("threads");
    let (_, catalogue) = inventory(&dir);
    for w in catalogue.workloads() {
        edit(
            &dir.join("fleet/templates")
                .join(&w.name)
                .join("base.yaml.j2"),
            "\"app.kubernetes.io/part-of\": \"edgefleet\"",
            "\"app.kubernetes.io/part-of\": \"edgefleet-edge\"",
        );
    }
    let csv = dir.join("fleet/inventory/sites/stores.csv");
    edit(&csv, ",lte-cat12,", ",fibre-1g,");
    commit_all(&repo, "every workload relabelled, one link faster");
    let run = |jobs: &str| {
        let out = diff(
            &dir,
            &[
                "--base",
                "HEAD~1",
                "--head",
                "HEAD",
                "--objects",
                "--format",
                "json",
                "--jobs",
                jobs,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        out.stdout
    };
    let one = run("1");
    assert!(!sites(&serde_json::from_slice(&one).unwrap()).is_empty());
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
}
