//! What a change does to the fleet: every site of two planned trees (two revisions), rendered
//! through the renderer's filesystem trait and compared object by object, as `render` prints
//! them.
//!
//! Only the overlays a change can reach are rendered: the files of the two planned trees are
//! compared first, and an overlay whose folders ([`deps`]) hold no changed file renders the
//! same on both sides. Sites present in one tree only are added or removed (all their objects
//! with them). Identical changes at many sites form one [`Group`], so a template change reads
//! as one change.

pub mod deps;
pub mod report;
pub mod shard;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgefleet_overlays::layout;
use edgefleet_overlays::tree::OutputTree;
use rayon::prelude::*;
use serde_json::Value;

use crate::tree::{FleetTree, SiteDir};
use deps::Dependencies;

/// One side of a comparison: a planned tree and how to name it (`HEAD~1`, `working tree`).
pub struct Side {
    pub label: String,
    pub tree: Arc<OutputTree>,
}

/// Whether a site or an object was added, removed or changed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    Added,
    Removed,
    Changed,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
        }
    }
}

/// An object a site receives differently.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ObjectChange {
    /// The overlay (workload folder) that renders it: one ArgoCD Application.
    pub workload: String,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub change: Change,
    /// The object as `render` prints it, before and after (kept when [`Options::texts`] asks
    /// for them).
    pub before: Option<String>,
    pub after: Option<String>,
}

impl ObjectChange {
    /// `Kind namespace/name` (or `Kind name` for cluster-scoped objects).
    pub fn title(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// The unified diff of the object's text (3 lines of context), with `a/` and `b/` headers
    /// naming the workload and the object.
    pub fn unified(&self) -> String {
        let before = self.before.as_deref().unwrap_or("");
        let after = self.after.as_deref().unwrap_or("");
        let title = format!("{}/{}", self.workload, self.title());
        similar::TextDiff::from_lines(before, after)
            .unified_diff()
            .context_radius(3)
            .header(
                &if self.before.is_some() {
                    format!("a/{title}")
                } else {
                    "/dev/null".to_owned()
                },
                &if self.after.is_some() {
                    format!("b/{title}")
                } else {
                    "/dev/null".to_owned()
                },
            )
            .to_string()
    }
}

/// A site whose objects differ (or that was added or removed).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SiteChange {
    pub site: String,
    /// Region and wave on the head side (the base side for a removed site).
    pub region: String,
    pub wave: String,
    pub change: Change,
    /// Region and wave on the base side when they differ from the head side.
    pub moved_from: Option<(String, String)>,
    pub objects: Vec<ObjectChange>,
    /// Equal for sites whose changes are the same (site id written as `{site}`).
    signature: u64,
}

/// Sites that changed in the same way.
#[derive(Debug, Clone)]
pub struct Group {
    /// Indices into [`FleetDiff::sites`], in site order.
    pub sites: Vec<usize>,
    pub regions: BTreeSet<String>,
    pub waves: BTreeSet<String>,
}

/// Every site that differs between two planned trees.
#[derive(Debug, Clone)]
pub struct FleetDiff {
    pub base: String,
    pub head: String,
    /// Changed, added and removed sites, by site id.
    pub sites: Vec<SiteChange>,
    /// Sites on both sides with nothing changed.
    pub unchanged: usize,
    /// Overlays rendered to find the changes (both sides counted), and overlays of the two
    /// trees in all: what skipping the unreachable ones saved.
    pub rendered: usize,
    pub overlays: usize,
}

/// What to keep, and whom to tell how far the comparison is.
#[derive(Clone, Copy, Default)]
pub struct Options<'p> {
    /// Keep the text of every changed, added and removed object (for `--objects`).
    pub texts: bool,
    /// Called with (sites compared, sites in all) as sites are done, from any thread.
    pub progress: Option<&'p (dyn Fn(usize, usize) + Sync)>,
    /// Compare only the sites of this shard (`diff --shard K/N`).
    pub shard: Option<crate::shard::Shard>,
}

/// Why two trees could not be compared: a tree that cannot be read or an overlay that does not
/// render, named with its side.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct DiffError(pub Vec<String>);

