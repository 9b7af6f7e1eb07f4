//! `validate`, `generate` and `appset preview`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use edgefleet_inventory::{Diagnostics, Fleet};
use edgefleet_overlays::cache::{
    Cache, RunRecord, UnchangedRun, generator_identity, record_cache, unchanged_run,
};
use edgefleet_overlays::catalogue::Catalogue;
use edgefleet_overlays::inputs::{self, InputStamp};
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
    /// With `--check`: check only shard K of N (the folders of its sites, by a hash of the site
    /// id, and in shard 1 the fleet-wide files; docs/scale.md). The tree is up to date when
    /// every shard says so.
    #[arg(long, value_name = "K/N", requires = "check")]
    shard: Option<edgefleet_fleet::shard::Shard>,
    /// Worker threads (default: one per core). Output is identical whatever the number.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// Print how long each phase took (load, plan, compare, write), the peak memory at the end
    /// of each (on Linux) and how many sites the rerun cache spared from planning to stderr.
    #[arg(long)]
    timings: bool,
}

/// Errors of an inventory, a few with source snippets, the rest one per line.
pub fn print_diagnostics(diags: &Diagnostics) {
    const DETAILED: usize = 20;
    for (i, d) in diags.iter().enumerate() {
        crate::output::diagnostic(d, i < DETAILED);
    }
    let n = diags.len();
    crate::output::note(format!(
        "{n} error{} in the inventory",
        if n == 1 { "" } else { "s" }
    ));
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
        Ok((_, _)) if crate::output::quiet() => exit::OK,
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
        // An inventory error is an input error of every command that reads the inventory, and
        // `validate` answers "would they accept it?": the same exit code, 2 (docs/cli.md).
        Err(code) => code,
    }
}

fn catalogue(config: &Config, templates: Option<PathBuf>) -> Result<Catalogue, u8> {
    match templates.or_else(|| config.templates()) {
        None => Ok(Catalogue::builtin()),
        Some(dir) => Catalogue::load(&dir).map_err(|e| {
            crate::output::error(e.to_string());
            exit::INPUT
        }),
    }
}

pub fn run(config: &Config, args: GenerateArgs) -> u8 {
    let out = args.out.clone().unwrap_or_else(|| config.out());
    let code = generate(config, args);
    if code == exit::INPUT {
        crate::output::note(format!("note: nothing was changed in {}", out.display()));
    }
    code
}

