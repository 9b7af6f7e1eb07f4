//! Checkov (PyPI, pinned by `scripts/test.sh`) and `edgefleet lint` on the same corpus,
//! `tests/fixtures/checkov-corpus/` (one workload per file, good and bad, of every workload
//! kind). For every Checkov check of the families in `docs/rules.md` that fails on an object,
//! edgefleet reports the mapped rule on the same object, at a line inside that object; Checkov
//! itself only gives the object's whole line range. CKV_K8S_15 is the deliberate disagreement
//! (pull policy Always). CKV_K8S_11 and CKV_K8S_21 map to rules that are off by default (CPU
//! limit, default namespace); the test turns them on.
//!
//! Checkov runs offline: see `edgefleet_e2e::CHECKOV_OFFLINE_ENV` and `--skip-download`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use edgefleet_e2e::{checkov_command, edgefleet_bin, require_checkov, workspace_root};
use serde_json::Value;

/// Checkov check → edgefleet rule (the table in docs/rules.md).
const MAPPING: &[(&str, &str)] = &[
    ("CKV_K8S_8", "probes/missing-liveness"),
    ("CKV_K8S_9", "probes/missing-readiness"),
    ("CKV_K8S_10", "resources/missing-cpu-request"),
    ("CKV_K8S_11", "resources/missing-cpu-limit"),
    ("CKV_K8S_12", "resources/missing-memory-request"),
    ("CKV_K8S_13", "resources/missing-memory-limit"),
    ("CKV_K8S_14", "images/latest-tag"),
    ("CKV_K8S_16", "security/privileged"),
    ("CKV_K8S_17", "security/host-namespaces"),
    ("CKV_K8S_18", "security/host-namespaces"),
    ("CKV_K8S_19", "security/host-namespaces"),
    ("CKV_K8S_20", "security/privilege-escalation"),
    ("CKV_K8S_21", "security/default-namespace"),
    ("CKV_K8S_22", "security/writable-root-filesystem"),
    ("CKV_K8S_23", "security/run-as-non-root"),
    ("CKV_K8S_28", "security/capabilities-not-dropped"),
    ("CKV_K8S_37", "security/capabilities-not-dropped"),
    ("CKV_K8S_43", "images/not-pinned-by-digest"),
];

/// (file name, kind, name): how both tools' results are matched to one object.
type ObjectKey = (String, String, String);

struct CheckovFailure {
    check: String,
    object: ObjectKey,
    lines: (u64, u64),
}

struct EdgefleetFinding {
    rule: String,
    object: ObjectKey,
    line: u64,
}

fn corpus() -> std::path::PathBuf {
    workspace_root().join("tests/fixtures/checkov-corpus")
}

fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn run_checkov(checkov: &Path, dir: &Path) -> Vec<CheckovFailure> {
    let out = checkov_command(checkov)
        .current_dir(dir)
        .args([
            "-d",
            ".",
            "--framework",
            "kubernetes",
            "-o",
            "json",
            "--quiet",
            "--compact",
            "--skip-download",
        ])
        .output()
        .expect("checkov runs");
    // Exit 1 means "failed checks", which this corpus has on purpose.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "checkov failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "checkov printed no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    // One framework gives one object; several give a list of them.
    let reports = match report {
        Value::Array(list) => list,
        one => vec![one],
    };
    let mut failures = Vec::new();
    for report in reports {
        assert_eq!(report["check_type"], "kubernetes");
        assert_eq!(
            report["summary"]["parsing_errors"], 0,
            "{}",
            report["summary"]
        );
        for f in report["results"]["failed_checks"].as_array().unwrap() {
            // `resource` is `Kind.namespace.name`; the name may itself contain dots.
            let resource = f["resource"].as_str().unwrap();
            let mut parts = resource.splitn(3, '.');
            let kind = parts.next().unwrap().to_owned();
            let _namespace = parts.next().unwrap();
            let name = parts.next().unwrap().to_owned();
            let range = f["file_line_range"].as_array().unwrap();
            failures.push(CheckovFailure {
                check: f["check_id"].as_str().unwrap().to_owned(),
                object: (file_name(f["file_path"].as_str().unwrap()), kind, name),
                lines: (range[0].as_u64().unwrap(), range[1].as_u64().unwrap()),
            });
        }
    }
    failures
}

fn run_edgefleet(dir: &Path, scratch: &Path) -> Vec<EdgefleetFinding> {
    // CKV_K8S_11 (CPU limit) and CKV_K8S_21 (default namespace) map to edgefleet rules that are
    // off by default (docs/rules.md says why): turn them on.
    let config = scratch.join("edgefleet.toml");
    std::fs::write(
        &config,
        "[lint.rules]\n\"resources/missing-cpu-limit\" = \"warning\"\n\"security/default-namespace\" = \"warning\"\n",
    )
    .unwrap();
    let out = Command::new(edgefleet_bin())
        .arg("--config")
        .arg(&config)
        .args(["lint", "--format", "json"])
        .arg(dir)
        .output()
        .expect("edgefleet runs");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["input_errors"], 0);
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["object"].is_null())
        .map(|f| EdgefleetFinding {
            rule: f["rule"].as_str().unwrap().to_owned(),
            object: (
                file_name(f["file"].as_str().unwrap()),
                f["object"]["kind"].as_str().unwrap().to_owned(),
                f["object"]["name"].as_str().unwrap().to_owned(),
            ),
            line: f["line"].as_u64().unwrap(),
        })
        .collect()
}

