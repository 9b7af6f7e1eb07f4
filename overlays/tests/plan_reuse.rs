//! A plan that takes site overlays from an earlier plan of another revision (what `diff` does)
//! writes exactly the tree a plan from scratch writes: for an edit of every catalogue file, an
//! edit of a site and of a profile. And it does take them when only base or component templates
//! changed, the case that makes `diff` of a template change cheaper.

use std::fs;
use std::path::{Path, PathBuf};

use edgefleet_inventory::Fleet;
use edgefleet_overlays::catalogue::Catalogue;
use edgefleet_overlays::plan::{OverlayKeys, Plan, PlanOptions, Reuse, plan, plan_reusing};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn example() -> Fleet {
    edgefleet_inventory::load_inventory(&repo().join("examples/fleet/site-inventory"))
        .expect("the example inventory loads")
}

/// The repository's catalogue files, relative to `templates/`, sorted.
fn catalogue_files() -> Vec<(PathBuf, Vec<u8>)> {
    let root = repo().join("templates");
    let mut files = Vec::new();
    for dir in fs::read_dir(&root).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for file in fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let rel = file.strip_prefix(&root).unwrap().to_path_buf();
            files.push((rel, fs::read(&file).unwrap()));
        }
    }
    files.sort();
    files
}

fn catalogue(files: Vec<(PathBuf, Vec<u8>)>) -> Catalogue {
    Catalogue::from_files(PathBuf::from("templates"), files).expect("the catalogue loads")
}

fn recorded(fleet: &Fleet, catalogue: &Catalogue) -> (Plan, OverlayKeys) {
    plan_reusing(
        fleet,
        catalogue,
        &PlanOptions::default(),
        &|_| {},
        Reuse::Record,
    )
    .unwrap()
}

/// Plans `fleet` with `catalogue` from scratch and reusing `earlier`; both trees must be equal.
fn both_ways(
    fleet: &Fleet,
    catalogue: &Catalogue,
    earlier: &(Plan, OverlayKeys),
    what: &str,
) -> usize {
    let fresh = plan(fleet, catalogue, &PlanOptions::default(), &|_| {}).unwrap();
    let (reusing, _) = plan_reusing(
        fleet,
        catalogue,
        &PlanOptions::default(),
        &|_| {},
        Reuse::From {
            tree: &earlier.0.tree,
            keys: &earlier.1,
        },
    )
    .unwrap();
    for path in fresh.tree.paths() {
        assert_eq!(
            reusing.tree.get(path),
            fresh.tree.get(path),
            "{what}: {path} differs from a plan from scratch"
        );
    }
    assert_eq!(reusing.tree, fresh.tree, "{what}: the trees differ");
    reusing.reused
}

#[test]
fn an_unchanged_fleet_reuses_every_site_overlay() {
    let fleet = example();
    let c = catalogue(catalogue_files());
    let earlier = recorded(&fleet, &c);
    let reused = both_ways(&fleet, &c, &earlier, "no change");
    assert_eq!(reused, earlier.0.overlays);
    assert!(reused > 0);
}

#[test]
fn every_catalogue_file_edited_gives_the_plan_from_scratch() {
    let fleet = example();
    let files = catalogue_files();
    let earlier = recorded(&fleet, &catalogue(files.clone()));
    let mut reused_after_base_edits = 0;
    let mut edited = 0;
    for i in 0..files.len() {
        let (path, bytes) = &files[i];
        let text = String::from_utf8(bytes.clone()).unwrap();
        // Edits that change what the file renders (a label value, a name) and one that does
        // not (a comment); each must give the plan from scratch.
        let mut edits = Vec::new();
        for (from, to) in [
            ("edgefleet", "edgefleet-x"),
            ("name", "name"),
            ("app", "app2"),
        ] {
            if from != to && text.contains(from) {
                edits.push(text.replacen(from, to, 1));
            }
        }
        if path.extension().is_some_and(|e| e == "j2") {
            edits.push(format!("{text}\n{{# edited #}}\n"));
        }
        for edit in edits {
            let mut changed = files.clone();
            changed[i].1 = edit.into_bytes();
            let Ok(c) = Catalogue::from_files(PathBuf::from("templates"), changed) else {
                continue; // an edit that breaks the catalogue plans nothing either way
            };
            let Ok(fresh) = plan(&fleet, &c, &PlanOptions::default(), &|_| {}) else {
                continue;
            };
            drop(fresh);
            let reused = both_ways(&fleet, &c, &earlier, &path.display().to_string());
            edited += 1;
            if path.file_name().is_some_and(|n| n == "base.yaml.j2") {
                reused_after_base_edits += reused;
            }
        }
    }
    assert!(edited > files.len(), "only {edited} edits planned");
    assert!(
        reused_after_base_edits > 0,
        "a base template edit reused no site overlay"
    );
}

#[test]
fn site_and_profile_edits_give_the_plan_from_scratch() {
    let fleet = example();
    let c = catalogue(catalogue_files());
    let earlier = recorded(&fleet, &c);

    let mut one_site = fleet.clone();
    one_site.sites[0]
        .labels
        .insert("asset-class".into(), "edited".into());
    let reused = both_ways(&one_site, &c, &earlier, "one site's label");
    assert!(reused > 0 && reused < earlier.0.overlays);

    let mut moved = fleet.clone();
    moved.sites[1].wave = "canary".into();
    both_ways(&moved, &c, &earlier, "one site's wave");

    let mut profile = fleet.clone();
    let hw = profile.sites[0].hardware.clone();
    let edited = profile.hardware.get_mut(&hw).expect("the site's hardware");
    edited.power_watts += 1;
    edited.arch = format!("{}-edited", edited.arch);
    both_ways(&profile, &c, &earlier, "a hardware profile");

    // The link's bandwidth sizes the outage buffers the site templates write.
    let mut link = fleet.clone();
    let bh = link.sites[0].backhaul.clone();
    link.backhaul
        .get_mut(&bh)
        .expect("the site's backhaul")
        .bandwidth_kbps *= 3;
    let fresh = plan(&link, &c, &PlanOptions::default(), &|_| {}).unwrap();
    assert_ne!(
        fresh.tree, earlier.0.tree,
        "the bandwidth edit changes no file"
    );
    both_ways(&link, &c, &earlier, "a backhaul profile");
}
