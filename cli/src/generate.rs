//! `validate`, `generate` and `appset preview`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use edgefleet_inventory::{Diagnostics, Fleet};
use edgefleet_overlays::catalogue::Catalogue;
use edgefleet_overlays::plan::{self, PlanError};
use edgefleet_overlays::write;

use crate::config::Config;
use crate::exit;

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// Inventory folder (or one file); default from edgefleet.toml.
    #[arg(long, value_name = "DIR")]
    inventory: Option<PathBuf>,
    /// Workload catalogue folder; default from edgefleet.toml, else the built-in catalogue.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Output folder; default from edgefleet.toml, else `out`.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Write nothing; exit 1 and list the differences when the output folder is stale.
    #[arg(long)]
    check: bool,
    /// Worker threads (default: one per core). Output is identical whatever the number.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Print how long each phase took (load, plan, compare, write) to stderr.
    #[arg(long)]
    timings: bool,
}

/// Errors of an inventory, a few with source snippets, the rest one per line.
pub fn print_diagnostics(diags: &Diagnostics) {
    const DETAILED: usize = 20;
    for (i, d) in diags.iter().enumerate() {
        if i < DETAILED {
            eprintln!("{:?}", d.to_report());
        } else {
            eprintln!("error: {d}");
        }
    }
    let n = diags.len();
    eprintln!(
        "{n} error{} in the inventory",
        if n == 1 { "" } else { "s" }
    );
}

fn load(config: &Config, inventory: Option<PathBuf>) -> Result<(Fleet, PathBuf), u8> {
    let dir = inventory.unwrap_or_else(|| config.inventory());
    match edgefleet_inventory::load_inventory(&dir) {
        Ok(f) => Ok((f, dir)),
        Err(d) => {
            print_diagnostics(&d);
            Err(exit::INPUT)
        }
    }
}

pub fn validate(config: &Config, inventory: Option<PathBuf>) -> u8 {
    match load(config, inventory) {
        Ok((fleet, dir)) => {
            println!(
                "{}: {} sites, {} regions, {} hardware and {} backhaul profiles, {} rollout steps: valid",
                dir.display(),
                fleet.sites.len(),
                fleet.regions.len(),
                fleet.hardware.len(),
                fleet.backhaul.len(),
                fleet.rollout_steps().len()
            );
            exit::OK
        }
        // `validate` reports problems as findings (1); other commands treat them as bad input (2).
        Err(_) => exit::FINDINGS,
    }
}

fn catalogue(config: &Config, templates: Option<PathBuf>) -> Result<Catalogue, u8> {
    match templates.or_else(|| config.templates()) {
        None => Ok(Catalogue::builtin()),
        Some(dir) => Catalogue::load(&dir).map_err(|e| {
            eprintln!("error: {e}");
            exit::INPUT
        }),
    }
}

