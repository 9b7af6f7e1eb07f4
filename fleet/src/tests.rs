//! The library on a planned tree held in memory (no temp dir): discovery, layout, targeting,
//! located errors and deterministic parallel rendering.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_inventory::Fleet;
use edgefleet_overlays::catalogue::Catalogue;
use edgefleet_overlays::plan::{PlanOptions, plan, site_workloads};
use kustomize::Renderer;
use kustomize::fs::{FileSystem, MemoryFs};

use crate::appset::{AppSet, Repo, read_appsets};
use crate::{FleetTree, TreeError, memory_fs};

const ROOT: &str = "/repo/out";

fn example() -> Fleet {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet/site-inventory");
    edgefleet_inventory::load_inventory(&dir).expect("the example inventory loads")
}

/// The example fleet planned with shards of two sites, as a tree in memory.
fn planned(shard_size: usize) -> (Fleet, MemoryFs) {
    let fleet = example();
    let options = PlanOptions {
        shard_size,
        ..PlanOptions::default()
    };
    let plan = plan(&fleet, &Catalogue::builtin(), &options, &|_| {}).unwrap();
    let fs = memory_fs(&plan.tree, Path::new(ROOT));
    (fleet, fs)
}

fn open(fs: MemoryFs) -> FleetTree {
    FleetTree::open(Arc::new(fs), Path::new(ROOT)).unwrap()
}

#[test]
fn discovers_every_site_of_the_inventory_with_its_overlays() {
    let (fleet, fs) = planned(2);
    let tree = open(fs);
    let found = tree.sites();
    assert!(found.problems.is_empty(), "{:?}", found.problems);
    // Every inventory site once, ordered by region folder then site folder.
    let mut expected: Vec<(String, String)> = fleet
        .sites
        .iter()
        .map(|s| (s.region.clone(), s.id.clone()))
        .collect();
    expected.sort();
    let got: Vec<(String, String)> = found
        .sites
        .iter()
        .map(|s| (s.region.clone(), s.id.clone()))
        .collect();
    assert_eq!(got, expected);
    let catalogue = Catalogue::builtin();
    for d in &found.sites {
        let site = fleet.site(&d.id).unwrap();
        assert_eq!(
            d.dir,
            Path::new(ROOT)
                .join("sites")
                .join(&site.region)
                .join(&site.id)
        );
        let mut workloads: Vec<String> = site_workloads(site, &catalogue)
            .iter()
            .map(|w| w.name.clone())
            .collect();
        workloads.sort();
        let overlays: Vec<String> = d.overlays.iter().map(|o| o.workload.clone()).collect();
        assert_eq!(overlays, workloads, "{}", d.id);
        for o in &d.overlays {
            assert_eq!(o.dir, d.dir.join(&o.workload));
            assert!(d.site_json.runs(&o.workload));
        }
        assert_eq!(d.site_json.cluster, site.cluster);
        assert_eq!(d.site_json.hardware, site.hardware);
        let (_, stale) = d.in_inventory(&fleet).unwrap();
        assert_eq!(stale, None);
    }
}

#[test]
fn finds_one_site_and_says_why_not() {
    let (fleet, mut fs) = planned(1000);
    let site = &fleet.sites[0];
    let tree = FleetTree::open(Arc::new(fs.clone()), Path::new(ROOT)).unwrap();
    let found = tree.find_site(&site.id).unwrap();
    assert_eq!(
        found.site_json_path(),
        format!("sites/{}/{}/site.json", site.region, site.id)
    );
    assert!(matches!(
        tree.find_site("no-such-site"),
        Err(TreeError::NoSuchSite { .. })
    ));

    // The same site folder in a second region.
    let twin = Path::new(ROOT)
        .join("sites/zz-other")
        .join(&site.id)
        .join("site.json");
    fs.add_file(&twin, "{}");
    let tree = open(fs);
    let e = tree.find_site(&site.id).unwrap_err();
    assert!(matches!(e, TreeError::SiteInSeveralRegions { .. }), "{e}");
    assert!(e.to_string().contains("zz-other"), "{e}");

    let empty = MemoryFs::new();
    let e = FleetTree::open(Arc::new(empty), Path::new(ROOT))
        .err()
        .unwrap();
    assert!(e.to_string().contains("no `sites/` folder"), "{e}");
}

