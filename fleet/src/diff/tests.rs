//! `compare` on the example fleet planned in memory, with edits made to the planned tree.

use std::collections::BTreeSet;
use std::path::Path;

use edgefleet_inventory::Fleet;
use edgefleet_overlays::catalogue::Catalogue;
use edgefleet_overlays::plan::{PlanOptions, plan, site_workloads};
use edgefleet_overlays::tree::OutputTree;

use super::{Change, Options, Side, compare};

fn example() -> (Fleet, OutputTree) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet/site-inventory");
    let fleet = edgefleet_inventory::load_inventory(&dir).expect("the example inventory loads");
    let planned = plan(
        &fleet,
        &Catalogue::builtin(),
        &PlanOptions::default(),
        &|_| {},
    )
    .unwrap();
    (fleet, planned.tree)
}

/// `tree` with `edit` applied to every file (returning `None` drops the file).
fn edited(tree: &OutputTree, edit: impl Fn(&str, &[u8]) -> Option<Vec<u8>>) -> OutputTree {
    let mut out = OutputTree::new();
    for (path, bytes) in tree.iter() {
        if let Some(b) = edit(path, bytes) {
            out.insert(path, b);
        }
    }
    out
}

fn side(label: &str, tree: &OutputTree) -> Side {
    Side {
        label: label.to_owned(),
        tree: std::sync::Arc::new(tree.clone()),
    }
}

#[test]
fn the_same_tree_changes_nothing_and_renders_nothing() {
    let (_, tree) = example();
    let d = compare(side("a", &tree), side("b", &tree), Options::default()).unwrap();
    assert!(d.is_empty());
    assert_eq!(d.rendered, 0);
    assert!(d.unchanged > 0);
}

#[test]
fn a_base_change_reaches_exactly_the_sites_running_that_workload() {
    let (fleet, tree) = example();
    let catalogue = Catalogue::builtin();
    let runs = |w: &str| -> BTreeSet<String> {
        fleet
            .sites
            .iter()
            .filter(|s| site_workloads(s, &catalogue).iter().any(|m| m.name == w))
            .map(|s| s.id.clone())
            .collect()
    };
    // A workload some sites run and others do not.
    let workload = catalogue
        .workloads()
        .map(|w| w.name.clone())
        .find(|w| !runs(w).is_empty() && runs(w).len() < fleet.sites.len())
        .expect("the example fleet has a workload not every site runs");
    let expected = runs(&workload);
    let file = format!("bases/{workload}/kustomization.yaml");
    let head = edited(&tree, |path, bytes| {
        let mut bytes = bytes.to_vec();
        if path == file {
            bytes.extend_from_slice(b"commonAnnotations:\n  test.edgefleet.io/changed: \"yes\"\n");
        }
        Some(bytes)
    });
    assert_ne!(head, tree, "the edit must change the base");
    assert!(!expected.is_empty() && expected.len() < fleet.sites.len());
    let d = compare(
        side("base", &tree),
        side("head", &head),
        Options {
            texts: true,
            progress: None,
            shard: None,
        },
    )
    .unwrap();
    let got: BTreeSet<String> = d.sites.iter().map(|s| s.site.clone()).collect();
    assert_eq!(got, expected);
    assert!(d.sites.iter().all(|s| {
        s.change == Change::Changed
            && s.objects
                .iter()
                .all(|o| o.workload == workload && o.change == Change::Changed)
    }));
    // One change, one group; only the overlays of that workload were rendered (both sides).
    let groups = d.groups();
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(d.rendered, 2 * expected.len());
    let diff = d.sites[0].objects[0].unified();
    assert!(
        diff.contains("\n+    test.edgefleet.io/changed: \"yes\"\n"),
        "{diff}"
    );
}

#[test]
fn an_added_and_a_removed_site_list_all_their_objects() {
    let (fleet, tree) = example();
    let gone = &fleet.sites[0];
    let prefix = format!("sites/{}/{}/", gone.region, gone.id);
    let head = edited(&tree, |path, bytes| {
        (!path.starts_with(&prefix)).then(|| bytes.to_vec())
    });
    let d = compare(
        side("base", &tree),
        side("head", &head),
        Options {
            texts: true,
            progress: None,
            shard: None,
        },
    )
    .unwrap();
    assert_eq!(d.sites.len(), 1);
    assert_eq!(d.sites[0].site, gone.id);
    assert_eq!(d.sites[0].change, Change::Removed);
    assert!(!d.sites[0].objects.is_empty());
    assert!(
        d.sites[0]
            .objects
            .iter()
            .all(|o| o.change == Change::Removed && o.before.is_some())
    );
    let back = compare(side("head", &head), side("base", &tree), Options::default()).unwrap();
    assert_eq!(back.sites[0].change, Change::Added);
    assert_eq!(back.sites[0].objects.len(), d.sites[0].objects.len());
}

#[test]
fn a_render_error_names_the_side_and_the_file_in_the_tree() {
    let (fleet, tree) = example();
    let site = &fleet.sites[0];
    let prefix = format!("sites/{}/{}/", site.region, site.id);
    let head = edited(&tree, |path, bytes| {
        Some(
            if path.starts_with(&prefix) && path.ends_with("kustomization.yaml") {
                b"resources: [missing.yaml]\n".to_vec()
            } else {
                bytes.to_vec()
            },
        )
    });
    let err = compare(side("base", &tree), side("HEAD", &head), Options::default()).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("the fleet planned from HEAD: "), "{text}");
    assert!(text.contains(&prefix) && !text.contains("/head/"), "{text}");
}

#[test]
fn a_file_that_changes_but_renders_the_same_changes_no_site() {
    let (_, tree) = example();
    // A comment in every base kustomization: every overlay is rendered again, none differs.
    let head = edited(&tree, |path, bytes| {
        let mut bytes = bytes.to_vec();
        if path.starts_with("bases/") && path.ends_with("/kustomization.yaml") {
            bytes.extend_from_slice(b"# reviewed\n");
        }
        Some(bytes)
    });
    let d = compare(side("base", &tree), side("head", &head), Options::default()).unwrap();
    assert!(d.is_empty(), "{:?}", d.sites);
    assert_eq!(d.rendered, d.overlays, "every overlay reads a base");
}
