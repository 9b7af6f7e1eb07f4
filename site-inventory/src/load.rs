//! Loading an inventory folder: YAML and CSV files → a validated [`Fleet`], or every problem found.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use serde_json::Value;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::*;
use crate::platform::PlatformProfile;
use crate::schema;
use crate::source::{self, SourceLocation, YamlDocument};
use crate::units::{Duration, Quantity};

/// Labels and annotations under this prefix are written by edgefleet; users may not set them.
pub const RESERVED_PREFIX: &str = "edgefleet.io/";

/// Load and validate every `*.yaml`, `*.yml` and `*.csv` file under `path` (or the one file it
/// names). Files are read in path order and sites sorted by id, so the result does not depend on
/// the order of files on disk.
pub fn load_inventory(path: &Path) -> Result<Fleet, Diagnostics> {
    let files = inventory_files(path)?;
    let parsed: Vec<FileEntries> = files.par_iter().map(|f| read_file(f)).collect();
    combine(path, parsed)
}

/// Load and validate an inventory given as file contents in memory (`path`, text), exactly as
/// [`load_inventory`] reads the same files from `root`: `.csv` paths are read as CSV, any other
/// as YAML. For tools that hold the inventory already (and for fuzzing).
pub fn load_sources(root: &Path, files: &[(PathBuf, String)]) -> Result<Fleet, Diagnostics> {
    let mut files: Vec<&(PathBuf, String)> = files.iter().collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let parsed: Vec<FileEntries> = files
        .par_iter()
        .map(|(path, text)| {
            match source::check_size(&Arc::from(path.as_path()), text.len() as u64) {
                Ok(()) => read_text(path, text),
                Err(d) => FileEntries::failed(d),
            }
        })
        .collect();
    combine(root, parsed)
}

fn combine(path: &Path, parsed: Vec<FileEntries>) -> Result<Fleet, Diagnostics> {
    let mut diagnostics = Diagnostics::default();
    let mut entries = Vec::new();
    // One allocation of the right size: at 100,000 sites, growing the list by doubling would
    // hold the old and the new copy at once.
    let mut sites = Vec::with_capacity(parsed.iter().map(|f| f.sites.len()).sum());
    let mut blocked = false;
    for mut file in parsed {
        entries.append(&mut file.entries);
        sites.append(&mut file.sites);
        diagnostics.0.extend(file.diagnostics.0);
        blocked |= file.blocking;
    }
    // The site past the limit, in file order, is where the inventory is too large.
    if let Some(extra) = sites.get(crate::limits::MAX_SITES) {
        diagnostics.push(Diagnostic::new(
            extra.source.site.clone(),
            format!(
                "more than {} sites in the inventory (edgefleet's limit, docs/limits.md)",
                crate::limits::MAX_SITES
            ),
        ));
        blocked = true;
    }
    // When a file could not be read, or a profile, region or rollout is broken, reference checks
    // would only repeat that error at every site: report the cause alone.
    let fleet = if blocked {
        None
    } else {
        assemble(path, entries, sites, &mut diagnostics)
    };
    diagnostics.sort();
    match fleet {
        Some(fleet) if diagnostics.is_empty() => Ok(fleet),
        _ => Err(diagnostics),
    }
}

/// The files [`load_inventory`] reads from `path`, sorted: every `*.yaml`, `*.yml` and `*.csv`
/// file under the folder (hidden entries and linked folders passed over), or `path` itself when
/// it is a file. `generate` fingerprints exactly these to tell that no input changed.
pub fn inventory_files(path: &Path) -> Result<Vec<PathBuf>, Diagnostics> {
    let root: Arc<Path> = Arc::from(path);
    let meta = std::fs::metadata(path).map_err(|e| {
        Diagnostic::new(
            SourceLocation::start_of(&root),
            format!("cannot read the inventory: {e}"),
        )
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let read = std::fs::read_dir(&dir).map_err(|e| {
            Diagnostic::new(
                SourceLocation::start_of(&Arc::from(dir.as_path())),
                format!("cannot read folder: {e}"),
            )
        })?;
        for entry in read.flatten() {
            let p = entry.path();
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let kind = entry.file_type();
            if kind.as_ref().is_ok_and(|k| k.is_dir()) {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "csv")
            ) {
                files.push(p);
            }
        }
    }
    files.sort();
    if files.is_empty() {
        return Err(Diagnostic::new(
            SourceLocation::start_of(&root),
            "no inventory files (*.yaml, *.yml, *.csv) in this folder",
        )
        .into());
    }
    Ok(files)
}

