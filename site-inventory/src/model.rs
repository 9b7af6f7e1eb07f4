//! The typed inventory: what a fleet is made of, after loading and validation.

use std::collections::BTreeMap;

use crate::source::SourceLocation;
use crate::units::{Duration, Quantity};

/// Name of the rollout step that takes the sites known to be offline or on poor backhaul, after
/// every declared wave, so that their slow health never stalls the rest of the fleet.
pub const DEFAULT_TRAILING_STEP: &str = "trailing";

/// A whole fleet: profiles, regions, rollout, and every site (sorted by id).
#[derive(Debug, Clone)]
pub struct Fleet {
    pub hardware: BTreeMap<String, HardwareProfile>,
    pub backhaul: BTreeMap<String, BackhaulProfile>,
    pub regions: BTreeMap<String, Region>,
    /// Platform profiles (distribution, runtimes, identity) by name.
    pub platforms: BTreeMap<String, crate::platform::PlatformProfile>,
    pub rollout: Rollout,
    pub sites: Vec<Site>,
    /// Residency zones, endpoint catalogue and data-class policy (derived from the regions when
    /// the inventory has no `residency:` section).
    pub residency: crate::residency::Residency,
}

impl Fleet {
    pub fn site(&self, id: &str) -> Option<&Site> {
        self.sites
            .binary_search_by(|s| s.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.sites[i])
    }

    pub fn hardware_of(&self, site: &Site) -> &HardwareProfile {
        &self.hardware[&site.hardware]
    }

    pub fn backhaul_of(&self, site: &Site) -> &BackhaulProfile {
        &self.backhaul[&site.backhaul]
    }

    pub fn region_of(&self, site: &Site) -> &Region {
        &self.regions[&site.region]
    }

    /// The site's platform, when it declares one.
    pub fn platform_of(&self, site: &Site) -> Option<&crate::platform::PlatformProfile> {
        site.platform.as_ref().and_then(|p| self.platforms.get(p))
    }

    /// The rollout step a site's Applications belong to: its wave, or the trailing step when the
    /// site is marked offline or its backhaul may be down for longer than the trailing threshold.
    pub fn rollout_step<'a>(&'a self, site: &'a Site) -> &'a str {
        if let Some(trailing) = &self.rollout.trailing {
            let outage = self.backhaul_of(site).max_outage.seconds;
            if site.offline || outage >= trailing.min_outage.seconds {
                return &trailing.name;
            }
        }
        &site.wave
    }

    /// Every rollout step in order: the declared waves, then the trailing step if any.
    pub fn rollout_steps(&self) -> Vec<&str> {
        let mut steps: Vec<&str> = self.rollout.waves.iter().map(|w| w.name.as_str()).collect();
        if let Some(t) = &self.rollout.trailing {
            steps.push(&t.name);
        }
        steps
    }
}

/// What the nodes of a site offer.
#[derive(Debug, Clone)]
pub struct HardwareProfile {
    pub name: String,
    pub arch: String,
    pub cpu: Quantity,
    pub memory: Quantity,
    pub ephemeral_storage: Quantity,
    /// Extended resources such as `nvidia.com/gpu`, with their count per site.
    pub accelerators: BTreeMap<String, u64>,
    pub power_watts: u64,
    /// The trusted execution environment the CPUs offer (`sev-snp`, `tdx`), if any.
    pub tee: Option<crate::platform::Tee>,
    pub location: SourceLocation,
}

impl HardwareProfile {
    pub fn gpus(&self) -> u64 {
        self.accelerators
            .get("nvidia.com/gpu")
            .copied()
            .unwrap_or(0)
    }
}

/// The link between a site and the rest of the world.
#[derive(Debug, Clone)]
pub struct BackhaulProfile {
    pub name: String,
    pub bandwidth_kbps: u64,
    pub metered: bool,
    pub latency_ms: u64,
    /// The longest outage the site must ride through without the registry or the control plane.
    pub max_outage: Duration,
    pub location: SourceLocation,
}

impl BackhaulProfile {
    /// Whether the link can drop at all: then nothing may need the registry to restart.
    pub fn can_drop(&self) -> bool {
        self.max_outage.seconds > 0
    }
}

/// A region: where sites are, which law applies, where their data may go.
#[derive(Debug, Clone)]
pub struct Region {
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub jurisdiction: String,
    /// Residency zone (e.g. `EEA`).
    pub zone: String,
    /// In-zone endpoints by purpose: `telemetry`, `metrics`, `object_store`, `mqtt_bridge`, ...
    pub endpoints: BTreeMap<String, String>,
    pub location: SourceLocation,
}

#[derive(Debug, Clone)]
pub struct Rollout {
    pub waves: Vec<Wave>,
    pub trailing: Option<TrailingStep>,
    pub location: Option<SourceLocation>,
}