fn generate(config: &Config, args: GenerateArgs) -> u8 {
    let started = Instant::now();
    if let Some(n) = args.jobs {
        // Only fails when a pool already exists, which cannot happen this early.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global();
    }
    let mut phases: Vec<Phase> = Vec::new();
    let mut mark = Instant::now();
    let mut lap = |name: &'static str, phases: &mut Vec<Phase>| {
        phases.push((name, mark.elapsed().as_secs_f64(), peak_rss_mib()));
        mark = Instant::now();
    };
    let inventory = args.inventory.clone().unwrap_or_else(|| config.inventory());
    let templates = args.templates.clone().or_else(|| config.templates());
    let out = args.out.clone().unwrap_or_else(|| config.out());
    // What the whole run reads, by path and `stat` (docs/generated-tree.md, "Reruns").
    let stamp = inputs::stamp(&inventory, templates.as_deref());
    let identity = generator_identity(&config.plan_options());
    if args.shard.is_none()
        && let Some(InputStamp { digest, .. }) = &stamp
        && let Some(run) = unchanged_run(&out, &identity, digest)
    {
        lap("check files", &mut phases);
        return report_unchanged(&out, &run, args.check, started, &phases, args.timings);
    }
    let cache = Cache::read(&out, &identity);
    lap("read cache", &mut phases);
    let (fleet, _) = match load(config, Some(inventory.clone())) {
        Ok(f) => f,
        Err(code) => return code,
    };
    lap("load inventory", &mut phases);
    let catalogue = match catalogue(config, templates.clone()) {
        Ok(c) => c,
        Err(code) => return code,
    };

    let shard = args.shard.unwrap_or(edgefleet_fleet::shard::Shard::WHOLE);
    let bar = progress_bar(fleet.sites.iter().filter(|s| shard.contains(&s.id)).count());
    // Sites whose inputs and files are as the rerun cache recorded them are not planned again
    // (docs/generated-tree.md, "Reruns").
    let fresh = |id: &str, fingerprint: &[u8; 32], paths: &[String]| {
        cache
            .as_ref()
            .is_some_and(|c| c.is_fresh(&out, id, fingerprint, paths))
    };
    // A new output folder is written while it is planned: each site's files as soon as the
    // site is (the folder still appears whole or not at all).
    let writer = if args.check {
        None
    } else {
        write::FreshWriter::start(&out)
    };
    // What the overlays the writer takes declare (their bytes are not kept).
    let taken_declared = std::sync::Mutex::new(plan::Declared::new());
    let sink = |tree: &edgefleet_overlays::tree::OutputTree| {
        let Some(w) = &writer else { return None };
        let mut declared = plan::Declared::new();
        plan::declared_in(tree, &mut declared);
        let took = w.write(tree);
        if took.is_some() {
            let mut all = taken_declared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (site, workloads) in declared {
                all.entry(site).or_default().extend(workloads);
            }
        }
        took
    };
    let planned = plan::plan_skipping(
        &fleet,
        &catalogue,
        &config.plan_options(),
        &|n| {
            if let Some(b) = &bar {
                b.set_position(n as u64);
            }
        },
        &|id| shard.contains(id),
        shard.fleet_wide(),
        &plan::Skip {
            identity,
            fresh: &fresh,
            sink: writer.as_ref().map(|_| &sink as &plan::SiteSink<'_>),
        },
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    lap("plan", &mut phases);
    let mut planned = match planned {
        Ok(p) => p,
        Err(PlanError::Inventory(d)) => {
            print_diagnostics(&d);
            return exit::INPUT;
        }
        Err(PlanError::Catalogue(e)) => {
            crate::output::error(e.to_string());
            return exit::INPUT;
        }
    };

    let mut declared = taken_declared
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    plan::declared_buffers(&planned, cache.as_ref(), &mut declared);
    let warnings = short_buffer_warnings(&fleet, &catalogue, &declared);
    for w in &warnings {
        crate::output::warning(w);
    }

    let compare = |planned: &plan::Plan, kept| {
        write::compare_kept(&planned.tree, kept, &out, &|p| shard.owns_path(p))
    };
    // The kept sites' files, as the cache lists them (a rerun of 100,000 sites keeps half a
    // million files; their paths are not copied).
    let kept = cache
        .as_ref()
        .map(|c| c.kept_paths(&planned.records))
        .unwrap_or_default();
    let mut compared = compare(&planned, kept);
    if let (Ok(changes), Some(w)) = (&compared, &writer)
        && changes.out_exists()
        && planned.records.iter().any(|r| r.written.is_some())
    {
        // The output folder appeared while planning: it is written as any existing folder
        // is, from the whole tree, so the files the writer took are read back.
        let restored = w.restore(&mut planned.tree, &plan::staged_paths(&planned.records));
        for r in &mut planned.records {
            r.written = None;
        }
        // Nothing was kept: a fresh writer means there was no output folder, so no rerun cache.
        compared = restored.and_then(|()| compare(&planned, Vec::new()));
    }
    // The files the writer took while planning: created (the output folder is new), though
    // not listed in `changes`.
    let staged = plan::staged_paths(&planned.records);
    let changes = match compared {
        Ok(c) => c,
        Err(e) => {
            crate::output::error(e.to_string());
            return exit::INPUT;
        }
    };
    lap("compare", &mut phases);
    if args.check {
        if args.timings {
            print_timings(&phases, &planned);
        }
        return report_check(&out, &changes, args.shard);
    }
    let written = match writer {
        Some(w) => w.finish(&planned.tree, &staged, &changes),
        None => write::apply(&planned.tree, &out, &changes),
    };
    if let Err(e) = written {
        crate::output::error(e.to_string());
        return exit::INPUT;
    }
    let created = changes.created.len() + staged.len();
    drop(staged);
    lap("write", &mut phases);
    // Only a cache of the whole tree is written; failing to write it costs the next run time.
    // The inputs are recorded when they were settled and the same at the end as at the start.
    let recorded_inputs = stamp.filter(|s| s.settled).and_then(|s| {
        let again = inputs::stamp(&inventory, templates.as_deref())?;
        (again.digest == s.digest).then_some(s.digest)
    });
    if args.shard.is_none()
        && let Err(e) = record_cache(
            &out,
            identity,
            &planned,
            &changes,
            cache.as_ref(),
            &declared,
            RunRecord {
                inputs: recorded_inputs,
                warnings: &warnings,
            },
        )
    {
        crate::output::warning(format!(
            "{}: could not record the rerun cache ({e}); the next run plans every site",
            out.join(edgefleet_overlays::cache::CACHE).display()
        ));
    }
    lap("record cache", &mut phases);
    if args.timings {
        print_timings(&phases, &planned);
    }
    let (sites, overlays, appsets) = (planned.sites, planned.overlays, planned.appsets);
    let (updated, unchanged, removed) = (
        changes.updated.len(),
        changes.unchanged,
        changes.removed.len(),
    );
    // The process ends after this summary: the kernel takes its memory back at once, sooner
    // than freeing a large fleet's inventory, plan and cache piece by piece would (a tenth of
    // a second at 100,000 sites).
    std::mem::forget(changes);
    std::mem::forget((fleet, planned, cache, declared));
    let written = created + updated;
    let seconds = started.elapsed().as_secs_f64();
    if crate::output::quiet() {
        return exit::OK;
    }
    if written == 0 && removed == 0 {
        print_up_to_date(&out, sites, overlays, appsets, unchanged, seconds);
    } else {
        println!(
            "{}: {sites} sites, {overlays} overlays, {appsets} ApplicationSets; {written} files written ({created} created, {updated} updated), {unchanged} unchanged, {removed} removed in {seconds:.2}s",
            out.display(),
        );
    }
    exit::OK
}

fn print_up_to_date(
    out: &Path,
    sites: usize,
    overlays: usize,
    appsets: usize,
    unchanged: usize,
    seconds: f64,
) {
    println!(
        "{}: up to date, 0 files written ({sites} sites, {overlays} overlays, {appsets} ApplicationSets; {unchanged} files unchanged) in {seconds:.2}s",
        out.display(),
    );
}

/// A rerun whose inputs and files are all as the rerun cache recorded them: what the run that
/// recorded them said (its warnings, its counts), without planning anything.
fn report_unchanged(
    out: &Path,
    run: &UnchangedRun,
    check: bool,
    started: Instant,
    phases: &[Phase],
    timings: bool,
) -> u8 {
    for w in &run.warnings {
        crate::output::warning(w);
    }
    if timings {
        print_phases(phases);
        eprintln!(
            "{:>16}: no input changed and every file is as written: nothing planned ({} sites)",
            "rerun cache", run.counts.sites
        );
    }
    if check {
        println!("{}: up to date", out.display());
    } else if !crate::output::quiet() {
        let c = run.counts;
        let seconds = started.elapsed().as_secs_f64();
        print_up_to_date(out, c.sites, c.overlays, c.appsets, run.files, seconds);
    }
    exit::OK
}

/// Sites where a workload's outage buffer is smaller than its backhaul's longest outage needs:
/// cut by the disk bound, or declared smaller by the template (`edgefleet.io/outage-buffer`,
/// e.g. a broker whose queue must fit in its memory limit). These are exactly the buffers
/// `lint --fleet` reports as `outage/buffer-below-outage`, so what `generate` writes without a
/// warning, the linter accepts. The tree is still written; these are said, not silently emitted.
/// The warnings, one line each, in the order to print them.
fn short_buffer_warnings(
    fleet: &Fleet,
    catalogue: &Catalogue,
    declared: &plan::Declared,
) -> Vec<String> {
    const SHOWN: usize = 20;
    let mut warnings = Vec::new();
    let mut count = 0;
    for site in &fleet.sites {
        let (backhaul, hardware) = (fleet.backhaul_of(site), fleet.hardware_of(site));
        for w in plan::site_workloads(site, catalogue) {
            let b = plan::buffer_for(w, site, backhaul, hardware);
            if !b.enabled {
                continue;
            }
            let (mib, why) = match declared.get(&site.id).and_then(|d| d.get(&w.name)) {
                Some(&mib) if mib < b.mib => (
                    mib,
                    format!(
                        "the template declares {mib} MiB of the {} MiB sized for it",
                        b.mib
                    ),
                ),
                _ => (
                    b.mib,
                    format!(
                        "{} of hardware `{}`'s disk allowed",
                        w.buffer_disk_share.unwrap_or(0.0),
                        hardware.name
                    ),
                ),
            };
            if mib >= b.required_mib {
                continue;
            }
            count += 1;
            if count <= SHOWN {
                warnings.push(format!(
                    "site {}: {} gets a {mib} MiB outage buffer, but {} kbit/s for backhaul `{}`'s {} needs {} MiB ({why})",
                    site.id,
                    w.name,
                    b.effective_kbps,
                    backhaul.name,
                    backhaul.max_outage,
                    b.required_mib,
                ));
            }
        }
    }
    if count > SHOWN {
        warnings.push(format!(
            "{} more outage buffers smaller than the longest outage needs",
            count - SHOWN
        ));
    }
    if count > 0 {
        warnings.push(
            "data older than these buffers is lost in the longest outage (`lint --fleet` reports them as outage/buffer-below-outage); see docs/outage.md".to_owned(),
        );
    }
    warnings
}

/// A phase of `generate --timings`: its name, seconds, and the process's peak memory at its end.
type Phase = (&'static str, f64, Option<u64>);

/// The process's peak resident memory so far, in MiB (`VmHWM`; Linux only).
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib / 1024)
}

