//! `edgefleet lint --fleet`: every site's rendered objects, linted with the site's context.
//!
//! The caller (the CLI) finds the sites and renders their overlays; this module turns the
//! rendered objects into manifests whose findings are traced back to the files that set them
//! (see [`trace`](crate::trace)), runs every rule per site (the fleet-aware ones with the site's
//! hardware, backhaul and region), and merges the findings that are the same at several sites
//! (one base file shared by 5,000 sites is one finding naming the sites, not 5,000).

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use edgefleet_inventory::SourceLocation;
use edgefleet_inventory::source::{self, YamlNode};
use rayon::prelude::*;
use serde_json::Value;

use crate::engine::{LintRun, Linter, RunProblem, worker_pool};
use crate::finding::Finding;
use crate::manifest::Manifest;
use crate::site::SiteContext;
use crate::trace::{PatchDoc, SourceDoc, Trace};

/// One object of a rendered overlay and where it came from.
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

/// Files shared by sites (bases, components) are kept for the run; a site's own overlay file
/// is parsed when its site is linted and dropped after (10,000 sites, 30,000 overlay files).
#[derive(Default)]
struct Cache {
    files: Mutex<HashMap<PathBuf, Option<Arc<Parsed>>>>,
    trails: Mutex<HashMap<PathBuf, Arc<[PatchDoc]>>>,
    /// Files parsed without being kept (listed, for reports that name every file linted).
    transient: Mutex<Vec<PathBuf>>,
}

impl Cache {
    fn parsed(&self, path: &Path) -> Option<Arc<Parsed>> {
        self.parsed_keep(path, true)
    }

    fn parsed_keep(&self, path: &Path, keep: bool) -> Option<Arc<Parsed>> {
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
        if !keep {
            if let Ok(mut transient) = self.transient.lock() {
                transient.push(path.to_path_buf());
            }
        } else if let Ok(mut files) = self.files.lock() {
            files.insert(path.to_path_buf(), parsed.clone());
        }
        parsed
    }

    fn kustomization(&self, dir: &Path, keep: bool) -> Option<(PathBuf, Arc<str>, Arc<SourceDoc>)> {
        let f = kustomization_file(dir)?;
        let parsed = self.parsed_keep(&f, keep)?;
        let doc = parsed.docs.first()?.clone();
        Some((f, parsed.text.clone(), doc))
    }

    /// The strategic-merge patches a kustomization folder applies: its components' (in order,
    /// recursively), then its own.
    /// Depth 0 is a site's overlay, which no other site shares: not kept.
    fn trail(&self, dir: &Path, depth: usize) -> Arc<[PatchDoc]> {
        if let Some(t) = self.trails.lock().ok().and_then(|t| t.get(dir).cloned()) {
            return t;
        }
        let mut out: Vec<PatchDoc> = Vec::new();
        if let Some((file, file_text, k)) = self.kustomization(dir, depth > 0) {
            let list = |field: &str| -> Vec<Value> {
                k.json
                    .get(field)
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            };
            if depth < 10 {
                for c in list("components") {
                    if let Some(c) = c.as_str() {
                        out.extend(
                            self.trail(&normalize(&dir.join(c)), depth + 1)
                                .iter()
                                .cloned(),
                        );
                    }
                }
            }
            for (i, p) in list("patches").iter().enumerate() {
                if p.get("target").is_some() {
                    // Targeted patches may rename or select by label: not attributed.
                    continue;
                }
                if let Some(path) = p.get("path").and_then(Value::as_str) {
                    if let Some(parsed) = self.parsed(&normalize(&dir.join(path))) {
                        out.extend(parsed.docs.iter().map(|d| PatchDoc {
                            doc: d.clone(),
                            inline_at: None,
                        }));
                    }
                } else if let Some(text) = p.get("patch").and_then(Value::as_str) {
                    let at = k.doc.locate_key(&format!("/patches/{i}/patch"));
                    // A literal block whose lines are the patch verbatim: parse it in place, so
                    // findings point at the line in the kustomization that sets the value.
                    if let Some(in_place) = inline_in_place(&file_text, at.offset, text)
                        && let Ok(docs) = source::parse_yaml(&file, &in_place)
                    {
                        out.extend(
                            docs.into_iter()
                                .filter(|d| matches!(d.root.value, YamlNode::Map(_)))
                                .map(|d| PatchDoc {
                                    doc: Arc::new(SourceDoc::new(d)),
                                    inline_at: None,
                                }),
                        );
                        continue;
                    }
                    let Ok(docs) = source::parse_yaml(&file, text) else {
                        continue;
                    };
                    out.extend(
                        docs.into_iter()
                            .filter(|d| matches!(d.root.value, YamlNode::Map(_)))
                            .map(|d| PatchDoc {
                                doc: Arc::new(SourceDoc::new(d)),
                                inline_at: Some(at.clone()),
                            }),
                    );
                }
            }
        }
        let trail: Arc<[PatchDoc]> = Arc::from(out);
        if depth > 0
            && let Ok(mut t) = self.trails.lock()
        {
            t.insert(dir.to_path_buf(), trail.clone());
        }
        trail
    }
}

