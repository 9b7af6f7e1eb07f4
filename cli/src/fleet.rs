//! `edgefleet lint --fleet OUT_DIR`: find every site of a generated tree, render its overlays in
//! process and hand the objects, with the site's inventory context, to the lint engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_fleet::FleetTree;
use edgefleet_fleet::appset::{AppSet, read_appsets};
use edgefleet_inventory::Fleet;
use edgefleet_lints::Severity;
use edgefleet_lints::fleet::{EditPosition, EditSource, FieldEdit, FleetSite, RenderedObject};
use edgefleet_lints::report::Format;
use edgefleet_lints::{LintRun, Linter, SiteContext};
use kustomize::provenance::{Edit, Source};

use crate::config::Config;
use crate::exit;
use crate::generate::print_diagnostics;
use crate::lint::{FailLevel, FormatArg};

/// Lints a generated tree. Problems that stop one site (unreadable `site.json`, a site missing
/// from the inventory, an overlay that does not render) are printed and counted; the other sites
/// are still linted. Returns the run and the number of such problems.
pub fn lint(
    linter: &Linter,
    out: &Path,
    fleet: &Fleet,
    path_prefix: &str,
) -> Result<(LintRun, usize), String> {
    // Provenance on: findings point at the line that set each field.
    let tree = FleetTree::on_disk(out)
        .map_err(|e| e.to_string())?
        .with_provenance(true);
    let found = tree.sites();
    let mut problems: Vec<String> = found.problems.iter().map(ToString::to_string).collect();
    // ApplicationSets that cannot be read only name no ApplicationSet in residency messages.
    let (appsets, _) = read_appsets(tree.fs(), tree.root());
    let appsets: Vec<AppSet> = appsets.into_iter().map(|(_, a)| a).collect();
    let repo = edgefleet_fleet::appset::Repo::new(tree.fs(), tree.root(), path_prefix);

    let residency = Arc::new(fleet.residency.clone());
    let mut sites = Vec::new();
    for d in &found.sites {
        let (site, note) = match d.in_inventory(fleet) {
            Ok(s) => s,
            Err(e) => {
                problems.push(e.to_string());
                continue;
            }
        };
        if let Some(note) = note {
            eprintln!("warning: {note}");
        }
        let site_json = repo.repo_path(&d.site_json_path());
        let mut applicationsets: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for a in appsets
            .iter()
            .filter(|a| a.targets(&site_json, &d.site_json))
        {
            if let Some(overlay) = a.overlay() {
                let names = applicationsets.entry(overlay.to_owned()).or_default();
                if !names.contains(&a.name) {
                    names.push(a.name.clone());
                }
            }
        }
        sites.push(FleetSite {
            context: SiteContext {
                id: site.id.clone(),
                region: fleet.region_of(site).clone(),
                hardware: fleet.hardware_of(site).clone(),
                backhaul: fleet.backhaul_of(site).clone(),
                residency: residency.clone(),
                applicationsets,
            },
            overlays: d.overlays.iter().map(|o| o.dir.clone()).collect(),
        });
    }

    // One renderer for the whole fleet: bases and parsed components are cached across sites.
    let render = |dir: &Path| -> Result<Vec<RenderedObject>, String> {
        let resources = tree
            .renderer()
            .build(dir)
            .map_err(|e| format!("{}: cannot render: {e}", dir.display()))?;
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
    let (run, render_errors) = linter.lint_fleet(&sites, &render);
    problems.extend(render_errors);
    for p in &problems {
        eprintln!("error: {p}");
    }
    Ok((run, problems.len()))
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
) -> u8 {
    let dir = inventory.unwrap_or_else(|| config.inventory());
    let fleet = match edgefleet_inventory::load_inventory(&dir) {
        Ok(f) => f,
        Err(d) => {
            print_diagnostics(&d);
            return exit::INPUT;
        }
    };
    let prefix = config.plan_options().argocd.path_prefix;
    let (run, problems) = match lint(linter, out, &fleet, &prefix) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::INPUT;
        }
    };
    let format = match format {
        FormatArg::Human => Format::Human,
        FormatArg::Json => Format::Json,
        FormatArg::Sarif => Format::Sarif,
        FormatArg::Github => Format::Github,
        FormatArg::Junit => Format::Junit,
    };
    if crate::lint::print_report(&run, format).is_err() {
        return exit::INPUT;
    }
    if problems > 0 {
        return exit::INPUT;
    }
    let fail_level = match fail_level {
        Some(FailLevel::Note) => Severity::Note,
        Some(FailLevel::Warning) => Severity::Warning,
        Some(FailLevel::Error) => Severity::Error,
        None => config.lint.fail_level(),
    };
    run.exit_code(fail_level)
}
