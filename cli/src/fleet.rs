//! `edgefleet lint --fleet OUT_DIR`: the generated tree, read through the fleet library, linted
//! site by site with each site's context from the inventory.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_fleet::appset::{AppSet, Deployers, Repo, read_appsets};
use edgefleet_fleet::shard::{Manifest, Shard};
use edgefleet_fleet::tree::SiteDir;
use edgefleet_fleet::{FleetTree, TreeError};
use edgefleet_inventory::{Fleet, Site};
use edgefleet_lints::fleet::{EditPosition, EditSource, FieldEdit, FleetSite, RenderedObject};
use edgefleet_lints::{LintRun, Linter, RunProblem, SiteContext};
use kustomize::provenance::{Edit, Source};

use crate::config::Config;
use crate::exit;
use crate::generate::print_diagnostics;
use crate::lint::{FailLevel, FormatArg};

/// A problem of the tree as a problem of the run, naming its file apart from the message.
fn problem(e: &TreeError) -> RunProblem {
    let text = e.to_string();
    let Some(path) = e.path() else {
        return RunProblem::new(None, text);
    };
    let message = match e {
        TreeError::SiteJson(e) if e.line > 0 => {
            format!("line {}, column {}: {}", e.line, e.column, e.message)
        }
        _ => text
            .strip_prefix(&path.display().to_string())
            .and_then(|rest| rest.strip_prefix(": "))
            .map(str::to_owned)
            .unwrap_or(text.clone()),
    };
    RunProblem::new(Some(path.to_path_buf()), message)
}