/// Compares every site of `base` and `head`.
pub fn compare(base: Side, head: Side, options: Options<'_>) -> Result<FleetDiff, DiffError> {
    let base_root = PathBuf::from("/base");
    let head_root = PathBuf::from("/head");
    let (base_tree, head_tree) =
        rayon::join(|| open(&base, &base_root), || open(&head, &head_root));
    let (base_tree, head_tree) = (base_tree?, head_tree?);
    let (base_sites, head_sites) = rayon::join(
        || sites(&base, base_tree.as_ref()),
        || sites(&head, head_tree.as_ref()),
    );
    let (mut base_sites, mut head_sites) = (base_sites?, head_sites?);
    if let Some(shard) = options.shard {
        base_sites.retain(|id, _| shard.contains(id));
        head_sites.retain(|id, _| shard.contains(id));
    }
    let changed = changed_folders(&base.tree, &head.tree);
    let base_deps = Dependencies::new(&base.tree);
    let head_deps = Dependencies::new(&head.tree);

    // One plan per site: the overlays to render on each side.
    let ids: BTreeSet<&str> = base_sites
        .keys()
        .chain(head_sites.keys())
        .map(String::as_str)
        .collect();
    let overlays = base_sites
        .values()
        .chain(head_sites.values())
        .map(|s| s.overlays.len())
        .sum();
    let reaches = |deps: &Dependencies<'_>, root: &Path, dir: &Path| {
        let rel = relative(root, dir);
        changed.contains(&rel) || deps.of(&rel).iter().any(|f| changed.contains(f))
    };
    // Site by site, in parallel: find the overlays the change can reach, render them on both
    // sides, compare, and keep only the differences (a whole fleet's rendered objects never
    // sit in memory at once).
    let ids: Vec<&str> = ids.into_iter().collect();
    let total = ids.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<(usize, SiteResult)> = ids
        .into_par_iter()
        .map(|id| {
            let b = base_sites.get(id);
            let h = head_sites.get(id);
            let all = |s: &SiteDir| -> Vec<(String, PathBuf)> {
                s.overlays
                    .iter()
                    .map(|o| (o.workload.clone(), o.dir.clone()))
                    .collect()
            };
            let (mut on_base, mut on_head) = (Vec::new(), Vec::new());
            match (b, h) {
                (Some(b), Some(h)) => {
                    let workloads: BTreeSet<&str> = b
                        .overlays
                        .iter()
                        .chain(&h.overlays)
                        .map(|o| o.workload.as_str())
                        .collect();
                    for w in workloads {
                        let bo = b.overlays.iter().find(|o| o.workload == w);
                        let ho = h.overlays.iter().find(|o| o.workload == w);
                        let affected = match (bo, ho) {
                            (Some(bo), Some(ho)) => {
                                reaches(&base_deps, &base_root, &bo.dir)
                                    || reaches(&head_deps, &head_root, &ho.dir)
                            }
                            _ => true,
                        };
                        if affected {
                            on_base.extend(bo.map(|o| (o.workload.clone(), o.dir.clone())));
                            on_head.extend(ho.map(|o| (o.workload.clone(), o.dir.clone())));
                        }
                    }
                }
                (Some(b), None) => on_base = all(b),
                (None, Some(h)) => on_head = all(h),
                (None, None) => {}
            }
            let count = on_base.len() + on_head.len();
            let mut errors = Vec::new();
            let rb = render_side(&base, &base_root, base_tree.as_ref(), &on_base, &mut errors);
            let rh = render_side(&head, &head_root, head_tree.as_ref(), &on_head, &mut errors);
            if !errors.is_empty() {
                return (count, Err(errors));
            }
            let change = site_change(id, b, h, rb, rh, options.texts);
            if let Some(progress) = options.progress {
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                progress(n, total);
            }
            (count, Ok(change))
        })
        .collect();
    let rendered = results.iter().map(|r| r.0).sum();
    let results = results.into_iter().map(|r| r.1);
    let mut errors = Vec::new();
    let mut sites = Vec::new();
    for r in results {
        match r {
            Ok(Some(s)) => sites.push(s),
            Ok(None) => {}
            Err(e) => errors.extend(e),
        }
    }
    if !errors.is_empty() {
        return Err(DiffError(errors));
    }
    sites.sort_by(|a, b| a.site.cmp(&b.site));
    let unchanged = base_sites
        .keys()
        .filter(|id| head_sites.contains_key(*id))
        .count()
        - sites.iter().filter(|s| s.change == Change::Changed).count();
    Ok(FleetDiff {
        base: base.label,
        head: head.label,
        sites,
        unchanged,
        rendered,
        overlays,
    })
}

/// A site's change (or none), or the render errors that kept it from being compared.
type SiteResult = Result<Option<SiteChange>, Vec<String>>;

