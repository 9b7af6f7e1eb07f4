//! `edgefleet lint` and `edgefleet explain`: wiring only; the engine is `edgefleet-lints`.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use edgefleet_lints::report::{self, Format, HumanOptions};
use edgefleet_lints::rules::{self, RULES};
use edgefleet_lints::{DuplicateScope, Linter, Severity, Source};
use rayon::prelude::*;

use crate::config::Config;
use crate::exit;
use crate::output;
use edgefleet_fleet::git;
use edgefleet_fleet::shard::Shard;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
    Sarif,
    Github,
    Junit,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum FailLevel {
    Note,
    Warning,
    Error,
}

#[derive(Args)]
pub struct LintArgs {
    /// Files and folders of YAML manifests (folders are searched for *.yaml and *.yml);
    /// `-` reads standard input.
    #[arg(required_unless_present_any = ["changed_since", "fleet"], value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Lint a generated tree: every site's overlays rendered in process, each object linted
    /// with its site's hardware, backhaul and region (from the inventory).
    #[arg(long, value_name = "OUT_DIR", conflicts_with_all = ["paths", "changed_since"])]
    fleet: Option<PathBuf>,
    /// Inventory folder for `--fleet` (default: `[paths] inventory` in edgefleet.toml).
    #[arg(long, value_name = "DIR", requires = "fleet")]
    inventory: Option<PathBuf>,
    /// Lint only the YAML files added or modified (index, working tree or untracked) since this
    /// git revision, within PATHs if given (default: the whole repository).
    #[arg(long, value_name = "REV")]
    changed_since: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: FormatArg,
    /// Exit 1 when a finding is at or above this severity (default: `[lint] fail_level`, else warning).
    #[arg(long, value_enum)]
    fail_level: Option<FailLevel>,
    /// Which objects `schema/duplicate-object` compares: one file or stream (the default), the
    /// files of one folder, or the whole run (default: `[lint] duplicate_scope`). With
    /// `--fleet` it is always one site.
    #[arg(long, value_enum, value_name = "SCOPE", conflicts_with = "fleet")]
    duplicate_scope: Option<DuplicateScopeArg>,
    /// With `--fleet`: lint only shard K of N (sites by a hash of their id, docs/scale.md);
    /// the report carries a shard manifest for `edgefleet merge`.
    #[arg(long, value_name = "K/N", requires = "fleet")]
    shard: Option<Shard>,
}

#[derive(Args)]
pub struct ExplainArgs {
    /// A rule id, e.g. `images/pull-always`.
    #[arg(required_unless_present = "list", value_parser = rule_ids(), hide_possible_values = true)]
    rule: Option<String>,
    /// List every rule with its level in effect (the found edgefleet.toml's, else the default)
    /// and its summary.
    #[arg(long, conflicts_with = "rule")]
    list: bool,
}

/// Rule ids: completion scripts offer the built-in ones after `explain`. Any text is accepted
/// here: policy rule ids (`policy/...`) depend on the config found, and `explain` answers an
/// unknown id with the closest one ("did you mean").
#[derive(Clone)]
struct RuleIds(clap::builder::PossibleValuesParser);

fn rule_ids() -> RuleIds {
    RuleIds(clap::builder::PossibleValuesParser::new(RULES.iter().map(
        |r| clap::builder::PossibleValue::new(r.id).help(r.summary),
    )))
}

impl clap::builder::TypedValueParser for RuleIds {
    type Value = String;

    fn parse_ref(
        &self,
        _: &clap::Command,
        _: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        Ok(value.to_string_lossy().into_owned())
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        self.0.possible_values()
    }
}

/// `--duplicate-scope`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum DuplicateScopeArg {
    File,
    Folder,
    Run,
}

impl From<DuplicateScopeArg> for DuplicateScope {
    fn from(arg: DuplicateScopeArg) -> Self {
        match arg {
            DuplicateScopeArg::File => DuplicateScope::File,
            DuplicateScopeArg::Folder => DuplicateScope::Folder,
            DuplicateScopeArg::Run => DuplicateScope::Run,
        }
    }
}