/// One top-level item found in a file, with a way to locate its fields.
pub(crate) struct Entry {
    kind: EntryKind,
    value: Value,
    origin: Origin,
}

enum EntryKind {
    Hardware(String),
    Backhaul(String),
    Region(String),
    Platform(String),
    Rollout,
    Residency,
    Site,
}

/// Where an entry's fields are: a YAML document and the entry's pointer in it, or CSV cells.
#[derive(Clone)]
pub(crate) enum Origin {
    Yaml {
        doc: Arc<YamlDocument>,
        pointer: String,
    },
    Csv {
        row: SourceLocation,
        cells: Arc<BTreeMap<String, SourceLocation>>,
    },
}

impl Origin {
    /// Location of the entry itself (a site's mapping, a profile's key).
    fn whole(&self) -> SourceLocation {
        match self {
            Origin::Yaml { doc, pointer } => {
                if pointer.starts_with("/sites/") {
                    doc.locate(pointer)
                } else {
                    doc.locate_key(pointer)
                }
            }
            Origin::Csv { row, .. } => row.clone(),
        }
    }

    /// Location of a field below the entry (`hardware`, `labels/tier`, `workloads/2`).
    pub(crate) fn field(&self, path: &str) -> SourceLocation {
        match self {
            Origin::Yaml { doc, pointer } => doc.locate(&format!("{pointer}/{path}")),
            Origin::Csv { row, cells } => {
                let column = csv_column_for(path);
                cells.get(&column).cloned().unwrap_or_else(|| row.clone())
            }
        }
    }

    fn key(&self, path: &str) -> SourceLocation {
        match self {
            Origin::Yaml { doc, pointer } => doc.locate_key(&format!("{pointer}/{path}")),
            Origin::Csv { .. } => self.field(path),
        }
    }
}

/// What one file contributes: valid entries, problems, and whether the problems may hide others.
pub(crate) struct FileEntries {
    /// Profiles, regions, rollout, residency (sites go to `sites` when [pushed](Self::push)).
    pub entries: Vec<Entry>,
    /// The file's sites, in file order, made from their entries as they are [pushed](Self::push).
    pub sites: Vec<Site>,
    pub diagnostics: Diagnostics,
    /// The file (or a profile, region or rollout in it) could not be read.
    pub blocking: bool,
}

impl FileEntries {
    pub(crate) fn failed(d: impl Into<Diagnostics>) -> Self {
        Self {
            entries: Vec::new(),
            sites: Vec::new(),
            diagnostics: d.into(),
            blocking: true,
        }
    }

    /// No entries, sites nor problems yet.
    pub(crate) fn empty() -> Self {
        Self {
            entries: Vec::new(),
            sites: Vec::new(),
            diagnostics: Diagnostics::default(),
            blocking: false,
        }
    }

    /// Adds an entry; a site is made into a [`Site`] at once, in file order: it needs nothing
    /// from other files to be made (references are checked later, on the sites), and its entry
    /// holds values and positions that the site no longer needs. Made as they are read, the
    /// entries of a large inventory's sites are never all in memory at once.
    pub(crate) fn push(&mut self, entry: Entry) {
        if matches!(entry.kind, EntryKind::Site) {
            let loc = entry.origin.whole();
            self.sites.push(site_from(entry, loc));
        } else {
            self.entries.push(entry);
        }
    }
}

fn read_file(path: &Path) -> FileEntries {
    match source::read_source(path) {
        Ok(text) => read_text(path, &text),
        Err(d) => FileEntries::failed(d),
    }
}

