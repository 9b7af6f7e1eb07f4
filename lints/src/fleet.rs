//! `edgefleet lint --fleet`: every site's rendered objects, linted with the site's context.
//!
//! The caller (the CLI) finds the sites and renders their overlays with the renderer's
//! provenance; this module turns the rendered objects into manifests whose findings are traced
//! back to the files that set them (see [`trace`](crate::trace)), runs every rule per site (the fleet-aware ones with the site's
//! hardware, backhaul and region), and merges the findings that are the same at several sites
//! (one base file shared by 5,000 sites is one finding naming the sites, not 5,000).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use edgefleet_inventory::SourceLocation;
use edgefleet_inventory::source;
use rayon::prelude::*;
use serde_json::Value;

use crate::engine::{LintRun, Linter, RunProblem, worker_pool};
use crate::finding::Finding;
use crate::manifest::Manifest;
use crate::site::SiteContext;
pub use crate::trace::{EditPosition, EditSource, FieldEdit};
use crate::trace::{SourceDoc, Trace};

/// One object of a rendered overlay and its provenance: where it came from and what set its
/// fields.
#[derive(Debug, Clone)]
pub struct RenderedObject {
    pub value: Value,
    /// The file that defined the object (as the user should see the path); empty for objects a
    /// generator made.
    pub origin_file: PathBuf,
    /// 0-based index of the (non-empty) YAML document in `origin_file`.
    pub origin_document: usize,
    /// Name before prefixes, suffixes and hashes.
    pub original_name: String,
    /// The fields patches, transformers and generators set, in the order the renderer applied
    /// them (files named as the user should see them).
    pub edits: Vec<FieldEdit>,
}

/// A site of the fleet: its context and its overlay folders (each holding a
/// `kustomization.yaml`).
#[derive(Debug, Clone)]
pub struct FleetSite {
    pub context: SiteContext,
    pub overlays: Vec<PathBuf>,
}

/// Renders one overlay folder to its objects, or says why it cannot.
pub type RenderFn<'a> = dyn Fn(&Path) -> Result<Vec<RenderedObject>, String> + Sync + 'a;

/// A source file read and parsed once for the whole run.
struct Parsed {
    text: Arc<str>,
    docs: Vec<Arc<SourceDoc>>,
}

/// The files objects were defined in (bases, mostly), parsed once for the whole run and shared
/// by every site.
#[derive(Default)]
struct Cache {
    files: Mutex<HashMap<PathBuf, Option<Arc<Parsed>>>>,
}

impl Cache {
    fn parsed(&self, path: &Path) -> Option<Arc<Parsed>> {
        if let Some(p) = self.files.lock().ok()?.get(path) {
            return p.clone();
        }
        let parsed = source::read_source(path).ok().and_then(|text| {
            let docs = source::parse_yaml(path, &text).ok()?;
            Some(Arc::new(Parsed {
                text: Arc::from(text),
                docs: docs
                    .into_iter()
                    .map(|d| Arc::new(SourceDoc::new(d)))
                    .collect(),
            }))
        });
        if let Ok(mut files) = self.files.lock() {
            files.insert(path.to_path_buf(), parsed.clone());
        }
        parsed
    }
}

fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"]
        .iter()
        .map(|n| dir.join(n))
        .find(|f| f.is_file())
}

/// `a/b/../c` → `a/c`, without touching the file system (leading `..` are kept).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// What a run keeps of the sites linted so far: findings merged as they come (one per rule,
/// place, message and object, naming its sites), the files read, the counts and problems.
/// Nothing of a site's rendered objects is kept once the site is linted, so memory grows with
/// the distinct findings and files, not with the rendered fleet.
#[derive(Default)]
struct Merged {
    /// Same rule, place, message and object at several sites: one finding.
    findings: BTreeMap<(Arc<Path>, usize, &'static str, String, String), Finding>,
    suppressed: usize,
    objects: usize,
    /// Problems in site order.
    problems: Vec<RunProblem>,
    /// Each overlay's own kustomization and the other files objects came from or were edited by.
    files: HashSet<Arc<Path>>,
}

impl Merged {
    /// Adds one site's findings (the site's id already in `sites`).
    fn add_findings(&mut self, findings: Vec<Finding>) {
        for f in findings {
            let key = (
                f.location.file.clone(),
                f.location.offset,
                f.rule,
                f.message.clone(),
                f.object.as_ref().map(|o| o.to_string()).unwrap_or_default(),
            );
            match self.findings.get_mut(&key) {
                Some(existing) => existing.sites.extend(f.sites),
                None => {
                    self.findings.insert(key, f);
                }
            }
        }
    }