/// Renders `overlays` (workload, folder) of one side, in order; failures go to `errors`.
fn render_side(
    side: &Side,
    root: &Path,
    tree: Option<&FleetTree>,
    overlays: &[(String, PathBuf)],
    errors: &mut Vec<String>,
) -> Vec<(String, Vec<kustomize::Resource>)> {
    let Some(tree) = tree else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(overlays.len());
    for (workload, dir) in overlays {
        match tree.renderer().build(dir) {
            Ok(resources) => out.push((workload.clone(), resources)),
            Err(e) => errors.push(render_error(side, root, &e.to_string())),
        }
    }
    out
}

/// The tree as a filesystem the renderer reads; `None` for a tree without sites.
fn open(side: &Side, root: &Path) -> Result<Option<FleetTree>, DiffError> {
    if side
        .tree
        .paths_from(&format!("{}/", layout::SITES))
        .next()
        .is_none_or(|p| !p.starts_with(&format!("{}/", layout::SITES)))
    {
        return Ok(None);
    }
    let fs = crate::planned_fs::PlannedFs::new(side.tree.clone(), root);
    FleetTree::open(Arc::new(fs), root)
        .map(|tree| Some(tree.with_recent_parses(true)))
        .map_err(|e| DiffError(vec![render_error(side, root, &e.to_string())]))
}

fn sites(side: &Side, tree: Option<&FleetTree>) -> Result<BTreeMap<String, SiteDir>, DiffError> {
    let Some(tree) = tree else {
        return Ok(BTreeMap::new());
    };
    let found = tree.sites();
    if !found.problems.is_empty() {
        return Err(DiffError(
            found
                .problems
                .iter()
                .map(|e| render_error(side, tree.root(), &e.to_string()))
                .collect(),
        ));
    }
    let mut by_id = BTreeMap::new();
    for site in found.sites {
        if let Some(other) = by_id.insert(site.id.clone(), site) {
            return Err(DiffError(vec![format!(
                "the fleet planned from {}: site `{}` is in two region folders",
                side.label, other.id
            )]));
        }
    }
    Ok(by_id)
}

/// A message about the tree planned from `side`, with the in-memory root taken off its paths.
fn render_error(side: &Side, root: &Path, message: &str) -> String {
    let root = format!("{}/", root.display());
    format!(
        "the fleet planned from {}: {}",
        side.label,
        message.replace(&root, "")
    )
}

/// `dir` under `root`, `/`-separated.
fn relative(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root)
        .map(|p| {
            p.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
}

/// Folders holding a file that differs between the two trees (added, removed or changed).
fn changed_folders(base: &OutputTree, head: &OutputTree) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut add = |path: &str| {
        out.insert(path.rfind('/').map_or("", |i| &path[..i]).to_owned());
    };
    let mut b = base.iter().peekable();
    let mut h = head.iter().peekable();
    loop {
        match (b.peek(), h.peek()) {
            (None, None) => break,
            (Some((p, _)), None) => {
                add(p);
                b.next();
            }
            (None, Some((p, _))) => {
                add(p);
                h.next();
            }
            (Some((bp, bb)), Some((hp, hb))) => match bp.cmp(hp) {
                std::cmp::Ordering::Less => {
                    add(bp);
                    b.next();
                }
                std::cmp::Ordering::Greater => {
                    add(hp);
                    h.next();
                }
                std::cmp::Ordering::Equal => {
                    if bb != hb {
                        add(bp);
                    }
                    b.next();
                    h.next();
                }
            },
        }
    }
    out
}

type Key = (String, String, String, Option<String>, String);

fn key(workload: &str, r: &kustomize::Resource) -> Key {
    (
        workload.to_owned(),
        r.api_version().to_owned(),
        r.kind().to_owned(),
        r.namespace().map(str::to_owned),
        r.name().to_owned(),
    )
}

