//! The GitHub Actions example (`examples/ci/github/edgefleet-diff.yml`) runs: every step's
//! script that calls edgefleet is run with `sh -e` in a scratch fleet repository holding a base
//! branch and a pull-request branch, with the workflow's `BASE` pointing at the base branch.
//! (The install step and the comment step need GitHub; they are not run.)

use std::path::Path;
use std::process::Command;

use edgefleet_e2e::{describe, edgefleet_bin, git, scratch_fleet_repo, workspace_root};
use serde_json::Value;

#[test]
fn the_github_actions_example_produces_the_comment_and_the_report() {
    let text =
        std::fs::read_to_string(workspace_root().join("examples/ci/github/edgefleet-diff.yml"))
            .unwrap();
    let workflow: Value = serde_saphyr::from_str(&text).expect("the workflow is YAML");
    let steps = workflow["jobs"]["diff"]["steps"]
        .as_array()
        .expect("a `diff` job with steps");
    let scripts: Vec<&str> = steps
        .iter()
        .filter_map(|s| s["run"].as_str())
        .filter(|r| {
            r.contains("edgefleet ") && !r.contains("cargo install") && !r.contains("gh pr")
        })
        .collect();
    assert!(scripts.len() >= 2, "{scripts:?}");
    assert_eq!(
        workflow["jobs"]["diff"]["env"]["BASE"],
        "origin/${{ github.base_ref }}"
    );

    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("edgefleet-ci-example");
    scratch_fleet_repo(&dir);
    git(&dir, &["checkout", "-q", "-b", "pr"]);
    let csv = dir.join("inventory/sites/stores.csv");
    let stores = std::fs::read_to_string(&csv).unwrap();
    std::fs::write(&csv, stores.replacen(",lte-cat12,", ",fibre-1g,", 1)).unwrap();
    git(&dir, &["commit", "-qam", "a faster link at one store"]);

    let bin_dir = edgefleet_bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for script in scripts {
        let out = Command::new("sh")
            .args(["-e", "-c", script])
            .current_dir(&dir)
            .env("PATH", &path)
            .env("BASE", "main")
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        assert!(out.status.success(), "{script}\n{}", describe(&out));
    }
    let comment = std::fs::read_to_string(dir.join("diff.md")).unwrap();
    assert!(
        comment.starts_with("### edgefleet diff `main`..`HEAD`"),
        "{comment}"
    );
    assert!(comment.contains("1 site changed"), "{comment}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("diff.json")).unwrap()).unwrap();
    assert_eq!(json["summary"]["sites"]["changed"], 1, "{json}");
    let page = std::fs::read_to_string(dir.join("fleet-report.html")).unwrap();
    assert!(page.contains("id=\"change-changed\" data-value=\"1\""));
}
