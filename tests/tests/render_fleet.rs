//! The key acceptance test of the in-process renderer: for every site overlay of the example
//! fleet and of a 300-site synthetic fleet, `edgefleet render <overlay>` prints exactly what
//! `kubectl kustomize <overlay>` prints, byte for byte.

use std::path::{Path, PathBuf};
use std::process::Output;

use edgefleet_e2e::{kustomize_build, require_kubectl, run_edgefleet as edgefleet, workspace_root};
use rayon::prelude::*;

fn ok(o: Output, what: &str) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{what} failed ({:?}):\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

fn generate(inventory: &Path, out: &Path) {
    ok(
        edgefleet(&[
            "generate",
            "--inventory",
            inventory.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]),
        "edgefleet generate",
    );
}

/// Every `sites/<region>/<site>/<workload>/` folder holding a kustomization, sorted.
fn site_overlays(out: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    let sites = out.join("sites");
    for region in std::fs::read_dir(&sites).unwrap().flatten() {
        for site in std::fs::read_dir(region.path()).unwrap().flatten() {
            if !site.path().is_dir() {
                continue;
            }
            for overlay in std::fs::read_dir(site.path()).unwrap().flatten() {
                if overlay.path().join("kustomization.yaml").is_file() {
                    v.push(overlay.path());
                }
            }
        }
    }
    v.sort();
    v
}

/// The first lines where two texts differ, with a little context, for a failure message.
fn first_difference(expected: &str, actual: &str) -> String {
    let e: Vec<&str> = expected.lines().collect();
    let a: Vec<&str> = actual.lines().collect();
    let at = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let from = at.saturating_sub(3);
    let show = |lines: &[&str]| -> String {
        lines
            .iter()
            .enumerate()
            .skip(from)
            .take(8)
            .map(|(i, l)| format!("  {:>4}| {l}\n", i + 1))
            .collect()
    };
    format!(
        "first difference at line {} (kubectl {} lines, edgefleet {} lines)\n kubectl kustomize:\n{} edgefleet render:\n{}",
        at + 1,
        e.len(),
        a.len(),
        show(&e),
        show(&a)
    )
}

/// Renders every overlay with both tools (in parallel) and fails with the first differences.
fn compare_all(kubectl: &Path, out: &Path) -> usize {
    let overlays = site_overlays(out);
    assert!(
        !overlays.is_empty(),
        "no site overlays under {}",
        out.display()
    );
    let failures: Vec<String> = overlays
        .par_iter()
        .filter_map(|dir| {
            let expected = kustomize_build(kubectl, dir)
                .unwrap_or_else(|e| panic!("kubectl kustomize {} failed: {e}", dir.display()));
            let o = edgefleet(&["render", dir.to_str().unwrap()]);
            if o.status.code() != Some(0) {
                return Some(format!(
                    "{}: edgefleet render failed ({:?}): {}",
                    dir.display(),
                    o.status.code(),
                    String::from_utf8_lossy(&o.stderr)
                ));
            }
            let actual = String::from_utf8_lossy(&o.stdout);
            (actual != expected).then(|| {
                format!(
                    "{}: output differs from kubectl kustomize\n{}",
                    dir.display(),
                    first_difference(&expected, &actual)
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} overlays differ; the first ones:\n\n{}",
        failures.len(),
        overlays.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n\n")
    );
    overlays.len()
}

#[test]
fn example_fleet_renders_byte_identical_to_kubectl_kustomize() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    generate(
        &workspace_root().join("examples/fleet/site-inventory"),
        &out,
    );
    let n = compare_all(&kubectl, &out);
    eprintln!("example fleet: {n} overlays identical to kubectl kustomize");

    // `--site` renders all of a site's overlays, in folder order, joined by `---`.
    let overlays = site_overlays(&out);
    let site_dir = overlays[0].parent().unwrap();
    let site = site_dir.file_name().unwrap().to_str().unwrap();
    let mine: Vec<&PathBuf> = overlays
        .iter()
        .filter(|o| o.parent() == Some(site_dir))
        .collect();
    let expected: Vec<String> = mine
        .iter()
        .map(|d| kustomize_build(&kubectl, d).unwrap())
        .collect();
    let by_site = ok(
        edgefleet(&["render", "--site", site, "--out", out.to_str().unwrap()]),
        "edgefleet render --site",
    );
    assert_eq!(by_site, expected.join("---\n"));
}

#[test]
fn synthetic_fleet_of_300_sites_renders_byte_identical_to_kubectl_kustomize() {
    let Some(kubectl) = require_kubectl() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let inventory = tmp.path().join("inventory");
    ok(
        edgefleet(&[
            "inventory",
            "synth",
            "--sites",
            "300",
            "--seed",
            "42",
            "--out",
            inventory.to_str().unwrap(),
        ]),
        "edgefleet inventory synth",
    );
    let out = tmp.path().join("out");
    generate(&inventory, &out);
    let n = compare_all(&kubectl, &out);
    eprintln!("synthetic fleet: {n} overlays identical to kubectl kustomize");
}

#[test]
fn render_errors_exit_2_with_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("kustomization.yaml"),
        "resources:\n- missing.yaml\n",
    )
    .unwrap();
    let o = edgefleet(&["render", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("missing.yaml"), "{err}");
    assert!(err.contains("kustomization.yaml"), "{err}");
}