/// One rollout wave, synced in order; `max_update` bounds how many Applications of the wave
/// sync at once (an integer or a percentage such as `25%`).
#[derive(Debug, Clone)]
pub struct Wave {
    pub name: String,
    pub max_update: MaxUpdate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaxUpdate {
    Count(u64),
    Percent(u8),
}

impl std::fmt::Display for MaxUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MaxUpdate::Count(n) => write!(f, "{n}"),
            MaxUpdate::Percent(p) => write!(f, "{p}%"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct TrailingStep {
    pub name: String,
    /// Sites whose backhaul may be down at least this long go in the trailing step.
    pub min_outage: Duration,
    pub max_update: MaxUpdate,
}

/// One edge site.
#[derive(Debug, Clone)]
pub struct Site {
    /// DNS-1123 label: it becomes a folder, a label value and part of resource names.
    pub id: String,
    pub region: String,
    pub hardware: String,
    pub backhaul: String,
    /// Platform profile name; `None` when the site does not declare one (platform rules then
    /// do not judge it).
    pub platform: Option<String>,
    pub wave: String,
    /// ArgoCD destination cluster name (defaults to the site id).
    pub cluster: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// Free text (address, rig name); never interpreted.
    pub location: String,
    /// Workloads selected for this site; `None` means the whole catalogue.
    pub workloads: Option<Vec<String>>,
    pub overrides: BTreeMap<String, WorkloadOverride>,
    /// Known to be offline now: its Applications go in the trailing rollout step.
    pub offline: bool,
    /// Where the site and each of its fields were written.
    pub source: SiteSource,
}

/// A site id's first 16 bytes, zero-padded, as one number: where two ids' keys differ, they
/// are in the ids' order (a shorter id's padding sorts first, as the id does), so sorting or
/// searching many ids compares these first and reads the ids themselves only on a tie.
pub fn id_key(id: &str) -> u128 {
    let mut bytes = [0u8; 16];
    let n = id.len().min(16);
    bytes[..n].copy_from_slice(&id.as_bytes()[..n]);
    u128::from_be_bytes(bytes)
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkloadOverride {
    pub upstream_kbps: Option<u64>,
}

/// Locations of a site's definition, for errors found after loading (e.g. a workload name the
/// catalogue does not have).
///
/// A large fleet holds one of these per site, so the fields' places are kept compactly: their
/// paths in one string, and line, column, offset and length as 32-bit numbers in the site's file
/// (a file is at most [`MAX_FILE_BYTES`](crate::limits::MAX_FILE_BYTES), so they fit).
#[derive(Debug, Clone)]
pub struct SiteSource {
    pub site: SourceLocation,
    /// Every field's path, one after the other; [`FieldPlace::end`] says where each ends.
    paths: Box<str>,
    /// Per field, in the order first written: where its path ends in `paths`, and its place.
    places: Box<[FieldPlace]>,
}

#[derive(Debug, Clone, Copy)]
struct FieldPlace {
    end: u32,
    line: u32,
    column: u32,
    offset: u32,
    len: u32,
}

impl SiteSource {
    /// Where the site and each of its fields (path relative to the site: `workloads/1`,
    /// `overrides/mqtt-broker`) were written, all in the site's file. A path given twice keeps
    /// its last place.
    pub fn new(
        site: SourceLocation,
        fields: impl IntoIterator<Item = (String, SourceLocation)>,
    ) -> Self {
        let mut list: Vec<(String, SourceLocation)> = Vec::new();
        for (path, loc) in fields {
            debug_assert_eq!(loc.file, site.file, "a site's fields are in its file");
            match list.iter_mut().find(|(p, _)| *p == path) {
                Some(slot) => slot.1 = loc,
                None => list.push((path, loc)),
            }
        }
        let mut paths = String::with_capacity(list.iter().map(|(p, _)| p.len()).sum());
        let mut places = Vec::with_capacity(list.len());
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        for (path, loc) in list {
            paths.push_str(&path);
            places.push(FieldPlace {
                end: narrow(paths.len()),
                line: loc.line,
                column: loc.column,
                offset: narrow(loc.offset),
                len: narrow(loc.len),
            });
        }
        Self {
            site,
            paths: paths.into_boxed_str(),
            places: places.into_boxed_slice(),
        }
    }

    /// Where the field at `path` was written, or the site's own place when it was not.
    pub fn field(&self, path: &str) -> SourceLocation {
        let mut start = 0;
        for place in self.places.iter() {
            let end = place.end as usize;
            if self.paths.get(start..end) == Some(path) {
                return SourceLocation {
                    file: self.site.file.clone(),
                    line: place.line,
                    column: place.column,
                    offset: place.offset as usize,
                    len: place.len as usize,
                };
            }
            start = end;
        }
        self.site.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::id_key;

    #[test]
    fn ids_ordered_by_key_are_in_string_order_where_the_keys_differ() {
        let ids = [
            "",
            "a",
            "a-1",
            "a0",
            "ab",
            "rig-nsea-042",
            "rig-nsea-0420000000",
            "rig-nsea-042000001",
            "rig-nsea-04200000",
            "store-de-berlin-0042",
            "store-de-berlin-0043",
            "store-de-berlin-004",
        ];
        let mut differ = 0;
        for a in ids {
            for b in ids {
                if id_key(a) != id_key(b) {
                    differ += 1;
                    assert_eq!(id_key(a).cmp(&id_key(b)), a.cmp(b), "{a} {b}");
                }
            }
        }
        // Most pairs are told apart by their keys alone; the rest share 16 bytes.
        assert!(differ > ids.len() * (ids.len() - 1) / 2, "{differ}");
        assert_eq!(
            id_key("store-de-berlin-0042"),
            id_key("store-de-berlin-0043")
        );
    }
}