fn print_phases(phases: &[Phase]) {
    for (name, secs, peak) in phases {
        match peak {
            Some(mib) => eprintln!("{name:>16}: {secs:.3}s (peak memory so far {mib} MiB)"),
            None => eprintln!("{name:>16}: {secs:.3}s"),
        }
    }
}

fn print_timings(phases: &[Phase], planned: &plan::Plan) {
    print_phases(phases);
    eprintln!(
        "{:>16}: {} of {} sites unchanged since the last run, not planned again",
        "rerun cache",
        planned.records.iter().filter(|r| r.kept).count(),
        planned.records.len()
    );
}

fn report_check(
    out: &Path,
    changes: &write::Changes,
    shard: Option<edgefleet_fleet::shard::Shard>,
) -> u8 {
    let part = shard.map(|s| format!(" (shard {s})")).unwrap_or_default();
    if !changes.foreign.is_empty() {
        for f in &changes.foreign {
            println!("conflict {f} (exists and was not written by edgefleet)");
        }
    }
    if changes.is_clean() && changes.foreign.is_empty() {
        println!("{}: up to date{part}", out.display());
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
        "{}{part} is stale: {} to create, {} to update, {} to remove, {} conflicts; run `edgefleet generate`",
        out.display(),
        changes.created.len(),
        changes.updated.len(),
        changes.removed.len(),
        changes.foreign.len()
    );
    exit::FINDINGS
}

