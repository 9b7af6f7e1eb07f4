//! `edgefleet lint` and `edgefleet explain` as users and CI run them: exit codes and formats.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BAD: &str = "\
apiVersion: v1
kind: Pod
metadata:
  name: agent
spec:
  containers:
    - name: agent
      image: registry.example.com/edge/agent:latest
      securityContext:
        privileged: true
";

const CLEAN: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {}\n";

/// A scratch folder with its own `edgefleet.toml`, so the repository's config is not used.
fn scratch(name: &str, config: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("edgefleet-lint-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("edgefleet.toml"), config).unwrap();
    dir
}

fn edgefleet(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgefleet"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("edgefleet runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn clean_input_exits_0_and_findings_exit_1() {
    let dir = scratch("exit-codes", "");
    std::fs::write(dir.join("clean.yaml"), CLEAN).unwrap();
    std::fs::write(dir.join("bad.yaml"), BAD).unwrap();
    let clean = edgefleet(&dir, &["lint", "clean.yaml"], None);
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    assert!(stdout(&clean).contains("no findings in 1 file (1 object, 0 suppressed)"));

    let bad = edgefleet(&dir, &["lint", "."], None);
    assert_eq!(bad.status.code(), Some(1));
    let text = stdout(&bad);
    assert!(!text.contains('\u{1b}'), "colour codes when not a terminal");
    assert!(text.contains("bad.yaml:10:9"), "{text}");
    assert!(text.contains("security/privileged"), "{text}");
}

#[test]
fn usage_and_input_errors_exit_2() {
    let dir = scratch("input-errors", "");
    let missing = edgefleet(&dir, &["lint", "no-such-dir"], None);
    assert_eq!(missing.status.code(), Some(2));
    let none = edgefleet(&dir, &["lint"], None);
    assert_eq!(none.status.code(), Some(2));
    let format = edgefleet(&dir, &["lint", "--format", "xml", "."], None);
    assert_eq!(format.status.code(), Some(2));

    std::fs::write(dir.join("broken.yaml"), "a: [1, 2\nb: }\n").unwrap();
    std::fs::write(dir.join("bad.yaml"), BAD).unwrap();
    let o = edgefleet(&dir, &["lint", "--format", "json", "."], None);
    assert_eq!(o.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rules: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"input/invalid-yaml"), "{rules:?}");
    assert!(
        rules.contains(&"security/privileged"),
        "other files still linted: {rules:?}"
    );
}

#[test]
fn reads_standard_input() {
    let dir = scratch("stdin", "");
    let o = edgefleet(&dir, &["lint", "--format", "github", "-"], Some(BAD));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("::error file=<stdin>,line=10,col=9,title=security/privileged::"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn sarif_and_junit_formats() {
    let dir = scratch("formats", "");
    std::fs::write(dir.join("bad.yaml"), BAD).unwrap();
    let o = edgefleet(&dir, &["lint", "--format", "sarif", "bad.yaml"], None);
    assert_eq!(o.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let result = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "security/privileged")
        .unwrap();
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        10
    );
    let o = edgefleet(&dir, &["lint", "--format", "junit", "bad.yaml"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("<testsuite name=\"bad.yaml\""),
        "{}",
        stdout(&o)
    );
}

#[test]
fn config_sets_levels_fail_level_and_rejects_unknown_rules() {
    let dir = scratch(
        "config",
        "[lint]\nfail_level = \"error\"\n[lint.rules]\n\"security/privileged\" = \"off\"\n\"images/latest-tag\" = \"warning\"\n\"resources/missing-memory-limit\" = \"warning\"\n",
    );
    std::fs::write(dir.join("bad.yaml"), BAD).unwrap();
    let o = edgefleet(&dir, &["lint", "--format", "json", "bad.yaml"], None);
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["summary"]["errors"], 0, "{json}");
    assert_eq!(o.status.code(), Some(0), "only warnings, fail level error");
    let o = edgefleet(&dir, &["lint", "--fail-level", "warning", "bad.yaml"], None);
    assert_eq!(o.status.code(), Some(1));

    let dir = scratch("bad-config", "[lint.rules]\n\"security/nope\" = \"off\"\n");
    std::fs::write(dir.join("bad.yaml"), BAD).unwrap();
    let o = edgefleet(&dir, &["lint", "bad.yaml"], None);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("security/nope"));
}

#[test]
fn duplicate_scope_comes_from_the_config_or_the_flag() {
    let dir = scratch("duplicate-scope", "[lint]\nduplicate_scope = \"folder\"\n");
    std::fs::create_dir_all(dir.join("envs")).unwrap();
    std::fs::write(dir.join("envs/dev.yaml"), CLEAN).unwrap();
    std::fs::write(dir.join("envs/prod.yaml"), CLEAN).unwrap();
    let duplicates = |args: &[&str]| {
        let o = edgefleet(&dir, args, None);
        let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let found = json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "schema/duplicate-object")
            .count();
        (found, o.status.code())
    };
    // The config's folder scope: the two files of `envs/` are applied together.
    assert_eq!(
        duplicates(&["lint", "--format", "json", "envs"]),
        (1, Some(1))
    );
    // The flag wins over the config: each file is its own build.
    assert_eq!(
        duplicates(&[
            "lint",
            "--format",
            "json",
            "--duplicate-scope",
            "file",
            "envs"
        ]),
        (0, Some(0))
    );
    // Standard input is one stream.
    let twice = format!("{CLEAN}---\n{CLEAN}");
    let o = edgefleet(&dir, &["lint", "--format", "json", "-"], Some(&twice));
    assert!(
        stdout(&o).contains("schema/duplicate-object"),
        "{}",
        stdout(&o)
    );

    // A scope that does not exist is a config error at its line.
    let dir = scratch(
        "bad-duplicate-scope",
        "[lint]\nduplicate_scope = \"site\"\n",
    );
    std::fs::write(dir.join("c.yaml"), CLEAN).unwrap();
    let o = edgefleet(&dir, &["lint", "c.yaml"], None);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("edgefleet.toml:2:"), "{stderr}");
    assert!(stderr.contains("site"), "{stderr}");
}

#[test]
fn explain_prints_rule_docs() {
    let dir = scratch("explain", "");
    let o = edgefleet(&dir, &["explain", "images/pull-always"], None);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.starts_with("# images/pull-always\n"), "{text}");
    assert!(text.contains("## Why it matters at an edge site"), "{text}");
    let o = edgefleet(&dir, &["explain", "--list"], None);
    assert!(stdout(&o).contains("resources/missing-cpu-limit"));
    let o = edgefleet(&dir, &["explain", "images/nope"], None);
    assert_eq!(o.status.code(), Some(2));
}
