//! `edgefleet report` checked in a real browser: headless Chromium loads the page with the
//! network shut off, the test reads the DOM after the page's script ran and finds the counts
//! the inventory written here implies, the console stays empty, and a screenshot is kept under
//! `target/edgefleet-report/` for CI to publish.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use edgefleet_e2e::{
    describe, edgefleet_bin, load_in_chromium, require_chromium, scratch_fleet_repo,
};
use edgefleet_overlays::catalogue::Catalogue;
use edgefleet_overlays::plan::site_workloads;

fn edgefleet(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(edgefleet_bin())
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("edgefleet runs")
}

/// The value of `data-value` on the element carrying `attribute` (`id="sites-total"`).
fn value_at(dom: &str, attribute: &str) -> Option<usize> {
    let at = dom.find(attribute)?;
    let tag_start = dom[..at].rfind('<')?;
    let tag_end = at + dom[at..].find('>')?;
    let tag = &dom[tag_start..tag_end];
    let v = tag.split("data-value=\"").nth(1)?;
    v[..v.find('"')?].parse().ok()
}

/// The sites-column value of the region-by-wave row of `region`.
fn region_total(dom: &str, region: &str) -> Option<usize> {
    let row_at = dom.find(&format!("<tr data-region=\"{region}\""))?;
    let row = &dom[row_at..row_at + dom[row_at..].find("</tr>")?];
    value_at(row, "data-total=\"sites\"")
}

fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgefleet-report-page");
    scratch_fleet_repo(&dir);
    dir
}

#[test]
fn the_report_page_shows_the_fleet_the_change_lint_and_drift_in_a_real_browser() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let dir = scratch();
    let fleet = edgefleet_inventory::load_inventory(&dir.join("inventory")).unwrap();
    let catalogue = Catalogue::load(&dir.join("templates")).unwrap();
    let runs = |w: &str| -> BTreeSet<String> {
        fleet
            .sites
            .iter()
            .filter(|s| site_workloads(s, &catalogue).iter().any(|m| m.name == w))
            .map(|s| s.id.clone())
            .collect()
    };
    let workload = catalogue
        .workloads()
        .map(|w| w.name.clone())
        .find(|w| !runs(w).is_empty() && runs(w).len() < fleet.sites.len())
        .expect("a workload not every site runs");
    // An uncommitted change to that workload's template: the change impact against HEAD.
    let template = dir.join("templates").join(&workload).join("base.yaml.j2");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(
        &template,
        text.replacen(
            "\"app.kubernetes.io/part-of\": \"edgefleet\"",
            "\"app.kubernetes.io/part-of\": \"edgefleet-edge\"",
            1,
        ),
    )
    .unwrap();
    let generated = edgefleet(&dir, &["generate"]);
    assert!(generated.status.success(), "{}", describe(&generated));
    // A drift report: one site drifts, one could not be asked, the rest are in sync.
    let ids: Vec<&str> = fleet.sites.iter().map(|s| s.id.as_str()).collect();
    let drift: Vec<serde_json::Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| match i {
            0 => serde_json::json!({"site": id, "status": "drift",
                "objects": [{"kind": "Deployment", "namespace": "edge", "name": "a"}]}),
            1 => serde_json::json!({"site": id, "status": "unreachable", "error": "timeout"}),
            _ => serde_json::json!({"site": id, "status": "in-sync"}),
        })
        .collect();
    std::fs::write(
        dir.join("drift.json"),
        serde_json::to_string(&serde_json::json!({"version": 1, "sites": drift})).unwrap(),
    )
    .unwrap();

    let page = dir.join("report.html");
    let out = edgefleet(
        &dir,
        &[
            "report",
            "--out",
            "report.html",
            "--diff-base",
            "HEAD",
            "--lint",
            "--drift-json",
            "drift.json",
        ],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let html = std::fs::read_to_string(&page).unwrap();
    for forbidden in ["http://", "https://", "<link", " src="] {
        assert!(
            !html.contains(forbidden),
            "the page must load nothing ({forbidden})"
        );
    }

    let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp is under target/")
        .join("edgefleet-report");
    let shot = target.join("report.png");
    let loaded = load_in_chromium(&chromium, &page, Some(&shot));
    let dom = &loaded.dom;
    assert!(
        loaded.console.is_empty(),
        "console messages: {:#?}",
        loaded.console
    );
    // The script ran to its end.
    assert!(
        dom.contains("data-enhanced=\"yes\""),
        "the page's script did not finish"
    );

    assert_eq!(value_at(dom, "id=\"sites-total\""), Some(fleet.sites.len()));
    let mut by_region: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &fleet.sites {
        *by_region.entry(&s.region).or_default() += 1;
    }
    for (region, n) in &by_region {
        assert_eq!(region_total(dom, region), Some(*n), "region {region}");
    }
    assert_eq!(
        value_at(dom, "id=\"change-changed\""),
        Some(runs(&workload).len()),
        "sites running {workload}"
    );
    assert_eq!(value_at(dom, "id=\"change-added\""), Some(0));
    assert_eq!(value_at(dom, "id=\"drift-drift\""), Some(1));
    assert_eq!(value_at(dom, "id=\"drift-unreachable\""), Some(1));
    assert_eq!(
        value_at(dom, "id=\"drift-in-sync\""),
        Some(fleet.sites.len() - 2)
    );
    // The example fleet lints clean: the section says so with its count.
    assert_eq!(value_at(dom, "id=\"lint-findings\""), Some(0));
    // One row per site in the sites table.
    assert_eq!(dom.matches("<tr data-site=").count(), fleet.sites.len());
    assert!(shot.is_file());
}

/// The console check above can fail: a page with a script error and a blocked load is caught.
#[test]
fn the_browser_check_sees_script_errors_and_blocked_loads() {
    let Some(chromium) = require_chromium() else {
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgefleet-report-bad-page");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join("bad.html");
    std::fs::write(
        &page,
        "<!doctype html><html><head><meta http-equiv=\"Content-Security-Policy\" \
         content=\"default-src 'none'; script-src 'unsafe-inline'\"></head><body>\
         <img src=\"https://example.invalid/x.png\" alt=\"\"><script>nosuch();</script></body></html>",
    )
    .unwrap();
    let loaded = load_in_chromium(&chromium, &page, None);
    assert!(
        loaded.console.iter().any(|l| l.contains("nosuch")),
        "{:#?}",
        loaded.console
    );
    assert!(
        loaded
            .console
            .iter()
            .any(|l| l.contains("Content Security Policy")),
        "{:#?}",
        loaded.console
    );
}
