//! `edgefleet merge SHARD_REPORT...`: the reports of every shard of one sharded run
//! (`--shard K/N`) joined into the report a single run writes.

use std::path::PathBuf;

use edgefleet_fleet::shard::{Manifest, check_set};
use edgefleet_lints::report::{Format, shard};

use crate::config::Config;
use crate::exit;
use crate::lint::{FailLevel, FormatArg};

#[derive(clap::Args)]
pub struct MergeArgs {
    /// The report of every shard of one run: `lint --fleet --shard K/N` or `drift --shard K/N`
    /// in JSON, SARIF or JUnit, or `diff --shard K/N --format json`. Written to standard output
    /// in the same format.
    #[arg(required = true, value_name = "SHARD_REPORT")]
    reports: Vec<PathBuf>,
    /// Lint reports: exit 1 when a finding is at or above this severity (default: `[lint]
    /// fail_level`, else warning), as `lint` does.
    #[arg(long, value_enum)]
    fail_level: Option<FailLevel>,
    /// Diff reports: exit 1 when a site changed, as `diff --exit-code` does.
    #[arg(long)]
    exit_code: bool,
}

fn refuse(message: String) -> u8 {
    crate::output::error(message);
    exit::INPUT
}

pub fn run(config: &Config, args: MergeArgs) -> u8 {
    let mut lint = Vec::new();
    let mut diffs = Vec::new();
    let mut drifts = Vec::new();
    for path in &args.reports {
        let name = path.display().to_string();
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => return refuse(format!("{name}: {e}")),
        };
        match edgefleet_drift::shard::read(&text) {
            Ok(Some((format, manifest, report))) => {
                drifts.push((name, format, manifest, report));
                continue;
            }
            Ok(None) => {}
            Err(e) => return refuse(format!("{name}: {e}")),
        }
        match shard::read(&text) {
            Ok(Some(report)) => lint.push((name, report)),
            Ok(None) => match crate::diff::read_shard(&text) {
                Ok(Some(doc)) => diffs.push((name, doc)),
                Ok(None) => {
                    return refuse(format!(
                        "{name}: not a shard report of `lint --fleet` or `drift` (JSON, SARIF, JUnit) or `diff --format json`"
                    ));
                }
                Err(e) => return refuse(format!("{name}: {e}")),
            },
            Err(e) => return refuse(format!("{name}: {e}")),
        }
    }
    let kinds: Vec<(&str, &str)> = [
        ("lint", lint.first().map(|r| r.0.as_str())),
        ("diff", diffs.first().map(|r| r.0.as_str())),
        ("drift", drifts.first().map(|r| r.0.as_str())),
    ]
    .into_iter()
    .filter_map(|(kind, name)| name.map(|n| (kind, n)))
    .collect();
    if let [(a_kind, a), (b_kind, b), ..] = kinds.as_slice() {
        return refuse(format!(
            "{a} is a {a_kind} report and {b} a {b_kind} report: merge the shards of one run"
        ));
    }
    if !drifts.is_empty() {
        return crate::drift::merge(drifts);
    }
    if !diffs.is_empty() {
        return crate::diff::merge(diffs, args.exit_code);
    }
    let mut manifests = Vec::new();
    for (name, report) in &lint {
        let Some(m) = Manifest::from_value(&report.manifest) else {
            return refuse(format!("{name}: damaged shard manifest"));
        };
        if report.format != lint[0].1.format {
            return refuse(format!(
                "{name} and {} are reports in different formats",
                lint[0].0
            ));
        }
        manifests.push((name.clone(), m));
    }
    if let Err(e) = check_set(&manifests) {
        return refuse(e);
    }
    let format = match lint[0].1.format {
        Format::Sarif => FormatArg::Sarif,
        Format::Junit => FormatArg::Junit,
        _ => FormatArg::Json,
    };
    let merged = shard::merge(lint.into_iter().map(|(_, r)| r.run).collect());
    if let Err(code) = crate::lint::print_report(&merged, format) {
        return code;
    }
    merged.exit_code(crate::lint::fail_level(config, args.fail_level))
}