fn site_change(
    id: &str,
    base: Option<&SiteDir>,
    head: Option<&SiteDir>,
    b: Vec<(String, Vec<kustomize::Resource>)>,
    h: Vec<(String, Vec<kustomize::Resource>)>,
    texts: bool,
) -> Option<SiteChange> {
    let mut before: BTreeMap<Key, Value> = BTreeMap::new();
    for (w, resources) in b {
        for r in resources {
            before.insert(key(&w, &r), r.value);
        }
    }
    let mut after: BTreeMap<Key, Value> = BTreeMap::new();
    for (w, resources) in h {
        for r in resources {
            after.insert(key(&w, &r), r.value);
        }
    }
    let keys: BTreeSet<&Key> = before.keys().chain(after.keys()).collect();
    let general = |s: &str| s.replace(id, "{site}");
    let mut h = std::hash::DefaultHasher::new();
    let mut objects = Vec::new();
    for k in keys {
        let (x, y) = (before.get(k), after.get(k));
        let change = match (x, y) {
            (Some(x), Some(y)) if x == y => continue,
            (Some(_), Some(_)) => Change::Changed,
            (Some(_), None) => Change::Removed,
            (None, Some(_)) => Change::Added,
            (None, None) => continue,
        };
        // The signature: which object, how, and for a changed one every field that differs
        // with both values, the site's own id written `{site}`.
        (&k.0, &k.1, &k.2, &k.3, general(&k.4), change).hash(&mut h);
        if let (Some(x), Some(y)) = (x, y) {
            let mut leaves = Vec::new();
            changed_fields(String::new(), x, y, &mut leaves);
            for (path, a, b) in leaves {
                let text = |v: Option<&Value>| v.map(|v| general(&v.to_string()));
                (general(&path), text(a), text(b)).hash(&mut h);
            }
        }
        let keep = texts;
        objects.push(ObjectChange {
            workload: k.0.clone(),
            api_version: k.1.clone(),
            kind: k.2.clone(),
            namespace: k.3.clone(),
            name: k.4.clone(),
            change,
            before: x.filter(|_| keep).map(emit),
            after: y.filter(|_| keep).map(emit),
        });
    }
    let (change, shown, moved_from) = match (base, head) {
        (Some(b), Some(h)) => {
            let moved = (b.region != h.region || b.site_json.wave != h.site_json.wave)
                .then(|| (b.region.clone(), b.site_json.wave.clone()));
            if objects.is_empty() && moved.is_none() {
                return None;
            }
            (Change::Changed, h, moved)
        }
        (Some(b), None) => (Change::Removed, b, None),
        (None, Some(h)) => (Change::Added, h, None),
        (None, None) => return None,
    };
    change.hash(&mut h);
    moved_from.hash(&mut h);
    let signature = h.finish();
    Some(SiteChange {
        site: id.to_owned(),
        region: shown.region.clone(),
        wave: shown.site_json.wave.clone(),
        change,
        moved_from,
        objects,
        signature,
    })
}

fn emit(value: &Value) -> String {
    kustomize::emit::emit_document(value)
}

/// The fields that differ between `a` and `b` (JSON pointers), with both values; a list whose
/// length changed is one field.
fn changed_fields<'v>(
    at: String,
    a: &'v Value,
    b: &'v Value,
    out: &mut Vec<(String, Option<&'v Value>, Option<&'v Value>)>,
) {
    match (a, b) {
        _ if a == b => {}
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let path = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => changed_fields(path, p, q, out),
                    (p, q) => out.push((path, p, q)),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                changed_fields(format!("{at}/{i}"), p, q, out);
            }
        }
        _ => out.push((at, Some(a), Some(b))),
    }
}

impl FleetDiff {
    /// Sites with the same change, largest group first (then by first site id).
    pub fn groups(&self) -> Vec<Group> {
        let mut by_signature: HashMap<u64, Group> = HashMap::new();
        for (i, s) in self.sites.iter().enumerate() {
            let g = by_signature.entry(s.signature).or_insert_with(|| Group {
                sites: Vec::new(),
                regions: BTreeSet::new(),
                waves: BTreeSet::new(),
            });
            g.sites.push(i);
            g.regions.insert(s.region.clone());
            g.waves.insert(s.wave.clone());
        }
        let mut groups: Vec<Group> = by_signature.into_values().collect();
        groups.sort_by(|a, b| {
            b.sites
                .len()
                .cmp(&a.sites.len())
                .then(a.sites[0].cmp(&b.sites[0]))
        });
        groups
    }

    /// Sites added, removed and changed.
    pub fn count(&self, change: Change) -> usize {
        self.sites.iter().filter(|s| s.change == change).count()
    }

    /// Objects added, removed and changed, over every site.
    pub fn count_objects(&self, change: Change) -> usize {
        self.sites
            .iter()
            .flat_map(|s| &s.objects)
            .filter(|o| o.change == change)
            .count()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }
}

#[cfg(test)]
mod tests;
