//! From a fleet and a workload catalogue to the whole output tree, in memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use edgefleet_inventory::{
    BackhaulProfile, Diagnostic, Diagnostics, Fleet, HardwareProfile, OutageBuffer,
    PlatformProfile, Region, Site,
};
use rayon::prelude::*;
use serde_json::{Map, Value, json};

use crate::appset::{self, ArgoSettings};
use crate::cache::{Cache, FileStat};
use crate::catalogue::{Catalogue, CatalogueError, Part, RenderVars, TemplateValue, WorkloadMeta};
use crate::layout;
use crate::site_json::SiteJson;
use crate::tree::OutputTree;
use crate::yaml::{MapWriter, to_yaml};

/// Kustomize API versions of what we emit.
const KUSTOMIZATION_API: &str = "kustomize.config.k8s.io/v1beta1";
const COMPONENT_API: &str = "kustomize.config.k8s.io/v1alpha1";

/// Label keys edgefleet puts on every object of a site and on its Applications.
pub const LABEL_SITE: &str = "edgefleet.io/site";
pub const LABEL_REGION: &str = "edgefleet.io/region";
pub const LABEL_WAVE: &str = "edgefleet.io/wave";
pub const LABEL_WORKLOAD: &str = "edgefleet.io/workload";
pub const ANNOTATION_LOCATION: &str = "edgefleet.io/location";

/// Settings of a plan that do not come from the inventory.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    pub argocd: ArgoSettings,
    /// Most Applications one ApplicationSet may generate; larger regions are split.
    pub shard_size: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            argocd: ArgoSettings::default(),
            shard_size: 1000,
        }
    }
}

/// The planned tree and what it holds.
#[derive(Debug, Clone)]
pub struct Plan {
    pub tree: OutputTree,
    pub sites: usize,
    pub overlays: usize,
    pub appsets: usize,
    /// Site overlays taken from an earlier plan ([`plan_reusing`] with [`Reuse::From`]).
    pub reused: usize,
    /// Per planned site, its fingerprint and files ([`plan_skipping`] only). The files
    /// [`Skip::sink`] took (wrote into a new output folder's staging folder) are left out of
    /// `tree`: [`staged_paths`] lists them.
    pub records: Vec<SiteRecord>,
    /// The fleet-wide files of `tree` (bases, components, ApplicationSets: files of no site),
    /// sorted; none when the plan has no fleet-wide part.
    pub fleet_paths: Vec<String>,
}

/// A planned site for the rerun cache ([`crate::cache`]).
#[derive(Debug, Clone)]
pub struct SiteRecord {
    pub id: String,
    /// The digest of every input of the site's files (see [`plan_skipping`]).
    pub fingerprint: [u8; 32],
    /// The site's files, in plan order; none for a kept site (the files [`Skip::fresh`]
    /// vouched for: `generate` takes them from the rerun cache, [`crate::cache::Cache::kept_paths`]).
    pub paths: Vec<String>,
    /// Whether the site was skipped ([`Skip::fresh`] vouched for its files: they are on disk
    /// as planned and not in the tree).
    pub kept: bool,
    /// When [`Skip::sink`] took the site's files (they are not in [`Plan::tree`]): what it
    /// said about each of `paths` once written (`fstat`'s answer, `None` without one).
    pub written: Option<Vec<Option<FileStat>>>,
}

/// The files [`Skip::sink`] took, of every site in `records` ([`Plan::records`]): sorted.
pub fn staged_paths(records: &[SiteRecord]) -> Vec<&str> {
    sorted_by_site(
        records
            .iter()
            .filter(|r| r.written.is_some())
            .map(|r| r.paths.iter().map(String::as_str)),
    )
}

/// The paths of every site, sorted. Each site's files are few and share the site's folder:
/// sorting each site's files, then the sites by their first file, sorts the whole list
/// without a sort over every file (a rerun keeps half a million).
pub(crate) fn sorted_by_site<'a, S: Iterator<Item = &'a str>>(
    sites: impl Iterator<Item = S>,
) -> Vec<&'a str> {
    let mut flat: Vec<&str> = Vec::new();
    let mut spans: Vec<std::ops::Range<usize>> = Vec::new();
    for site in sites {
        let start = flat.len();
        flat.extend(site);
        if flat.len() > start {
            flat[start..].sort_unstable();
            spans.push(start..flat.len());
        }
    }
    spans.sort_unstable_by(|a, b| flat[a.start].cmp(flat[b.start]));
    let mut all = Vec::with_capacity(flat.len());
    for span in spans {
        all.extend_from_slice(&flat[span]);
    }
    if !all.is_sorted() {
        // A site with files outside its folder (not planned today): sort them all.
        all.sort_unstable();
    }
    all
}

/// How [`plan_skipping`] decides that a site need not be planned.
pub struct Skip<'a> {
    /// What else the site's files depend on: the generator build and the plan settings.
    pub identity: [u8; 32],
    /// `(site id, fingerprint, paths)` → whether those files are on disk as planned for that
    /// fingerprint.
    pub fresh: &'a FreshCheck<'a>,
    /// Called on the planner's threads with each planned site's files as soon as the site is
    /// planned (not for sites the rerun cache vouches for): `generate` writes a new output
    /// folder while planning goes on ([`crate::write::FreshWriter`]). When it returns what it
    /// found about each file once written (in the tree's order) it took the files, and the
    /// plan keeps only their paths ([`SiteRecord::written`], [`staged_paths`]), so memory does
    /// not grow with the planned tree.
    pub sink: Option<&'a SiteSink<'a>>,
}

/// What [`Skip::sink`] is given: one site's planned files; it returns, when it took them, what
/// `fstat` said about each once written, in the tree's order.
pub type SiteSink<'a> = dyn Fn(&OutputTree) -> Option<Vec<Option<FileStat>>> + Sync + 'a;