/// The kustomization's text with everything blanked (bytes to spaces, line breaks kept) except
/// the literal block scalar that holds an inline patch, when that block's lines are `patch`'s
/// lines with one common indentation. Parsing it gives the patch with file positions (offsets,
/// lines and columns). `None` when the block cannot be matched line for line (other scalar
/// styles, a multi-document patch whose `---` would not be at column 0 in place).
fn inline_in_place(file_text: &str, key_offset: usize, patch: &str) -> Option<String> {
    let rest = file_text.get(key_offset..)?;
    let key_line_end = key_offset + rest.find('\n')?;
    let key_line = &file_text[key_offset..key_line_end];
    let indicator = key_line.split_once(':')?.1.trim();
    if !indicator.starts_with('|') || indicator.contains('#') {
        return None;
    }
    let lines: Vec<&str> = patch.lines().collect();
    if lines.is_empty()
        || lines
            .iter()
            .any(|l| l.starts_with("---") || l.starts_with("..."))
    {
        return None;
    }
    let start = key_line_end + 1;
    let block = file_text.get(start..)?;
    let first = block.lines().find(|l| !l.trim().is_empty())?;
    let indent = first.len() - first.trim_start_matches(' ').len();
    if indent == 0 {
        return None;
    }
    let mut end = start;
    for (want, got) in lines.iter().zip(block.split_inclusive('\n')) {
        let got_line = got.trim_end_matches('\n').trim_end_matches('\r');
        let matches = if want.is_empty() {
            got_line.trim().is_empty()
        } else {
            got_line.len() == indent + want.len()
                && got_line[..indent].bytes().all(|b| b == b' ')
                && &got_line[indent..] == *want
        };
        if !matches {
            return None;
        }
        end += got.len();
    }
    if block.split_inclusive('\n').count() < lines.len() {
        return None;
    }
    let mut out = String::with_capacity(file_text.len());
    for (i, ch) in file_text.char_indices() {
        if (start..end).contains(&i) || ch == '\n' {
            out.push(ch);
        } else {
            // One space per byte: offsets stay those of the file.
            out.extend(std::iter::repeat_n(' ', ch.len_utf8()));
        }
    }
    Some(out)
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

impl Linter {
    /// Renders and lints every site (in parallel; one site's objects are in memory at a time
    /// per worker) with the site's context. Findings identical at several sites (same rule,
    /// place, object and message) are merged and name every site. Overlays that cannot be
    /// rendered are skipped and recorded as the run's [`problems`](LintRun::problems), in
    /// site order.
    pub fn lint_fleet(&self, sites: &[FleetSite], render: &RenderFn<'_>) -> LintRun {
        match worker_pool() {
            Some(pool) => pool.install(|| self.lint_fleet_here(sites, render)),
            None => self.lint_fleet_here(sites, render),
        }
    }

    fn lint_fleet_here(&self, sites: &[FleetSite], render: &RenderFn<'_>) -> LintRun {
        let cache = Cache::default();
        let per_site: Vec<(Vec<Finding>, usize, usize, Vec<RunProblem>)> = sites
            .par_iter()
            .map(|site| {
                let mut manifests = Vec::new();
                let mut errors = Vec::new();
                let rendered: Vec<_> = site
                    .overlays
                    .par_iter()
                    .map(|dir| (dir, render(dir)))
                    .collect();
                for (dir, objects) in rendered {
                    let objects = match objects {
                        Ok(o) => o,
                        Err(e) => {
                            errors.push(RunProblem::new(None, e));
                            continue;
                        }
                    };
                    let patches = cache.trail(&normalize(dir), 0);
                    let kfile =
                        kustomization_file(dir).unwrap_or_else(|| dir.join("kustomization.yaml"));
                    let fallback = SourceLocation::start_of(&Arc::from(kfile.as_path()));
                    for o in objects {
                        let origin = if o.origin_file.as_os_str().is_empty() {
                            None
                        } else {
                            cache
                                .parsed(&normalize(&o.origin_file))
                                .and_then(|p| p.docs.get(o.origin_document).cloned())
                        };
                        let trace = Trace {
                            origin,
                            fallback: fallback.clone(),
                            patches: patches.clone(),
                            original_name: o.original_name.clone(),
                        };
                        manifests.push(Manifest::rendered(o.value, trace));
                    }
                }
                let (findings, suppressed) = self.check_objects(&manifests, Some(&site.context));
                let id: Arc<str> = Arc::from(site.context.id.as_str());
                let findings = findings
                    .into_iter()
                    .map(|mut f| {
                        f.sites = vec![id.clone()];
                        f
                    })
                    .collect();
                (findings, suppressed, manifests.len(), errors)
            })
            .collect();

        let mut run = LintRun::default();
        // Same rule, place, message and object at several sites: one finding.
        let mut merged: BTreeMap<(Arc<Path>, usize, &'static str, String, String), Finding> =
            BTreeMap::new();
        let mut errors = Vec::new();
        for (findings, suppressed, objects, site_errors) in per_site {
            errors.extend(site_errors);
            run.suppressed += suppressed;
            run.objects += objects;
            for f in findings {
                let key = (
                    f.location.file.clone(),
                    f.location.offset,
                    f.rule,
                    f.message.clone(),
                    f.object.as_ref().map(|o| o.to_string()).unwrap_or_default(),
                );
                match merged.get_mut(&key) {
                    Some(existing) => existing.sites.extend(f.sites),
                    None => {
                        merged.insert(key, f);
                    }
                }
            }
        }
        let mut findings: Vec<Finding> = merged.into_values().collect();
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
        // The text of every file a finding points at, for source snippets.
        let transient = cache.transient.into_inner().unwrap_or_default();
        let files = cache.files.into_inner().unwrap_or_default();
        run.files = files.len() + transient.len();
        run.linted = files
            .keys()
            .chain(&transient)
            .map(|p| Arc::from(p.as_path()))
            .collect();
        for f in &findings {
            let file = &f.location.file;
            if run.sources.contains_key(file) {
                continue;
            }
            let text = match files.get(&**file) {
                Some(Some(p)) => Some(p.text.clone()),
                _ => source::read_source(file).ok().map(Arc::from),
            };
            if let Some(text) = text {
                run.sources.insert(file.clone(), text);
            }
        }
        run.findings = findings;
        run.problems = errors;
        run
    }
}

/// `site a`, `sites a, b, c`, or `sites a, b, c and 12 more`.
fn site_list(sites: &[Arc<str>]) -> String {
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
    use super::{inline_in_place, normalize};
    use std::path::Path;

    #[test]
    fn inline_patches_are_parsed_in_place() {
        let file = "kind: Kustomization\npatches:\n- patch: |\n    kind: Deployment\n    metadata:\n\n      name: é\n- path: other.yaml\n";
        let patch = "kind: Deployment\nmetadata:\n\n  name: é\n";
        let key = file.find("patch:").unwrap();
        let in_place = inline_in_place(file, key, patch).expect("a literal block");
        assert_eq!(in_place.len(), file.len());
        let docs = edgefleet_inventory::source::parse_yaml(Path::new("k.yaml"), &in_place).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].to_json()["metadata"]["name"], "é");
        // `name` is on line 7, column 7 of the file, at its byte offset there.
        let at = docs[0].locate_key("/metadata/name");
        assert_eq!((at.line, at.column), (7, 7));
        assert_eq!(&file[at.offset..at.offset + 4], "name");
        // Not the same lines (a folded or quoted scalar, an edited text): no in-place parse.
        assert!(inline_in_place(file, key, "kind: Service\n").is_none());
        let folded = file.replace("patch: |", "patch: >");
        assert!(inline_in_place(&folded, key, patch).is_none());
        assert!(inline_in_place(file, key, "a: 1\n---\nb: 2\n").is_none());
    }

    #[test]
    fn normalizes_lexically() {
        assert_eq!(
            normalize(Path::new("out/sites/eu/s/w/../../../../components/x")),
            Path::new("out/components/x")
        );
        assert_eq!(normalize(Path::new("../out/a/../b")), Path::new("../out/b"));
    }
}
