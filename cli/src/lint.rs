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
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
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
    let (stdin, paths): (Vec<_>, Vec<_>) =
        args.paths.into_iter().partition(|p| p.as_os_str() == "-");
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
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let human = HumanOptions {
        color,
        ..HumanOptions::default()
    };
    let text = report::render(&run, format, &human);
    let mut out = stdout.lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .is_err()
    {
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