fn read_text(path: &Path, text: &str) -> FileEntries {
    if path.extension().and_then(|e| e.to_str()) == Some("csv") {
        return crate::csv_sites::read_csv(path, text);
    }
    let docs = match source::parse_yaml(path, text) {
        Ok(d) => d,
        Err(d) => return FileEntries::failed(d),
    };
    let mut out = FileEntries::empty();
    for doc in docs {
        let doc = Arc::new(doc);
        // The sites of the document are checked and made one at a time, each from its own JSON
        // copy: a copy of a whole file of sites would be as large as its parsed tree again.
        let (value, site_nodes) = split_sites(&doc);
        // Sized once: a file of tens of thousands of sites would otherwise be copied as its
        // list doubles.
        out.sites.reserve(site_nodes.len());
        if !value.is_object() {
            out.diagnostics.push(Diagnostic::new(
                doc.locate(""),
                "an inventory document must be a mapping with keys such as `sites`, `hardware`, `backhaul`, `regions`, `rollout`",
            ));
            continue;
        }
        // Sites with schema errors are left out; every other entry is still checked, so one
        // run shows all of a file's problems.
        let mut broken_sites = std::collections::BTreeSet::new();
        for v in schema::check(&value) {
            report(&doc, v, &mut broken_sites, &mut out);
        }
        for (i, node) in site_nodes.iter().enumerate() {
            // Checked alone, as the only site of a document: the schema has no rule across
            // sites, so the violations are those of the whole document at this site.
            let mut alone = serde_json::json!({ "sites": [source::node_to_json(&node.value)] });
            let violations = schema::check(&alone);
            let broken = !violations.is_empty();
            for mut v in violations {
                if let Some(rest) = v.pointer.strip_prefix("/sites/0") {
                    v.pointer = format!("/sites/{i}{rest}");
                }
                report(&doc, v, &mut broken_sites, &mut out);
            }
            if broken || out.blocking {
                continue;
            }
            out.push(Entry {
                kind: EntryKind::Site,
                value: alone["sites"][0].take(),
                origin: Origin::Yaml {
                    doc: doc.clone(),
                    pointer: format!("/sites/{i}"),
                },
            });
        }
        if out.blocking {
            continue;
        }
        let Value::Object(top) = value else { continue };
        for (key, section) in top {
            match (key.as_str(), section) {
                ("hardware" | "backhaul" | "regions" | "platforms", Value::Object(items)) => {
                    for (name, v) in items {
                        let pointer = format!("/{key}/{}", kube_basics::pointer::escape(&name));
                        let kind = match key.as_str() {
                            "hardware" => EntryKind::Hardware(name),
                            "backhaul" => EntryKind::Backhaul(name),
                            "platforms" => EntryKind::Platform(name),
                            _ => EntryKind::Region(name),
                        };
                        out.push(Entry {
                            kind,
                            value: v,
                            origin: Origin::Yaml {
                                doc: doc.clone(),
                                pointer,
                            },
                        });
                    }
                }
                ("rollout", v) => out.push(Entry {
                    kind: EntryKind::Rollout,
                    value: v,
                    origin: Origin::Yaml {
                        doc: doc.clone(),
                        pointer: "/rollout".into(),
                    },
                }),
                ("residency", v) => out.push(Entry {
                    kind: EntryKind::Residency,
                    value: v,
                    origin: Origin::Yaml {
                        doc: doc.clone(),
                        pointer: "/residency".into(),
                    },
                }),
                ("sites", Value::Array(sites)) => {
                    for (i, v) in sites.into_iter().enumerate() {
                        if broken_sites.contains(&i) {
                            continue;
                        }
                        out.push(Entry {
                            kind: EntryKind::Site,
                            value: v,
                            origin: Origin::Yaml {
                                doc: doc.clone(),
                                pointer: format!("/sites/{i}"),
                            },
                        });
                    }
                }
                _ => {}
            }
        }
    }
    out
}

/// A document as JSON, with its `sites` (when a list) left out as an empty list and returned
/// apart, as nodes.
fn split_sites(doc: &YamlDocument) -> (Value, &[source::Located<source::YamlNode>]) {
    use source::YamlNode;
    let YamlNode::Map(entries) = &doc.root.value else {
        return (doc.to_json(), &[]);
    };
    let mut sites: &[source::Located<YamlNode>] = &[];
    let top = entries
        .iter()
        .map(|(k, v)| {
            let value = match &v.value {
                YamlNode::Seq(items) if k.value == "sites" => {
                    sites = items;
                    Value::Array(Vec::new())
                }
                other => source::node_to_json(other),
            };
            (k.value.clone(), value)
        })
        .collect();
    (Value::Object(top), sites)
}

