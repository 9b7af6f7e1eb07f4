//! A platform engineer's first day: the traps a new user walks into and the habits they bring
//! from kube-linter, Checkov and kustomize.

use std::path::Path;
use std::process::{Command, Output};

use edgefleet_e2e::{copy_dir, describe, edgefleet_bin, generate_fleet, workspace_root};
use serde_json::Value;

fn edgefleet_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(edgefleet_bin());
    c.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("FORCE_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("edgefleet runs")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch project: `edgefleet.toml` (with `config`), the example inventory and templates.
fn project(config: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let root = workspace_root();
    std::fs::write(
        tmp.path().join("edgefleet.toml"),
        format!(
            "[paths]\ninventory = \"inventory\"\ntemplates = \"templates\"\nout = \"out\"\n{config}"
        ),
    )
    .unwrap();
    copy_dir(
        &root.join("examples/fleet/site-inventory"),
        &tmp.path().join("inventory"),
    );
    copy_dir(&root.join("templates"), &tmp.path().join("templates"));
    tmp
}

#[test]
fn synth_refuses_a_folder_that_holds_an_inventory() {
    let tmp = project("");
    let inventory = tmp.path().join("inventory");
    let before = std::fs::read(inventory.join("profiles.yaml")).unwrap();
    let o = edgefleet_in(
        tmp.path(),
        &["inventory", "synth", "--sites", "5", "--out", "inventory"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        err(&o).contains("not empty") && err(&o).contains("--force"),
        "{}",
        describe(&o)
    );
    assert_eq!(
        std::fs::read(inventory.join("profiles.yaml")).unwrap(),
        before,
        "overwritten"
    );

    // A new folder, and an empty one, are fine; --force writes into a non-empty one.
    let o = edgefleet_in(
        tmp.path(),
        &["inventory", "synth", "--sites", "5", "--out", "new"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    let o = edgefleet_in(
        tmp.path(),
        &["inventory", "synth", "--sites", "5", "--out", "empty"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let o = edgefleet_in(
        tmp.path(),
        &[
            "inventory",
            "synth",
            "--sites",
            "5",
            "--out",
            "inventory",
            "--force",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_ne!(
        std::fs::read(inventory.join("profiles.yaml")).unwrap(),
        before
    );
}

#[test]
fn appset_preview_never_expands_to_nothing_silently() {
    let tmp = project("");
    generate_fleet(
        &tmp.path().join("inventory"),
        &tmp.path().join("templates"),
        &tmp.path().join("elsewhere"),
    );
    let appset = std::fs::read_dir(tmp.path().join("elsewhere/appsets"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .min()
        .unwrap();
    let appset = appset.to_str().unwrap();
    // The config's output folder does not exist: said, exit 2.
    let o = edgefleet_in(tmp.path(), &["appset", "preview", appset], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(err(&o).contains("--repo"), "{}", describe(&o));
    // A folder that holds none of its sites: a warning and exit 1, not a clean empty preview.
    std::fs::create_dir(tmp.path().join("out")).unwrap();
    let o = edgefleet_in(tmp.path(), &["appset", "preview", appset], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        err(&o).contains("warning:") && err(&o).contains("no Application"),
        "{}",
        describe(&o)
    );
    // The right tree: Applications, and the folder they came from.
    let o = edgefleet_in(
        tmp.path(),
        &["appset", "preview", appset, "--repo", "elsewhere"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(out(&o).contains("kind: Application\n"), "{}", describe(&o));
    assert!(err(&o).contains("from elsewhere"), "{}", describe(&o));
}

#[test]
fn lint_on_a_generated_tree_or_a_kustomize_folder_says_what_to_run() {
    let tmp = project("");
    generate_fleet(
        &tmp.path().join("inventory"),
        &tmp.path().join("templates"),
        &tmp.path().join("out"),
    );
    let o = edgefleet_in(tmp.path(), &["lint", "out"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        err(&o).contains("edgefleet lint --fleet out"),
        "{}",
        describe(&o)
    );
    assert!(out(&o).is_empty(), "no false alarms: {}", describe(&o));

    let site = std::fs::read_dir(tmp.path().join("out/sites/eu-north"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .min()
        .unwrap();
    let overlay = std::fs::read_dir(&site)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("kustomization.yaml").is_file())
        .unwrap();
    let overlay = overlay
        .strip_prefix(tmp.path())
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let o = edgefleet_in(tmp.path(), &["lint", &overlay], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        err(&o).contains(&format!("edgefleet render {overlay} | edgefleet lint -")),
        "{}",
        describe(&o)
    );
    let o = edgefleet_in(tmp.path(), &["lint", site.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "a site folder: {}", describe(&o));

    // What the refusal suggests works.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{bin}' render {overlay} | '{bin}' lint --format json -",
            bin = edgefleet_bin().display()
        ))
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let doc: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)));
    assert!(doc["summary"]["objects"].as_u64().unwrap() > 0, "{doc:#}");
    assert_eq!(doc["summary"]["input_errors"], 0, "{doc:#}");
}

#[test]
fn without_a_config_commands_say_so_and_input_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let o = edgefleet_in(tmp.path(), &["validate"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        err(&o).contains("no edgefleet.toml found"),
        "{}",
        describe(&o)
    );
    assert!(
        err(&o).contains("inventory `site-inventory`"),
        "{}",
        describe(&o)
    );
    // The same exit code for every kind of input error, in every command.
    for args in [
        vec!["lint", "no-such.yaml"],
        vec!["render", "no-such-dir"],
        vec!["generate", "--inventory", "no-such-dir"],
        vec!["explain", "no/such-rule"],
        vec!["appset", "preview", "no-such.yaml"],
        vec!["lint", "--no-such-flag"],
        vec!["no-such-command"],
    ] {
        let o = edgefleet_in(tmp.path(), &args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", describe(&o));
    }
    // With a config, no note.
    let tmp = project("");
    let o = edgefleet_in(tmp.path(), &["validate"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(!err(&o).contains("no edgefleet.toml"), "{}", describe(&o));
    assert!(
        out(&o).starts_with("inventory: "),
        "paths relative to the working directory: {}",
        describe(&o)
    );
}

#[test]
fn what_generate_writes_without_a_warning_lint_fleet_accepts() {
    let tmp = project("");
    // A small board on a satellite link: some buffers cannot hold 72 h, by the disk bound
    // (telemetry-collector) or because the broker's queue must fit in its memory (mqtt-broker).
    let sites = tmp.path().join("inventory/sites/offshore.yaml");
    let mut text = std::fs::read_to_string(&sites).unwrap();
    text.push_str("  - id: buoy-test-01\n    region: eu-north\n    hardware: rpi-cm4\n    backhaul: vsat-2m\n    wave: main\n");
    std::fs::write(&sites, text).unwrap();
    let o = edgefleet_in(tmp.path(), &["generate"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let warnings = err(&o);
    let o = edgefleet_in(
        tmp.path(),
        &["lint", "--fleet", "out", "--format", "json"],
        &[],
    );
    let doc: Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)));
    assert_eq!(doc["summary"]["input_errors"], 0, "{doc:#}");
    let short = edgefleet_e2e::findings(&doc, "outage/buffer-below-outage");
    assert!(short.len() >= 2, "short buffers at the buoy: {doc:#}");
    for f in short {
        let object = f["object"]["name"].as_str().unwrap();
        for site in f["sites"].as_array().unwrap() {
            let site = site.as_str().unwrap();
            assert!(
                warnings
                    .lines()
                    .any(|l| l.starts_with(&format!("warning: site {site}: {object} gets a "))),
                "lint --fleet reports {object} at {site} but generate did not warn:\n{warnings}\n{f:#}"
            );
        }
    }
}

#[test]
fn colour_follows_the_flag_and_the_environment() {
    let tmp = project("");
    std::fs::write(
        tmp.path().join("bad.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: r.example.com/a:latest\n",
    )
    .unwrap();
    let esc = |o: &Output| out(o).contains('\u{1b}');
    assert!(
        !esc(&edgefleet_in(tmp.path(), &["lint", "bad.yaml"], &[])),
        "not a terminal"
    );
    assert!(esc(&edgefleet_in(
        tmp.path(),
        &["lint", "--color", "always", "bad.yaml"],
        &[]
    )));
    assert!(esc(&edgefleet_in(
        tmp.path(),
        &["lint", "bad.yaml"],
        &[("CLICOLOR_FORCE", "1")]
    )));
    assert!(esc(&edgefleet_in(
        tmp.path(),
        &["lint", "bad.yaml"],
        &[("FORCE_COLOR", "1")]
    )));
    assert!(!esc(&edgefleet_in(
        tmp.path(),
        &["lint", "bad.yaml"],
        &[("FORCE_COLOR", "1"), ("NO_COLOR", "1")]
    )));
    assert!(!esc(&edgefleet_in(
        tmp.path(),
        &["lint", "--color", "never", "bad.yaml"],
        &[("FORCE_COLOR", "1")]
    )));
    // Severity words, not only glyphs.
    let o = edgefleet_in(tmp.path(), &["lint", "bad.yaml"], &[]);
    assert!(out(&o).contains("error: "), "{}", out(&o));
    assert!(out(&o).contains("warning: "), "{}", out(&o));
    // --quiet: the findings, no summary.
    let q = edgefleet_in(tmp.path(), &["lint", "--quiet", "bad.yaml"], &[]);
    assert_eq!(q.status.code(), Some(1));
    assert!(
        out(&q).contains("images/latest-tag") && !out(&q).contains(" suppressed)"),
        "{}",
        out(&q)
    );
    assert!(
        out(&o).contains("in 1 file (1 object, 0 suppressed)"),
        "singular: {}",
        out(&o)
    );
    let q = edgefleet_in(tmp.path(), &["validate", "-q"], &[]);
    assert_eq!(
        (q.status.code(), out(&q).as_str(), err(&q).as_str()),
        (Some(0), "", "")
    );
}

#[test]
fn config_errors_are_located_with_a_suggestion_in_text_and_json() {
    let tmp = project("[lint.rules]\n\"security/privileged-mode\" = \"off\"\n");
    let o = edgefleet_in(tmp.path(), &["lint", "templates"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        err(&o).contains("edgefleet.toml:6:1: [lint.rules]: unknown rule `security/privileged-mode` (did you mean `security/privileged`?)"),
        "{}",
        describe(&o)
    );
    let o = edgefleet_in(
        tmp.path(),
        &["lint", "--message-format", "json", "templates"],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let line: Value = serde_json::from_str(err(&o).lines().next().unwrap()).unwrap();
    assert_eq!(
        (
            line["file"].as_str(),
            line["line"].as_u64(),
            line["column"].as_u64()
        ),
        (Some("edgefleet.toml"), Some(6), Some(1)),
        "{line}"
    );
    assert_eq!(line["severity"], "error");

    // A misspelt key in the config: located too, in JSON.
    let tmp = project("[lint]\nfail_levle = \"error\"\n");
    let o = edgefleet_in(tmp.path(), &["validate", "--message-format", "json"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    let line: Value = serde_json::from_str(err(&o).lines().next().unwrap())
        .unwrap_or_else(|e| panic!("{e}: {}", describe(&o)));
    assert_eq!(line["line"], 6, "{line}");
    assert!(
        line["message"].as_str().unwrap().contains("fail_level"),
        "{line}"
    );

    // Inventory errors as JSON lines, one per problem, each located.
    let tmp = project("");
    edgefleet_e2e::edit(
        &tmp.path().join("inventory/sites/industrial.yaml"),
        "hardware: xeon-d-2u",
        "hardware: xeon-d-2uu",
    );
    let o = edgefleet_in(tmp.path(), &["validate", "--message-format", "json"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    for l in err(&o).lines() {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
        assert!(
            v["file"].as_str().unwrap().ends_with("industrial.yaml"),
            "{v}"
        );
        assert!(v["line"].as_u64().unwrap() > 1, "{v}");
    }
    // No library wording: a duplicate key is said in the user's terms.
    let tmp = project("");
    std::fs::write(
        tmp.path().join("dup.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nkind: Secret\nmetadata: {name: x}\n",
    )
    .unwrap();
    let o = edgefleet_in(tmp.path(), &["lint", "dup.yaml"], &[]);
    assert!(
        !out(&o).contains("Options") && !out(&o).contains("DuplicateKeyPolicy"),
        "{}",
        out(&o)
    );
    std::fs::write(
        tmp.path().join("inventory/regions.yaml"),
        "regions:\n  a: {jurisdiction: NO}\n  a: {jurisdiction: NO}\n",
    )
    .unwrap();
    let o = edgefleet_in(tmp.path(), &["validate"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        !err(&o).contains("Options") && !err(&o).contains("DuplicateKeyPolicy"),
        "{}",
        err(&o)
    );
}

#[test]
fn explain_list_shows_the_levels_in_effect() {
    let tmp = project("[lint.rules]\n\"resources/missing-cpu-limit\" = \"error\"\n");
    let o = edgefleet_in(tmp.path(), &["explain", "--list"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(
        out(&o).starts_with("# levels in effect under edgefleet.toml\n"),
        "{}",
        out(&o)
    );
    let line = out(&o)
        .lines()
        .find(|l| l.starts_with("resources/missing-cpu-limit "))
        .unwrap()
        .to_owned();
    assert!(
        line.contains(" error ") && line.ends_with("(default off)"),
        "{line}"
    );
    let o = edgefleet_in(tmp.path(), &["explain", "images/pull-alway"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("unknown rule `images/pull-alway` (did you mean `images/pull-always`?)"),
        "{}",
        err(&o)
    );
}

#[test]
fn version_man_page_and_completions() {
    let tmp = tempfile::tempdir().unwrap();
    let o = edgefleet_in(tmp.path(), &["--version"], &[]);
    assert_eq!(o.status.code(), Some(0));
    let v = out(&o);
    assert!(
        v.starts_with(&format!("edgefleet {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    assert!(v.contains("Kubernetes schemas: 1.35"), "{v}");
    // The Kustomize the renderer claims to match is the oracle's, the one the conformance tests
    // compare with.
    if let Some(kubectl) = edgefleet_e2e::require_kubectl() {
        let oracle = edgefleet_e2e::kubectl_version(&kubectl).unwrap();
        let kustomize = oracle
            .lines()
            .find_map(|l| l.strip_prefix("Kustomize Version: "))
            .expect("kubectl names its Kustomize");
        assert!(
            v.contains(&format!("Kustomize: {} ", kustomize.trim())),
            "{v}
{oracle}"
        );
    }
    let commit = v
        .split("(commit ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    // The commit is the repository's (a build outside git says `unknown`).
    if let Ok(head) = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(workspace_root())
        .output()
        && head.status.success()
    {
        assert!(
            String::from_utf8_lossy(&head.stdout).starts_with(commit),
            "{commit}"
        );
    }

    let o = edgefleet_in(tmp.path(), &["man"], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        out(&o).starts_with(".ie \\n(.g .ds Aq") || out(&o).contains(".TH edgefleet"),
        "{}",
        out(&o)
    );
    assert!(
        out(&o).contains("\\-\\-message\\-format"),
        "global options documented"
    );

    let o = edgefleet_in(tmp.path(), &["completions", "bash"], &[]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out(&o).contains("images/pull-always"), "rule ids complete");
}
