//! The real `pre-commit` (PyPI, pinned by `scripts/test.sh`) runs edgefleet's hook on a scratch
//! git repository: a bad manifest fails the commit with the finding at file:line, a good one
//! passes. Two ways in:
//!
//! - `repo: local` pointing at the freshly built binary (what a user with edgefleet installed
//!   elsewhere writes);
//! - the shipped `.pre-commit-hooks.yaml`, copied verbatim into a throwaway hook repository and
//!   used as a remote `repo:` with `edgefleet` on PATH (what `repo: <edgefleet's url>` gives a
//!   user), so the hook definition itself (id, entry, files pattern, language) is exercised.
//!
//! Offline: the hook repository is a local path, `PRE_COMMIT_HOME` is a temporary folder, and
//! `language: system` installs nothing.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use edgefleet_e2e::{edgefleet_bin, require_pre_commit, workspace_root};

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

const GOOD: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: telemetry-agent
  namespace: edge
spec:
  replicas: 1
  selector:
    matchLabels:
      app: telemetry-agent
  template:
    metadata:
      labels:
        app: telemetry-agent
    spec:
      securityContext:
        runAsNonRoot: true
      containers:
        - name: agent
          image: registry.example.com/edge/telemetry-agent:1.4.2@sha256:4d2f6c1f0e8b7a9d3c5e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c
          imagePullPolicy: IfNotPresent
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet: {path: /ready, port: http}
          livenessProbe:
            httpGet: {path: /healthz, port: http}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {cpu: 500m, memory: 256Mi}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
";

/// A scratch world: a HOME, a PRE_COMMIT_HOME and the repositories, all under one tempdir.
struct Scratch {
    _dir: tempfile::TempDir,
    root: PathBuf,
    pre_commit: PathBuf,
}

impl Scratch {
    fn new(pre_commit: PathBuf) -> Scratch {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        fs::create_dir_all(root.join("home")).unwrap();
        fs::create_dir_all(root.join("pre-commit-home")).unwrap();
        Scratch {
            _dir: dir,
            root,
            pre_commit,
        }
    }