/// `(site id, fingerprint, paths)` → whether those files are on disk as planned.
pub type FreshCheck<'a> = dyn Fn(&str, &[u8; 32], &[String]) -> bool + Sync + 'a;

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{0}")]
    Inventory(Diagnostics),
    #[error("{0}")]
    Catalogue(#[from] CatalogueError),
}

/// Where a site's folder is, relative to the output root.
pub fn site_dir(site: &Site) -> String {
    layout::site_dir(&site.region, &site.id)
}

/// The workloads a site runs, in catalogue order: those it lists, or every workload that is not
/// opt-in.
pub fn site_workloads<'c>(site: &Site, catalogue: &'c Catalogue) -> Vec<&'c WorkloadMeta> {
    match &site.workloads {
        None => catalogue.workloads().filter(|w| !w.opt_in).collect(),
        Some(names) => catalogue
            .workloads()
            .filter(|w| names.iter().any(|n| n == &w.name))
            .collect(),
    }
}

/// Plan the whole tree. `progress` is called with the number of sites planned so far.
pub fn plan(
    fleet: &Fleet,
    catalogue: &Catalogue,
    options: &PlanOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Plan, PlanError> {
    plan_part(fleet, catalogue, options, progress, &|_| true, true)
}

/// [`plan`] of a part of the fleet (`generate --check --shard K/N`): the folders of the sites
/// `keep` accepts (by id), and the fleet-wide files (bases, components, ApplicationSets) when
/// `fleet_wide`. What is planned is byte for byte what [`plan`] plans for the same paths: the
/// whole fleet still decides the ApplicationSet shard of each site.
pub fn plan_part(
    fleet: &Fleet,
    catalogue: &Catalogue,
    options: &PlanOptions,
    progress: &(dyn Fn(usize) + Sync),
    keep: &(dyn Fn(&str) -> bool + Sync),
    fleet_wide: bool,
) -> Result<Plan, PlanError> {
    plan_general(
        fleet,
        catalogue,
        options,
        progress,
        keep,
        fleet_wide,
        Reuse::Off,
        None,
    )
    .map(|(plan, _)| plan)
}

/// [`plan_part`] for a rerun (`generate`): each site's fingerprint is computed first (a digest
/// of `skip.identity`, the site's `site.json` and, per workload, its overlay's path and
/// inputs, as [`plan_reusing`] keys them), and a site `skip.fresh` vouches for is not templated:
/// its files are left out of the tree (they are on disk as planned). Every site's fingerprint,
/// and the files of every site planned, are in [`Plan::records`].
pub fn plan_skipping(
    fleet: &Fleet,
    catalogue: &Catalogue,
    options: &PlanOptions,
    progress: &(dyn Fn(usize) + Sync),
    keep: &(dyn Fn(&str) -> bool + Sync),
    fleet_wide: bool,
    skip: &Skip<'_>,
) -> Result<Plan, PlanError> {
    plan_general(
        fleet,
        catalogue,
        options,
        progress,
        keep,
        fleet_wide,
        Reuse::Off,
        Some(skip),
    )
    .map(|(plan, _)| plan)
}

/// The inputs of each site overlay of a plan, as digests by overlay file: what
/// [`plan_reusing`] compares to take an overlay from an earlier plan.
#[derive(Debug, Default, Clone)]
pub struct OverlayKeys(std::collections::HashMap<String, [u8; 32]>);

/// Whether a plan records or reuses site overlays (`diff` plans two revisions of one fleet).
pub enum Reuse<'a> {
    /// Neither (`generate`, `lint`).
    Off,
    /// Record the inputs of every site overlay.
    Record,
    /// Take a site overlay from `tree` (an earlier plan) when its inputs are those `keys`
    /// recorded for the same file; render the others.
    From {
        tree: &'a OutputTree,
        keys: &'a OverlayKeys,
    },
}

/// [`plan`], recording or reusing site overlays (see [`Reuse`]). A site overlay's inputs are
/// the site (its inventory entry), the context its site template sees, the workload's metadata,
/// the components planned for the workload, and [`Catalogue::site_fingerprint`]: equal inputs
/// give the same file, so the reused one is the file this plan would write.
pub fn plan_reusing(
    fleet: &Fleet,
    catalogue: &Catalogue,
    options: &PlanOptions,
    progress: &(dyn Fn(usize) + Sync),
    reuse: Reuse<'_>,
) -> Result<(Plan, OverlayKeys), PlanError> {
    plan_general(
        fleet,
        catalogue,
        options,
        progress,
        &|_| true,
        true,
        reuse,
        None,
    )
}