/// A schema violation of `doc` as a diagnostic; a site's marks the site broken, any other the
/// file.
fn report(
    doc: &YamlDocument,
    v: schema::SchemaViolation,
    broken_sites: &mut std::collections::BTreeSet<usize>,
    out: &mut FileEntries,
) {
    let loc = if v.at_key {
        doc.locate_key(&v.pointer)
    } else {
        doc.locate(&v.pointer)
    };
    match v
        .pointer
        .strip_prefix("/sites/")
        .and_then(|r| r.split('/').next()?.parse::<usize>().ok())
    {
        Some(i) => {
            broken_sites.insert(i);
        }
        None => out.blocking = true,
    }
    out.diagnostics.push(Diagnostic::new(loc, v.message));
}

pub(crate) fn csv_column_for(path: &str) -> String {
    if let Some(k) = path.strip_prefix("labels/") {
        format!("label.{}", kube_basics::pointer::unescape(k))
    } else if let Some(k) = path.strip_prefix("annotations/") {
        format!("annotation.{}", kube_basics::pointer::unescape(k))
    } else if let Some(k) = path.strip_prefix("overrides/") {
        let workload = k.split('/').next().unwrap_or(k);
        format!("upstream_kbps.{workload}")
    } else {
        path.split('/').next().unwrap_or(path).to_owned()
    }
}