    /// A command isolated from the user's git and pre-commit configuration, with the folder of
    /// the built `edgefleet` first on PATH.
    fn command(&self, program: &Path, cwd: &Path) -> Command {
        let bin_dir = edgefleet_bin().parent().unwrap().to_path_buf();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![bin_dir];
        dirs.extend(std::env::split_paths(&path));
        let mut c = Command::new(program);
        c.current_dir(cwd)
            .env("PATH", std::env::join_paths(dirs).unwrap())
            .env("HOME", self.root.join("home"))
            .env("PRE_COMMIT_HOME", self.root.join("pre-commit-home"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.root.join("home/.gitconfig"))
            .env("GIT_AUTHOR_NAME", "edgefleet tests")
            .env("GIT_AUTHOR_EMAIL", "tests@example.invalid")
            .env("GIT_COMMITTER_NAME", "edgefleet tests")
            .env("GIT_COMMITTER_EMAIL", "tests@example.invalid")
            .env("NO_COLOR", "1")
            .env_remove("GIT_DIR")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_WORK_TREE")
            .env_remove("PRE_COMMIT_COLOR")
            .stdin(std::process::Stdio::null());
        c
    }

    fn git(&self, cwd: &Path, args: &[&str]) -> Output {
        self.command(Path::new("git"), cwd)
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .output()
            .expect("git runs")
    }

    fn git_ok(&self, cwd: &Path, args: &[&str]) -> String {
        let out = self.git(cwd, args);
        assert!(out.status.success(), "git {args:?} failed:\n{}", text(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    fn pre_commit(&self, cwd: &Path, args: &[&str]) -> Output {
        self.command(&self.pre_commit, cwd)
            .args(args)
            .output()
            .expect("pre-commit runs")
    }

    /// A fresh repository with `config` as its `.pre-commit-config.yaml` (committed) and the
    /// pre-commit git hook installed. Its own empty `edgefleet.toml` keeps the project's out.
    fn consumer(&self, name: &str, config: &str) -> PathBuf {
        let repo = self.root.join(name);
        fs::create_dir_all(&repo).unwrap();
        self.git_ok(&repo, &["init", "--quiet"]);
        fs::write(repo.join(".pre-commit-config.yaml"), config).unwrap();
        fs::write(repo.join("edgefleet.toml"), "").unwrap();
        self.git_ok(&repo, &["add", "."]);
        self.git_ok(&repo, &["commit", "--quiet", "--no-verify", "-m", "config"]);
        let out = self.pre_commit(&repo, &["install"]);
        assert!(
            out.status.success(),
            "pre-commit install failed:\n{}",
            text(&out)
        );
        repo
    }

    /// Stages `file` with `content` and tries to commit it: the commit's output.
    fn commit(&self, repo: &Path, file: &str, content: &str) -> Output {
        fs::write(repo.join(file), content).unwrap();
        self.git_ok(repo, &["add", file]);
        self.git(repo, &["commit", "-m", &format!("add {file}")])
    }
}

fn text(o: &Output) -> String {
    format!(
        "status: {}\n--- stdout\n{}\n--- stderr\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The bad manifest is refused with its finding at bad.yaml:line:col; after it is removed from
/// the index, the good manifest is committed.
fn bad_fails_good_passes(s: &Scratch, repo: &Path) {
    let bad = s.commit(repo, "bad.yaml", BAD);
    let out = text(&bad);
    assert!(
        !bad.status.success(),
        "the bad manifest was committed:\n{out}"
    );
    assert!(out.contains("edgefleet lint"), "hook name missing:\n{out}");
    assert!(
        out.contains("Failed"),
        "pre-commit did not report a failure:\n{out}"
    );
    // The privileged flag is on line 10, column 9.
    assert!(out.contains("security/privileged"), "{out}");
    assert!(
        out.contains("bad.yaml:10:9"),
        "no file:line:col in the output:\n{out}"
    );
    assert!(
        s.git(repo, &["rev-parse", "--verify", "--quiet", "HEAD~1"])
            .stdout
            .is_empty(),
        "a commit was made"
    );
    s.git_ok(repo, &["rm", "--cached", "--quiet", "bad.yaml"]);
    fs::remove_file(repo.join("bad.yaml")).unwrap();

    let good = s.commit(repo, "good.yaml", GOOD);
    let out = text(&good);
    assert!(
        good.status.success(),
        "the good manifest was refused:\n{out}"
    );
    assert!(out.contains("edgefleet lint"), "{out}");
    assert!(out.contains("Passed"), "{out}");
    // A file the pattern does not select is not linted at all.
    let readme = s.commit(repo, "README.md", "not yaml: [\n");
    let out = text(&readme);
    assert!(readme.status.success(), "{out}");
    assert!(out.contains("(no files to check)Skipped"), "{out}");
}

/// The shipped hook leaves YAML that is never a Kubernetes object alone: a change to the
/// pre-commit config or a CI workflow is committed.
fn non_kubernetes_yaml_is_skipped(s: &Scratch, repo: &Path) {
    fs::create_dir_all(repo.join(".github/workflows")).unwrap();
    let workflow = s.commit(
        repo,
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  lint:\n    runs-on: ubuntu-latest\n",
    );
    let out = text(&workflow);
    assert!(workflow.status.success(), "{out}");
    assert!(out.contains("(no files to check)Skipped"), "{out}");
    let config = fs::read_to_string(repo.join(".pre-commit-config.yaml")).unwrap();
    let changed = s.commit(
        repo,
        ".pre-commit-config.yaml",
        &format!("# reviewed\n{config}"),
    );
    let out = text(&changed);
    assert!(changed.status.success(), "{out}");
}

#[test]
fn local_hook_with_the_built_binary() {
    let Some(pre_commit) = require_pre_commit() else {
        return;
    };
    let s = Scratch::new(pre_commit);
    let bin = edgefleet_bin();
    let config = format!(
        "repos:\n  - repo: local\n    hooks:\n      - id: edgefleet-lint\n        name: edgefleet lint\n        entry: '{} lint'\n        language: system\n        files: '\\.(ya?ml)$'\n        require_serial: true\n",
        bin.display()
    );
    let repo = s.consumer("local", &config);
    bad_fails_good_passes(&s, &repo);
}

#[test]
fn shipped_hooks_file() {
    let Some(pre_commit) = require_pre_commit() else {
        return;
    };
    let s = Scratch::new(pre_commit);
    let shipped = workspace_root().join(".pre-commit-hooks.yaml");
    let hooks = fs::read_to_string(&shipped).expect("the repository ships .pre-commit-hooks.yaml");

    // pre-commit's own schema check of the manifest.
    let out = s.pre_commit(
        &workspace_root(),
        &["validate-manifest", shipped.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out));

    // A throwaway hook repository holding exactly the shipped file.
    let hook_repo = s.root.join("hook-repo");
    fs::create_dir_all(&hook_repo).unwrap();
    s.git_ok(&hook_repo, &["init", "--quiet"]);
    fs::write(hook_repo.join(".pre-commit-hooks.yaml"), hooks).unwrap();
    s.git_ok(&hook_repo, &["add", "."]);
    s.git_ok(&hook_repo, &["commit", "--quiet", "-m", "hooks"]);
    let rev = s.git_ok(&hook_repo, &["rev-parse", "HEAD"]);

    let config = format!(
        "repos:\n  - repo: '{}'\n    rev: {rev}\n    hooks:\n      - id: edgefleet-lint\n",
        hook_repo.display()
    );
    let repo = s.consumer("consumer", &config);
    bad_fails_good_passes(&s, &repo);
    non_kubernetes_yaml_is_skipped(&s, &repo);

    // `pre-commit try-repo` on the same hook repository, one file, as the docs show.
    fs::write(repo.join("again.yaml"), BAD).unwrap();
    let out = s.pre_commit(
        &repo,
        &[
            "try-repo",
            hook_repo.to_str().unwrap(),
            "edgefleet-lint",
            "--files",
            "again.yaml",
        ],
    );
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("again.yaml:10:9"), "{t}");
}