#[test]
fn a_malformed_site_is_a_located_problem_and_the_others_still_count() {
    let (fleet, mut fs) = planned(1000);
    let broken = &fleet.sites[0];
    let file = Path::new(ROOT)
        .join("sites")
        .join(&broken.region)
        .join(&broken.id)
        .join("site.json");
    let text = fs.read_to_string(&file).unwrap();
    let bad = text.replacen("\"wave\": \"", "\"wave\": [\"", 1);
    let line = bad.lines().position(|l| l.contains("\"wave\"")).unwrap() + 1;
    fs.add_file(&file, bad);
    // A site.json in the wrong region folder.
    let moved = &fleet.sites[1];
    let elsewhere = Path::new(ROOT).join("sites/yy-moved").join(&moved.id);
    fs.add_file(
        elsewhere.join("site.json"),
        fs.read_to_string(
            &Path::new(ROOT)
                .join("sites")
                .join(&moved.region)
                .join(&moved.id)
                .join("site.json"),
        )
        .unwrap(),
    );
    // A folder without site.json is not a site.
    fs.add_file(Path::new(ROOT).join("sites/notes/readme/x.txt"), "x");

    let found = open(fs).sites();
    assert_eq!(found.sites.len(), fleet.sites.len() - 1);
    assert_eq!(found.problems.len(), 2, "{:?}", found.problems);
    let messages: Vec<String> = found.problems.iter().map(ToString::to_string).collect();
    let located = format!("{}:{line}:", file.display());
    assert!(messages[0].starts_with(&located), "{messages:?}");
    assert!(messages[0].contains("`wave`"), "{messages:?}");
    assert!(
        messages[1].contains("yy-moved") && messages[1].contains("region"),
        "{messages:?}"
    );
}

/// Rank of each site among its region's sites (by id), the planner's documented sharding.
fn shard_of(fleet: &Fleet, size: usize) -> BTreeMap<String, usize> {
    let mut by_region: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &fleet.sites {
        by_region.entry(&s.region).or_default().push(&s.id);
    }
    let mut out = BTreeMap::new();
    for ids in by_region.values_mut() {
        ids.sort();
        for (rank, id) in ids.iter().enumerate() {
            out.insert((*id).to_owned(), rank / size);
        }
    }
    out
}