pub(crate) fn entry_for_csv_site(
    value: Value,
    row: SourceLocation,
    cells: Arc<BTreeMap<String, SourceLocation>>,
) -> Entry {
    Entry {
        kind: EntryKind::Site,
        value,
        origin: Origin::Csv { row, cells },
    }
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn quantity_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn max_update(v: Option<&Value>, default: MaxUpdate) -> MaxUpdate {
    match v {
        Some(Value::Number(n)) => MaxUpdate::Count(n.as_u64().unwrap_or(1)),
        Some(Value::String(s)) => s
            .trim_end_matches('%')
            .parse()
            .map(MaxUpdate::Percent)
            .unwrap_or(default),
        _ => default,
    }
}

/// Build the fleet from schema-valid entries, checking what the schema cannot: uniqueness and
/// references between files.
fn assemble(
    root: &Path,
    entries: Vec<Entry>,
    mut sites: Vec<Site>,
    diags: &mut Diagnostics,
) -> Option<Fleet> {
    let mut hardware: BTreeMap<String, HardwareProfile> = BTreeMap::new();
    let mut backhaul: BTreeMap<String, BackhaulProfile> = BTreeMap::new();
    let mut regions: BTreeMap<String, Region> = BTreeMap::new();
    let mut platforms: BTreeMap<String, PlatformProfile> = BTreeMap::new();
    let mut rollout: Option<(Rollout, SourceLocation)> = None;
    let mut residency_entry: Option<(Entry, SourceLocation)> = None;
    // Where each region wrote its zone and jurisdiction, for residency errors.
    let mut region_fields: BTreeMap<String, (SourceLocation, SourceLocation)> = BTreeMap::new();

    for entry in entries {
        let loc = entry.origin.whole();
        let v = &entry.value;
        match entry.kind {
            EntryKind::Hardware(name) => {
                if let Some(first) = hardware.get(&name) {
                    diags.push(duplicate("hardware profile", &name, loc, &first.location));
                    continue;
                }
                let alloc = v.get("allocatable");
                let mut parse_q = |field: &str| {
                    let text = quantity_text(alloc.and_then(|a| a.get(field)));
                    Quantity::parse(&text).unwrap_or_else(|msg| {
                        diags.push(Diagnostic::new(
                            entry.origin.field(&format!("allocatable/{field}")),
                            msg,
                        ));
                        Quantity { text, value: 0.0 }
                    })
                };
                let profile = HardwareProfile {
                    name: name.clone(),
                    arch: str_of(v, "arch").to_owned(),
                    cpu: parse_q("cpu"),
                    memory: parse_q("memory"),
                    ephemeral_storage: parse_q("ephemeral-storage"),
                    accelerators: v
                        .get("accelerators")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                                .collect()
                        })
                        .unwrap_or_default(),
                    power_watts: v.get("power_watts").and_then(Value::as_u64).unwrap_or(0),
                    tee: v
                        .get("tee")
                        .and_then(Value::as_str)
                        .and_then(crate::platform::Tee::parse),
                    location: loc,
                };
                hardware.insert(name, profile);
            }
            EntryKind::Backhaul(name) => {
                if let Some(first) = backhaul.get(&name) {
                    diags.push(duplicate("backhaul profile", &name, loc, &first.location));
                    continue;
                }
                let max_outage = Duration::parse(str_of(v, "max_outage")).unwrap_or_else(|msg| {
                    diags.push(Diagnostic::new(entry.origin.field("max_outage"), msg));
                    Duration {
                        text: String::new(),
                        seconds: 0,
                    }
                });
                backhaul.insert(
                    name.clone(),
                    BackhaulProfile {
                        name,
                        bandwidth_kbps: v
                            .get("bandwidth_kbps")
                            .and_then(Value::as_u64)
                            .unwrap_or(0),
                        metered: v.get("metered").and_then(Value::as_bool).unwrap_or(false),
                        latency_ms: v.get("latency_ms").and_then(Value::as_u64).unwrap_or(0),
                        max_outage,
                        location: loc,
                    },
                );
            }
            EntryKind::Region(name) => {
                if let Some(first) = regions.get(&name) {
                    diags.push(duplicate("region", &name, loc, &first.location));
                    continue;
                }
                region_fields.insert(
                    name.clone(),
                    (
                        entry.origin.field("zone"),
                        entry.origin.field("jurisdiction"),
                    ),
                );
                regions.insert(
                    name.clone(),
                    Region {
                        name,
                        jurisdiction: str_of(v, "jurisdiction").to_owned(),
                        zone: str_of(v, "zone").to_owned(),
                        endpoints: string_map(v.get("endpoints")),
                        location: loc,
                    },
                );
            }
            EntryKind::Platform(name) => {
                if let Some(first) = platforms.get(&name) {
                    diags.push(duplicate("platform profile", &name, loc, &first.location));
                    continue;
                }
                if let Some(p) = crate::platform_load::parse(&name, v, &entry.origin, loc, diags) {
                    platforms.insert(name, p);
                }
            }
            EntryKind::Rollout => {
                if let Some((_, first)) = &rollout {
                    diags.push(
                        Diagnostic::new(loc, "`rollout` is declared more than once")
                            .with_related(first.clone(), "first declared"),
                    );
                    continue;
                }
                rollout = Some((parse_rollout(v, &entry.origin, loc.clone(), diags), loc));
            }
            EntryKind::Residency => {
                if let Some((_, first)) = &residency_entry {
                    diags.push(
                        Diagnostic::new(loc, "`residency` is declared more than once")
                            .with_related(first.clone(), "first declared"),
                    );
                    continue;
                }
                residency_entry = Some((entry, loc));
            }
            // Made into sites as they were read (`FileEntries::push`).
            EntryKind::Site => sites.push(site_from(entry, loc)),
        }
    }
    let residency = match residency_entry {
        Some((entry, loc)) => crate::residency_load::parse(
            &entry.value,
            &|p| entry.origin.field(p),
            &|p| entry.origin.key(p),
            loc,
            &regions,
            &region_fields,
            diags,
        ),
        None => crate::residency_load::derived(&regions, diags),
    };

    let rollout = rollout.map(|(r, _)| r);
    sort_sites(&mut sites);

    check_sites(
        &sites,
        &hardware,
        &backhaul,
        &regions,
        rollout.as_ref(),
        diags,
    );
    crate::platform_load::check_sites(&sites, &platforms, diags);
    if sites.is_empty() && diags.is_empty() {
        diags.push(Diagnostic::new(
            SourceLocation::start_of(&Arc::from(root)),
            "the inventory has no sites",
        ).with_help("add a `sites:` list to a YAML file, or a CSV file with a header `id,region,hardware,backhaul,wave`"));
    }
    let rollout = rollout?;
    Some(Fleet {
        hardware,
        backhaul,
        regions,
        platforms,
        rollout,
        sites,
        residency,
    })
}

/// Sorts sites by id, then by where they were written, as a stable sort would; by moving the
/// sites along the cycles of the sorted order of their indices, so that no scratch copy of the
/// sites (a stable sort's) is ever made.
fn sort_sites(sites: &mut [Site]) {
    // Each id's key next to its index: most comparisons read neither site nor id.
    let mut keyed: Vec<(u128, usize)> = sites
        .iter()
        .enumerate()
        .map(|(i, s)| (id_key(&s.id), i))
        .collect();
    keyed.sort_by(|&(ka, a), &(kb, b)| {
        ka.cmp(&kb).then_with(|| {
            let (a, b) = (&sites[a], &sites[b]);
            a.id.cmp(&b.id).then_with(|| site_order(a, b))
        })
    });
    let mut order: Vec<usize> = keyed.into_iter().map(|(_, i)| i).collect();
    // `order[i]` is the index of the site that belongs at `i`.
    for start in 0..order.len() {
        let mut i = start;
        while order[i] != start {
            let from = order[i];
            sites.swap(i, from);
            order[i] = i;
            i = from;
        }
        order[i] = i;
    }
}