pub fn run(config: &Config, args: GenerateArgs) -> u8 {
    let started = Instant::now();
    if let Some(n) = args.jobs {
        // Only fails when a pool already exists, which cannot happen this early.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let mut phases: Vec<(&str, f64)> = Vec::new();
    let mut mark = Instant::now();
    let mut lap = |name: &'static str, phases: &mut Vec<(&str, f64)>| {
        phases.push((name, mark.elapsed().as_secs_f64()));
        mark = Instant::now();
    };
    let (fleet, _) = match load(config, args.inventory) {
        Ok(f) => f,
        Err(code) => return code,
    };
    lap("load inventory", &mut phases);
    let catalogue = match catalogue(config, args.templates) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let out = args.out.unwrap_or_else(|| config.out());

    let bar = progress_bar(fleet.sites.len());
    let planned = plan::plan(&fleet, &catalogue, &config.plan_options(), &|n| {
        if let Some(b) = &bar {
            b.set_position(n as u64);
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    lap("plan", &mut phases);
    let planned = match planned {
        Ok(p) => p,
        Err(PlanError::Inventory(d)) => {
            print_diagnostics(&d);
            return exit::INPUT;
        }
        Err(PlanError::Catalogue(e)) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };

    warn_disk_bounded_buffers(&fleet, &catalogue);

    let changes = match write::compare(&planned.tree, &out) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    lap("compare", &mut phases);
    if args.check {
        if args.timings {
            print_timings(&phases);
        }
        return report_check(&out, &changes);
    }
    if let Err(e) = write::apply(&planned.tree, &out, &changes) {
        eprintln!("error: {e}");
        eprintln!("nothing was changed in {}", out.display());
        return exit::INPUT;
    }
    lap("write", &mut phases);
    if args.timings {
        print_timings(&phases);
    }
    let written = changes.created.len() + changes.updated.len();
    let seconds = started.elapsed().as_secs_f64();
    if written == 0 && changes.removed.is_empty() {
        println!(
            "{}: up to date, 0 files written ({} sites, {} overlays, {} ApplicationSets; {} files unchanged) in {seconds:.2}s",
            out.display(),
            planned.sites,
            planned.overlays,
            planned.appsets,
            changes.unchanged
        );
    } else {
        println!(
            "{}: {} sites, {} overlays, {} ApplicationSets; {written} files written ({} created, {} updated), {} unchanged, {} removed in {seconds:.2}s",
            out.display(),
            planned.sites,
            planned.overlays,
            planned.appsets,
            changes.created.len(),
            changes.updated.len(),
            changes.unchanged,
            changes.removed.len()
        );
    }
    exit::OK
}

/// Sites where a workload's outage buffer was cut by the disk bound: the generated queue is
/// smaller than the longest outage needs (`outage/buffer-below-outage` warns there too). The
/// tree is still written; these are said, not silently emitted.
fn warn_disk_bounded_buffers(fleet: &Fleet, catalogue: &Catalogue) {
    const SHOWN: usize = 20;
    let mut count = 0;
    for site in &fleet.sites {
        let (backhaul, hardware) = (fleet.backhaul_of(site), fleet.hardware_of(site));
        for w in plan::site_workloads(site, catalogue) {
            let b = plan::buffer_for(w, site, backhaul, hardware);
            if !(b.enabled && b.bounded_by_disk) {
                continue;
            }
            count += 1;
            if count <= SHOWN {
                eprintln!(
                    "warning: site {}: {} gets a {} MiB outage buffer, but {} kbit/s for backhaul `{}`'s {} needs {} MiB ({} of hardware `{}`'s disk allowed)",
                    site.id,
                    w.name,
                    b.mib,
                    b.effective_kbps,
                    backhaul.name,
                    backhaul.max_outage,
                    b.required_mib,
                    w.buffer_disk_share.unwrap_or(0.0),
                    hardware.name
                );
            }
        }
    }
    if count > SHOWN {
        eprintln!(
            "warning: {} more outage buffers bounded by disk",
            count - SHOWN
        );
    }
    if count > 0 {
        eprintln!(
            "warning: data older than these buffers is lost in the longest outage; see docs/outage.md"
        );
    }
}

fn print_timings(phases: &[(&str, f64)]) {
    for (name, secs) in phases {
        eprintln!("{name:>16}: {secs:.3}s");
    }
}

fn report_check(out: &Path, changes: &write::Changes) -> u8 {
    if !changes.foreign.is_empty() {
        for f in &changes.foreign {
            println!("conflict {f} (exists and was not written by edgefleet)");
        }
    }
    if changes.is_clean() && changes.foreign.is_empty() {
        println!("{}: up to date", out.display());
        return exit::OK;
    }
    for (word, list) in [
        ("create", &changes.created),
        ("update", &changes.updated),
        ("remove", &changes.removed),
    ] {
        for f in list.iter() {
            println!("{word} {f}");
        }
    }
    eprintln!(
        "{} is stale: {} to create, {} to update, {} to remove, {} conflicts; run `edgefleet generate`",
        out.display(),
        changes.created.len(),
        changes.updated.len(),
        changes.removed.len(),
        changes.foreign.len()
    );
    exit::FINDINGS
}

fn progress_bar(sites: usize) -> Option<indicatif::ProgressBar> {
    if sites < 500 || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(sites as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("planning {bar:40} {pos}/{len} sites ({elapsed})")
    {
        bar.set_style(style);
    }
    Some(bar)
}

/// `edgefleet appset preview FILE [--repo DIR]`: the Applications FILE expands to over the
/// generated tree, seen at `[argocd] path_prefix` in its repository.
pub fn preview(config: &Config, file: &Path, repo: Option<PathBuf>) -> u8 {
    use edgefleet_fleet::appset::{self, AppSet, Repo};
    let fs = kustomize::fs::DiskFs;
    let appset = appset::read_file(&fs, file)
        .map_err(|e| e.to_string())
        .and_then(|docs| match docs.as_slice() {
            [doc] => AppSet::from_value(doc).map_err(|e| format!("{}: {e}", file.display())),
            _ => Err(format!(
                "{}: expected exactly one YAML document",
                file.display()
            )),
        });
    let appset = match appset {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    let root = repo.unwrap_or_else(|| config.out());
    let prefix = config.plan_options().argocd.path_prefix;
    match appset.expand(&Repo::new(&fs, &root, &prefix)) {
        Ok(apps) => {
            print!("{}", edgefleet_overlays::yaml::to_yaml_stream(&apps));
            eprintln!("{} Applications", apps.len());
            exit::OK
        }
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            exit::INPUT
        }
    }
}