fn progress_bar(sites: usize) -> Option<indicatif::ProgressBar> {
    site_bar("planning", sites)
}

/// A progress bar over `sites` sites on a terminal (none for small fleets, with `--quiet`, or
/// when standard error is not a terminal), its line starting with `what`. It has no colour, so
/// `NO_COLOR` has nothing to turn off.
pub fn site_bar(what: &str, sites: usize) -> Option<indicatif::ProgressBar> {
    site_bar_from(what, sites, 500)
}

/// [`site_bar`] for fleets of at least `min` sites: less than its 500 for commands whose sites
/// are slow (`drift` waits on each site's cluster).
pub fn site_bar_from(what: &str, sites: usize, min: usize) -> Option<indicatif::ProgressBar> {
    if sites < min || crate::output::quiet() || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(sites as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(&format!(
        "{what} {{bar:40}} {{pos}}/{{len}} sites ({{elapsed}})"
    )) {
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
            crate::output::error(e);
            return exit::INPUT;
        }
    };
    let root = repo.unwrap_or_else(|| config.out());
    let prefix = config.plan_options().argocd.path_prefix;
    if !root.is_dir() {
        crate::output::Message {
            severity: "error",
            message: &format!(
                "{}: the generated tree to expand the ApplicationSet from is not a folder",
                root.display()
            ),
            help: Some("pass the output folder of `edgefleet generate` with --repo OUT_DIR"),
            ..crate::output::Message::default()
        }
        .print();
        return exit::INPUT;
    }
    match appset.expand(&Repo::new(&fs, &root, &prefix)) {
        Ok(apps) => {
            print!("{}", edgefleet_overlays::yaml::to_yaml_stream(&apps));
            if apps.is_empty() {
                // Nothing matched: a wrong --repo (or the config's output folder when the
                // ApplicationSet was generated elsewhere), or a stale ApplicationSet.
                crate::output::Message {
                    severity: "warning",
                    message: &format!(
                        "{}: expands to no Application: its generators match no file under {}",
                        file.display(),
                        root.display()
                    ),
                    help: Some(
                        "pass the tree the ApplicationSet was generated into with --repo OUT_DIR",
                    ),
                    ..crate::output::Message::default()
                }
                .print();
                return exit::FINDINGS;
            }
            crate::output::note(format!(
                "{} from {}",
                edgefleet_lints::report::plural_count(apps.len(), "Application"),
                root.display()
            ));
            exit::OK
        }
        Err(e) => {
            crate::output::error(format!("{}: {e}", file.display()));
            exit::INPUT
        }
    }
}
