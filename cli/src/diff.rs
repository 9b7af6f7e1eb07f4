//! `edgefleet diff --base REV [--head REV]`: what a change does to every site, from git objects.

use std::path::{Path, PathBuf};
use std::time::Instant;

use edgefleet_fleet::diff::{self, FleetDiff, Options, Side};
use edgefleet_fleet::git::Repo;
use edgefleet_fleet::revision::{InputError, Snapshot};
use edgefleet_fleet::shard::{Manifest, Shard, check_set};
use edgefleet_overlays::catalogue::Catalogue;
use edgefleet_overlays::plan::{self, OverlayKeys, PlanError, Reuse};
use edgefleet_overlays::tree::OutputTree;

use crate::config::{CONFIG_FILE, Config};
use crate::exit;

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The revision to compare against (`main`, `HEAD~1`, a tag, a commit id).
    #[arg(long, value_name = "REV")]
    base: String,
    /// The revision with the change; default: the working tree (committed or not).
    #[arg(long, value_name = "REV")]
    head: Option<String>,
    /// `human` (default), `json` (version 1, for tools) or `markdown` (a pull-request comment).
    #[arg(long, value_enum, default_value = "human", value_name = "FORMAT")]
    format: Format,
    /// Show each change as a unified diff of the objects (one site per group).
    #[arg(long)]
    objects: bool,
    /// Exit 1 when a site changed, 0 when none did (as `git diff --exit-code`).
    #[arg(long)]
    exit_code: bool,
    /// Worker threads (default: one per core). Output is identical whatever the number.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Compare only the sites of shard K of N (by a hash of the site id, docs/scale.md); with
    /// `--format json` the report carries a shard manifest for `edgefleet merge`.
    #[arg(long, value_name = "K/N")]
    shard: Option<Shard>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
    Markdown,
}

/// `config`: the `--config` file given on the command line, if any (read at each revision).
pub fn run(config: Option<&Path>, args: DiffArgs) -> u8 {
    let started = Instant::now();
    if let Some(n) = args.jobs {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let (result, inputs) = match compare_revisions(
        config,
        &args.base,
        args.head.as_deref(),
        args.objects,
        args.shard,
    ) {
        Ok(d) => d,
        Err(code) => return code,
    };
    print(&result, &args, inputs.as_deref());
    if !crate::output::quiet() && matches!(args.format, Format::Human) {
        crate::output::note(format!(
            "{} of {} overlays rendered (the rest cannot see the change) in {:.2}s",
            result.rendered,
            result.overlays,
            started.elapsed().as_secs_f64()
        ));
    }
    if args.exit_code && !result.is_empty() {
        exit::FINDINGS
    } else {
        exit::OK
    }
}

/// Plans and renders the fleets of `base` and `head` (the working tree when `None`) from git
/// objects and compares them; an input error has been printed when this returns its exit code.
/// `config`: the `--config` file, read at each revision.
pub fn compare_revisions(
    config: Option<&Path>,
    base: &str,
    head: Option<&str>,
    texts: bool,
    shard: Option<Shard>,
) -> Result<(FleetDiff, Option<String>), u8> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let repo = match Repo::discover(&cwd) {
        Ok(r) => r,
        Err(e) => return Err(input_error(format!("diff {e}"))),
    };
    // Where the user stands in the repository: config discovery walks up from there, in each
    // revision, as it does on disk.
    let Ok(workdir) = repo.workdir().map(Path::to_path_buf) else {
        return Err(input_error(
            "diff needs a repository with a working tree (this one is bare)".into(),
        ));
    };
    let start = relative_to(&workdir, &cwd).unwrap_or_default();
    let config_rel = match config {
        None => None,
        Some(f) => match relative_to(&workdir, &cwd.join(f)) {
            Some(rel) => Some(rel),
            None => {
                return Err(input_error(format!(
                    "{}: --config must name a file inside the repository ({}) for diff",
                    f.display(),
                    workdir.display()
                )));
            }
        },
    };
    let base = match Snapshot::git(&repo, base) {
        Ok(s) => s,
        Err(e) => return Err(input_error(format!("--base {e}"))),
    };
    let head = match head {
        Some(rev) => Snapshot::git(&repo, rev),
        None => Snapshot::working_tree(&repo),
    };
    let head = match head {
        Ok(s) => s,
        Err(e) => return Err(input_error(format!("--head {e}"))),
    };
    // The head plan takes each site overlay whose inputs did not change from the base plan.
    let (base_tree, base_keys) = planned(&base, &start, config_rel.as_deref(), Reuse::Record)?;
    let (head_tree, _) = planned(
        &head,
        &start,
        config_rel.as_deref(),
        Reuse::From {
            tree: &base_tree,
            keys: &base_keys,
        },
    )?;
    let inputs = shard.map(|_| edgefleet_fleet::shard::hash_trees(&[&base_tree, &head_tree]));
    // A bar on a terminal for large fleets, made at the first site (when the count is known).
    let bar: std::sync::OnceLock<Option<indicatif::ProgressBar>> = std::sync::OnceLock::new();
    let progress = |done: usize, total: usize| {
        if let Some(b) = bar.get_or_init(|| crate::generate::site_bar("comparing", total)) {
            b.set_position(done as u64);
        }
    };
    let compared = diff::compare(
        Side {
            label: base.label(),
            tree: std::sync::Arc::new(base_tree),
        },
        Side {
            label: head.label(),
            tree: std::sync::Arc::new(head_tree),
        },
        Options {
            texts,
            progress: Some(&progress),
            shard,
        },
    );
    if let Some(Some(b)) = bar.get() {
        b.finish_and_clear();
    }
    compared.map(|d| (d, inputs)).map_err(|e| {
        for line in &e.0 {
            crate::output::error(line.clone());
        }
        exit::INPUT
    })
}