pub fn run(config: &Config, args: LintArgs) -> u8 {
    let linter = match linter(config) {
        Ok(l) => match args.duplicate_scope {
            Some(scope) => l.with_duplicate_scope(scope.into()),
            None => l,
        },
        Err(code) => return code,
    };
    if let Some(out) = &args.fleet {
        return crate::fleet::run(
            config,
            &linter,
            out,
            args.inventory,
            args.format,
            args.fail_level,
            args.shard,
        );
    }
    if args.inventory.is_some() {
        // clap does not enforce `requires` when PATHs are given.
        output::error("--inventory is only used with --fleet");
        return exit::INPUT;
    }
    let (stdin, paths): (Vec<_>, Vec<_>) =
        args.paths.into_iter().partition(|p| p.as_os_str() == "-");
    let paths = match &args.changed_since {
        None => paths,
        Some(rev) => match changed_paths(rev, &paths, !stdin.is_empty()) {
            Ok(p) => p,
            Err(e) => {
                output::error(e);
                return exit::INPUT;
            }
        },
    };
    if let Some(code) = refuse_kustomize_input(&paths) {
        return code;
    }
    let files = match linter.collect_files(&paths) {
        Ok(f) => f,
        Err(e) => {
            output::error(e.to_string());
            return exit::INPUT;
        }
    };
    let mut sources: Vec<Source> = files.par_iter().map(|f| Source::from_file(f)).collect();
    if !stdin.is_empty() {
        sources.push(Source::from_reader(
            edgefleet_lints::engine::STDIN_NAME,
            std::io::stdin().lock(),
        ));
    }
    let run = linter.lint_sources(sources);
    if let Err(code) = print_report(&run, args.format) {
        return code;
    }
    run.exit_code(fail_level(config, args.fail_level))
}

/// The linter of the config (rule levels, excludes, trust store), or the exit code of a
/// configuration error (printed, at its line and column in `edgefleet.toml`).
pub(crate) fn linter(config: &Config) -> Result<Linter, u8> {
    let linter = Linter::new(&config.lint, &config.base).map_err(|e| config_error(config, &e))?;
    let linter = match config.trust_store() {
        Ok(Some(store)) => linter.with_signatures(store),
        Ok(None) => linter,
        Err(e) => {
            output::error(e);
            return Err(exit::INPUT);
        }
    };
    match config.policies() {
        Ok(Some(policies)) => linter
            .with_policies(policies, &config.lint)
            .map_err(|e| config_error(config, &e)),
        Ok(None) => Ok(linter),
        Err(e) => {
            output::error(e);
            Err(exit::INPUT)
        }
    }
}

/// A `[lint]` error of the config file, printed at the line of the offending key or value.
fn config_error(config: &Config, e: &edgefleet_lints::engine::ConfigError) -> u8 {
    let place = match e {
        edgefleet_lints::engine::ConfigError::UnknownRule(id) => config.locate_rule(id),
        edgefleet_lints::engine::ConfigError::BadGlob(glob, _) => config.locate(glob),
    };
    config.print_error(&e.to_string(), place)
}

pub(crate) fn fail_level(config: &Config, flag: Option<FailLevel>) -> Severity {
    match flag {
        Some(FailLevel::Note) => Severity::Note,
        Some(FailLevel::Warning) => Severity::Warning,
        Some(FailLevel::Error) => Severity::Error,
        None => config.lint.fail_level(),
    }
}

/// `lint PATH` on a Kustomize tree lints patches and components as if they were whole objects:
/// hundreds of false alarms. A generated tree (`sites/` with `site.json`) or a folder holding a
/// `kustomization.yaml` is refused with what to run instead.
fn refuse_kustomize_input(paths: &[PathBuf]) -> Option<u8> {
    for path in paths {
        if !path.is_dir() {
            continue;
        }
        let shown = path.display();
        if path.join("sites").is_dir() && path.join(".edgefleet/manifest").is_file()
            || path.join("site.json").is_file()
        {
            output::Message {
                severity: "error",
                message: &format!(
                    "{shown} is a tree written by `edgefleet generate`: its files are Kustomize bases, components and patches, not whole objects"
                ),
                help: Some(&format!(
                    "lint what the sites will run: `edgefleet lint --fleet {shown}` (every overlay rendered, with its site's context)"
                )),
                ..output::Message::default()
            }
            .print();
            return Some(exit::INPUT);
        }
        if ["kustomization.yaml", "kustomization.yml", "Kustomization"]
            .iter()
            .any(|k| path.join(k).is_file())
        {
            output::Message {
                severity: "error",
                message: &format!(
                    "{shown} is a Kustomize folder: linting its files would check the kustomization and patches, not the objects it builds"
                ),
                help: Some(&format!(
                    "lint what it builds: `edgefleet render {shown} | edgefleet lint -`, or `edgefleet lint --fleet OUT_DIR` for a generated tree"
                )),
                ..output::Message::default()
            }
            .print();
            return Some(exit::INPUT);
        }
    }
    None
}