fn site_order(a: &Site, b: &Site) -> std::cmp::Ordering {
    let (la, lb) = (&a.source.site, &b.source.site);
    (&la.file, la.line, la.column).cmp(&(&lb.file, lb.line, lb.column))
}

fn duplicate(what: &str, name: &str, loc: SourceLocation, first: &SourceLocation) -> Diagnostic {
    Diagnostic::new(loc, format!("{what} `{name}` is defined twice"))
        .with_related(first.clone(), "first defined")
}

fn parse_rollout(
    v: &Value,
    origin: &Origin,
    loc: SourceLocation,
    diags: &mut Diagnostics,
) -> Rollout {
    let mut waves: Vec<Wave> = Vec::new();
    for (i, w) in v
        .get("waves")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let name = str_of(w, "name").to_owned();
        if waves.iter().any(|x| x.name == name) {
            diags.push(Diagnostic::new(
                origin.field(&format!("waves/{i}/name")),
                format!("wave `{name}` is declared twice"),
            ));
            continue;
        }
        waves.push(Wave {
            name,
            max_update: max_update(w.get("max_update"), MaxUpdate::Percent(100)),
        });
    }
    let trailing = match v.get("trailing") {
        Some(Value::Bool(false)) => None,
        t => {
            let name = t
                .and_then(|t| t.get("name"))
                .and_then(Value::as_str)
                .unwrap_or(DEFAULT_TRAILING_STEP)
                .to_owned();
            let min_outage = t
                .and_then(|t| t.get("min_outage"))
                .and_then(Value::as_str)
                .and_then(|s| Duration::parse(s).ok())
                .unwrap_or(Duration {
                    text: "24h".into(),
                    seconds: 86_400,
                });
            if waves.iter().any(|w| w.name == name) {
                diags.push(Diagnostic::new(
                    origin.field("trailing"),
                    format!(
                        "the trailing step `{name}` has the name of a wave; name it differently"
                    ),
                ));
            }
            Some(TrailingStep {
                name,
                min_outage,
                max_update: max_update(
                    t.and_then(|t| t.get("max_update")),
                    MaxUpdate::Percent(100),
                ),
            })
        }
    };
    Rollout {
        waves,
        trailing,
        location: Some(loc),
    }
}

fn site_from(entry: Entry, loc: SourceLocation) -> Site {
    let v = &entry.value;
    let origin = &entry.origin;
    let id = str_of(v, "id").to_owned();
    let mut fields = Vec::new();
    for f in [
        "id", "region", "hardware", "backhaul", "platform", "wave", "cluster",
    ] {
        fields.push((f.to_owned(), origin.field(f)));
    }
    let workloads = v.get("workloads").and_then(Value::as_array).map(|ws| {
        ws.iter()
            .enumerate()
            .map(|(i, w)| {
                fields.push((
                    format!("workloads/{i}"),
                    origin.field(&format!("workloads/{i}")),
                ));
                w.as_str().unwrap_or_default().to_owned()
            })
            .collect::<Vec<_>>()
    });
    let mut overrides = BTreeMap::new();
    if let Some(Value::Object(m)) = v.get("overrides") {
        for (workload, o) in m {
            fields.push((
                format!("overrides/{workload}"),
                origin.key(&format!("overrides/{workload}")),
            ));
            overrides.insert(
                workload.clone(),
                WorkloadOverride {
                    upstream_kbps: o.get("upstream_kbps").and_then(Value::as_u64),
                },
            );
        }
    }
    let labels = string_map(v.get("labels"));
    let annotations = string_map(v.get("annotations"));
    for k in labels.keys() {
        let p = format!("labels/{}", k.replace('~', "~0").replace('/', "~1"));
        fields.push((format!("labels/{k}"), origin.key(&p)));
    }
    for k in annotations.keys() {
        let p = format!("annotations/{}", k.replace('~', "~0").replace('/', "~1"));
        fields.push((format!("annotations/{k}"), origin.key(&p)));
    }
    let cluster = match v.get("cluster").and_then(Value::as_str) {
        Some(c) if !c.is_empty() => c.to_owned(),
        _ => id.clone(),
    };
    Site {
        region: str_of(v, "region").to_owned(),
        hardware: str_of(v, "hardware").to_owned(),
        backhaul: str_of(v, "backhaul").to_owned(),
        platform: v.get("platform").and_then(Value::as_str).map(str::to_owned),
        wave: str_of(v, "wave").to_owned(),
        cluster,
        labels,
        annotations,
        location: str_of(v, "location").to_owned(),
        workloads,
        overrides,
        offline: v.get("offline").and_then(Value::as_bool).unwrap_or(false),
        source: SiteSource::new(loc, fields),
        id,
    }
}