    fn add_file(&mut self, file: &Path) {
        if !self.files.contains(file) {
            self.files.insert(Arc::from(file));
        }
    }

    /// `self` then `later` (the sites of `later` come after those of `self`): the first
    /// finding of a key is kept and names the sites of both, as one pass in site order would.
    fn then(mut self, later: Merged) -> Merged {
        if self.findings.is_empty() {
            self.findings = later.findings;
        } else {
            for (key, f) in later.findings {
                match self.findings.get_mut(&key) {
                    Some(existing) => existing.sites.extend(f.sites),
                    None => {
                        self.findings.insert(key, f);
                    }
                }
            }
        }
        self.suppressed += later.suppressed;
        self.objects += later.objects;
        self.problems.extend(later.problems);
        if self.files.len() < later.files.len() {
            let mut files = later.files;
            files.extend(self.files);
            self.files = files;
        } else {
            self.files.extend(later.files);
        }
        self
    }
}

impl Linter {
    /// Renders and lints every site (in parallel; one site's objects are in memory at a time
    /// per worker) with the site's context. Findings identical at several sites (same rule,
    /// place, object and message) are merged and name every site. Overlays that cannot be
    /// rendered are skipped and recorded as the run's [`problems`](LintRun::problems), in
    /// site order.
    pub fn lint_fleet(&self, sites: &[FleetSite], render: &RenderFn<'_>) -> LintRun {
        self.lint_fleet_with_progress(sites, render, &|_| {})
    }

    /// [`lint_fleet`](Self::lint_fleet), calling `progress` with each site's id once the site
    /// is linted (from the worker threads, in no particular order).
    pub fn lint_fleet_with_progress(
        &self,
        sites: &[FleetSite],
        render: &RenderFn<'_>,
        progress: &(dyn Fn(&str) + Sync),
    ) -> LintRun {
        self.lint_sites(sites, &|s: &FleetSite| Ok(s.clone()), render, progress)
    }

    /// [`lint_fleet_with_progress`](Self::lint_fleet_with_progress) over any list of sites:
    /// `site` makes each one's context when a worker comes to it (and drops it after), so
    /// the contexts of a large fleet are never all in memory at once; a site it refuses is a
    /// problem of the run at the site's place.
    pub fn lint_sites<S: Sync>(
        &self,
        sites: &[S],
        site: &(dyn Fn(&S) -> Result<FleetSite, RunProblem> + Sync),
        render: &RenderFn<'_>,
        progress: &(dyn Fn(&str) + Sync),
    ) -> LintRun {
        match worker_pool() {
            Some(pool) => pool.install(|| self.lint_sites_here(sites, site, render, progress)),
            None => self.lint_sites_here(sites, site, render, progress),
        }
    }

