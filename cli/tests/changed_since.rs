//! `edgefleet lint --changed-since REV` in scratch git repositories built with git2.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use git2::Repository;

mod common;
use common::commit_all;

const BAD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: NAME
spec:
  containers:
    - name: agent
      image: registry.example.com/edge/agent:latest
      securityContext:
        privileged: true
";

fn bad(name: &str) -> String {
    BAD.replace("NAME", name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("edgefleet-changed-since")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn stage(repo: &Repository, file: &str) {
    let mut index = repo.index().unwrap();
    index.add_path(Path::new(file)).unwrap();
    index.write().unwrap();
}

fn lint(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .arg("lint")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("edgefleet runs")
}

/// The files with findings in a JSON report, sorted and deduplicated.
fn files_with_findings(out: &Output) -> Vec<String> {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let mut files: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().replace('\\', "/"))
        .collect();
    files.dedup();
    files.sort();
    files.dedup();
    files
}

fn summary_files(out: &Output) -> u64 {
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["summary"]["files"].as_u64().unwrap()
}

/// A repository with a base commit of four manifests, then: one modified and committed, one
/// modified only in the working tree, one deleted, one left alone, one added and staged, one
/// added untracked, one ignored, and a changed non-YAML file.
fn history(name: &str) -> (PathBuf, String) {
    let dir = scratch(name);
    std::fs::write(dir.join("edgefleet.toml"), "").unwrap();
    let repo = Repository::init(&dir).unwrap();
    write(&dir, "apps/committed.yaml", &bad("committed"));
    write(&dir, "apps/worktree.yaml", &bad("worktree"));
    write(&dir, "apps/deleted.yaml", &bad("deleted"));
    write(&dir, "apps/untouched.yaml", &bad("untouched"));
    write(&dir, "notes.txt", "notes\n");
    write(&dir, ".gitignore", "ignored.yaml\n");
    let base = commit_all(&repo, "base");

    write(&dir, "apps/committed.yaml", &bad("committed-v2"));
    commit_all(&repo, "change");
    write(&dir, "apps/worktree.yaml", &bad("worktree-v2"));
    std::fs::remove_file(dir.join("apps/deleted.yaml")).unwrap();
    write(&dir, "edge/staged.yml", &bad("staged"));
    stage(&repo, "edge/staged.yml");
    write(&dir, "edge/untracked.yaml", &bad("untracked"));
    write(&dir, "ignored.yaml", &bad("ignored"));
    write(&dir, "notes.txt", "changed notes\n");
    (dir, base)
}

#[test]
fn lints_only_files_changed_since_the_revision() {
    let (dir, base) = history("whole-repo");
    let out = lint(&dir, &["--format", "json", "--changed-since", &base]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        files_with_findings(&out),
        [
            "apps/committed.yaml",
            "apps/worktree.yaml",
            "edge/staged.yml",
            "edge/untracked.yaml"
        ]
    );
    assert_eq!(summary_files(&out), 4);

    // A branch name or `HEAD~1` works as well as a commit id.
    let out = lint(&dir, &["--format", "json", "--changed-since", "HEAD~1"]);
    assert_eq!(
        files_with_findings(&out),
        [
            "apps/committed.yaml",
            "apps/worktree.yaml",
            "edge/staged.yml",
            "edge/untracked.yaml"
        ]
    );
    // Since HEAD: what is not committed yet.
    let out = lint(&dir, &["--format", "json", "--changed-since", "HEAD"]);
    assert_eq!(
        files_with_findings(&out),
        [
            "apps/worktree.yaml",
            "edge/staged.yml",
            "edge/untracked.yaml"
        ]
    );
}

#[test]
fn paths_narrow_the_changed_set_and_findings_keep_their_lines() {
    let (dir, base) = history("scoped");
    let out = lint(
        &dir,
        &["--format", "json", "--changed-since", &base, "edge"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        files_with_findings(&out),
        ["edge/staged.yml", "edge/untracked.yaml"]
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let privileged = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "security/privileged")
        .unwrap();
    assert_eq!(privileged["line"], 10);

    // From a subfolder, `.` narrows to it and paths are shown relative to it.
    let out = lint(
        &dir.join("apps"),
        &["--format", "json", "--changed-since", &base, "."],
    );
    assert_eq!(
        files_with_findings(&out),
        ["committed.yaml", "worktree.yaml"]
    );
    // Without a path the whole repository is in scope, as with `git diff REV`.
    let out = lint(
        &dir.join("apps"),
        &["--format", "json", "--changed-since", &base],
    );
    assert_eq!(summary_files(&out), 4);
    // ... and outside it, as absolute paths.
    let files = files_with_findings(&lint(
        &dir.join("apps"),
        &["--format", "json", "--changed-since", &base, "../edge"],
    ));
    assert_eq!(files.len(), 2);
    assert!(
        files.iter().all(|f| Path::new(f).is_absolute()),
        "{files:?}"
    );
}

#[test]
fn nothing_changed_is_clean_and_excludes_still_apply() {
    let (dir, _) = history("excludes");
    std::fs::write(
        dir.join("edgefleet.toml"),
        "[lint]\nexclude = [\"edge/**\"]\n",
    )
    .unwrap();
    let repo = Repository::open(&dir).unwrap();
    let head = commit_all(&repo, "everything");
    let out = lint(&dir, &["--changed-since", &head]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no findings in 0 files"),
        "{out:?}"
    );
    write(&dir, "edge/new.yaml", &bad("new"));
    let out = lint(&dir, &["--format", "json", "--changed-since", &head]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(summary_files(&out), 0);
}

#[test]
fn usage_errors_exit_2() {
    let (dir, _) = history("errors");
    let out = lint(&dir, &["--changed-since", "no-such-rev"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--changed-since no-such-rev"));

    let out = lint(&dir, &["--changed-since", "HEAD", "-"]);
    assert_eq!(out.status.code(), Some(2));

    let out = lint(&dir, &["--changed-since", "HEAD", "missing-folder"]);
    assert_eq!(out.status.code(), Some(2));

    let outside = std::env::temp_dir().join(format!("edgefleet-no-repo-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    let out = lint(&outside, &["--changed-since", "HEAD"]);
    // A temp folder may itself sit in a repository on some machines; only check when it does not.
    if Repository::discover(&outside).is_err() {
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("git repository"));
    }
    let _ = std::fs::remove_dir_all(&outside);
}