/// `inputs`: the hash of the compared trees, for the shard manifest.
fn print(result: &FleetDiff, args: &DiffArgs, inputs: Option<&str>) {
    let text = match args.format {
        Format::Human => diff::report::human(result, args.objects),
        Format::Markdown => diff::report::markdown(result, args.objects),
        Format::Json => {
            let mut doc = diff::report::json(result, args.objects);
            if let (Some(shard), Some(inputs)) = (args.shard, inputs) {
                let command = if args.objects {
                    "diff --format json --objects"
                } else {
                    "diff --format json"
                };
                doc["shard"] = Manifest::new(shard, command, inputs).to_value();
                doc["shard_run"] = diff::shard::shard_run(result, args.objects);
            }
            let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
            s.push('\n');
            s
        }
    };
    if !(crate::output::quiet() && result.is_empty()) {
        print!("{text}");
    }
}

fn input_error(message: String) -> u8 {
    crate::output::error(message);
    exit::INPUT
}

/// `path` relative to `root` (both made absolute and canonical when they exist).
fn relative_to(root: &Path, path: &Path) -> Option<PathBuf> {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    path.strip_prefix(&root).ok().map(Path::to_path_buf)
}

/// The fleet of one revision, planned in memory: its own config (found from `start` upwards,
/// or the file `explicit`), inventory and catalogue, all read from that revision.
fn planned(
    snapshot: &Snapshot<'_>,
    start: &Path,
    explicit: Option<&Path>,
    reuse: Reuse<'_>,
) -> Result<(OutputTree, OverlayKeys), u8> {
    let found = match explicit {
        Some(f) => Some(f.to_path_buf()),
        None => snapshot.find_upwards(start, CONFIG_FILE),
    };
    let (config, dir) = match &found {
        Some(rel) => {
            let text = snapshot
                .read(rel)
                .map_err(|e| input_error(e.to_string()))
                .and_then(|bytes| {
                    String::from_utf8(bytes).map_err(|_| {
                        input_error(format!(
                            "{}: is not UTF-8 text",
                            snapshot.display(rel).display()
                        ))
                    })
                })?;
            let config = Config::parse(&snapshot.display(rel), text).map_err(|e| {
                e.print();
                exit::INPUT
            })?;
            (config, rel.parent().unwrap_or(Path::new("")).to_path_buf())
        }
        None => (Config::default(), start.to_path_buf()),
    };
    let paths = &config.paths;
    let inventory = dir.join(
        paths
            .inventory
            .as_deref()
            .unwrap_or(Path::new("site-inventory")),
    );
    let fleet = snapshot
        .inventory(&inventory)
        .map_err(|e| report(snapshot, e))?;
    let catalogue = match &paths.templates {
        Some(t) => snapshot
            .catalogue(&dir.join(t))
            .map_err(|e| report(snapshot, e))?,
        None => Catalogue::builtin(),
    };
    match plan::plan_reusing(&fleet, &catalogue, &config.plan_options(), &|_| {}, reuse) {
        Ok((p, keys)) => Ok((p.tree, keys)),
        Err(PlanError::Inventory(d)) => {
            crate::generate::print_diagnostics(&d);
            Err(exit::INPUT)
        }
        Err(PlanError::Catalogue(e)) => Err(input_error(e.to_string())),
    }
}

fn report(snapshot: &Snapshot<'_>, e: InputError) -> u8 {
    match e {
        InputError::Inventory(d) => {
            crate::generate::print_diagnostics(&d);
            crate::output::note(format!("in the inventory of {}", snapshot.label()));
            exit::INPUT
        }
        other => input_error(other.to_string()),
    }
}

/// A `diff --shard K/N --format json` report: `Ok(None)` when the text is not a diff report.
pub fn read_shard(text: &str) -> Result<Option<serde_json::Value>, String> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(None);
    };
    if doc.get("groups").is_none() || doc.get("base").is_none() {
        return Ok(None);
    }
    if doc.get("shard").is_none() || doc.get("shard_run").is_none() {
        return Err(
            "a diff report without a shard manifest (written without --shard K/N)".to_owned(),
        );
    }
    Ok(Some(doc))
}

/// `edgefleet merge` of `diff --shard K/N --format json` reports: the report of one `diff`,
/// exit 1 with `exit_code` when a site changed.
pub fn merge(reports: Vec<(String, serde_json::Value)>, exit_code: bool) -> u8 {
    let mut manifests = Vec::new();
    for (name, doc) in &reports {
        let Some(m) = Manifest::from_value(&doc["shard"]) else {
            return input_error(format!("{name}: damaged shard manifest"));
        };
        manifests.push((name.clone(), m));
    }
    if let Err(e) = check_set(&manifests) {
        return input_error(e);
    }
    let parts: Vec<(String, serde_json::Value)> = reports
        .into_iter()
        .map(|(name, mut doc)| (name, doc["shard_run"].take()))
        .collect();
    let (merged, objects) = match diff::shard::merge(&parts) {
        Ok(m) => m,
        Err(e) => return input_error(e),
    };
    let mut s =
        serde_json::to_string_pretty(&diff::report::json(&merged, objects)).unwrap_or_default();
    s.push('\n');
    print!("{s}");
    if exit_code && !merged.is_empty() {
        exit::FINDINGS
    } else {
        exit::OK
    }
}
