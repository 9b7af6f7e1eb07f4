//! `edgefleet drift` and `edgefleet drift snapshot`: wiring only; the logic is `edgefleet-drift`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use edgefleet_drift::cluster::{ClusterOptions, ClusterSource};
use edgefleet_drift::desired::{DesiredSite, desired_state};
use edgefleet_drift::report::exit as drift_exit;
use edgefleet_drift::{
    DriftReport, DriftRules, LiveSource, RunOptions, Selection, SnapshotSource, check_fleet,
    snapshot,
};
use edgefleet_fleet::shard::{Manifest, Shard, check_set};
use serde_json::{Value, json};

use crate::config::Config;
use crate::exit;
use crate::output;

#[derive(Clone, Copy, ValueEnum)]
pub enum DriftFormat {
    Human,
    Json,
    Sarif,
    Junit,
}

/// How the sites' clusters are reached (shared by `drift` and `drift snapshot`).
#[derive(Args)]
pub struct ClusterArgs {
    /// Kubeconfig file (default: `KUBECONFIG`, else `~/.kube/config`).
    #[arg(long, value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context of a site, `{site}` replaced by its id (default:
    /// `[drift] context_template` in edgefleet.toml, else `{site}`).
    #[arg(long, value_name = "T")]
    context_template: Option<String>,
    /// Seconds one site may take, every request included.
    #[arg(long, value_name = "SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DriftArgs {
    #[command(subcommand)]
    command: Option<DriftCommand>,
    /// The generated tree (default: `[paths] out` of edgefleet.toml).
    #[arg(long, value_name = "OUT_DIR")]
    fleet: Option<PathBuf>,
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Read live state from snapshot folders (`DIR/<site-id>/`, `kubectl get -o yaml` exports)
    /// instead of clusters.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["kubeconfig", "context_template"])]
    snapshots: Option<PathBuf>,
    /// Check only this site (repeatable).
    #[arg(long = "site", value_name = "ID")]
    sites: Vec<String>,
    /// Check only the sites of this region (repeatable).
    #[arg(long = "region", value_name = "R")]
    regions: Vec<String>,
    /// Check only the sites of this wave (repeatable).
    #[arg(long = "wave", value_name = "W")]
    waves: Vec<String>,
    /// Sites read at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    jobs: u64,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: DriftFormat,
    /// Check only the sites of shard K of N (by a hash of the site id, docs/scale.md); with
    /// `--format json|sarif|junit` the report carries a shard manifest for `edgefleet merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
}

#[derive(Subcommand)]
pub enum DriftCommand {
    /// Write a site's live state from its cluster as a snapshot folder (`OUT/<site-id>/`) that
    /// `edgefleet drift --snapshots OUT` reads: for carrying a partitioned site's state back.
    Snapshot(SnapshotArgs),
}

#[derive(Args)]
pub struct SnapshotArgs {
    /// The site to read.
    #[arg(long, value_name = "ID")]
    site: String,
    /// The snapshot folder to write `<site-id>/` into.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// The generated tree (default: `[paths] out` of edgefleet.toml).
    #[arg(long, value_name = "OUT_DIR")]
    fleet: Option<PathBuf>,
    #[command(flatten)]
    cluster: ClusterArgs,
}

/// The team's rules of `[drift]`, or the exit code of a configuration error (printed at its
/// line in edgefleet.toml).
fn rules(config: &Config) -> Result<DriftRules, u8> {
    DriftRules::new(&config.drift)
        .map_err(|e| config.print_error(&e.to_string(), config.locate(&e.value)))
}

fn cluster_source(config: &Config, args: &ClusterArgs) -> Result<ClusterSource, u8> {
    let context_template = args
        .context_template
        .clone()
        .or_else(|| config.drift.context_template.clone())
        .unwrap_or_else(|| "{site}".to_owned());
    ClusterSource::new(ClusterOptions {
        kubeconfig: args.kubeconfig.clone(),
        context_template,
        timeout: Duration::from_secs(args.timeout),
    })
    .map_err(|e| {
        output::error(e.to_string());
        exit::INPUT
    })
}