/// `--changed-since REV`: the changed YAML files within `scopes` (the whole repository when
/// empty), as explicit files for `collect_files` (which still applies `exclude`).
fn changed_paths(rev: &str, scopes: &[PathBuf], stdin: bool) -> Result<Vec<PathBuf>, String> {
    if stdin {
        return Err("`-` (standard input) cannot be combined with --changed-since".to_owned());
    }
    let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
    for scope in scopes {
        if !scope.exists() {
            return Err(format!("{}: no such file or directory", scope.display()));
        }
    }
    let changed = git::changed_files(&cwd, rev).map_err(|e| format!("--changed-since {e}"))?;
    Ok(git::select(changed, scopes, &cwd))
}

/// `edgefleet explain`: built-in rules, and the rules of the configured policies (from their
/// METADATA or annotations).
pub fn explain(config: &Config, args: ExplainArgs) -> u8 {
    let id = args.rule.clone().unwrap_or_default();
    // A broken policy does not stop `explain` of a built-in rule.
    let policies = if args.list || edgefleet_lints::engine::is_policy_id(&id) {
        match config.policies() {
            Ok(p) => p,
            Err(e) => {
                output::error(e);
                return exit::INPUT;
            }
        }
    } else {
        None
    };
    let mut text = String::new();
    if args.list {
        let source = match &config.file {
            Some(_) => format!("levels in effect under {}", config.file_display()),
            None => format!("default levels (no {} found)", crate::config::CONFIG_FILE),
        };
        if !output::quiet() {
            text.push_str(&format!("# {source}\n"));
        }
        for rule in RULES {
            let level = config
                .lint
                .rules
                .get(rule.id)
                .copied()
                .unwrap_or(rule.default_level);
            let changed = if level == rule.default_level {
                String::new()
            } else {
                format!(" (default {})", rule.default_level.as_str())
            };
            text.push_str(&format!(
                "{:<40} {:<8} {}{changed}\n",
                rule.id,
                level.as_str(),
                rule.summary
            ));
        }
        for rule in policies.iter().flat_map(|p| p.rules()) {
            let level = config
                .lint
                .rules
                .get(rule.id)
                .copied()
                .unwrap_or(rule.default_level);
            let changed = if level == rule.default_level {
                String::new()
            } else {
                format!(" (default {})", rule.default_level.as_str())
            };
            text.push_str(&format!(
                "{:<40} {:<8} {}{changed}\n",
                rule.id,
                level.as_str(),
                rule.summary
            ));
        }
    } else if let Some(rule) = rules::find(&id) {
        text = format!(
            "# {}\n\nDefault level: {}. {}\n\n{}",
            rule.id,
            rule.default_level.as_str(),
            rule.summary,
            rule.explain()
        );
    } else if let Some(rule) = policies.as_ref().and_then(|p| p.find(&id)) {
        text = format!(
            "# {}\n\nDefault level: {}. {}\n\n{}",
            rule.id,
            rule.default_level.as_str(),
            rule.summary,
            rule.docs
        );
    } else {
        output::error(format!(
            "unknown rule `{id}`{}; `edgefleet explain --list` lists them",
            edgefleet_lints::engine::did_you_mean(&id)
        ));
        return exit::INPUT;
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    exit::OK
}

/// Writes a run's report to stdout (colour as `--color` decides). Problems that stopped part of
/// the run are in every format's report; with a machine format they are repeated on standard
/// error for the person reading the CI log. A report that cannot be written is exit 2.
impl FormatArg {
    pub fn as_str(self) -> &'static str {
        match self {
            FormatArg::Human => "human",
            FormatArg::Json => "json",
            FormatArg::Sarif => "sarif",
            FormatArg::Github => "github",
            FormatArg::Junit => "junit",
        }
    }
}

pub(crate) fn print_report(run: &edgefleet_lints::LintRun, format: FormatArg) -> Result<(), u8> {
    let format = match format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
        FormatArg::Junit => Format::Junit,
    };
    if format != Format::Human {
        for p in &run.problems {
            output::error(p.to_string());
        }
    }
    let human = HumanOptions {
        color: output::stdout_color(),
        summary: !output::quiet(),
        ..HumanOptions::default()
    };
    let mut out = std::io::stdout().lock();
    match report::write(run, format, &human, &mut out) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is the reader's choice, not a failure of the run.
        Err(report::ReportError::Write(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            output::error(e.to_string());
            Err(exit::INPUT)
        }
    }
}
