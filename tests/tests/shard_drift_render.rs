//! `--shard K/N` on `drift` and `render --fleet`, and `edgefleet merge` of drift reports
//! (issue 14), on a 40-site synthetic fleet (small on purpose: `tests/shard.rs` covers the
//! 2,000-site acceptance run of `lint --fleet`).
//!
//! - `drift --snapshots`: four shards merged are the report of one run, byte for byte, in
//!   JSON, SARIF and JUnit, with the same exit code; `merge` refuses a missing shard, a shard
//!   given twice, shards of different formats, a drift shard next to a lint shard, and a
//!   report written without `--shard`.
//! - `render --fleet --shard K/N`: every site is in exactly one shard (the same one as for
//!   `drift`), a shard prints exactly what `render --site` prints for each of its sites, in
//!   order, and the shards together print the objects of one `render --fleet` run.
//!
//! Time: one `generate` of 40 sites, 40 `render --site` runs, 4 drift runs per format: a few
//! seconds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use edgefleet_e2e::{
    describe, generate_fleet, parse_stream, run_edgefleet as edgefleet, synth_inventory,
    workspace_root,
};
use serde_json::Value;

const SITES: u32 = 40;

/// A generated fleet and the snapshots of its sites.
struct Fleet {
    _dir: tempfile::TempDir,
    inventory: PathBuf,
    out: PathBuf,
    snapshots: PathBuf,
    /// `(region, id)` of every site, sorted by region then id (tree order).
    sites: Vec<(String, String)>,
}

fn fleet() -> Fleet {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory");
    let out = dir.path().join("out");
    synth_inventory(SITES, 7, &inventory);
    generate_fleet(&inventory, &workspace_root().join("templates"), &out);
    let mut sites = Vec::new();
    for region in std::fs::read_dir(out.join("sites")).unwrap().flatten() {
        for site in std::fs::read_dir(region.path()).unwrap().flatten() {
            if site.path().join("site.json").is_file() {
                sites.push((
                    region.file_name().to_string_lossy().into_owned(),
                    site.file_name().to_string_lossy().into_owned(),
                ));
            }
        }
    }
    sites.sort();
    assert_eq!(sites.len(), SITES as usize);
    Fleet {
        inventory,
        out,
        snapshots: dir.path().join("snapshots"),
        sites,
        _dir: dir,
    }
}

