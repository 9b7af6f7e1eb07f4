//! The sharded CI examples of `examples/ci/` (docs/scale.md) run and lint clean:
//!
//! - the Kubernetes Indexed Job and the Argo Workflow pass `edgefleet lint` (every rule, and
//!   `schema/invalid`: the Job against the strict Kubernetes 1.35 schema); the Argo `Workflow`
//!   kind has no embedded schema (lint skips CRDs it has no schema for), so each of its
//!   templates' containers, with the workflow's pod-level settings, is validated here as a
//!   strict Kubernetes Pod;
//! - the shell steps of every example (GitHub Actions matrix, GitLab `parallel`, the Indexed
//!   Job's pods, the Argo fan-out and merge) run with the variables each engine sets, in a
//!   scratch fleet repository, and the merged report is the report of one run.
//!
//! (Installing edgefleet and uploading reports need the CI service; those steps are not run.)

use std::path::Path;
use std::process::Command;

use edgefleet_e2e::{describe, edgefleet_bin, run_edgefleet, scratch_fleet_repo, workspace_root};
use serde_json::{Value, json};

fn example(path: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join("examples/ci").join(path)).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Runs a script with `sh -e` in `dir` with edgefleet on the PATH and `env`; its exit code.
fn sh(dir: &Path, script: &str, env: &[(&str, String)]) -> (i32, String) {
    let bin_dir = edgefleet_bin().parent().unwrap().to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.args(["-e", "-c", script])
        .current_dir(dir)
        .env("PATH", &path)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_OUTPUT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (out.status.code().unwrap_or(-1), describe(&out))
}

/// A scratch fleet repository with its tree generated, and the report of one `lint --fleet`
/// run in `format`.
fn fleet(name: &str) -> std::path::PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    scratch_fleet_repo(&dir);
    let (code, out) = sh(&dir, "edgefleet generate -q", &[]);
    assert_eq!(code, 0, "{out}");
    dir
}