fn desired(out: &Path, selection: &Selection) -> Result<Vec<DesiredSite>, u8> {
    desired_state(out, selection).map_err(|e| {
        for problem in &e.0 {
            output::error(problem);
        }
        exit::INPUT
    })
}

pub fn run(config: &Config, args: DriftArgs) -> u8 {
    if let Some(DriftCommand::Snapshot(s)) = args.command {
        return snapshot(config, s);
    }
    let rules = match rules(config) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let out = args.fleet.clone().unwrap_or_else(|| config.out());
    let selection = Selection {
        sites: args.sites.clone(),
        regions: args.regions.clone(),
        waves: args.waves.clone(),
        shard: args.shard,
    };
    // The manifest hashes the generated tree: every shard compares against the same one.
    let manifest = match args.shard {
        Some(shard) if !matches!(args.format, DriftFormat::Human) => {
            match edgefleet_fleet::shard::inventory_hash(&out) {
                Ok(hash) => Some(Manifest::new(shard, command(&args), hash).to_value()),
                Err(e) => {
                    output::error(format!("{}: {e}", out.display()));
                    return exit::INPUT;
                }
            }
        }
        _ => None,
    };
    let sites = match desired(&out, &selection) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let source: Arc<dyn LiveSource> = match &args.snapshots {
        Some(dir) => {
            let ids: Vec<String> = sites.iter().map(|s| s.id.clone()).collect();
            match SnapshotSource::load(dir, &ids) {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    output::error(e.to_string());
                    return exit::INPUT;
                }
            }
        }
        None => match cluster_source(config, &args.cluster) {
            Ok(s) => Arc::new(s),
            Err(code) => return code,
        },
    };
    // A bar on a terminal from 16 sites: each site waits on its cluster (up to --timeout).
    let bar: std::sync::OnceLock<Option<indicatif::ProgressBar>> = std::sync::OnceLock::new();
    let progress = |done: usize, total: usize| {
        if let Some(b) = bar.get_or_init(|| crate::generate::site_bar_from("drift", total, 16)) {
            b.set_position(done as u64);
        }
    };
    let report = check_fleet(
        &sites,
        source,
        &rules,
        &RunOptions {
            jobs: usize::try_from(args.jobs).unwrap_or(1),
            timeout: Duration::from_secs(args.cluster.timeout),
            progress: Some(&progress),
        },
    );
    if let Some(Some(b)) = bar.get() {
        b.finish_and_clear();
    }
    if let Err(code) = print(&report, args.format, manifest.as_ref()) {
        return code;
    }
    report.exit_code()
}

impl DriftFormat {
    fn as_str(self) -> &'static str {
        match self {
            DriftFormat::Human => "human",
            DriftFormat::Json => "json",
            DriftFormat::Sarif => "sarif",
            DriftFormat::Junit => "junit",
        }
    }
}

/// The command of a shard manifest: the format and the selection, which shape the report (the
/// shards of one run share them).
fn command(args: &DriftArgs) -> String {
    let mut command = format!("drift --format {}", args.format.as_str());
    for (flag, values) in [
        ("--site", &args.sites),
        ("--region", &args.regions),
        ("--wave", &args.waves),
    ] {
        let mut values = values.clone();
        values.sort();
        values.dedup();
        for v in values {
            command.push_str(&format!(" {flag} {v}"));
        }
    }
    command
}

