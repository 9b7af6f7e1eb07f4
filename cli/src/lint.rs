//! `edgefleet lint` and `edgefleet explain`: wiring only; the engine is `edgefleet-lints`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use edgefleet_lints::report::{self, Format, HumanOptions};
use edgefleet_lints::rules::{self, RULES};
use edgefleet_lints::{Linter, Severity, Source};
use rayon::prelude::*;

use crate::config::Config;
use crate::exit;
use edgefleet_fleet::git;

#[derive(Clone, Copy, ValueEnum)]
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
}

#[derive(Args)]
pub struct ExplainArgs {
    /// A rule id, e.g. `images/pull-always`.
    #[arg(required_unless_present = "list")]
    rule: Option<String>,
    /// List every rule with its default level and summary.
    #[arg(long, conflicts_with = "rule")]
    list: bool,
}

pub fn run(config: &Config, args: LintArgs) -> u8 {
    let linter = match Linter::new(&config.lint, &config.base) {
        Ok(l) => l,
        Err(e) => {
            let file = config
                .file
                .as_deref()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| "edgefleet.toml".to_owned());
            eprintln!("error: {file}: {e}");
            return exit::INPUT;
        }
    };
    let linter = match config.trust_store() {
        Ok(Some(store)) => linter.with_signatures(store),
        Ok(None) => linter,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    if let Some(out) = &args.fleet {
        return crate::fleet::run(
            config,
            &linter,
            out,
            args.inventory,
            args.format,
            args.fail_level,
        );
    }
    if args.inventory.is_some() {
        // clap does not enforce `requires` when PATHs are given.
        eprintln!("error: --inventory is only used with --fleet");
        return exit::INPUT;
    }
    let (stdin, paths): (Vec<_>, Vec<_>) =
        args.paths.into_iter().partition(|p| p.as_os_str() == "-");
    let paths = match &args.changed_since {
        None => paths,
        Some(rev) => match changed_paths(rev, &paths, !stdin.is_empty()) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::INPUT;
            }
        },
    };
    let files = match linter.collect_files(&paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
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
    let format = match args.format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
        FormatArg::Junit => Format::Junit,
    };
    if print_report(&run, format).is_err() {
        return exit::INPUT;
    }
    let fail_level = match args.fail_level {
        Some(FailLevel::Note) => Severity::Note,
        Some(FailLevel::Warning) => Severity::Warning,
        Some(FailLevel::Error) => Severity::Error,
        None => config.lint.fail_level(),
    };
    run.exit_code(fail_level)
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

pub fn explain(args: ExplainArgs) -> u8 {
    let mut text = String::new();
    if args.list {
        for rule in RULES {
            text.push_str(&format!(
                "{:<40} {:<8} {}\n",
                rule.id,
                rule.default_level.as_str(),
                rule.summary
            ));
        }
    } else {
        let id = args.rule.unwrap_or_default();
        let Some(rule) = rules::find(&id) else {
            eprintln!("error: unknown rule `{id}`; `edgefleet explain --list` lists them");
            return exit::INPUT;
        };
        text = format!(
            "# {}\n\nDefault level: {}. {}\n\n{}",
            rule.id,
            rule.default_level.as_str(),
            rule.summary,
            rule.explain()
        );
    }
    // A closed pipe (`| head`) is not an error worth a panic.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
    exit::OK
}

/// Writes a run's report to stdout (colour only on a terminal without `NO_COLOR`).
pub(crate) fn print_report(run: &edgefleet_lints::LintRun, format: Format) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let human = HumanOptions {
        color: stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        ..HumanOptions::default()
    };
    let text = report::render(run, format, &human);
    let mut out = stdout.lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