/// Adds `did you mean `x`?` when a known name is close to the misspelt one.
fn did_you_mean<'a>(
    d: Diagnostic,
    name: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    match crate::diagnostic::closest(name, known) {
        Some(c) => d.with_help(format!("did you mean `{c}`?")),
        None => d,
    }
}

fn check_sites(
    sites: &[Site],
    hardware: &BTreeMap<String, HardwareProfile>,
    backhaul: &BTreeMap<String, BackhaulProfile>,
    regions: &BTreeMap<String, Region>,
    rollout: Option<&Rollout>,
    diags: &mut Diagnostics,
) {
    let names = |m: &mut dyn Iterator<Item = &String>| -> String {
        let all: Vec<&String> = m.collect();
        if all.is_empty() {
            "none are defined".to_owned()
        } else {
            format!(
                "known: {}",
                all.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    for (i, site) in sites.iter().enumerate() {
        if i > 0 && sites[i - 1].id == site.id {
            diags.push(
                Diagnostic::new(
                    site.source.field("id"),
                    format!("site id `{}` is used twice", site.id),
                )
                .with_related(sites[i - 1].source.field("id"), "first used"),
            );
        }
        if !regions.contains_key(&site.region) {
            diags.push(did_you_mean(
                Diagnostic::new(
                    site.source.field("region"),
                    format!(
                        "unknown region `{}` ({})",
                        site.region,
                        names(&mut regions.keys())
                    ),
                ),
                &site.region,
                regions.keys().map(String::as_str),
            ));
        }
        if !hardware.contains_key(&site.hardware) {
            diags.push(did_you_mean(
                Diagnostic::new(
                    site.source.field("hardware"),
                    format!(
                        "unknown hardware profile `{}` ({})",
                        site.hardware,
                        names(&mut hardware.keys())
                    ),
                ),
                &site.hardware,
                hardware.keys().map(String::as_str),
            ));
        }
        if !backhaul.contains_key(&site.backhaul) {
            diags.push(did_you_mean(
                Diagnostic::new(
                    site.source.field("backhaul"),
                    format!(
                        "unknown backhaul profile `{}` ({})",
                        site.backhaul,
                        names(&mut backhaul.keys())
                    ),
                ),
                &site.backhaul,
                backhaul.keys().map(String::as_str),
            ));
        }
        match rollout {
            Some(r) if r.waves.iter().any(|w| w.name == site.wave) => {}
            Some(r) => diags.push(did_you_mean(
                Diagnostic::new(
                    site.source.field("wave"),
                    format!(
                        "unknown wave `{}` (declared waves: {})",
                        site.wave,
                        r.waves.iter().map(|w| w.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ),
                &site.wave,
                r.waves.iter().map(|w| w.name.as_str()),
            )),
            None => diags.push(
                Diagnostic::new(
                    site.source.field("wave"),
                    format!("wave `{}` is not declared: the inventory has no `rollout`", site.wave),
                )
                .with_help("declare the waves in order, e.g. `rollout: {waves: [{name: canary, max_update: 1}, {name: main, max_update: 25%}]}`"),
            ),
        }
        for key in site.labels.keys().chain(site.annotations.keys()) {
            if key.starts_with(RESERVED_PREFIX) {
                let path = if site.labels.contains_key(key) {
                    "labels"
                } else {
                    "annotations"
                };
                diags.push(Diagnostic::new(
                    site.source.field(&format!("{path}/{key}")),
                    format!("`{key}`: keys under `{RESERVED_PREFIX}` are set by edgefleet and cannot be set in the inventory"),
                ));
            }
        }
    }
}