/// Prints a report; `manifest`: the shard manifest of a `--shard` run, written with the
/// shard's data (`edgefleet_drift::shard`) into the JSON, SARIF or JUnit report.
fn print(report: &DriftReport, format: DriftFormat, manifest: Option<&Value>) -> Result<(), u8> {
    let text = match format {
        DriftFormat::Human => report.human(!output::quiet()),
        DriftFormat::Json => {
            let mut doc = report.to_json();
            if let Some(m) = manifest {
                doc["shard"] = m.clone();
                doc["shard_run"] = edgefleet_drift::shard::shard_run(report);
            }
            pretty(&doc)
        }
        DriftFormat::Sarif => {
            let cwd = std::env::current_dir().ok();
            let artifact = |path: &Path| artifact_location(path, cwd.as_deref());
            let mut sarif = report.to_sarif(&artifact);
            if let Some(cwd) = cwd.as_deref()
                && let Some((uri, _)) = edgefleet_lints::report::artifact_uri(cwd, None)
            {
                sarif["runs"][0]["originalUriBaseIds"] =
                    json!({ "%SRCROOT%": { "uri": format!("{uri}/") } });
            }
            if let Some(m) = manifest {
                sarif["runs"][0]["properties"]["shard"] = m.clone();
                sarif["runs"][0]["properties"]["shard_run"] =
                    edgefleet_drift::shard::shard_run(report);
            }
            pretty(&sarif)
        }
        DriftFormat::Junit => {
            match manifest.map_or_else(|| report.to_junit(), |m| report.to_junit_shard(m)) {
                Ok(xml) => xml,
                Err(e) => {
                    output::error(format!("cannot serialise the JUnit report: {e}"));
                    return Err(exit::INPUT);
                }
            }
        }
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        // A closed pipe (`| head`) is the reader's choice.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => {
            output::error(format!("cannot write the report: {e}"));
            Err(exit::INPUT)
        }
    }
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// A SARIF `artifactLocation`, with the linter's URIs (relative to `%SRCROOT%`, the working
/// directory, when under it).
fn artifact_location(path: &Path, cwd: Option<&Path>) -> Value {
    match edgefleet_lints::report::artifact_uri(path, cwd) {
        Some((uri, true)) if cwd.is_some() => json!({ "uri": uri, "uriBaseId": "%SRCROOT%" }),
        Some((uri, _)) => json!({ "uri": uri }),
        None => json!({ "description": { "text": path.display().to_string() } }),
    }
}

/// `edgefleet merge` of `drift --shard K/N` reports (each named, with its format and
/// manifest): the report one run over every site writes, and its exit code.
pub fn merge(reports: Vec<(String, &'static str, Value, DriftReport)>) -> u8 {
    let mut manifests = Vec::new();
    for (name, _, manifest, _) in &reports {
        let Some(m) = Manifest::from_value(manifest) else {
            output::error(format!("{name}: damaged shard manifest"));
            return exit::INPUT;
        };
        manifests.push((name.clone(), m));
    }
    if let Err(e) = check_set(&manifests) {
        output::error(e);
        return exit::INPUT;
    }
    let format = match reports[0].1 {
        "sarif" => DriftFormat::Sarif,
        "junit" => DriftFormat::Junit,
        _ => DriftFormat::Json,
    };
    let parts = reports.into_iter().map(|(n, _, _, r)| (n, r)).collect();
    let merged = match edgefleet_drift::shard::merge(parts) {
        Ok(m) => m,
        Err(e) => {
            output::error(e);
            return exit::INPUT;
        }
    };
    if let Err(code) = print(&merged, format, None) {
        return code;
    }
    merged.exit_code()
}

/// `edgefleet drift snapshot --site ID --out DIR`: 0 written, 2 bad input, 3 the site could
/// not be read (nothing written).
fn snapshot(config: &Config, args: SnapshotArgs) -> u8 {
    let out = args.fleet.clone().unwrap_or_else(|| config.out());
    let selection = Selection {
        sites: vec![args.site.clone()],
        ..Selection::default()
    };
    let sites = match desired(&out, &selection) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let source = match cluster_source(config, &args.cluster) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let keys = sites.first().map(DesiredSite::keys).unwrap_or_default();
    let live = match source.read_site(&args.site, &keys) {
        Ok(l) => l,
        Err(e) => {
            output::error(format!("{}: {e}", args.site));
            return drift_exit::UNREACHABLE;
        }
    };
    match snapshot::write(&args.out, &args.site, &live) {
        Ok(folder) => {
            output::note(format!(
                "wrote {}",
                folder.join(snapshot::SNAPSHOT_FILE).display()
            ));
            exit::OK
        }
        Err(e) => {
            output::error(format!("{}: {e}", args.out.display()));
            exit::INPUT
        }
    }
}