/// Lints a generated tree. Problems that stop one site (unreadable `site.json`, a site missing
/// from the inventory, an overlay that does not render) become the run's `problems`, which every
/// report carries; the other sites are still linted.
///
/// With a `shard`, only the sites of that shard are linted, and problems of the tree that belong
/// to no site are reported by shard 1 only.
pub fn lint(
    linter: &Linter,
    out: &Path,
    fleet: &Fleet,
    path_prefix: &str,
    shard: Shard,
) -> Result<LintRun, String> {
    // Provenance on: findings point at the line that set each field.
    let tree = FleetTree::on_disk(out)
        .map_err(|e| e.to_string())?
        .with_provenance(true);
    // Only the shard's site folders are read.
    let found = tree.sites_where(|id| shard.contains(id));
    let mut problems: Vec<RunProblem> = found
        .problems
        .iter()
        .filter(|e| owns_problem(shard, out, e))
        .map(problem)
        .collect();
    // ApplicationSets that cannot be read only name no ApplicationSet in residency messages.
    let (appsets, _) = read_appsets(tree.fs(), tree.root());
    let appsets: Vec<AppSet> = appsets.into_iter().map(|(_, a)| a).collect();
    let repo = Repo::new(tree.fs(), tree.root(), path_prefix);
    let deployers = Deployers::new(&appsets);

    let residency = Arc::new(fleet.residency.clone());
    // The sites found in the inventory, in tree order; notes and problems in that order. Each
    // site's context (profiles, ApplicationSets) is made when a worker comes to the site and
    // dropped after it, so contexts are never all in memory at once.
    let mut sites = Vec::new();
    for d in &found.sites {
        match d.in_inventory(fleet) {
            Ok((site, note)) => {
                if let Some(note) = note {
                    crate::output::warning(note);
                }
                sites.push((d, site));
            }
            Err(e) => problems.push(problem(&e)),
        }
    }
    let context = |&(d, site): &(&SiteDir, &Site)| -> Result<FleetSite, RunProblem> {
        Ok(FleetSite {
            context: SiteContext {
                id: site.id.clone(),
                region: fleet.region_of(site).clone(),
                hardware: fleet.hardware_of(site).clone(),
                backhaul: fleet.backhaul_of(site).clone(),
                platform: fleet.platform_of(site).cloned(),
                residency: residency.clone(),
                applicationsets: deployers.deploying(&repo, d),
                wave: site.wave.clone(),
                labels: site.labels.clone(),
            },
            overlays: d.overlays.iter().map(|o| o.dir.clone()).collect(),
        })
    };

    // One renderer for the whole fleet: bases and parsed components are cached across sites.
    let render = |dir: &Path| -> Result<Vec<RenderedObject>, String> {
        let resources = tree
            .renderer()
            .build(dir)
            .map_err(|e| format!("{}: cannot render: {e}", dir.display()))?;
        crate::render::check_object_count(dir, resources.len())?;
        // The sources edits name, converted once per overlay (a handful, shared by its objects).
        let mut shown: Vec<Shown> = Vec::new();
        Ok(resources
            .into_iter()
            .map(|r| RenderedObject {
                origin_file: tree.display_path(&r.origin.file),
                origin_document: r.origin.document,
                original_name: r.original_name,
                value: r.value,
                edits: r
                    .edits
                    .iter()
                    .map(|e| field_edit(&tree, e, &mut shown))
                    .collect(),
            })
            .collect())
    };
    let bar = crate::generate::site_bar("linting", sites.len());
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |_: &str| {
        if let Some(b) = &bar {
            b.set_position(done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as u64 + 1);
        }
    };
    let mut run = linter.lint_sites(&sites, &context, &render, &progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    problems.append(&mut run.problems);
    // In file order (problems without a file first), whatever the order sites were linted in:
    // the same list for one run and for the merge of its shards.
    problems.sort_by(|a, b| (&a.file, &a.message).cmp(&(&b.file, &b.message)));
    run.problems = problems;
    Ok(run)
}

/// `true` when a problem of the tree is this shard's: one inside a site's folder belongs to the
/// site's shard, any other to shard 1.
fn owns_problem(shard: Shard, out: &Path, e: &TreeError) -> bool {
    let relative = e
        .path()
        .and_then(|p| p.strip_prefix(out).ok())
        .map(|p| p.to_string_lossy().replace('\\', "/"));
    match relative {
        Some(r) => shard.owns_path(&r),
        None => shard.fleet_wide(),
    }
}

/// A provenance source as the linter sees it: its positions, and its file under `OUT_DIR` as the
/// user named it.
struct Shown {
    source: Arc<Source>,
    positions: Arc<dyn EditSource>,
    file: Arc<Path>,
}

/// The renderer's edit `e` as the linter takes it (`shown`: the sources already converted).
fn field_edit(tree: &FleetTree, e: &Edit, shown: &mut Vec<Shown>) -> FieldEdit {
    let i = match shown
        .iter()
        .position(|s| Arc::ptr_eq(&s.source, e.source()))
    {
        Some(i) => i,
        None => {
            shown.push(Shown {
                source: e.source().clone(),
                positions: Arc::new(Positions(e.source().clone())),
                file: Arc::from(tree.display_path(e.file())),
            });
            shown.len() - 1
        }
    };
    FieldEdit {
        field: e.field().clone(),
        file: shown[i].file.clone(),
        source: shown[i].positions.clone(),
        document: e.document(),
        at: e.at().clone(),
    }
}

/// The renderer's provenance source as the linter asks it for positions.
struct Positions(Arc<Source>);

impl EditSource for Positions {
    fn position(&self, document: usize, pointer: &str) -> Option<EditPosition> {
        let p = self.0.position(document, pointer)?;
        Some(EditPosition {
            line: p.line,
            column: p.column,
            offset: p.offset,
            len: p.len,
            exact: p.exact,
        })
    }
}

/// `edgefleet lint --fleet OUT_DIR`: load the inventory, lint, print, and the exit code (2 when a
/// site could not be linted, even if others were).
pub fn run(
    config: &Config,
    linter: &Linter,
    out: &Path,
    inventory: Option<PathBuf>,
    format: FormatArg,
    fail_level: Option<FailLevel>,
    shard: Option<Shard>,
) -> u8 {
    let dir = inventory.unwrap_or_else(|| config.inventory());
    let mut fleet = match edgefleet_inventory::load_inventory(&dir) {
        Ok(f) => f,
        Err(d) => {
            print_diagnostics(&d);
            return exit::INPUT;
        }
    };
    // A shard reads only its own site folders (a folder's `site.json` names the folder's site),
    // so it looks up only its own sites: the others, checked with the whole inventory above, are
    // dropped before linting starts.
    if let Some(s) = shard {
        fleet.sites.retain(|site| s.contains(&site.id));
        fleet.sites.shrink_to_fit();
    }
    let prefix = config.plan_options().argocd.path_prefix;
    let manifest = match shard {
        None => None,
        Some(s) => match edgefleet_fleet::shard::inventory_hash(&dir) {
            Ok(hash) => Some(Manifest::new(
                s,
                format!("lint --fleet --format {}", format.as_str()),
                hash,
            )),
            Err(e) => {
                crate::output::error(format!("{}: {e}", dir.display()));
                return exit::INPUT;
            }
        },
    };
    let run = match lint(linter, out, &fleet, &prefix, shard.unwrap_or(Shard::WHOLE)) {
        Ok(mut r) => {
            r.shard = manifest.map(|m| m.to_value());
            r
        }
        Err(e) => {
            crate::output::error(e);
            return exit::INPUT;
        }
    };
    if let Err(code) = crate::lint::print_report(&run, format) {
        return code;
    }
    run.exit_code(crate::lint::fail_level(config, fail_level))
}