#[allow(clippy::too_many_arguments)]
fn plan_general(
    fleet: &Fleet,
    catalogue: &Catalogue,
    options: &PlanOptions,
    progress: &(dyn Fn(usize) + Sync),
    keep: &(dyn Fn(&str) -> bool + Sync),
    fleet_wide: bool,
    reuse: Reuse<'_>,
    skip: Option<&Skip<'_>>,
) -> Result<(Plan, OverlayKeys), PlanError> {
    check_selections(fleet, catalogue)?;

    // Which profiles and regions each workload meets, so only components in use are emitted.
    let mut used: BTreeMap<&str, [BTreeSet<&str>; 3]> = BTreeMap::new();
    for site in &fleet.sites {
        for w in site_workloads(site, catalogue) {
            let u = used.entry(w.name.as_str()).or_default();
            u[0].insert(&site.hardware);
            u[1].insert(&site.backhaul);
            u[2].insert(&site.region);
        }
    }

    let mut tree = OutputTree::new();
    // component presence: (part, profile, workload)
    let mut components: BTreeSet<(Part, String, String)> = BTreeSet::new();
    for (workload, [hardware, backhaul, regions]) in &used {
        plan_base(&mut tree, catalogue, workload)?;
        for hw in hardware {
            let ctx = json!({ "hardware": hardware_context(&fleet.hardware[*hw]) });
            if plan_component(&mut tree, catalogue, workload, Part::Hardware, hw, &ctx)? {
                components.insert((Part::Hardware, hw.to_string(), workload.to_string()));
            }
        }
        for bh in backhaul {
            let ctx = json!({ "backhaul": backhaul_context(&fleet.backhaul[*bh]) });
            if plan_component(&mut tree, catalogue, workload, Part::Backhaul, bh, &ctx)? {
                components.insert((Part::Backhaul, bh.to_string(), workload.to_string()));
            }
        }
        for region in regions {
            let ctx = json!({ "region": region_context(&fleet.regions[*region]) });
            if plan_component(&mut tree, catalogue, workload, Part::Region, region, &ctx)? {
                components.insert((Part::Region, region.to_string(), workload.to_string()));
            }
        }
    }

    let shards = appset::shards(fleet, options.shard_size);
    let done = AtomicUsize::new(0);
    // Recording or reusing: what each workload's site overlays share, digested once.
    let digests: BTreeMap<&str, [u8; 32]> = match reuse {
        Reuse::Off if skip.is_none() => BTreeMap::new(),
        _ => catalogue
            .workloads()
            .map(|w| (w.name.as_str(), workload_digest(catalogue, w, &components)))
            .collect(),
    };
    let profiles = skip.map(|_| ProfileDigests::digests(fleet));
    let contexts = ProfileContexts::for_templates(fleet);
    let buffers = BufferValues::default();
    let per_site: Vec<Result<SitePlan, CatalogueError>> = fleet
        .sites
        .par_iter()
        .zip(shards.par_iter())
        .filter(|(site, _)| keep(&site.id))
        .map(|(site, shard)| {
            let r = plan_site(
                fleet,
                catalogue,
                site,
                *shard,
                &components,
                &reuse,
                &digests,
                skip.zip(profiles.as_ref()),
                &contexts,
                &buffers,
            );
            let mut r = r;
            if let (Ok(planned), Some(sink)) = (&mut r, skip.and_then(|s| s.sink))
                && let Some(record) = &mut planned.record
                && !planned.tree.is_empty()
                // The record lists the site's files: the plan keeps only those paths.
                && planned.tree.len() == record.paths.len()
                && record.paths.iter().all(|p| planned.tree.get(p).is_some())
                && let Some(stats) = sink(&planned.tree)
            {
                let taken = std::mem::take(&mut planned.tree);
                let by_path: Vec<(&str, Option<FileStat>)> = taken.paths().zip(stats).collect();
                record.written = Some(
                    record
                        .paths
                        .iter()
                        .map(|p| {
                            by_path
                                .iter()
                                .find(|(q, _)| q == p)
                                .and_then(|(_, stat)| *stat)
                        })
                        .collect(),
                );
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            r
        })
        .collect();
    let planned_sites = per_site.len();
    // The fleet-wide files so far (bases and components); the sites' files join them below.
    let mut fleet_paths: Vec<String> = Vec::new();
    if fleet_wide {
        fleet_paths.extend(tree.paths().map(str::to_owned));
    } else {
        tree = OutputTree::new();
    }
    let mut overlays = 0;
    let mut keys = OverlayKeys::default();
    let mut reused = 0;
    let mut records = Vec::new();
    for r in per_site {
        let site = r?;
        overlays += site.overlays;
        reused += site.reused;
        tree.extend(site.tree);
        keys.0.extend(site.keys);
        records.extend(site.record);
    }

    let appset_count = if fleet_wide {
        let appsets = appset::plan_appsets(fleet, catalogue, options)?;
        let n = appsets.len();
        fleet_paths.extend(appsets.paths().map(str::to_owned));
        fleet_paths.sort_unstable();
        fleet_paths.dedup();
        tree.extend(appsets);
        n
    } else {
        0
    };

    Ok((
        Plan {
            tree,
            sites: planned_sites,
            overlays,
            appsets: appset_count,
            reused,
            records,
            fleet_paths,
        },
        keys,
    ))
}

/// Every workload a site selects or overrides must exist in the catalogue.
fn check_selections(fleet: &Fleet, catalogue: &Catalogue) -> Result<(), PlanError> {
    let known = || {
        catalogue
            .workloads()
            .map(|w| w.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut diags = Diagnostics::default();
    for site in &fleet.sites {
        for (i, name) in site.workloads.iter().flatten().enumerate() {
            if catalogue.get(name).is_none() {
                diags.push(Diagnostic::new(
                    site.source.field(&format!("workloads/{i}")).clone(),
                    format!("unknown workload `{name}` (the catalogue has: {})", known()),
                ));
            }
        }
        for name in site.overrides.keys() {
            if catalogue.get(name).is_none() {
                diags.push(Diagnostic::new(
                    site.source.field(&format!("overrides/{name}")).clone(),
                    format!(
                        "override for unknown workload `{name}` (the catalogue has: {})",
                        known()
                    ),
                ));
            } else if site.workloads.as_ref().is_some_and(|ws| !ws.contains(name)) {
                diags.push(Diagnostic::new(
                    site.source.field(&format!("overrides/{name}")).clone(),
                    format!("override for workload `{name}`, which this site does not run"),
                ));
            }
        }
    }
    if diags.is_empty() {
        Ok(())
    } else {
        diags.sort();
        Err(PlanError::Inventory(diags))
    }
}

/// `deployment-telemetry-collector.yaml`; unique within a folder.
fn object_file_name(doc: &Value, taken: &mut BTreeSet<String>) -> String {
    let kind = doc["kind"]
        .as_str()
        .unwrap_or("object")
        .to_ascii_lowercase();
    let name = doc["metadata"]["name"].as_str().unwrap_or("unnamed");
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut file = format!("{kind}-{safe}.yaml");
    let mut n = 2;
    while !taken.insert(file.clone()) {
        file = format!("{kind}-{safe}-{n}.yaml");
        n += 1;
    }
    file
}

fn plan_base(
    tree: &mut OutputTree,
    catalogue: &Catalogue,
    workload: &str,
) -> Result<(), PlanError> {
    let docs = catalogue.render(workload, Part::Base, &json!({}))?;
    let dir = layout::base_dir(workload);
    let mut taken = BTreeSet::new();
    let mut resources = Vec::new();
    for doc in &docs {
        let file = object_file_name(doc, &mut taken);
        tree.insert(format!("{dir}/{file}"), to_yaml(doc));
        resources.push(Value::String(file));
    }
    let kustomization = json!({
        "apiVersion": KUSTOMIZATION_API,
        "kind": "Kustomization",
        "resources": resources,
    });
    tree.insert(
        format!("{dir}/{}", layout::KUSTOMIZATION),
        to_yaml(&kustomization),
    );
    Ok(())
}

/// Emits `components/<part>/<profile>/<workload>/`; false when the part renders nothing.
fn plan_component(
    tree: &mut OutputTree,
    catalogue: &Catalogue,
    workload: &str,
    part: Part,
    profile: &str,
    ctx: &Value,
) -> Result<bool, PlanError> {
    let docs = catalogue.render(workload, part, ctx)?;
    if docs.is_empty() {
        return Ok(false);
    }
    let dir = layout::component_dir(part.as_str(), profile, workload);
    let mut taken = BTreeSet::new();
    let mut patches = Vec::new();
    for doc in &docs {
        let file = object_file_name(doc, &mut taken);
        tree.insert(format!("{dir}/{file}"), to_yaml(doc));
        patches.push(json!({ "path": file }));
    }
    let component = json!({
        "apiVersion": COMPONENT_API,
        "kind": "Component",
        "patches": patches,
    });
    tree.insert(
        format!("{dir}/{}", layout::KUSTOMIZATION),
        to_yaml(&component),
    );
    Ok(true)
}

/// One site's files, the number of its overlays, and (when recording or reusing) their inputs.
struct SitePlan {
    tree: OutputTree,
    overlays: usize,
    reused: usize,
    keys: Vec<(String, [u8; 32])>,
    record: Option<SiteRecord>,
}

/// The digest of what a workload's site overlays share (see [`plan_reusing`]): the catalogue's
/// [`Catalogue::site_fingerprint`], the workload's metadata and the components planned for it.
fn workload_digest(
    catalogue: &Catalogue,
    workload: &WorkloadMeta,
    components: &BTreeSet<(Part, String, String)>,
) -> [u8; 32] {
    let used: Vec<&(Part, String, String)> =
        components.iter().filter(|c| c.2 == workload.name).collect();
    digest([
        catalogue.site_fingerprint().as_slice(),
        format!("{workload:?}").as_bytes(),
        format!("{used:?}").as_bytes(),
    ])
}

/// Something computed once per profile and region from the context site templates see of it:
/// its value converted for the templates ([`ProfileContexts`]) or its digest
/// ([`ProfileDigests`]).
struct PerProfile<T> {
    hardware: BTreeMap<String, T>,
    backhaul: BTreeMap<String, T>,
    region: BTreeMap<String, T>,
    /// By (platform, hardware): a platform's context depends on the hardware.
    platform: BTreeMap<(String, String), T>,
}

impl<T> PerProfile<T> {
    fn of(fleet: &Fleet, of_context: impl Fn(Value) -> T) -> PerProfile<T> {
        let mut platform = BTreeMap::new();
        for site in &fleet.sites {
            if let Some(p) = fleet.platform_of(site) {
                platform
                    .entry((p.name.clone(), site.hardware.clone()))
                    .or_insert_with(|| of_context(platform_context(p, fleet.hardware_of(site))));
            }
        }
        PerProfile {
            hardware: fleet
                .hardware
                .iter()
                .map(|(k, v)| (k.clone(), of_context(hardware_context(v))))
                .collect(),
            backhaul: fleet
                .backhaul
                .iter()
                .map(|(k, v)| (k.clone(), of_context(backhaul_context(v))))
                .collect(),
            region: fleet
                .regions
                .iter()
                .map(|(k, v)| (k.clone(), of_context(region_context(v))))
                .collect(),
            platform,
        }
    }

    /// The site's platform entry (`None` without a platform).
    fn platform_of(&self, fleet: &Fleet, site: &Site) -> Option<&T> {
        let p = fleet.platform_of(site)?;
        self.platform.get(&(p.name.clone(), site.hardware.clone()))
    }
}

/// What site templates see of each profile and region, converted for the templates once per
/// run (the same values every site of the profile would give).
type ProfileContexts = PerProfile<TemplateValue>;

/// Outage buffers converted for the templates by their JSON text, each distinct buffer once
/// per run: sites of the same profiles share them (a fleet has a few dozen distinct buffers,
/// one per workload, backhaul and hardware, and per override).
#[derive(Default)]
struct BufferValues(std::sync::Mutex<HashMap<String, TemplateValue>>);

impl BufferValues {
    /// `buffer` for the templates, as [`RenderVars::set`] converts its JSON value; `json` is
    /// its JSON text.
    fn get(&self, json: &str, buffer: &OutageBuffer) -> TemplateValue {
        let mut known = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(converted) = known.get(json) {
            return converted.clone();
        }
        let converted = RenderVars::value(&serde_json::to_value(buffer).unwrap_or(Value::Null));
        known.insert(json.to_owned(), converted.clone());
        converted
    }
}

impl ProfileContexts {
    fn for_templates(fleet: &Fleet) -> ProfileContexts {
        PerProfile::of(fleet, |v| RenderVars::value(&v))
    }

    /// The variables of `site`'s site templates but `buffer` (null until set), `site_ctx`
    /// being [`site_context`] of the site: what [`RenderVars::from_json`] of the whole
    /// context gives.
    fn site_vars(&self, fleet: &Fleet, site: &Site, site_ctx: &Value) -> RenderVars {
        let mut vars = RenderVars::default();
        vars.set("site", site_ctx);
        let mut set = |name: &str, value: Option<&TemplateValue>, json: &dyn Fn() -> Value| {
            match value {
                Some(v) => vars.set_value(name, v.clone()),
                // A profile the fleet does not hold (the inventory check refuses these first).
                None => vars.set(name, &json()),
            }
        };
        let hardware = fleet.hardware_of(site);
        set("hardware", self.hardware.get(&site.hardware), &|| {
            hardware_context(hardware)
        });
        set("backhaul", self.backhaul.get(&site.backhaul), &|| {
            backhaul_context(fleet.backhaul_of(site))
        });
        set("region", self.region.get(&site.region), &|| {
            region_context(fleet.region_of(site))
        });
        let platform = fleet.platform_of(site);
        set("platform", self.platform_of(fleet, site), &|| {
            platform.map_or(Value::Null, |p| platform_context(p, hardware))
        });
        vars.set("buffer", &Value::Null);
        vars
    }
}

/// Digests of the contexts site templates see of each profile and region (for the
/// fingerprints of [`plan_skipping`]: one digest per profile, not one serialisation per overlay).
type ProfileDigests = PerProfile<[u8; 32]>;

impl ProfileDigests {
    fn digests(fleet: &Fleet) -> ProfileDigests {
        PerProfile::of(fleet, |v| digest([v.to_string().as_bytes()]))
    }

    /// The digest of what every site template of `site` sees but its outage buffer.
    fn site(&self, fleet: &Fleet, site: &Site) -> [u8; 32] {
        let none = [0u8; 32];
        digest([
            site_fields(site).as_bytes(),
            self.hardware.get(&site.hardware).unwrap_or(&none),
            self.backhaul.get(&site.backhaul).unwrap_or(&none),
            self.region.get(&site.region).unwrap_or(&none),
            self.platform_of(fleet, site).unwrap_or(&none),
        ])
    }
}

/// Every field of a site but where it was written (a change of file or line is no change of the
/// site); naming each field makes a new one a compile error here, not a missed input.
fn site_fields(site: &Site) -> String {
    let Site {
        id,
        region,
        hardware,
        backhaul,
        platform,
        wave,
        cluster,
        labels,
        annotations,
        location,
        workloads,
        overrides,
        offline,
        source: _,
    } = site;
    format!(
        "{id:?} {region:?} {hardware:?} {backhaul:?} {platform:?} {wave:?} {cluster:?} \
         {labels:?} {annotations:?} {location:?} {workloads:?} {overrides:?} {offline:?}"
    )
}

/// The digest of a site overlay's inputs: its workload's [`workload_digest`], the site and the
/// context its site template sees.
fn overlay_key(workload: &[u8; 32], site: &Site, ctx: &Value) -> [u8; 32] {
    digest([
        workload.as_slice(),
        site_fields(site).as_bytes(),
        ctx.to_string().as_bytes(),
    ])
}

/// SHA-256 of length-prefixed parts (no two part lists give the same bytes).
fn digest<const N: usize>(parts: [&[u8]; N]) -> [u8; 32] {
    digest_parts(&parts)
}

fn digest_parts(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    h.finalize().into()
}

#[allow(clippy::too_many_arguments)]
fn plan_site(
    fleet: &Fleet,
    catalogue: &Catalogue,
    site: &Site,
    shard: usize,
    components: &BTreeSet<(Part, String, String)>,
    reuse: &Reuse<'_>,
    digests: &BTreeMap<&str, [u8; 32]>,
    skip: Option<(&Skip<'_>, &ProfileDigests)>,
    contexts: &ProfileContexts,
    buffer_values: &BufferValues,
) -> Result<SitePlan, CatalogueError> {
    let hardware = fleet.hardware_of(site);
    let backhaul = fleet.backhaul_of(site);
    let region = fleet.region_of(site);
    let mut tree = OutputTree::new();
    let workloads = site_workloads(site, catalogue);
    // Per workload: its overlay's path and the buffer its template sees.
    let mut planned = Vec::with_capacity(workloads.len());
    for w in &workloads {
        let buffer = buffer_for(w, site, backhaul, hardware);
        let path = layout::join(&[
            layout::SITES,
            &site.region,
            &site.id,
            &w.name,
            layout::KUSTOMIZATION,
        ]);
        planned.push((*w, path, buffer));
    }
    let json_path = layout::site_json(&site.region, &site.id);
    let json_text = site_json(fleet, site, shard, catalogue, &workloads).to_text();
    // Each buffer's JSON: part of the fingerprint, and the key of its converted values.
    let buffers: Vec<String> = planned
        .iter()
        .map(|p| serde_json::to_string(&p.2).unwrap_or_default())
        .collect();
    // The fingerprint: the inputs of every overlay_key of the site (the workload digests, the
    // site's fields and the contexts its templates see), and its site.json.
    let record = skip.map(|(skip, profiles)| {
        let mut paths: Vec<String> = planned.iter().map(|p| p.1.clone()).collect();
        paths.push(json_path.clone());
        let seen = profiles.site(fleet, site);
        let none = [0u8; 32];
        let mut parts: Vec<&[u8]> = vec![
            skip.identity.as_slice(),
            json_text.as_bytes(),
            seen.as_slice(),
        ];
        for ((w, path, _), buffer) in planned.iter().zip(&buffers) {
            parts.push(path.as_bytes());
            parts.push(digests.get(w.name.as_str()).unwrap_or(&none));
            parts.push(buffer.as_bytes());
        }
        let fingerprint = digest_parts(&parts);
        let kept = (skip.fresh)(&site.id, &fingerprint, &paths);
        SiteRecord {
            id: site.id.clone(),
            fingerprint,
            // A rerun keeps nearly every site: their paths are the ones `fresh` knows.
            paths: if kept { Vec::new() } else { paths },
            kept,
            written: None,
        }
    });
    if record.as_ref().is_some_and(|r| r.kept) {
        return Ok(SitePlan {
            tree,
            overlays: workloads.len(),
            reused: 0,
            keys: Vec::new(),
            record,
        });
    }
    // The context of the site templates (docs/templates.md): the profiles' parts converted
    // once per run, the site's once per site; only the buffer differs between workloads. As
    // JSON only when overlays are recorded or reused (their key digests it).
    let site_json_ctx = site_context(site);
    let mut vars = contexts.site_vars(fleet, site, &site_json_ctx);
    let mut site_ctx = match reuse {
        Reuse::Off => None,
        _ => Some(json!({
            "site": site_json_ctx,
            "hardware": hardware_context(hardware),
            "backhaul": backhaul_context(backhaul),
            "region": region_context(region),
            "platform": fleet
                .platform_of(site)
                .map(|p| platform_context(p, hardware))
                .unwrap_or(Value::Null),
            "buffer": Value::Null,
        })),
    };
    let mut keys = Vec::new();
    let mut reused = 0;
    for ((w, path, buffer), buffer_json) in planned.into_iter().zip(&buffers) {
        vars.set_value("buffer", buffer_values.get(buffer_json, &buffer));
        let key = match &mut site_ctx {
            None => None,
            Some(site_ctx) => {
                site_ctx["buffer"] = serde_json::to_value(&buffer).unwrap_or(Value::Null);
                digests
                    .get(w.name.as_str())
                    .map(|d| overlay_key(d, site, site_ctx))
            }
        };
        let earlier = match (reuse, key) {
            (
                Reuse::From {
                    tree: earlier,
                    keys,
                },
                Some(key),
            ) => keys
                .0
                .get(&path)
                .filter(|k| **k == key)
                .and_then(|_| earlier.get(&path))
                .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok()),
            _ => None,
        };
        let text = match earlier {
            Some(text) => {
                reused += 1;
                text
            }
            None => {
                let patches = catalogue.render_vars_yaml(&w.name, Part::Site, &vars)?;
                site_kustomization(site, w, components, &patches)
            }
        };
        if let Some(key) = key {
            keys.push((path.clone(), key));
        }
        tree.insert(path, text);
    }
    tree.insert(json_path, json_text);
    Ok(SitePlan {
        tree,
        overlays: workloads.len(),
        reused,
        keys,
        record,
    })
}

/// The outage buffer of a workload at a site (the site's override of the rate wins).
pub fn buffer_for(
    workload: &WorkloadMeta,
    site: &Site,
    backhaul: &BackhaulProfile,
    hardware: &HardwareProfile,
) -> OutageBuffer {
    match workload.upstream_demand() {
        None => OutageBuffer::disabled(),
        Some(mut demand) => {
            if let Some(rate) = site
                .overrides
                .get(&workload.name)
                .and_then(|o| o.upstream_kbps)
            {
                demand.upstream_kbps = rate;
            }
            OutageBuffer::compute(&demand, backhaul, hardware)
        }
    }
}

/// Site → workload → the outage buffer (MiB) its site overlay declares
/// (`edgefleet.io/outage-buffer`). `generate` warns where it is smaller than the outage needs.
pub type Declared = HashMap<String, BTreeMap<String, u64>>;

/// Adds to `declared` what a plan declares: what the rerun cache noted for the sites it did
/// not plan again ([`crate::cache::SiteEntry::declared`]), and what the overlays in its tree
/// say ([`declared_in`]).
pub fn declared_buffers(planned: &Plan, cache: Option<&Cache>, declared: &mut Declared) {
    for record in planned.records.iter().filter(|r| r.kept) {
        let Some(entry) = cache.and_then(|c| c.site(&record.id)) else {
            continue;
        };
        for (workload, mib) in entry.declared() {
            declared
                .entry(record.id.clone())
                .or_default()
                .insert(workload.to_owned(), mib);
        }
    }
    declared_in(&planned.tree, declared);
}

/// Adds to `declared` the outage buffers the site overlays of `tree` declare
/// (`edgefleet.io/outage-buffer`; the smallest when an overlay says it twice). It reads every
/// planned overlay: `generate` calls it on each site's files as the writer takes them.
pub fn declared_in(tree: &OutputTree, declared: &mut Declared) {
    const KEY: &str = "edgefleet.io/outage-buffer:";
    // Built once: a searcher per overlay cost more than the search.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(KEY));
    for (path, bytes) in tree.iter() {
        let mut parts = path.split('/');
        let (Some(layout::SITES), Some(_region), Some(site), Some(workload), Some(_file)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        // Each line that holds the key after its indentation (found with a substring search,
        // not line by line: this runs on every planned overlay).
        for at in FINDER.find_iter(bytes) {
            let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
            if !text[line_start..at].chars().all(char::is_whitespace) {
                continue;
            }
            let rest = &text[at + KEY.len()..];
            let value = rest.find('\n').map_or(rest, |end| &rest[..end]);
            let value = value.trim().trim_matches(|c| c == '"' || c == '\'');
            if let Ok(q) = edgefleet_inventory::units::Quantity::parse(value) {
                let mib = q.mib();
                declared
                    .entry(site.to_owned())
                    .or_default()
                    .entry(workload.to_owned())
                    .and_modify(|m: &mut u64| *m = (*m).min(mib))
                    .or_insert(mib);
            }
        }
    }
}

/// A site overlay's `kustomization.yaml`, written entry by entry ([`MapWriter`]): the text
/// `to_yaml` gives of the mapping with these entries. `patches` are the site template's
/// documents, each already written as YAML.
fn site_kustomization(
    site: &Site,
    workload: &WorkloadMeta,
    components: &BTreeSet<(Part, String, String)>,
    patches: &[String],
) -> String {
    let up = layout::OVERLAY_TO_ROOT;
    let mut comps = Vec::new();
    for (part, profile) in [
        (Part::Hardware, &site.hardware),
        (Part::Backhaul, &site.backhaul),
        (Part::Region, &site.region),
    ] {
        if components.contains(&(part, profile.clone(), workload.name.clone())) {
            comps.push(layout::join(&[
                up,
                layout::COMPONENTS,
                part.as_str(),
                profile,
                &workload.name,
            ]));
        }
    }
    let mut pairs = Map::new();
    pairs.insert(LABEL_SITE.into(), site.id.clone().into());
    pairs.insert(LABEL_REGION.into(), site.region.clone().into());
    pairs.insert(LABEL_WAVE.into(), site.wave.clone().into());
    for (k, v) in &site.labels {
        pairs.insert(k.clone(), v.clone().into());
    }
    let mut k = MapWriter::new();
    k.string("apiVersion", KUSTOMIZATION_API);
    k.string("kind", "Kustomization");
    k.string("namespace", &workload.namespace);
    let base = layout::join(&[up, layout::BASES, &workload.name]);
    k.strings("resources", [base.as_str()]);
    if !comps.is_empty() {
        k.strings("components", comps.iter().map(String::as_str));
    }
    k.value(
        "labels",
        &json!([{ "pairs": pairs, "includeSelectors": false, "includeTemplates": true }]),
    );
    let mut annotations: Map<String, Value> = site
        .annotations
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if !site.location.is_empty() {
        annotations.insert(ANNOTATION_LOCATION.into(), site.location.clone().into());
    }
    if !annotations.is_empty() {
        k.value("commonAnnotations", &Value::Object(annotations));
    }
    if !patches.is_empty() {
        k.keyed_strings("patches", "patch", patches.iter().map(String::as_str));
    }
    k.value("sortOptions", &json!({ "order": "legacy" }));
    k.finish()
}

/// Parameters of a site for the ApplicationSet git-files generator (see [`SiteJson`]).
pub fn site_json(
    fleet: &Fleet,
    site: &Site,
    shard: usize,
    catalogue: &Catalogue,
    workloads: &[&WorkloadMeta],
) -> SiteJson {
    let region = fleet.region_of(site);
    SiteJson {
        site: site.id.clone(),
        region: site.region.clone(),
        jurisdiction: region.jurisdiction.clone(),
        zone: region.zone.clone(),
        cluster: site.cluster.clone(),
        hardware: site.hardware.clone(),
        backhaul: site.backhaul.clone(),
        platform: fleet.platform_of(site).map(|p| p.name.clone()),
        distribution: fleet.platform_of(site).map(|p| p.distribution),
        wave: site.wave.clone(),
        rollout_step: fleet.rollout_step(site).to_owned(),
        shard,
        workloads: catalogue
            .workloads()
            .map(|w| (w.name.clone(), workloads.iter().any(|x| x.name == w.name)))
            .collect(),
        extra: Vec::new(),
    }
}

pub fn hardware_context(h: &HardwareProfile) -> Value {
    json!({
        "name": h.name,
        "arch": h.arch,
        "cpu": h.cpu.text,
        "memory": h.memory.text,
        "ephemeral_storage": h.ephemeral_storage.text,
        "cpu_millis": h.cpu.millis(),
        "memory_mib": h.memory.mib(),
        "ephemeral_storage_mib": h.ephemeral_storage.mib(),
        "accelerators": h.accelerators,
        "gpu": h.gpus(),
        "power_watts": h.power_watts,
        "tee": h.tee.map(|t| t.as_str()),
    })
}

/// The site's platform as templates see it: [`PlatformProfile::context`].
pub fn platform_context(p: &PlatformProfile, hardware: &HardwareProfile) -> Value {
    p.context(hardware)
}

pub fn backhaul_context(b: &BackhaulProfile) -> Value {
    json!({
        "name": b.name,
        "bandwidth_kbps": b.bandwidth_kbps,
        "metered": b.metered,
        "latency_ms": b.latency_ms,
        "max_outage": b.max_outage.text,
        "max_outage_seconds": b.max_outage.seconds,
        "can_drop": b.can_drop(),
    })
}

pub fn region_context(r: &Region) -> Value {
    json!({
        "name": r.name,
        "jurisdiction": r.jurisdiction,
        "zone": r.zone,
        "endpoints": r.endpoints,
    })
}

pub fn site_context(s: &Site) -> Value {
    json!({
        "id": s.id,
        "region": s.region,
        "hardware": s.hardware,
        "backhaul": s.backhaul,
        "wave": s.wave,
        "cluster": s.cluster,
        "labels": s.labels,
        "annotations": s.annotations,
        "location": s.location,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A site overlay as the planner writes it, with the outage-buffer annotation of one
    /// workload in its patch.
    const TELEMETRY_OVERLAY: &str = r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: edge-telemetry
resources:
- ../../../../bases/telemetry-collector
patches:
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: telemetry-collector
      annotations:
        edgefleet.io/upstream-kbps: "256"
        edgefleet.io/outage-buffer: 7911Mi
        edgefleet.io/outage-buffer-volume: queue
sortOptions:
  order: legacy
"#;

    /// Two patches that each declare a buffer (quoted; the smaller first), a comment that
    /// mentions the key and a value that is no quantity.
    const BROKER_OVERLAY: &str = r#"apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# before the template sized it: edgefleet.io/outage-buffer: 1Mi
patches:
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: broker-bridge
      annotations:
        edgefleet.io/outage-buffer: '512Mi'
- patch: |
    apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: broker
      annotations:
        edgefleet.io/outage-buffer: "2Gi"
- patch: |
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: broker-settings
      annotations:
        edgefleet.io/outage-buffer: plenty
"#;

    /// What the fixtures' two sites declare: the broker's smaller buffer and the collector's at
    /// a rig, the collector's (660Mi in its overlay) at a rail site.
    const RIG: (&str, &[(&str, u64)]) = (
        "rig-nsea-042",
        &[("broker", 512), ("telemetry-collector", 7911)],
    );
    const RAIL: (&str, &[(&str, u64)]) = ("rail-i10-mp187", &[("telemetry-collector", 660)]);

    fn rail_overlay() -> String {
        TELEMETRY_OVERLAY.replace("7911Mi", "660Mi")
    }

    fn tree(files: &[(&str, &[u8])]) -> OutputTree {
        let mut tree = OutputTree::new();
        for (path, bytes) in files {
            tree.insert(*path, *bytes);
        }
        tree
    }

    fn declared(entries: &[(&str, &[(&str, u64)])]) -> Declared {
        entries
            .iter()
            .map(|(site, workloads)| {
                let workloads = workloads.iter().map(|(w, mib)| (w.to_string(), *mib));
                (site.to_string(), workloads.collect())
            })
            .collect()
    }

    #[test]
    fn declared_in_reads_the_site_overlays_of_a_tree() {
        let annotated = b"metadata:\n  annotations:\n    edgefleet.io/outage-buffer: 64Mi\n";
        let tree = tree(&[
            (
                "sites/eu-north/rig-nsea-042/telemetry-collector/kustomization.yaml",
                TELEMETRY_OVERLAY.as_bytes(),
            ),
            (
                "sites/eu-north/rig-nsea-042/broker/kustomization.yaml",
                BROKER_OVERLAY.as_bytes(),
            ),
            (
                "sites/us-gulf/rail-i10-mp187/telemetry-collector/kustomization.yaml",
                rail_overlay().as_bytes(),
            ),
            // Not a site overlay: a base, a component, a site's parameters.
            ("bases/telemetry-collector/deployment.yaml", annotated),
            (
                "components/backhaul/vsat-2m/telemetry-collector/kustomization.yaml",
                annotated,
            ),
            ("sites/us-gulf/rail-i10-mp187/site.json", annotated),
            // Not UTF-8.
            (
                "sites/us-gulf/rail-i10-mp187/metrics-agent/kustomization.yaml",
                b"edgefleet.io/outage-buffer: 64Mi\n\xff\n",
            ),
        ]);
        let mut found = Declared::new();
        declared_in(&tree, &mut found);
        assert_eq!(found, declared(&[RIG, RAIL]));
    }

    #[test]
    fn declared_in_keeps_the_smaller_of_what_is_known() {
        let tree = tree(&[(
            "sites/eu-north/rig-nsea-042/telemetry-collector/kustomization.yaml",
            TELEMETRY_OVERLAY.as_bytes(),
        )]);
        for (known, kept) in [(100, 100), (9000, 7911)] {
            let mut found = declared(&[("rig-nsea-042", &[("telemetry-collector", known)])]);
            declared_in(&tree, &mut found);
            assert_eq!(
                found,
                declared(&[("rig-nsea-042", &[("telemetry-collector", kept)])])
            );
        }
    }

    #[test]
    fn declared_buffers_reads_the_cache_for_kept_sites_and_the_tree_for_planned_ones() {
        let record = |id: &str, kept: bool| SiteRecord {
            id: id.to_owned(),
            fingerprint: [0; 32],
            paths: Vec::new(),
            kept,
            written: None,
        };
        let planned = Plan {
            tree: tree(&[(
                "sites/us-gulf/rail-i10-mp187/telemetry-collector/kustomization.yaml",
                rail_overlay().as_bytes(),
            )]),
            sites: 4,
            overlays: 1,
            appsets: 0,
            reused: 0,
            fleet_paths: Vec::new(),
            records: vec![
                record("rig-nsea-042", true),
                record("rig-nsea-051", true),
                record("rig-gulf-007", true),
                record("rail-i10-mp187", false),
            ],
        };
        let mut cache = Cache::new([0; 32], [0; 32]);
        for (id, note) in [
            (
                "rig-nsea-042",
                "broker=512,telemetry-collector=7911,queue=lots",
            ),
            ("rig-nsea-051", "-"),
            // Planned again: the tree says what it declares now.
            ("rail-i10-mp187", "telemetry-collector=1"),
        ] {
            cache.insert(id, [0; 32], note, &[]).unwrap();
        }
        let mut found = Declared::new();
        declared_buffers(&planned, Some(&cache), &mut found);
        assert_eq!(found, declared(&[RIG, RAIL]));
        // Without a cache only the tree is read.
        let mut found = Declared::new();
        declared_buffers(&planned, None, &mut found);
        assert_eq!(found, declared(&[RAIL]));
    }
}
