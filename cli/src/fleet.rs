//! `edgefleet lint --fleet OUT_DIR`: find every site of a generated tree, render its overlays in
//! process and hand the objects, with the site's inventory context, to the lint engine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_inventory::Fleet;
use edgefleet_lints::Severity;
use edgefleet_lints::fleet::{EditSource, FieldEdit, FleetSite, RenderedObject};
use edgefleet_lints::report::Format;
use edgefleet_lints::{LintRun, Linter, SiteContext};
use kustomize::Renderer;
use kustomize::provenance::Source;
use serde_json::Value;

use crate::config::Config;
use crate::exit;
use crate::generate::print_diagnostics;
use crate::lint::{FailLevel, FormatArg};

/// A site folder of the generated tree: `sites/<region>/<site>/` with `site.json`.
struct SiteDir {
    dir: PathBuf,
    /// `site.json` as written by `edgefleet generate`.
    params: Value,
    overlays: Vec<PathBuf>,
}

/// Lints a generated tree. Problems that stop one site (unreadable `site.json`, a site missing
/// from the inventory, an overlay that does not render) are printed and counted; the other sites
/// are still linted. Returns the run and the number of such problems.
pub fn lint(linter: &Linter, out: &Path, fleet: &Fleet) -> Result<(LintRun, usize), String> {
    let sites_root = out.join("sites");
    if !sites_root.is_dir() {
        return Err(format!(
            "{}: no `sites/` folder; is this a tree written by `edgefleet generate`?",
            out.display()
        ));
    }
    let canonical = std::fs::canonicalize(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut problems = Vec::new();
    let dirs = find_sites(&sites_root, &mut problems);

    let residency = Arc::new(fleet.residency.clone());
    let appsets = read_appsets(out);
    let mut sites = Vec::new();
    for d in dirs {
        match context(&d, fleet, &residency) {
            Ok((mut ctx, warning)) => {
                ctx.applicationsets = targeting(&appsets, &d, &sites_root);
                if let Some(w) = warning {
                    eprintln!("warning: {w}");
                }
                sites.push(FleetSite {
                    context: ctx,
                    overlays: d.overlays,
                });
            }
            Err(e) => problems.push(e),
        }
    }

    // One renderer for the whole fleet: bases and parsed components are cached across sites.
    let renderer = Renderer::new();
    let render = |dir: &Path| -> Result<Vec<RenderedObject>, String> {
        let resources = renderer
            .build(dir)
            .map_err(|e| format!("{}: cannot render: {e}", dir.display()))?;
        // The files edits name, as the user named the output folder: converted once per file
        // (an overlay's edits name a handful of files, each shared by many objects).
        let mut shown: Vec<(Arc<Path>, Arc<Path>)> = Vec::new();
        let mut show = |file: &Arc<Path>| -> Arc<Path> {
            if let Some((_, s)) = shown
                .iter()
                .find(|(f, _)| Arc::ptr_eq(f, file) || f == file)
            {
                return s.clone();
            }
            let s: Arc<Path> = Arc::from(display_path(file, &canonical, out));
            shown.push((file.clone(), s.clone()));
            s
        };
        Ok(resources
            .into_iter()
            .map(|r| RenderedObject {
                origin_file: display_path(&r.origin.file, &canonical, out),
                origin_document: r.origin.document,
                original_name: r.original_name,
                value: r.value,
                edits: r
                    .edits
                    .into_iter()
                    .map(|e| FieldEdit {
                        field: e.field,
                        at: e.at,
                        source: match e.source {
                            Source::Document { file, document } => EditSource::Document {
                                file: show(&file),
                                document,
                            },
                            Source::Kustomization { file } => {
                                EditSource::Kustomization { file: show(&file) }
                            }
                            Source::Inline {
                                file,
                                pointer,
                                document,
                            } => EditSource::Inline {
                                file: show(&file),
                                pointer,
                                document,
                            },
                        },
                    })
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

/// The renderer's (canonical) origin path, under the output folder as the user named it.
fn display_path(file: &Path, canonical_out: &Path, out: &Path) -> PathBuf {
    if file.as_os_str().is_empty() {
        return PathBuf::new();
    }
    match file.strip_prefix(canonical_out) {
        Ok(rest) => out.join(rest),
        Err(_) => file.to_path_buf(),
    }
}

/// `sites/<region>/<site>/site.json` folders, in path order, with their overlay folders.
fn find_sites(root: &Path, problems: &mut Vec<String>) -> Vec<SiteDir> {
    let mut out = Vec::new();
    for region in sorted_dirs(root) {
        for dir in sorted_dirs(&region) {
            let file = dir.join("site.json");
            if !file.is_file() {
                continue;
            }
            let params = std::fs::read_to_string(&file)
                .map_err(|e| e.to_string())
                .and_then(|t| serde_json::from_str::<Value>(&t).map_err(|e| e.to_string()));
            match params {
                Ok(params) => {
                    let overlays = sorted_dirs(&dir)
                        .into_iter()
                        .filter(|o| o.join("kustomization.yaml").is_file())
                        .collect();
                    out.push(SiteDir {
                        dir,
                        params,
                        overlays,
                    });
                }
                Err(e) => problems.push(format!("{}: {e}", file.display())),
            }
        }
    }
    out
}

fn sorted_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    dirs
}

/// The site's context from the inventory. The inventory is the truth about the hardware and
/// the link; when `site.json` disagrees (a tree generated from an older inventory), the
/// inventory wins and a warning says the tree is stale.
fn context(
    d: &SiteDir,
    fleet: &Fleet,
    residency: &Arc<edgefleet_inventory::Residency>,
) -> Result<(SiteContext, Option<String>), String> {
    let file = d.dir.join("site.json");
    let param = |k: &str| d.params.get(k).and_then(Value::as_str).unwrap_or_default();
    let id = match param("site") {
        "" => d
            .dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        id => id.to_owned(),
    };
    let Some(site) = fleet.site(&id) else {
        return Err(format!(
            "{}: site `{id}` is not in the inventory (run `edgefleet generate` to prune it)",
            file.display()
        ));
    };
    let mut stale = Vec::new();
    for (key, inventory) in [
        ("hardware", &site.hardware),
        ("backhaul", &site.backhaul),
        ("region", &site.region),
    ] {
        let tree = param(key);
        if !tree.is_empty() && tree != inventory {
            stale.push(format!(
                "{key} `{tree}` in the tree, `{inventory}` in the inventory"
            ));
        }
    }
    let warning = (!stale.is_empty()).then(|| {
        format!(
            "{}: stale tree ({}); linting against the inventory, run `edgefleet generate`",
            file.display(),
            stale.join(", ")
        )
    });
    Ok((
        SiteContext {
            id: site.id.clone(),
            region: fleet.region_of(site).clone(),
            hardware: fleet.hardware_of(site).clone(),
            backhaul: fleet.backhaul_of(site).clone(),
            residency: residency.clone(),
            applicationsets: BTreeMap::new(),
        },
        warning,
    ))
}

/// What the linter needs of a generated ApplicationSet to tell which site overlays it targets.
struct AppSetTarget {
    name: String,
    /// The git-files generator's glob, from its `sites/` part (the tree may sit under a prefix
    /// in the repository).
    files: globset::GlobMatcher,
    /// The generator's `selector.matchLabels`, compared with `site.json`.
    match_labels: BTreeMap<String, String>,
    /// The overlay folder its template's source path ends with (`{{.path.path}}/<workload>`).
    overlay: String,
}

/// The ApplicationSets under `OUT_DIR/appsets/` (unreadable ones are skipped: they only name
/// the ApplicationSet in residency messages).
fn read_appsets(out: &Path) -> Vec<AppSetTarget> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(out.join("appsets")) else {
        return found;
    };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    for file in files {
        let Ok(text) = edgefleet_inventory::source::read_source(&file) else {
            continue;
        };
        let Ok(docs) = edgefleet_inventory::source::parse_yaml(&file, &text) else {
            continue;
        };
        for doc in docs {
            let v = doc.to_json();
            if v.get("kind").and_then(Value::as_str) != Some("ApplicationSet") {
                continue;
            }
            let text = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default();
            let name = text("/metadata/name").to_owned();
            let Some(overlay) = text("/spec/template/spec/source/path")
                .rsplit('/')
                .next()
                .filter(|o| !o.is_empty() && !o.contains("{{"))
                .map(str::to_owned)
            else {
                continue;
            };
            for g in v
                .pointer("/spec/generators")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let match_labels: BTreeMap<String, String> = g
                    .pointer("/selector/matchLabels")
                    .and_then(Value::as_object)
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                            .collect()
                    })
                    .unwrap_or_default();
                for f in g
                    .pointer("/git/files")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let path = f.get("path").and_then(Value::as_str).unwrap_or_default();
                    let Some(at) = path.find("sites/") else {
                        continue;
                    };
                    let Ok(glob) = globset::GlobBuilder::new(&path[at..])
                        .literal_separator(true)
                        .build()
                    else {
                        continue;
                    };
                    found.push(AppSetTarget {
                        name: name.clone(),
                        files: glob.compile_matcher(),
                        match_labels: match_labels.clone(),
                        overlay: overlay.clone(),
                    });
                }
            }
        }
    }
    found
}

/// Overlay folder → the ApplicationSets whose generator picks this site's `site.json`.
fn targeting(
    appsets: &[AppSetTarget],
    d: &SiteDir,
    sites_root: &Path,
) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Ok(rel) = d.dir.join("site.json").strip_prefix(sites_root).map(|r| {
        Path::new("sites")
            .join(r)
            .to_string_lossy()
            .replace('\\', "/")
    }) else {
        return out;
    };
    for a in appsets {
        let selected = a.files.is_match(&rel)
            && a.match_labels
                .iter()
                .all(|(k, v)| d.params.get(k).and_then(Value::as_str) == Some(v.as_str()));
        if selected {
            let names = out.entry(a.overlay.clone()).or_default();
            if !names.contains(&a.name) {
                names.push(a.name.clone());
            }
        }
    }
    out
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
    let (run, problems) = match lint(linter, out, &fleet) {
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