    fn lint_sites_here<S: Sync>(
        &self,
        sites: &[S],
        site: &(dyn Fn(&S) -> Result<FleetSite, RunProblem> + Sync),
        render: &RenderFn<'_>,
        progress: &(dyn Fn(&str) + Sync),
    ) -> LintRun {
        let cache = Cache::default();
        // Each worker folds its run of consecutive sites into one `Merged`; the runs are then
        // joined in site order, so the result is that of one pass in site order, whatever the
        // number of threads.
        let merged = sites
            .par_iter()
            .fold(Merged::default, |mut merged, s| {
                match site(s) {
                    Ok(s) => self.lint_one_site(&s, render, &cache, &mut merged, progress),
                    Err(p) => merged.problems.push(p),
                }
                merged
            })
            .reduce(Merged::default, Merged::then);

        let mut run = LintRun::default();
        let mut findings: Vec<Finding> = merged.findings.into_values().collect();
        for f in &mut findings {
            f.sites.sort();
            f.sites.dedup();
            f.message = format!("{} [{}]", f.message, site_list(&f.sites));
        }
        findings.sort_by(|a, b| {
            (&a.location.file, a.location.offset, a.rule, &a.message).cmp(&(
                &b.location.file,
                b.location.offset,
                b.rule,
                &b.message,
            ))
        });
        run.suppressed = merged.suppressed;
        run.objects = merged.objects;
        // The text of every file a finding points at, for source snippets.
        run.linted = merged.files.into_iter().collect();
        run.files = run.linted.len();
        let parsed = cache.files.into_inner().unwrap_or_default();
        for f in &findings {
            let file = &f.location.file;
            if run.sources.contains_key(file) {
                continue;
            }
            let text = match parsed.get(&**file) {
                Some(Some(p)) => Some(p.text.clone()),
                _ => source::read_source(file).ok().map(Arc::from),
            };
            if let Some(text) = text {
                run.sources.insert(file.clone(), text);
            }
        }
        run.findings = findings;
        run.problems = merged.problems;
        run
    }

    /// Renders and lints one site into `merged`; its objects are dropped on return.
    fn lint_one_site(
        &self,
        site: &FleetSite,
        render: &RenderFn<'_>,
        cache: &Cache,
        merged: &mut Merged,
        progress: &(dyn Fn(&str) + Sync),
    ) {
        let mut manifests = Vec::new();
        let rendered: Vec<_> = site
            .overlays
            .par_iter()
            .map(|dir| (dir, render(dir)))
            .collect();
        for (dir, objects) in rendered {
            let objects = match objects {
                Ok(o) => o,
                Err(e) => {
                    merged.problems.push(RunProblem::new(None, e));
                    continue;
                }
            };
            let kfile: Arc<Path> = Arc::from(
                kustomization_file(dir).unwrap_or_else(|| dir.join("kustomization.yaml")),
            );
            let fallback = SourceLocation::start_of(&kfile);
            let own = normalize(&kfile);
            // The files edits name: a handful per overlay, shared by its objects.
            let mut named: Vec<Arc<Path>> = Vec::new();
            for o in objects {
                let origin = if o.origin_file.as_os_str().is_empty() {
                    None
                } else {
                    let file = normalize(&o.origin_file);
                    let doc = cache
                        .parsed(&file)
                        .and_then(|p| p.docs.get(o.origin_document).cloned());
                    if file != own {
                        merged.add_file(&file);
                    }
                    doc
                };
                for e in &o.edits {
                    if !named.iter().any(|f| Arc::ptr_eq(f, &e.file)) {
                        named.push(e.file.clone());
                    }
                }
                let trace = Trace {
                    origin,
                    fallback: fallback.clone(),
                    edits: o.edits,
                    original_name: o.original_name,
                };
                manifests.push(Manifest::rendered(o.value, trace));
            }
            for f in named {
                let f = normalize(&f);
                if f != own {
                    merged.add_file(&f);
                }
            }
            merged.add_file(&own);
        }
        let (findings, suppressed) = self.check_objects(&manifests, Some(&site.context));
        let id: Arc<str> = Arc::from(site.context.id.as_str());
        merged.add_findings(
            findings
                .into_iter()
                .map(|mut f| {
                    f.sites = vec![id.clone()];
                    f
                })
                .collect(),
        );
        merged.suppressed += suppressed;
        merged.objects += manifests.len();
        progress(&site.context.id);
    }
}

/// `site a`, `sites a, b, c`, or `sites a, b, c and 12 more`.
pub(crate) fn site_list(sites: &[Arc<str>]) -> String {
    const SHOWN: usize = 3;
    let names: Vec<&str> = sites.iter().take(SHOWN).map(|s| &**s).collect();
    match sites.len() {
        1 => format!("site {}", names[0]),
        n if n <= SHOWN => format!("sites {}", names.join(", ")),
        n => format!("sites {} and {} more", names.join(", "), n - SHOWN),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;
    use std::path::Path;

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("out/sites/eu/s/w/../../../../components/x")),
            Path::new("out/components/x")
        );
        assert_eq!(normalize(Path::new("../out/a/../b")), Path::new("../out/b"));
    }
}