#[test]
fn edgefleet_reports_every_mapped_checkov_failure_with_a_line() {
    let Some(checkov) = require_checkov() else {
        return;
    };
    let dir = corpus();
    let files = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert!(files >= 40, "the corpus has {files} manifests, want >= 40");

    let scratch = tempfile::tempdir().unwrap();
    let checkov_failures = run_checkov(&checkov, &dir);
    let findings = run_edgefleet(&dir, scratch.path());
    let mapping: BTreeMap<&str, &str> = MAPPING.iter().copied().collect();

    // Every mapped check fires somewhere: the corpus exercises the whole table.
    let fired: BTreeSet<&str> = checkov_failures.iter().map(|f| f.check.as_str()).collect();
    for check in mapping.keys() {
        assert!(
            fired.contains(check),
            "no corpus manifest makes Checkov fail {check}"
        );
    }

    // Checkov only locates the object: every failure on one object has the same, multi-line
    // range (the object's first to last line), whatever the field.
    let mut ranges: BTreeMap<&ObjectKey, BTreeSet<(u64, u64)>> = BTreeMap::new();
    for f in &checkov_failures {
        ranges.entry(&f.object).or_default().insert(f.lines);
    }
    for (object, r) in &ranges {
        assert_eq!(r.len(), 1, "{object:?}: several ranges {r:?}");
        let (start, end) = *r.iter().next().unwrap();
        assert!(end > start, "{object:?}: {start}-{end}");
    }

    let mut missing = Vec::new();
    let mut compared = 0;
    for f in &checkov_failures {
        let Some(rule) = mapping.get(f.check.as_str()) else {
            continue;
        };
        compared += 1;
        let hits: Vec<&EdgefleetFinding> = findings
            .iter()
            .filter(|e| e.rule == *rule && e.object == f.object)
            .collect();
        if hits.is_empty() {
            missing.push(format!("{} on {:?}: no {rule}", f.check, f.object));
        }
        for hit in hits {
            assert!(
                hit.line >= f.lines.0 && hit.line <= f.lines.1,
                "{rule} on {:?} at line {} is outside the object (Checkov: lines {}-{})",
                f.object,
                hit.line,
                f.lines.0,
                f.lines.1
            );
        }
    }
    assert!(
        missing.is_empty(),
        "edgefleet misses Checkov failures:\n{}",
        missing.join("\n")
    );
    assert!(compared >= 80, "only {compared} Checkov failures compared");

    // Neither tool finds anything of the table on the good manifests.
    let rules: BTreeSet<&str> = mapping.values().copied().collect();
    for e in &findings {
        assert!(
            !(e.object.0.starts_with("good-") && rules.contains(e.rule.as_str())),
            "edgefleet: {} on good manifest {:?}",
            e.rule,
            e.object
        );
    }
    for f in &checkov_failures {
        assert!(
            !(f.object.0.starts_with("good-") && mapping.contains_key(f.check.as_str())),
            "Checkov: {} on good manifest {:?}",
            f.check,
            f.object
        );
    }
}

#[test]
fn pull_policy_always_is_the_documented_disagreement() {
    let Some(checkov) = require_checkov() else {
        return;
    };
    let dir = corpus();
    let scratch = tempfile::tempdir().unwrap();
    let checkov_failures = run_checkov(&checkov, &dir);
    let findings = run_edgefleet(&dir, scratch.path());

    // CKV_K8S_15 fails where a pod would *not* pull on every start; images/pull-always fires
    // where it would. The two sets never meet.
    let checkov_15: BTreeSet<&ObjectKey> = checkov_failures
        .iter()
        .filter(|f| f.check == "CKV_K8S_15")
        .map(|f| &f.object)
        .collect();
    let pull_always: BTreeSet<&ObjectKey> = findings
        .iter()
        .filter(|e| e.rule == "images/pull-always")
        .map(|e| &e.object)
        .collect();
    assert!(!checkov_15.is_empty());
    assert!(!pull_always.is_empty());
    let both: Vec<_> = checkov_15.intersection(&pull_always).collect();
    assert!(both.is_empty(), "both fire on {both:?}");
    let explicit_always = (
        "pull-always-pod.yaml".to_owned(),
        "Pod".to_owned(),
        "pull-always-pod".to_owned(),
    );
    assert!(pull_always.contains(&explicit_always));
    assert!(!checkov_15.contains(&explicit_always));
    // `:latest` with an explicit IfNotPresent: Checkov wants Always, edgefleet is content
    // with the policy (and reports the tag itself with images/latest-tag).
    let latest_if_not_present = (
        "latest-tag-pod.yaml".to_owned(),
        "Pod".to_owned(),
        "latest-tag-pod".to_owned(),
    );
    assert!(checkov_15.contains(&latest_if_not_present));
    assert!(!pull_always.contains(&latest_if_not_present));
}

#[test]
fn default_namespace_fires_on_the_two_namespace_cases() {
    let Some(checkov) = require_checkov() else {
        return;
    };
    // CKV_K8S_21 (default namespace) fires exactly on the two manifests that have no namespace or
    // `default`; the mapping test above checks edgefleet's `security/default-namespace` on them.
    let checkov_21: BTreeSet<String> = run_checkov(&checkov, &corpus())
        .into_iter()
        .filter(|f| f.check == "CKV_K8S_21")
        .map(|f| f.object.0)
        .collect();
    assert_eq!(
        checkov_21,
        BTreeSet::from([
            "default-namespace-deployment.yaml".to_owned(),
            "no-namespace-deployment.yaml".to_owned()
        ])
    );
}