fn single_run(dir: &Path, format: &str) -> String {
    let o = Command::new(edgefleet_bin())
        .args(["lint", "--fleet", "out", "--format", format, "-q"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", describe(&o));
    String::from_utf8(o.stdout).unwrap()
}

fn assert_same_report(dir: &Path, merged: &str, format: &str) {
    let merged = std::fs::read_to_string(dir.join(merged)).unwrap();
    assert!(!merged.is_empty());
    assert_eq!(
        merged,
        single_run(dir, format),
        "merged report differs from one run"
    );
}

#[test]
fn the_indexed_job_and_the_argo_workflow_lint_clean_and_validate_strictly() {
    let files = [
        "kubernetes/lint-indexed-job.yaml",
        "kubernetes/lint-merge-job.yaml",
        "argo/lint-workflow.yaml",
    ];
    for file in files {
        let path = workspace_root().join("examples/ci").join(file);
        let o = run_edgefleet(&["lint", "--format", "json", path.to_str().unwrap()]);
        let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(o.status.code(), Some(0), "{file}: {doc:#}");
        assert_eq!(doc["findings"], json!([]), "{file}");
        assert_eq!(doc["summary"]["objects"], 1, "{file}");
        let object = example(file);
        if object["kind"] == "Job" {
            assert_eq!(
                edgefleet_lints::schema::validate(&object).map_err(|v| format!("{v:?}")),
                Ok(()),
                "{file}"
            );
        }
    }
    let job = example("kubernetes/lint-indexed-job.yaml");
    assert_eq!(job["spec"]["completionMode"], "Indexed");
    assert_eq!(job["spec"]["completions"], 4);
    let script = job["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .unwrap();
    assert!(script.contains("JOB_COMPLETION_INDEX"), "{script}");

    // The Workflow: every template's container in a Pod with the workflow's pod settings,
    // validated strictly (unknown fields are errors) against the Kubernetes schema.
    let workflow = example("argo/lint-workflow.yaml");
    assert_eq!(workflow["kind"], "Workflow");
    let spec = &workflow["spec"];
    let mut containers = 0;
    for template in spec["templates"].as_array().unwrap() {
        let Some(container) = template.get("container") else {
            continue;
        };
        let mut container = container.clone();
        container["name"] = template["name"].clone();
        let pod = json!({
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": template["name"], "namespace": "edgefleet"},
            "spec": {
                "securityContext": spec["securityContext"],
                "automountServiceAccountToken": spec["automountServiceAccountToken"],
                "volumes": spec["volumes"],
                "containers": [container],
            },
        });
        assert_eq!(
            edgefleet_lints::schema::validate(&pod).map_err(|v| format!("{v:?}")),
            Ok(()),
            "{}",
            template["name"]
        );
        containers += 1;
    }
    assert_eq!(containers, 2);
    let dag = &spec["templates"][0]["dag"]["tasks"];
    assert_eq!(
        dag[0]["withSequence"]["end"],
        "{{workflow.parameters.shards}}"
    );
    assert_eq!(dag[1]["dependencies"], json!(["lint"]));
}

#[test]
fn the_github_matrix_runs_and_merges() {
    let workflow = example("github/edgefleet-lint-sharded.yml");
    let jobs = &workflow["jobs"];
    assert_eq!(
        jobs["lint"]["strategy"]["matrix"]["shard"],
        json!([1, 2, 3, 4])
    );
    assert_eq!(jobs["merge"]["needs"], "lint");
    let scripts = |job: &str| -> Vec<String> {
        jobs[job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["run"].as_str())
            .filter(|r| r.contains("edgefleet ") && !r.contains("cargo install"))
            .map(str::to_owned)
            .collect()
    };
    let dir = fleet("ci-sharded-github");
    for k in 1..=4 {
        for script in scripts("lint") {
            let env = [("SHARD", format!("{k}/4")), ("K", k.to_string())];
            let (code, out) = sh(&dir, &script, &env);
            assert_eq!(code, 0, "{script}\n{out}");
        }
    }
    let merge = scripts("merge");
    assert_eq!(merge.len(), 1, "{merge:?}");
    let (code, out) = sh(&dir, &merge[0], &[]);
    assert_eq!(code, 0, "{}\n{out}", merge[0]);
    assert_same_report(&dir, "lint.sarif", "sarif");
}

#[test]
fn the_gitlab_parallel_job_runs_and_merges() {
    let pipeline = example("gitlab/edgefleet-lint-sharded.gitlab-ci.yml");
    let lint = &pipeline["edgefleet-lint"];
    assert_eq!(lint["parallel"], 4);
    let dir = fleet("ci-sharded-gitlab");
    for k in 1..=4 {
        for script in lint["script"].as_array().unwrap() {
            let script = script.as_str().unwrap();
            let env = [
                ("CI_NODE_INDEX", k.to_string()),
                ("CI_NODE_TOTAL", "4".to_owned()),
            ];
            let (code, out) = sh(&dir, script, &env);
            assert_eq!(code, 0, "{script}\n{out}");
        }
    }
    let merge = pipeline["edgefleet-merge"]["script"][0].as_str().unwrap();
    let (code, out) = sh(&dir, merge, &[]);
    // Exit 1 on findings fails the job, as `lint` would; the report is written either way.
    assert!(code == 0 || code == 1, "{merge}\n{out}");
    assert_same_report(&dir, "lint.xml", "junit");
}

#[test]
fn the_indexed_job_and_the_argo_workflow_run_and_merge() {
    // The pods' scripts, run as the Job controller and Argo run them: the Job's pods with
    // JOB_COMPLETION_INDEX 0..3 and the container's env; Argo's with the parameters
    // substituted.
    let dir = fleet("ci-sharded-kubernetes");
    let job = example("kubernetes/lint-indexed-job.yaml");
    let container = &job["spec"]["template"]["spec"]["containers"][0];
    let env: Vec<(String, String)> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_owned(),
                e["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let script = container["command"][2].as_str().unwrap();
    for index in 0..4 {
        let mut vars: Vec<(&str, String)> =
            env.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        vars.push(("JOB_COMPLETION_INDEX", index.to_string()));
        let (code, out) = sh(&dir, script, &vars);
        assert_eq!(code, 0, "{script}\n{out}");
    }
    let merge = example("kubernetes/lint-merge-job.yaml");
    let script = merge["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .unwrap();
    let (code, out) = sh(&dir, script, &[]);
    assert!(code == 0 || code == 1, "{script}\n{out}");
    assert_same_report(&dir, "reports/lint.json", "json");

    let workflow = example("argo/lint-workflow.yaml");
    let templates = workflow["spec"]["templates"].as_array().unwrap();
    let find = |name: &str| templates.iter().find(|t| t["name"] == name).unwrap();
    let shards = workflow["spec"]["arguments"]["parameters"][0]["value"]
        .as_str()
        .unwrap();
    let lint = &find("lint-shard")["container"];
    for k in 1..=shards.parse::<u32>().unwrap() {
        let vars: Vec<(&str, String)> = lint["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let value = e["value"]
                    .as_str()
                    .unwrap()
                    .replace("{{inputs.parameters.shard}}", &k.to_string())
                    .replace("{{workflow.parameters.shards}}", shards);
                (e["name"].as_str().unwrap(), value)
            })
            .collect();
        let script = lint["command"][2].as_str().unwrap();
        let (code, out) = sh(&dir, script, &vars);
        assert_eq!(code, 0, "{script}\n{out}");
    }
    let script = find("merge")["container"]["command"][2].as_str().unwrap();
    let (code, out) = sh(&dir, script, &[]);
    assert!(code == 0 || code == 1, "{script}\n{out}");
    assert_same_report(&dir, "reports/lint.sarif", "sarif");
}
