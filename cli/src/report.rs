//! `edgefleet report --out FILE.html`: one self-contained page about the fleet.

use std::path::{Path, PathBuf};

use edgefleet_fleet::page::{self, LintRow, LintSection, Page};

use crate::config::Config;
use crate::exit;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The HTML file to write (replaced only once the page is complete).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Inventory folder (or one file); default from edgefleet.toml.
    #[arg(long, value_name = "DIR")]
    inventory: Option<PathBuf>,
    /// Add the change impact of the working tree against this revision (as `edgefleet diff
    /// --base REV`).
    #[arg(long, value_name = "REV")]
    diff_base: Option<String>,
    /// Add what `lint --fleet` finds in the generated tree (the config's output folder).
    #[arg(long)]
    lint: bool,
    /// Add drift status from a drift report in JSON (see docs/report.md).
    #[arg(long, value_name = "FILE")]
    drift_json: Option<PathBuf>,
}

pub fn run(config: &Config, explicit_config: Option<&Path>, args: ReportArgs) -> u8 {
    let dir = args.inventory.clone().unwrap_or_else(|| config.inventory());
    let fleet = match edgefleet_inventory::load_inventory(&dir) {
        Ok(f) => f,
        Err(d) => {
            crate::generate::print_diagnostics(&d);
            return exit::INPUT;
        }
    };
    let drift = match &args.drift_json {
        None => None,
        Some(f) => match page::read_drift(f) {
            Ok(rows) => Some(rows),
            Err(e) => {
                crate::output::error(e);
                return exit::INPUT;
            }
        },
    };
    let diff = match &args.diff_base {
        None => None,
        Some(rev) => {
            match crate::diff::compare_revisions(explicit_config, rev, None, false, None) {
                Ok((d, _)) => Some(d),
                Err(code) => return code,
            }
        }
    };
    let lint = if args.lint {
        match lint_section(config, &fleet) {
            Ok(l) => Some(l),
            Err(code) => return code,
        }
    } else {
        None
    };
    let html = page::render(&Page {
        fleet: &fleet,
        source: dir.display().to_string(),
        diff: diff.as_ref(),
        lint: lint.as_ref(),
        drift: drift.as_deref(),
    });
    if let Err(e) = write_atomically(&args.out, html.as_bytes()) {
        crate::output::error(format!("{}: {e}", args.out.display()));
        return exit::INPUT;
    }
    if !crate::output::quiet() {
        println!(
            "{}: fleet report of {} sites{}{}{}",
            args.out.display(),
            fleet.sites.len(),
            diff.as_ref().map_or(String::new(), |d| format!(
                ", {} changed since {}",
                d.sites.len(),
                d.base
            )),
            lint.as_ref().map_or(String::new(), |l| format!(
                ", {} lint findings",
                l.rows.len()
            )),
            drift
                .as_ref()
                .map_or(String::new(), |d| format!(", drift of {} sites", d.len())),
        );
    }
    exit::OK
}

fn lint_section(config: &Config, fleet: &edgefleet_inventory::Fleet) -> Result<LintSection, u8> {
    let linter = crate::lint::linter(config)?;
    let out = config.out();
    let prefix = config.plan_options().argocd.path_prefix;
    let run = crate::fleet::lint(
        &linter,
        &out,
        fleet,
        &prefix,
        edgefleet_fleet::shard::Shard::WHOLE,
    )
    .map_err(|e| {
        crate::output::error(format!(
            "{e} (--lint reads the generated tree: run `edgefleet generate` first)"
        ));
        exit::INPUT
    })?;
    Ok(LintSection {
        rows: run
            .findings
            .iter()
            .map(|f| LintRow {
                rule: f.rule.to_owned(),
                severity: f.severity.to_string(),
                location: f.location.to_string(),
                message: f.message.clone(),
                sites: f.sites.iter().map(|s| s.to_string()).collect(),
            })
            .collect(),
        objects: run.objects,
        files: run.files,
        problems: run.problems.iter().map(|p| p.to_string()).collect(),
    })
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a failure
/// leaves the previous file as it was.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "report.html".to_owned());
    let tmp = dir.join(format!(".{name}.edgefleet-tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