fn render_site(f: &Fleet, id: &str) -> String {
    let o = edgefleet(&["render", "--site", id, "--out", f.out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Every site's live state as a snapshot of what Git renders for it, then three sites made
/// different: one drifted (a replica count), one unreachable (no snapshot), one missing an
/// object.
fn write_snapshots(f: &Fleet) -> BTreeMap<&'static str, String> {
    for (_, id) in &f.sites {
        let dir = f.snapshots.join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("objects.yaml"), render_site(f, id)).unwrap();
    }
    let ids: Vec<&String> = f.sites.iter().map(|(_, id)| id).collect();
    let (drifted, unreachable, missing) = (ids[3], ids[17], ids[30]);
    let file = f.snapshots.join(drifted).join("objects.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("replicas: 1\n"), "{text}");
    std::fs::write(&file, text.replacen("replicas: 1\n", "replicas: 4\n", 1)).unwrap();
    std::fs::remove_dir_all(f.snapshots.join(unreachable)).unwrap();
    let file = f.snapshots.join(missing).join("objects.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    let docs: Vec<&str> = text.split("\n---\n").collect();
    assert!(docs.len() > 2, "{text}");
    std::fs::write(&file, docs[1..].join("\n---\n")).unwrap();
    BTreeMap::from([
        ("drifted", drifted.clone()),
        ("unreachable", unreachable.clone()),
        ("missing", missing.clone()),
    ])
}

fn drift(f: &Fleet, format: &str, shard: Option<&str>) -> (Option<i32>, String) {
    let mut args = vec![
        "drift",
        "--fleet",
        f.out.to_str().unwrap(),
        "--snapshots",
        f.snapshots.to_str().unwrap(),
        "--format",
        format,
        "-q",
    ];
    if let Some(k) = shard {
        args.extend(["--shard", k]);
    }
    let o = edgefleet(&args);
    assert!(
        matches!(o.status.code(), Some(0 | 1 | 3)),
        "drift {args:?}: {}",
        describe(&o)
    );
    (o.status.code(), String::from_utf8(o.stdout).unwrap())
}

fn merge(files: &[&Path]) -> std::process::Output {
    let mut args = vec!["merge"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    edgefleet(&args)
}

fn refused(o: &std::process::Output, expected: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", describe(o));
    assert!(o.stdout.is_empty(), "nothing on stdout: {}", describe(o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains(expected), "{expected:?} in {}", describe(o));
}

#[test]
fn four_drift_shards_merged_are_one_run_and_merge_refuses_bad_sets() {
    let f = fleet();
    let changed = write_snapshots(&f);
    let scratch = tempfile::tempdir().unwrap();

    // The fixture is what it claims: one run sees the three changed sites and nothing else.
    let (code, one) = drift(&f, "json", None);
    assert_eq!(code, Some(1), "drift found: {one}");
    let one: Value = serde_json::from_str(&one).unwrap();
    let status = |site: &str| -> String {
        one["sites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["site"] == site)
            .map(|s| s["status"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(status(&changed["drifted"]), "drifted");
    assert_eq!(status(&changed["unreachable"]), "unreachable");
    assert_eq!(status(&changed["missing"]), "drifted");
    assert_eq!(one["summary"]["sites"], SITES);
    assert_eq!(one["summary"]["in-sync"], SITES - 3);
    assert_eq!(one["summary"]["objects"]["drifted"], 1);
    assert_eq!(one["summary"]["objects"]["missing"], 1);

    let mut by_shard: Vec<BTreeSet<String>> = Vec::new();
    for format in ["json", "sarif", "junit"] {
        let (one_code, one_text) = drift(&f, format, None);
        let mut files = Vec::new();
        for k in 1..=4 {
            let (_, text) = drift(&f, format, Some(&format!("{k}/4")));
            if format == "json" {
                // Each shard's visible report names its own sites only.
                let doc: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(doc["shard"]["shard"], format!("{k}/4"));
                by_shard.push(
                    doc["sites"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| s["site"].as_str().unwrap().to_owned())
                        .collect(),
                );
            }
            let file = scratch.path().join(format!("drift-{k}.{format}"));
            std::fs::write(&file, text).unwrap();
            files.push(file);
        }
        // Given in another order than 1..4: merge does not depend on it.
        let order = [&files[2], &files[0], &files[3], &files[1]];
        let merged = merge(&order.map(|p| p.as_path()));
        assert_eq!(merged.status.code(), one_code, "{}", describe(&merged));
        let merged = String::from_utf8(merged.stdout).unwrap();
        assert!(
            merged == one_text,
            "{format}: the merged report differs from one run's\n--- one run:\n{one_text}\n--- merged:\n{merged}"
        );

        // Refusals, each with nothing on stdout.
        refused(
            &merge(&[&files[0], &files[1], &files[3]]),
            "incomplete set of shards: missing 3/4",
        );
        refused(
            &merge(&[&files[0], &files[1], &files[2], &files[3], &files[1]]),
            "given twice",
        );
    }
    // The partition: every site in exactly one shard.
    let all: BTreeSet<String> = f.sites.iter().map(|(_, id)| id.clone()).collect();
    let mut seen = BTreeSet::new();
    for shard in &by_shard {
        assert!(!shard.is_empty(), "40 sites leave no shard of 4 empty");
        for site in shard {
            assert!(seen.insert(site.clone()), "{site} is in two shards");
        }
    }
    assert_eq!(seen, all);

    // Shards of different formats, a drift shard with a lint shard, a report without --shard.
    let json = |k: u32| scratch.path().join(format!("drift-{k}.json"));
    let sarif = scratch.path().join("drift-2.sarif");
    refused(
        &merge(&[&json(1), &sarif, &json(3), &json(4)]),
        "shards of different runs",
    );
    let lint = scratch.path().join("lint-2.json");
    let o = edgefleet(&[
        "lint",
        "--fleet",
        f.out.to_str().unwrap(),
        "--inventory",
        f.inventory.to_str().unwrap(),
        "--format",
        "json",
        "--shard",
        "2/4",
        "-q",
    ]);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", describe(&o));
    std::fs::write(&lint, &o.stdout).unwrap();
    refused(
        &merge(&[&json(1), &lint, &json(3), &json(4)]),
        "merge the shards of one run",
    );
    let whole = scratch.path().join("drift.json");
    std::fs::write(&whole, drift(&f, "json", None).1).unwrap();
    refused(&merge(&[&whole]), "without a shard manifest");
}

#[test]
fn render_fleet_shards_are_the_sites_of_one_run_each_once() {
    let f = fleet();
    let render = |shard: Option<&str>| -> String {
        let mut args = vec!["render", "--fleet", f.out.to_str().unwrap()];
        if let Some(k) = shard {
            args.extend(["--shard", k]);
        }
        let o = edgefleet(&args);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let site_of = |doc: &Value| -> String {
        doc["metadata"]["labels"]["edgefleet.io/site"]
            .as_str()
            .unwrap_or_else(|| panic!("an object without the site label: {doc:?}"))
            .to_owned()
    };
    let whole = render(None);
    let whole_docs = parse_stream(&whole);
    let all: BTreeSet<String> = f.sites.iter().map(|(_, id)| id.clone()).collect();
    assert_eq!(
        whole_docs.iter().map(site_of).collect::<BTreeSet<_>>(),
        all,
        "one run renders every site"
    );

    let mut shard_docs: Vec<String> = Vec::new();
    let mut owner: BTreeMap<String, u32> = BTreeMap::new();
    for k in 1..=4u32 {
        let text = render(Some(&format!("{k}/4")));
        let docs = parse_stream(&text);
        let sites: BTreeSet<String> = docs.iter().map(site_of).collect();
        assert!(!sites.is_empty(), "shard {k}/4 of 40 sites is empty");
        for site in &sites {
            if let Some(other) = owner.insert(site.clone(), k) {
                panic!("{site} is rendered by shards {other}/4 and {k}/4");
            }
        }
        // Exactly `render --site` of each of its sites, sites by region then id.
        let expected: Vec<String> = f
            .sites
            .iter()
            .filter(|(_, id)| sites.contains(id))
            .map(|(_, id)| render_site(&f, id))
            .collect();
        assert!(
            text == expected.join("---\n"),
            "shard {k}/4 is not the concatenation of `render --site` of its sites"
        );
        shard_docs.extend(docs.iter().map(|d| d.to_string()));
    }
    assert_eq!(owner.keys().cloned().collect::<BTreeSet<_>>(), all);
    // Together, the objects of one run.
    let mut whole_docs: Vec<String> = whole_docs.iter().map(|d| d.to_string()).collect();
    whole_docs.sort();
    shard_docs.sort();
    assert_eq!(shard_docs.len(), whole_docs.len());
    assert!(
        shard_docs == whole_docs,
        "the shards' objects differ from one run's"
    );

    // The same partition as `drift --shard`: a site is checked by its render shard only (no
    // snapshot folder here: the site is `unreachable`, but counted).
    let empty = tempfile::tempdir().unwrap();
    for (_, site) in f.sites.iter().step_by(10) {
        for k in 1..=4u32 {
            let o = edgefleet(&[
                "drift",
                "--fleet",
                f.out.to_str().unwrap(),
                "--snapshots",
                empty.path().to_str().unwrap(),
                "--format",
                "json",
                "--shard",
                &format!("{k}/4"),
                "--site",
                site,
            ]);
            let doc: Value = serde_json::from_slice(&o.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", describe(&o)));
            let expected = u32::from(owner[site] == k);
            assert_eq!(
                doc["summary"]["sites"],
                expected,
                "drift --shard {k}/4 --site {site} (render shard {}/4): {}",
                owner[site],
                describe(&o)
            );
        }
    }
}

/// The colour (SGR, `ESC [ ... m`) sequences of a text; cursor and erase sequences of a
/// progress bar are not colour.
fn colour_sequences(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("\u{1b}[") {
        let rest = &text[i + 2..];
        let end = rest
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        if rest[end..].starts_with('m') {
            found.push(rest[..end].to_owned());
        }
    }
    found
}

#[test]
fn drift_shows_a_progress_bar_on_a_terminal_only_and_without_colour_under_no_color() {
    let f = fleet();
    write_snapshots(&f);
    let bin = edgefleet_e2e::edgefleet_bin();
    let command = format!(
        "{} drift --fleet {} --snapshots {} --jobs 1",
        bin.display(),
        f.out.display(),
        f.snapshots.display()
    );
    // On a terminal (`script` gives the command one): the bar's line, `drift ... N/40 sites`.
    let o = std::process::Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("script (util-linux) runs");
    let terminal = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        terminal.contains("/40 sites"),
        "a progress bar on a terminal: {terminal:?}"
    );
    assert_eq!(
        colour_sequences(&terminal),
        Vec::<String>::new(),
        "NO_COLOR: no colour on the terminal: {terminal:?}"
    );
    // Not a terminal: no bar.
    let o = edgefleet(&[
        "drift",
        "--fleet",
        f.out.to_str().unwrap(),
        "--snapshots",
        f.snapshots.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        !stderr.contains("sites ("),
        "no bar off a terminal: {stderr}"
    );
}