#[test]
fn sharded_appsets_target_each_site_overlay_exactly_once() {
    let (fleet, fs) = planned(2);
    let tree = open(fs);
    let (appsets, problems) = read_appsets(tree.fs(), tree.root());
    assert!(problems.is_empty(), "{problems:?}");
    let shards = shard_of(&fleet, 2);
    assert!(
        shards.values().any(|s| *s > 0),
        "the example must shard at size 2"
    );
    let repo = Repo::new(tree.fs(), tree.root(), "");
    let catalogue = Catalogue::builtin();
    let mut covered: BTreeSet<(String, String)> = BTreeSet::new();
    for d in tree.sites().sites {
        let path = repo.repo_path(&d.site_json_path());
        let targeting: Vec<&AppSet> = appsets
            .iter()
            .map(|(_, a)| a)
            .filter(|a| a.targets(&path, &d.site_json))
            .collect();
        for a in &targeting {
            let overlay = a.overlay().unwrap().to_owned();
            assert!(
                covered.insert((d.id.clone(), overlay.clone())),
                "{} {overlay} twice",
                d.id
            );
            // The name says workload, region and (when split) the shard.
            assert!(a.name.starts_with(&overlay), "{}", a.name);
            assert!(a.name.contains(&d.region), "{}", a.name);
        }
        let site = fleet.site(&d.id).unwrap();
        for w in site_workloads(site, &catalogue) {
            assert!(
                covered.contains(&(d.id.clone(), w.name.clone())),
                "{} {}",
                d.id,
                w.name
            );
        }
        // A split region names the shard in every ApplicationSet of the site.
        let split = shards
            .iter()
            .any(|(id, s)| *s > 0 && fleet.site(id).unwrap().region == d.region);
        if split {
            let suffix = format!("-{}", shards[&d.id]);
            assert!(
                targeting.iter().all(|a| a.name.ends_with(&suffix)),
                "{}",
                d.id
            );
        }
    }
    // The expansion picks the same sites the targeting does.
    for (_, a) in &appsets {
        let apps = a.expand(&repo).unwrap();
        let mut expanded: Vec<String> = apps
            .iter()
            .map(|app| {
                app["metadata"]["labels"]["edgefleet.io/site"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let mut targeted: Vec<String> = covered
            .iter()
            .filter(|(_, o)| Some(o.as_str()) == a.overlay())
            .map(|(s, _)| s.clone())
            .filter(|s| {
                let d = tree.find_site(s).unwrap();
                a.targets(&repo.repo_path(&d.site_json_path()), &d.site_json)
            })
            .collect();
        expanded.sort();
        targeted.sort();
        assert_eq!(expanded, targeted, "{}", a.name);
        for app in &apps {
            let path = app["spec"]["source"]["path"].as_str().unwrap();
            assert!(tree.fs().is_dir(&tree.path(path)), "{path}");
        }
    }
}

#[test]
fn selectors_globs_and_prefixes_decide_targeting() {
    let (fleet, fs) = planned(1000);
    let tree = open(fs);
    let repo = Repo::new(tree.fs(), tree.root(), "fleet/out");
    let appset = |generator: serde_json::Value| {
        AppSet::from_value(&serde_json::json!({
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "ApplicationSet",
            "metadata": {"name": "t", "namespace": "argocd"},
            "spec": {
                "goTemplate": true,
                "generators": [generator],
                "template": {
                    "metadata": {"name": "{{.site}}-x"},
                    "spec": {"source": {"path": "{{.path.path}}/x"}},
                },
            },
        }))
        .unwrap()
    };
    let sites = tree.sites().sites;
    let picked = |a: &AppSet| -> BTreeSet<String> {
        sites
            .iter()
            .filter(|d| a.targets(&repo.repo_path(&d.site_json_path()), &d.site_json))
            .map(|d| d.id.clone())
            .collect()
    };
    let expanded = |a: &AppSet| -> BTreeSet<String> {
        a.expand(&repo)
            .unwrap()
            .iter()
            .map(|app| {
                app["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .trim_end_matches("-x")
                    .to_owned()
            })
            .collect()
    };
    let ids = |f: &dyn Fn(&edgefleet_inventory::Site) -> bool| -> BTreeSet<String> {
        fleet
            .sites
            .iter()
            .filter(|s| f(s))
            .map(|s| s.id.clone())
            .collect()
    };

    // Alternatives in the glob, and a NotIn expression on a site.json key.
    let a = appset(serde_json::json!({
        "git": {"repoURL": "r", "revision": "main",
                "files": [{"path": "fleet/out/sites/{eu-north,us-gulf}/*/site.json"}]},
        "selector": {"matchExpressions": [{"key": "wave", "operator": "NotIn", "values": ["canary"]}]},
    }));
    let want = ids(&|s| (s.region == "eu-north" || s.region == "us-gulf") && s.wave != "canary");
    assert!(!want.is_empty());
    assert_eq!(picked(&a), want);
    assert_eq!(expanded(&a), want);

    // `**` spans folders; matchLabels on the hardware profile.
    let hw = fleet.sites[0].hardware.clone();
    let a = appset(serde_json::json!({
        "git": {"repoURL": "r", "revision": "main", "files": [{"path": "**/site.json"}]},
        "selector": {"matchLabels": {"hardware": hw}},
    }));
    let want = ids(&|s| s.hardware == hw);
    assert_eq!(picked(&a), want);
    assert_eq!(expanded(&a), want);

    // Without the tree's prefix the glob reaches nothing; `*` does not cross a folder.
    for path in ["sites/*/*/site.json", "fleet/out/sites/*/site.json"] {
        let a = appset(serde_json::json!({
            "git": {"repoURL": "r", "revision": "main", "files": [{"path": path}]},
        }));
        assert!(picked(&a).is_empty(), "{path}");
        assert!(expanded(&a).is_empty(), "{path}");
    }

    // Generators edgefleet does not expand target nothing and are refused by the preview.
    let a = appset(serde_json::json!({"list": {"elements": []}}));
    assert!(picked(&a).is_empty());
    assert!(a.expand(&repo).unwrap_err().contains("`list` generator"));
}

#[test]
fn parallel_renders_are_the_same_whatever_the_thread_count() {
    let (_, fs) = planned(1000);
    let fs_for_check = fs.clone();
    let tree = open(fs);
    let sites = tree.sites().sites;
    let render = |threads: usize| -> Vec<(String, Vec<(PathBuf, String)>)> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        // A fresh tree each time: nothing cached from the previous run.
        let tree = open(fs_for_check.clone());
        pool.install(|| tree.render_sites(&sites))
            .into_iter()
            .map(|s| {
                let overlays = s
                    .overlays
                    .into_iter()
                    .map(|(o, r)| (o.dir, kustomize::to_yaml(&r.unwrap())))
                    .collect();
                (s.site, overlays)
            })
            .collect()
    };
    let one = render(1);
    assert_eq!(one, render(4));
    assert_eq!(one.len(), sites.len());
    // A sequential renderer of its own, outside any thread pool, builds the same bytes.
    let alone = Renderer::with_fs(fs_for_check);
    for (site, overlays) in &one {
        assert!(!overlays.is_empty(), "{site}");
        for (dir, yaml) in overlays {
            assert!(!yaml.is_empty());
            assert_eq!(yaml, &alone.build_yaml(dir).unwrap(), "{}", dir.display());
        }
    }
    // The shared renderer reports origins under the root as named.
    let first = &sites[0].overlays[0];
    let objects = tree.renderer().build(&first.dir).unwrap();
    let origin = tree.display_path(&objects[0].origin.file);
    assert!(origin.starts_with(ROOT), "{}", origin.display());
}

/// The index `lint --fleet` uses to find a site's ApplicationSets picks, for every site, the
/// ApplicationSets that trying each one's generators picks: generated ones (shards selected by
/// label) and hand-written ones (alternatives, `**`, several generators, selectors without a
/// required value, generators that target nothing, a glob shared by several ApplicationSets).
#[test]
fn deployers_index_picks_what_trying_every_applicationset_picks() {
    let (fleet, fs) = planned(2);
    let tree = open(fs);
    let (generated, problems) = read_appsets(tree.fs(), tree.root());
    assert!(problems.is_empty(), "{problems:?}");
    let mut appsets: Vec<AppSet> = generated.into_iter().map(|(_, a)| a).collect();
    let hw = fleet.sites[0].hardware.clone();
    let written = [
        serde_json::json!([{"git": {"files": [{"path": "sites/{eu-north,us-gulf}/*/site.json"}]},
            "selector": {"matchExpressions": [{"key": "wave", "operator": "NotIn", "values": ["canary"]}]}}]),
        serde_json::json!([{"git": {"files": [{"path": "**/site.json"}]},
            "selector": {"matchLabels": {"hardware": hw}}}]),
        serde_json::json!([{"git": {"files": [{"path": "**/site.json"}]},
            "selector": {"matchExpressions": [{"key": "wave", "operator": "In", "values": ["canary", "main"]},
                                              {"key": "region", "operator": "Exists"}]}}]),
        serde_json::json!([{"git": {"files": [{"path": "sites/*/*/site.json"}]}}]),
        serde_json::json!([{"list": {"elements": []}},
            {"git": {"files": [{"path": "sites/eu-*/*/site.json"}, {"path": "sites/us-*/*/site.json"}]},
             "selector": {"matchLabels": {"hardware": "no-such-profile"}}},
            {"git": {"files": [{"path": "sites/*/*/site.json"}]},
             "selector": {"matchExpressions": [{"key": "hardware", "operator": "DoesNotExist"}]}}]),
        serde_json::json!([{"git": {"files": [{"path": "sites/*/site.json"}]}}]),
        serde_json::json!([{"git": {"files": [{"path": "sites/*/*/site.json"}]},
            "selector": {"matchLabels": {"wave": "canary"}}},
            {"git": {"files": [{"path": "**/site.json"}]},
             "selector": {"matchLabels": {"hardware": hw}}}]),
    ];
    for (i, generators) in written.iter().enumerate() {
        appsets.push(
            AppSet::from_value(&serde_json::json!({
                "kind": "ApplicationSet",
                "metadata": {"name": format!("written-{i}")},
                "spec": {"goTemplate": true, "generators": generators,
                         "template": {"spec": {"source": {"path": format!("{{{{.path.path}}}}/w{}", i % 3)}}}},
            }))
            .unwrap(),
        );
    }
    let repo = Repo::new(tree.fs(), tree.root(), "");
    let deployers = crate::appset::Deployers::new(&appsets);
    let mut nonempty = 0;
    for d in tree.sites().sites {
        let path = repo.repo_path(&d.site_json_path());
        let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for a in appsets.iter().filter(|a| a.targets(&path, &d.site_json)) {
            let names = want.entry(a.overlay().unwrap().to_owned()).or_default();
            if !names.contains(&a.name) {
                names.push(a.name.clone());
            }
        }
        nonempty += want.keys().filter(|o| o.starts_with('w')).count();
        assert_eq!(deployers.deploying(&repo, &d), want, "{}", d.id);
    }
    assert!(
        nonempty > 0,
        "the hand-written ApplicationSets must pick some sites"
    );
}
